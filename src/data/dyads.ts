/**
 * Building the dyad table (docs/contract.md §3): every unordered pair of sample cities, i < j by city_id,
 * joined with agreements, flows and regions, plus the dyadic forms of the monadic
 * covariates, and the provinces of both ends (province_i, province_j) for samples
 * such as cross-province pairs. Columns are built straight into typed arrays.
 */
import { PAIRWISE_OPS, pairwiseValues, type PairwiseColumn } from './pairwise.ts';
import { UsageError } from '../util/errors.ts';
import type { CleanData } from './clean.ts';
import { denseCodes, makeTable, numColumn, type Column, type StrColumn, type Table } from './table.ts';

const DEFAULT_MONADIC = [
  'log_population',
  'log_outflow',
  'log_gdp',
  'log_gdp_per_capita',
  'fiscal_ratio',
  'gov_index',
];

/** Mean Earth radius (IUGG), km. */
export const EARTH_RADIUS_KM = 6371.0088;

/**
 * Great-circle distance in km from latitudes and longitudes in radians, with cos(latitude)
 * passed in (the dyads stage computes it once per city).
 */
export function haversineRad(lat1: number, lon1: number, cos1: number, lat2: number, lon2: number, cos2: number): number {
  const s1 = Math.sin((lat2 - lat1) / 2);
  const s2 = Math.sin((lon2 - lon1) / 2);
  const h = s1 * s1 + cos1 * cos2 * s2 * s2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Great-circle distance in km between two points given in degrees. */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  return haversineRad(lat1 * rad, lon1 * rad, Math.cos(lat1 * rad), lat2 * rad, lon2 * rad, Math.cos(lat2 * rad));
}

/** The dyad sample the dyads stage built (recorded in the cleaning report). */
export interface SampleInfo {
  provinces: string[] | null;
  cities: number;
  dyads: number;
  coop_dyads: number;
  agreements_outside_sample: number;
  monadic: string[];
}

export interface DyadOptions {
  /** keep only cities of these provinces (names or codes as in cities.csv) */
  provinces?: string[];
  /** monadic covariates to turn into _sum/_absdiff/_min/_max; default DEFAULT_MONADIC (those present) */
  monadic?: string[];
  /**
   * which of those dyadic forms to build in memory (default: all): the others are only
   * described (`deferred`), and computed when the dyad files are written
   */
  inMemory?: ReadonlySet<string>;
}

export interface DyadResult {
  /** the dyad table, without the deferred columns */
  dyads: Table;
  /** dyadic forms of monadic covariates not built in memory (DyadOptions.inMemory), by name */
  deferred: Map<string, PairwiseColumn>;
  /** every column of the dyad table in the contract's order, the deferred ones included */
  columnOrder: string[];
  /** 1 for cities in the sample, indexed like data.ids */
  inSample: Uint8Array;
  /** sample cities' indices in city_id order */
  order: Int32Array;
  monadic: string[];
  /** agreements dropped because a city is outside the sample */
  agreementsOutside: number;
}

/** Row of pair (p, q), p < q, among N sample cities: rows are (0,1),(0,2),…,(N-2,N-1). */
/**
 * Columns of large dyad tables live in shared memory, so that the worker encoding the
 * table's files (data/serialize.ts) reads them without a copy.
 */
const SHARED_FROM = 100_000;
const f64 = (m: number) => (m >= SHARED_FROM ? new Float64Array(new SharedArrayBuffer(m * 8)) : new Float64Array(m));
const i32 = (m: number) => (m >= SHARED_FROM ? new Int32Array(new SharedArrayBuffer(m * 4)) : new Int32Array(m));

export function pairRow(p: number, q: number, n: number): number {
  return p * n - (p * (p + 1)) / 2 + (q - p - 1);
}

/**
 * In: a cleaned year (`cleanYear`) and options (province filter, monadic covariates). Out:
 * the dyad table — one row per unordered pair of sample cities in pairRow order, the
 * columns of docs/contract.md §3 plus province_i/province_j — with the sample's cities,
 * their order, and the count of agreements left out because a city is outside the sample.
 */
