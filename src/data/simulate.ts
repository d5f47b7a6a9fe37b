/**
 * The demo data generator: a synthetic national sample shaped like the book's
 * (333 prefecture-level cities in 31 provinces), with agreements drawn from a
 * documented data-generating process with known coefficients (data/demo/README.md).
 *
 * The agreement DGP is evaluated on the very covariates the pipeline derives from
 * the written files (the simulator writes cities/flows/regions, runs the clean and
 * dyads stages on them, then draws agreements), so "the true model" is exactly a
 * model of dyads.csv columns.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plogis } from '../util/math.ts';
import { Rng } from '../util/random.ts';
import { toCsv } from './csv.ts';
import { cleanYear } from './clean.ts';
import { buildDyads } from './dyads.ts';
import { getNum, type StrColumn } from './table.ts';

/** 31 provinces: name, code, seat (lon, lat), spread (degrees), number of prefecture-level units in a 333-city sample, zone. */
const PROVINCES: [string, string, number, number, number, number, 'E' | 'NE' | 'C' | 'W'][] = [
  ['北京', '11', 116.4, 39.9, 0.3, 1, 'E'],
  ['天津', '12', 117.2, 39.1, 0.3, 1, 'E'],
  ['河北', '13', 114.5, 38.0, 1.4, 11, 'E'],
  ['山西', '14', 112.5, 37.6, 1.2, 11, 'C'],
  ['内蒙古', '15', 112.0, 42.0, 4.0, 12, 'W'],
  ['辽宁', '21', 122.6, 41.5, 1.2, 14, 'NE'],
  ['吉林', '22', 126.0, 43.6, 1.2, 9, 'NE'],
  ['黑龙江', '23', 127.5, 46.5, 1.8, 13, 'NE'],
  ['上海', '31', 121.5, 31.2, 0.2, 1, 'E'],
  ['江苏', '32', 119.2, 32.6, 1.0, 13, 'E'],
  ['浙江', '33', 120.2, 29.5, 0.9, 11, 'E'],
  ['安徽', '34', 117.2, 31.9, 1.1, 16, 'C'],
  ['福建', '35', 118.3, 25.9, 1.0, 9, 'E'],
  ['江西', '36', 115.9, 27.6, 1.1, 11, 'C'],
  ['山东', '37', 118.0, 36.3, 1.3, 16, 'E'],
  ['河南', '41', 113.7, 33.9, 1.2, 17, 'C'],
  ['湖北', '42', 112.3, 30.9, 1.3, 13, 'C'],
  ['湖南', '43', 111.7, 27.6, 1.2, 14, 'C'],
  ['广东', '44', 113.4, 23.3, 1.3, 21, 'E'],
  ['广西', '45', 108.8, 23.6, 1.4, 14, 'W'],
  ['海南', '46', 109.9, 19.3, 0.5, 4, 'E'],
  ['重庆', '50', 106.5, 29.6, 0.4, 1, 'W'],
  ['四川', '51', 103.5, 30.3, 1.8, 21, 'W'],
  ['贵州', '52', 106.7, 26.7, 1.1, 9, 'W'],
  ['云南', '53', 101.5, 24.9, 1.8, 16, 'W'],
  ['西藏', '54', 90.0, 30.5, 3.0, 7, 'W'],
  ['陕西', '61', 108.6, 35.0, 1.5, 10, 'W'],
  ['甘肃', '62', 102.0, 37.0, 2.5, 14, 'W'],
  ['青海', '63', 98.0, 35.7, 2.5, 8, 'W'],
  ['宁夏', '64', 106.2, 37.5, 0.8, 5, 'W'],
  ['新疆', '65', 85.5, 42.5, 4.0, 10, 'W'],
];

/** Regional strategies, by member provinces (every city of a member province belongs). */
const STRATEGIES: [string, string[]][] = [
  ['京津冀协同发展', ['11', '12', '13']],
  ['长三角一体化', ['31', '32', '33', '34']],
  ['粤港澳大湾区', ['44']],
  ['成渝双城经济圈', ['50', '51']],
  ['长江中游城市群', ['36', '42', '43']],
];

/** True coefficients of the partner-choice logit (on dyads.csv columns) and the depth NB2. */
export const TRUE_COOP = {
  log_flow: 0.4,
  same_province: 0.8,
  log_distance: -0.5,
  same_region: 0.6,
  log_outflow_sum: 0.3,
  fiscal_ratio_min: 0.5,
  gov_index_sum: 0.2,
} as const;
export const TRUE_ITEMS = {
  log_flow: 0.25,
  same_region: 0.3,
  same_province: 0.2,
  log_distance: -0.1,
  fiscal_ratio_min: 0.4,
  gov_index_sum: 0.15,
} as const;
export const DGP = {
  baseYear: 2021,
  coopRate: 2378 / 55278,
  newPerYear: 0.012,
  cityActivitySd: 0.3,
  itemsCityEffectSd: 0.15,
  itemsTheta: 1.5,
  itemsMean: 41,
  flowThreshold: 100,
} as const;

export interface SimulateOptions {
  cities: number;
  seed: number;
  year: number;
}

export interface Simulated {
  files: Map<string, string>;
  summary: {
    cities: number;
    provinces: number;
    dyads: number;
    coop_pairs: number;
    coop_rate: number;
    agreement_rows: number;
    mean_items: number;
    coop_intercept: number;
    items_log_intercept: number;
  };
}

function provinceSizes(n: number): number[] {
  const base = PROVINCES.map((p) => p[5]);
  const total = base.reduce((a, b) => a + b, 0);
  const raw = base.map((s) => (s * n) / total);
  const sizes = raw.map(Math.floor);
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = raw.map((r, k) => [r - Math.floor(r), k]).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
  for (let t = 0; left > 0; t++, left--) sizes[order[t % order.length][1]]++;
  return sizes;
}

const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const fmt = (x: number, digits: number) => String(round(x, digits));

interface City {
  id: string;
  name: string;
  province: string;
  code: string;
  zone: string;
  lon: number;
  lat: number;
  population: number;
  registered: number;
  outflow: number;
  gdp: number;
  revenue: number;
  expenditure: number;
  gov: number;
  activity: number;
  itemsEffect: number;
}

function drawCities(rng: Rng, n: number): City[] {
  const sizes = provinceSizes(n);
  const wide = Math.max(...sizes) >= 99;
  const cities: City[] = [];
  let serial = 0;
  PROVINCES.forEach(([name, code, lon, lat, spread, , zone], p) => {
    for (let s = 0; s < sizes[p]; s++) {
      serial++;
      const id = wide ? code + String(s + 1).padStart(4, '0') : code + String(s + 1).padStart(2, '0') + '00';
      const municipality = PROVINCES[p][5] === 1;
      const zoneGdp = { E: 0.35, NE: 0, C: -0.1, W: -0.25 }[zone];
      const zonePop = { E: 0.1, NE: -0.1, C: 0.15, W: -0.2 }[zone];
      const zGdppc = rng.normal(0, 1);
      const logGdppc = Math.log(6.5) + zoneGdp + 0.35 * zGdppc + (municipality ? 0.5 : 0);
      const logPop = municipality ? Math.log(2200) + rng.normal(0, 0.2) : Math.log(420) + zonePop + rng.normal(0, 0.6);
      const population = Math.min(3500, Math.max(20, Math.exp(logPop)));
      const gdp = Math.min(45000, Math.max(200, population * Math.exp(logGdppc)));
      const inland = zone === 'C' || zone === 'W' ? 0.15 : 0;
      const registered = population * Math.exp(rng.normal(0.03 + inland, 0.12));
      const rate = plogis(-2.4 + (zone === 'C' ? 0.6 : zone === 'W' ? 0.4 : 0) - 0.5 * zGdppc + rng.normal(0, 0.4));
      const noOutflow = rng.bernoulli(plogis(-3.2 + 1.2 * zGdppc));
      const outflow = noOutflow ? 0 : registered * rate;
      const revenue = gdp * Math.exp(Math.log(0.075) + rng.normal(0, 0.2));
      const fiscalRatio = plogis(-0.4 + 0.5 * zGdppc + rng.normal(0, 0.35));
      const expenditure = revenue / fiscalRatio;
      const gov = 0.4 * zGdppc + 0.3 * ((logPop - Math.log(420)) / 0.6) + rng.normal(0, 0.85);
      cities.push({
        id,
        name: `模拟市${String(serial).padStart(4, '0')}`,
        province: name,
        code,
        zone,
        lon: lon + rng.normal(0, spread),
        lat: lat + rng.normal(0, spread * 0.7),
        population,
        registered,
        outflow,
        gdp,
        revenue,
        expenditure,
        gov,
        activity: rng.normal(0, DGP.cityActivitySd),
        itemsEffect: rng.normal(0, DGP.itemsCityEffectSd),
      });
    }
  });
  return cities;
}