export function buildDyads(data: CleanData, opts: DyadOptions = {}): DyadResult {
  const { ids, cities } = data;
  const province = cities.columns.get('province') as StrColumn;
  const inSample = new Uint8Array(ids.length).fill(1);
  if (opts.provinces && opts.provinces.length) {
    const want = new Set(opts.provinces.map((s) => s.trim()));
    const known = new Set(province.levels);
    const unknown = [...want].filter((p) => !known.has(p));
    if (unknown.length) {
      throw new UsageError(
        `--provinces: unknown province${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; provinces in cities.csv: ${province.levels.join(', ')}`,
      );
    }
    for (let k = 0; k < ids.length; k++) inSample[k] = want.has(province.levels[province.codes[k]]) ? 1 : 0;
  }
  const order = Int32Array.from(
    ids.map((_, k) => k).filter((k) => inSample[k]).sort((x, y) => (ids[x] < ids[y] ? -1 : ids[x] > ids[y] ? 1 : 0)),
  );
  const n = order.length;
  if (n < 2) throw new UsageError(`the sample has ${n} cit${n === 1 ? 'y' : 'ies'}; dyads need at least 2`);
  const pos = new Int32Array(ids.length).fill(-1);
  order.forEach((k, p) => (pos[k] = p));
  const m = (n * (n - 1)) / 2;

  // i, j as dictionary-encoded strings sharing one level list (the sample ids in order)
  const levels = Array.from(order, (k) => ids[k]);
  const iCodes = i32(m);
  const jCodes = i32(m);
  const sameProvince = f64(m);
  const provCode = Int32Array.from(order, (k) => province.codes[k]);
  for (let p = 0, r = 0; p < n; p++) {
    const pp = provCode[p];
    for (let q = p + 1; q < n; q++, r++) {
      iCodes[r] = p;
      jCodes[r] = q;
      sameProvince[r] = pp === provCode[q] ? 1 : 0;
    }
  }

  // agreements
  const coop = f64(m);
  const items = f64(m);
  const signedCodes = i32(m).fill(-1);
  const dateCodes = denseCodes<string>();
  let outside = 0;
  for (const a of data.agreements) {
    const p = pos[a.a];
    const q = pos[a.b];
    if (p < 0 || q < 0) {
      outside++;
      continue;
    }
    const r = p < q ? pairRow(p, q, n) : pairRow(q, p, n);
    coop[r] = 1;
    items[r] = a.items;
    if (a.firstSigned) signedCodes[r] = dateCodes.code(a.firstSigned);
  }

  // distances
  const lonCol = cities.columns.get('lon');
  const latCol = cities.columns.get('lat');
  const distance = f64(m);
  const logDistance = f64(m);
  if (lonCol?.kind === 'number' && latCol?.kind === 'number') {
    const rad = Math.PI / 180;
    const lat = Float64Array.from(order, (k) => latCol.values[k] * rad);
    const lon = Float64Array.from(order, (k) => lonCol.values[k] * rad);
    const cosLat = lat.map(Math.cos);
    for (let p = 0, r = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++, r++) {
        const d = haversineRad(lat[p], lon[p], cosLat[p], lat[q], lon[q], cosLat[q]);
        distance[r] = d;
        logDistance[r] = Math.log(d);
      }
    }
  } else {
    distance.fill(NaN);
    logDistance.fill(NaN);
  }

  // flows: the dyad's flow is the sum of both directions
  const flow = f64(m);
  if (data.flows) {
    const { origin, destination, flow: f } = data.flows;
    for (let k = 0; k < origin.length; k++) {
      const p = pos[origin[k]];
      const q = pos[destination[k]];
      if (p < 0 || q < 0) continue;
      flow[p < q ? pairRow(p, q, n) : pairRow(q, p, n)] += f[k];
    }
  }
  const logFlow = f64(m);
  for (let r = 0; r < m; r++) logFlow[r] = Math.log1p(flow[r]);

  // regions: same_region = 1 when both cities share at least one region
  const sameRegion = f64(m);
  if (data.regions) {
    const members: number[][] = data.regions.names.map(() => []);
    for (let k = 0; k < data.regions.city.length; k++) {
      const p = pos[data.regions.city[k]];
      if (p >= 0) members[data.regions.region[k]].push(p);
    }
    for (const list of members) {
      list.sort((x, y) => x - y);
      for (let a = 0; a < list.length; a++) {
        for (let b = a + 1; b < list.length; b++) sameRegion[pairRow(list[a], list[b], n)] = 1;
      }
    }
  }

  // province of each end, dictionary-encoded on the province levels
  const provI = i32(m);
  const provJ = i32(m);
  for (let r = 0; r < m; r++) {
    provI[r] = provCode[iCodes[r]];
    provJ[r] = provCode[jCodes[r]];
  }
  const cols: [string, Column][] = [
    ['i', { kind: 'string', codes: iCodes, levels }],
    ['j', { kind: 'string', codes: jCodes, levels }],
    ['province_i', { kind: 'string', codes: provI, levels: province.levels }],
    ['province_j', { kind: 'string', codes: provJ, levels: province.levels }],
    ['coop', numColumn(coop)],
    ['items', numColumn(items)],
    ['first_signed', { kind: 'string', codes: signedCodes, levels: dateCodes.keys }],
    ['same_province', numColumn(sameProvince)],
    ['distance_km', numColumn(distance)],
    ['log_distance', numColumn(logDistance)],
    ['flow', numColumn(flow)],
    ['log_flow', numColumn(logFlow)],
    ['same_region', numColumn(sameRegion)],
  ];

  // dyadic forms of the monadic covariates
  const columnOrder = cols.map(([name]) => name);
  const deferred = new Map<string, PairwiseColumn>();
  const requested = opts.monadic ?? DEFAULT_MONADIC;
  const monadic: string[] = [];
  for (const v of requested) {
    const c = cities.columns.get(v);
    if (!c) {
      if (opts.monadic) throw new UsageError(`monadic covariate '${v}' is not a column of cities_clean.csv`);
      continue;
    }
    if (c.kind !== 'number') throw new UsageError(`monadic covariate '${v}' is not numeric`);
    monadic.push(v);
    const x = Float64Array.from(order, (k) => c.values[k]);
    for (const op of PAIRWISE_OPS) {
      const name = `${v}_${op}`;
      const col: PairwiseColumn = { kind: 'pairwise', op, x, i: iCodes, j: jCodes };
      columnOrder.push(name);
      if (opts.inMemory && !opts.inMemory.has(name)) {
        deferred.set(name, col);
        continue;
      }
      cols.push([name, numColumn(pairwiseValues(col, 0, m, f64(m)))]);
    }
  }
  return { dyads: makeTable(m, cols), deferred, columnOrder, inSample, order, monadic, agreementsOutside: outside };
}

/**
 * Builds the deferred columns into the dyad table, every column then in the contract's order
 * (the table as `buildDyads` without `inMemory` makes it): for a spec that names a column the
 * table does not have, whose error message lists and suggests the table's columns.
 */
export function materializeDeferred(d: DyadResult): void {
  if (!d.deferred.size) return;
  const m = d.dyads.nrow;
  for (const [name, col] of d.deferred) d.dyads.columns.set(name, numColumn(pairwiseValues(col, 0, m, f64(m))));
  d.deferred.clear();
  d.dyads.names = fileColumns(d);
}

/**
 * The columns of dyads.csv and dyads.parquet: those `buildDyads` made, in the contract's order,
 * whether held in memory or deferred, then the columns added to the table since (the spec's
 * derived variables).
 */
export function fileColumns(d: DyadResult): string[] {
  const built = new Set(d.columnOrder);
  return [...d.columnOrder, ...d.dyads.names.filter((n) => !built.has(n))];
}