function driftCities(rng: Rng, cities: City[]): void {
  for (const c of cities) {
    const g = Math.exp(rng.normal(0.003, 0.01));
    c.population *= g;
    c.registered *= g;
    c.outflow *= Math.exp(rng.normal(0.01, 0.05));
    c.gdp = Math.min(45000, c.gdp * Math.exp(rng.normal(0.06, 0.03)));
    c.revenue *= Math.exp(rng.normal(0.05, 0.05));
    c.expenditure *= Math.exp(rng.normal(0.04, 0.04));
    c.gov += rng.normal(0.05, 0.2);
  }
}

function citiesCsv(cities: City[]): string {
  return toCsv(
    ['city_id', 'city_name', 'province', 'population', 'registered_population', 'outflow', 'gdp', 'budget_revenue', 'budget_expenditure', 'gov_index', 'lon', 'lat'],
    cities.map((c) => [
      c.id,
      c.name,
      c.province,
      fmt(c.population, 2),
      fmt(c.registered, 2),
      fmt(c.outflow, 2),
      fmt(c.gdp, 2),
      fmt(c.revenue, 2),
      fmt(c.expenditure, 2),
      fmt(c.gov, 3),
      fmt(c.lon, 4),
      fmt(c.lat, 4),
    ]),
  );
}

/** Gravity flows (persons), directed; pairs under the threshold are left out (= 0). */
function flowsCsv(cities: City[], noise: Float64Array, year: number): string {
  const rows: string[][] = [];
  const n = cities.length;
  const rad = Math.PI / 180;
  for (let o = 0; o < n; o++) {
    const co = cities[o];
    const push = 0.9 * Math.log(1e4 * co.outflow + 1);
    for (let d = 0; d < n; d++) {
      if (d === o) continue;
      const cd = cities[d];
      const h =
        Math.sin(((cd.lat - co.lat) * rad) / 2) ** 2 +
        Math.cos(co.lat * rad) * Math.cos(cd.lat * rad) * Math.sin(((cd.lon - co.lon) * rad) / 2) ** 2;
      const dist = Math.max(5, 2 * 6371.0088 * Math.asin(Math.sqrt(h)));
      const eta =
        -4.0 + push + 0.5 * Math.log(cd.population) + 0.4 * Math.log(cd.gdp / cd.population) - 1.1 * Math.log(dist) +
        (co.province === cd.province ? 1.2 : 0) + noise[o * n + d] + 0.02 * (year - DGP.baseYear);
      const f = Math.round(Math.exp(eta));
      if (f >= DGP.flowThreshold) rows.push([co.id, cd.id, String(f)]);
    }
  }
  return toCsv(['origin', 'destination', 'flow'], rows);
}

function regionsCsv(cities: City[]): string {
  const rows: string[][] = [];
  for (const [region, codes] of STRATEGIES) {
    for (const c of cities) if (codes.includes(c.code)) rows.push([c.id, region]);
  }
  return toCsv(['city_id', 'region'], rows);
}

/** Finds c with mean(plogis(eta + c)) = target by bisection. */
function calibrateLogit(eta: Float64Array, mask: Uint8Array | null, target: number): number {
  let lo = -30;
  let hi = 30;
  for (let it = 0; it < 200; it++) {
    const mid = (lo + hi) / 2;
    let s = 0;
    let m = 0;
    for (let r = 0; r < eta.length; r++) {
      if (mask && !mask[r]) continue;
      s += plogis(eta[r] + mid);
      m++;
    }
    if (s / m > target) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

const DAY = 86400000;
function dateBetween(rng: Rng, from: string, to: string): string {
  const a = Date.parse(from + 'T00:00:00Z');
  const b = Date.parse(to + 'T00:00:00Z');
  return new Date(a + rng.int(Math.round((b - a) / DAY) + 1) * DAY).toISOString().slice(0, 10);
}

function ztnb(rng: Rng, mu: number, theta: number): number {
  for (;;) {
    const y = rng.negbin(mu, theta);
    if (y > 0) return y;
  }
}

/** The earliest year the simulator writes: the agreements are dated from 2019-01-01. */
export const FIRST_YEAR = 2019;

/**
 * A year before the base year: the base year's cities drifted back year by year (the forward
 * drift's growth rates with the sign reversed, drawn from a stream of their own so that the base
 * and later years stay exactly as they were), that year's flows, and the base year's agreements
 * signed by the end of that year. Agreements without a date are left out (when they were signed is
 * not known); a pair's later batches are in the folders of the years they were signed.
 */
function simulateEarlier(opts: SimulateOptions): Simulated {
  const base = simulate({ ...opts, year: DGP.baseYear });
  // the base year's cities and flow noise: the first draws of simulate()'s own stream
  const rng = new Rng(opts.seed);
  const cities = drawCities(rng, opts.cities);
  const n = cities.length;
  const flowNoise = new Float64Array(n * n);
  for (let k = 0; k < flowNoise.length; k++) flowNoise[k] = rng.normal(0, 0.7);
  const back = new Rng((opts.seed ^ 0x5bd1e995) >>> 0);
  for (let year = DGP.baseYear - 1; year >= opts.year; year--) {
    for (const c of cities) {
      const g = Math.exp(-back.normal(0.003, 0.01));
      c.population *= g;
      c.registered *= g;
      c.outflow *= Math.exp(-back.normal(0.01, 0.05));
      c.gdp *= Math.exp(-back.normal(0.06, 0.03));
      c.revenue *= Math.exp(-back.normal(0.05, 0.05));
      c.expenditure *= Math.exp(-back.normal(0.04, 0.04));
      c.gov -= back.normal(0.05, 0.2);
    }
  }
  const end = `${opts.year}-12-31`;
  const [header, ...lines] = base.files.get('agreements.csv')!.trimEnd().split('\n');
  const kept = lines.filter((l) => {
    const signed = l.split(',')[3];
    return signed !== '' && signed <= end;
  });
  const items = new Map<string, number>();
  for (const l of kept) {
    const [a, b, k] = l.split(',');
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    items.set(key, (items.get(key) ?? 0) + Number(k));
  }
  let itemsSum = 0;
  for (const v of items.values()) itemsSum += v;
  const dyads = (n * (n - 1)) / 2;
  return {
    files: new Map([
      ['cities.csv', citiesCsv(cities)],
      ['agreements.csv', [header, ...kept].join('\n') + '\n'],
      ['flows.csv', flowsCsv(cities, flowNoise, opts.year)],
      ['regions.csv', regionsCsv(cities)],
    ]),
    summary: { ...base.summary, dyads, coop_pairs: items.size, coop_rate: items.size / dyads, agreement_rows: kept.length, mean_items: itemsSum / items.size },
  };
}

export function simulate(opts: SimulateOptions): Simulated {
  if (opts.year < FIRST_YEAR) throw new Error(`the simulator's agreements start in ${FIRST_YEAR}; --year must be >= ${FIRST_YEAR}`);
  if (opts.year < DGP.baseYear) return simulateEarlier(opts);
  const rng = new Rng(opts.seed);
  const cities = drawCities(rng, opts.cities);
  const n = cities.length;
  const flowNoise = new Float64Array(n * n);
  for (let k = 0; k < flowNoise.length; k++) flowNoise[k] = rng.normal(0, 0.7);
  const regions = regionsCsv(cities);

  const tmp = mkdtempSync(join(tmpdir(), 'tongban-sim-'));
  try {
    // agreement rows accumulated over the years: [city_a, city_b, items, signed]
    const agreementRows: string[][] = [];
    const pairItems = new Map<number, number>();
    let coopIntercept = NaN;
    let itemsIntercept = NaN;
    let coopPairs = 0;
    for (let year = DGP.baseYear; year <= opts.year; year++) {
      if (year > DGP.baseYear) driftCities(rng, cities);
      const files = new Map<string, string>([
        ['cities.csv', citiesCsv(cities)],
        ['agreements.csv', 'city_a,city_b,items,signed\n'],
        ['flows.csv', flowsCsv(cities, flowNoise, year)],
        ['regions.csv', regions],
      ]);
      for (const [name, text] of files) writeFileSync(join(tmp, name), text);
      const clean = cleanYear(tmp);
      const { dyads, order } = buildDyads(clean);
      const m = dyads.nrow;
      const col = (name: string) => getNum(dyads, name);
      const iC = (dyads.columns.get('i') as StrColumn).codes;
      const jC = (dyads.columns.get('j') as StrColumn).codes;
      const act = Float64Array.from(order, (k) => cities[k].activity);
      const ieff = Float64Array.from(order, (k) => cities[k].itemsEffect);
      const eta = new Float64Array(m);
      const etaItems = new Float64Array(m);
      for (const [v, b] of Object.entries(TRUE_COOP)) {
        const x = col(v);
        for (let r = 0; r < m; r++) eta[r] += b * x[r];
      }
      for (const [v, b] of Object.entries(TRUE_ITEMS)) {
        const x = col(v);
        for (let r = 0; r < m; r++) etaItems[r] += b * x[r];
      }
      for (let r = 0; r < m; r++) {
        eta[r] += act[iC[r]] + act[jC[r]];
        etaItems[r] += ieff[iC[r]] + ieff[jC[r]];
      }
      const nCity = order.length;
      const key = (r: number) => iC[r] * nCity + jC[r];
      const eligible = new Uint8Array(m);
      for (let r = 0; r < m; r++) eligible[r] = pairItems.has(key(r)) ? 0 : 1;
      let shift: number;
      if (year === DGP.baseYear) {
        shift = calibrateLogit(eta, null, DGP.coopRate);
        coopIntercept = shift;
      } else {
        shift = calibrateLogit(eta, eligible, DGP.newPerYear);
      }
      const newRows: number[] = [];
      for (let r = 0; r < m; r++) if (eligible[r] && rng.bernoulli(plogis(eta[r] + shift))) newRows.push(r);
      if (year === DGP.baseYear) {
        let s = 0;
        for (const r of newRows) s += Math.exp(etaItems[r]);
        itemsIntercept = Math.log(DGP.itemsMean) - Math.log(s / newRows.length);
      }
      const idOf = (c: number) => cities[order[c]].id;
      const from = year === DGP.baseYear ? '2019-01-01' : `${year}-01-01`;
      const addRows = (r: number, total: number, firstFrom: string) => {
        const nb = total >= 3 && rng.uniform() < 0.03 ? 3 : total >= 2 && rng.uniform() < 0.12 ? 2 : 1;
        const cuts = [0, total];
        while (cuts.length < nb + 1) {
          const c = 1 + rng.int(total - 1);
          if (!cuts.includes(c)) cuts.push(c);
        }
        cuts.sort((a, b) => a - b);
        let date = dateBetween(rng, firstFrom, `${year}-12-31`);
        for (let b = 0; b < nb; b++) {
          const swap = rng.uniform() < 0.25;
          const undated = rng.uniform() < 0.04;
          const [a, bb] = swap ? [idOf(jC[r]), idOf(iC[r])] : [idOf(iC[r]), idOf(jC[r])];
          agreementRows.push([a, bb, String(cuts[b + 1] - cuts[b]), undated ? '' : date]);
          date = dateBetween(rng, date, `${year}-12-31`);
        }
      };
      // extra batches for pairs that already cooperate
      if (year > DGP.baseYear) {
        for (let r = 0; r < m; r++) {
          if (eligible[r] || rng.uniform() >= 0.08) continue;
          const extra = ztnb(rng, 8, DGP.itemsTheta);
          pairItems.set(key(r), pairItems.get(key(r))! + extra);
          addRows(r, extra, from);
        }
      }
      for (const r of newRows) {
        const items = ztnb(rng, Math.exp(itemsIntercept + etaItems[r]), DGP.itemsTheta);
        pairItems.set(key(r), items);
        addRows(r, items, from);
      }
      coopPairs = pairItems.size;
      if (year === opts.year) {
        files.set('agreements.csv', toCsv(['city_a', 'city_b', 'items', 'signed'], agreementRows));
        let itemsSum = 0;
        for (const v of pairItems.values()) itemsSum += v;
        return {
          files,
          summary: {
            cities: n,
            provinces: new Set(cities.map((c) => c.province)).size,
            dyads: m,
            coop_pairs: coopPairs,
            coop_rate: coopPairs / m,
            agreement_rows: agreementRows.length,
            mean_items: itemsSum / coopPairs,
            coop_intercept: coopIntercept,
            items_log_intercept: itemsIntercept,
          },
        };
      }
    }
    throw new Error('unreachable');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
