/**
 * Years as a panel: the pair-year table of a discrete-time event history of cooperation
 * (dyadic event-history analysis: Volden 2006; Boehmke 2009). From the year folders of a data
 * set, one row per undirected pair per year in which it is at risk of signing its first
 * agreement: it enters in the first panel year if it had not signed before, and leaves after
 * the year it signs (event = 1 in that year). Signing dates come from the latest panel year's
 * agreements file; covariates from the same year (lag 0) or the year before (lag 1). Written
 * as pair_years.parquet with a report of what was left out and why, beside the stacked yearly
 * cross-sections (pair_years_stacked.parquet).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Encoding } from '../data/csv-columns.ts';
import { NullableColumns, ParquetPartWriter } from '../data/parquet.ts';
import { denseCodes, hasMissing, type Table } from '../data/table.ts';
import { collectAfter } from '../util/gc.ts';
import { TableCollector, type ColumnKind, type PartSink, type TablePart } from '../data/table-parts.ts';
import { UsageError } from '../util/errors.ts';
import { calendarOf, dayNumber } from '../util/dates.ts';
import { fault, StagedFile, stageFile, withOutput, writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { silentReporter, type Reporter } from '../util/progress.ts';
import { computeDyads, type DyadsStageResult } from './dyads.ts';
import { loadSpec, type LoadedSpec } from '../specfile/load.ts';
import { fitModels, prepareModels } from './models.ts';
import { reportFiles, runRecord } from './report.ts';
import type { PanelReport } from '../report/run-record.ts';

export type { PanelReport };

export interface PanelOptions {
  data: string;
  years: number[];
  /** covariates of the same year (0) or of the year before (1) */
  lag: 0 | 1;
  /** t = year − origin (default: the first panel year) */
  origin?: number;
  provinces?: string[];
  monadic?: string[];
  encoding?: Encoding;
}

/** Columns that describe the outcome of a year's cross-section, replaced by the panel's own. */
const OUTCOME_COLUMNS = new Set(['coop', 'items', 'first_signed']);

/** Where the two panel tables go as they are built (each optional). */
export interface PanelSinks {
  /** the pair-year table: pairs at risk, with `year`, `event`, `t` and the covariates */
  pair_years?: PartSink[];
  /** the stacked yearly cross-sections: every pair of every panel year, with `year`, `t`, `new` and that year's own outcome */
  pair_years_stacked?: PartSink[];
}

/** What the panel's report needs of the latest year: its cleaning report and sample. */
export interface LatestYear {
  cleaning: DyadsStageResult['data']['report'];
  sample: DyadsStageResult['sample'];
}

/** The number columns of a table with a missing value. */
function missingIn(t: Table): Set<string> {
  return new Set(t.names.filter((name) => t.columns.get(name)!.kind === 'number' && hasMissing(t.columns.get(name)!)));
}

/** Unordered pair key of two global city codes (fewer than 2^21 cities). */
const pairKey = (a: number, b: number) => (a < b ? a * 2097152 + b : b * 2097152 + a);

/**
 * Builds the panel tables year by year into `sinks`, holding one year's dyad table at a time:
 * a county-scale panel (16 million pair-years) is never whole in memory. The latest panel year
 * is read first for the signing dates (and again in its turn when its table is needed).
 */
export async function buildPairYears(o: PanelOptions, rep: Reporter = silentReporter, sinks: PanelSinks = {}): Promise<{ report: PanelReport; latest: LatestYear }> {
  const years = [...new Set(o.years)].sort((a, b) => a - b);
  if (!years.length) throw new UsageError('--years: give at least one year, e.g. 2019:2022');
  const origin = o.origin ?? years[0];
  const needed = [...new Set([...years, ...(o.lag ? years.map((y) => y - 1) : [])])].sort((a, b) => a - b);
  for (const y of needed) {
    if (!existsSync(join(o.data, String(y)))) {
      throw new UsageError(
        o.lag && !years.includes(y) ? `--lag 1 takes the covariates of the year before each panel year: it needs the folder ${join(o.data, String(y))}, which does not exist (start the panel a year later, or use --lag 0)` : `no folder ${join(o.data, String(y))} for panel year ${y}`,
      );
    }
  }
  const computeYear = (y: number) => computeDyads(join(o.data, String(y)), { provinces: o.provinces, monadic: o.monadic, encoding: o.encoding }, rep);
  const latest = years[years.length - 1];
  const cityCode = denseCodes<string>();

  // a year's dyad table: its pairs (global city codes), first signing dates and cumulative coop
  const pairsOf = (t: Table) => {
    const i = t.columns.get('i')!;
    const j = t.columns.get('j')!;
    const s = t.columns.get('first_signed');
    const coop = t.columns.get('coop');
    if (i.kind !== 'string' || j.kind !== 'string' || !s || s.kind !== 'string' || !coop || coop.kind !== 'number') throw new Error('internal: a dyad table without i, j, first_signed, coop');
    const gi = Int32Array.from(i.levels, (c) => cityCode.code(c));
    const gj = Int32Array.from(j.levels, (c) => cityCode.code(c));
    const present = new Set([...i.levels, ...j.levels]);
    return {
      a: (r: number) => gi[i.codes[r]],
      b: (r: number) => gj[j.codes[r]],
      name: (r: number) => `${i.levels[i.codes[r]]}–${j.levels[j.codes[r]]}`,
      signed: (r: number) => (s.codes[r] < 0 ? '' : s.levels[s.codes[r]]),
      coop: coop.values,
      n: t.nrow,
      present,
    };
  };

  // signing year per pair of the latest year's cities (Infinity: not signed; NaN: signed
  // without a date), in a grid over those cities (2,846 cities: 32 MB) — a lookup per pair-year
  rep.step(`panel: signing dates from the ${latest} agreements`);
  let latestStage: DyadsStageResult | null = computeYear(latest);
  const latestInfo: LatestYear = { cleaning: latestStage.data.report, sample: latestStage.sample };
  const lastSigned = new Map<number, string>();
  let undated = 0;
  const citySets = new Map<number, Set<string>>();
  const last = pairsOf(latestStage.dyads.dyads);
  citySets.set(latest, last.present);
  const L = cityCode.size(); // the latest year's cities have codes 0 … L − 1
  const grid = L <= 8192 ? new Float32Array(L * L).fill(Infinity) : null;
  const signMap = grid ? null : new Map<number, number>();
  const signOf = (a: number, b: number): number => {
    if (a >= L || b >= L) return Infinity;
    if (grid) return grid[a < b ? a * L + b : b * L + a];
    return signMap!.get(pairKey(a, b)) ?? Infinity;
  };
  const latestPairs = { a: new Int32Array(last.n), b: new Int32Array(last.n), sign: new Float64Array(last.n).fill(Infinity) };
  for (let r = 0; r < last.n; r++) {
    const a = (latestPairs.a[r] = last.a(r));
    const b = (latestPairs.b[r] = last.b(r));
    if (last.coop[r] !== 1) continue;
    const s = last.signed(r);
    lastSigned.set(pairKey(a, b), s);
    const year = s === '' ? NaN : calendarOf(dayNumber(s)!).year;
    if (s === '') undated++;
    latestPairs.sign[r] = year;
    if (grid) grid[a < b ? a * L + b : b * L + a] = year;
    else signMap!.set(pairKey(a, b), year);
  }
  let letGo = 0; // rows of the dyad table just let go
  if (needed.length > 1) {
    letGo = latestStage.dyads.dyads.nrow;
    latestStage = null; // read again in its turn: one dyad table in memory at a time
  }

  const disagreements: PanelReport['date_disagreements'] = [];
  const byYear: PanelReport['by_year'] = [];
  let signedBefore = 0;
  let covariates: [string, ColumnKind][] | null = null; // columns of the first covariate year
  let stackedColumns: [string, ColumnKind][] | null = null;
  const riskSinks = sinks.pair_years ?? [];
  const stackedSinks = sinks.pair_years_stacked ?? [];
  const constant = (n: number, x: number) => ({ kind: 'number' as const, values: new Float64Array(n).fill(x) });
  const checkColumns = (t: Table, cols: [string, ColumnKind][], y: number, what: string) => {
    for (const [c, kind] of cols) {
      const col = t.columns.get(c);
      if (!col) throw new UsageError(`${what} needs '${c}' in every year, but the dyad table of ${y} has no such column (does that year's folder lack a file?)`);
      if (col.kind !== kind) throw new UsageError(`${what} needs the ${kind === 'number' ? 'number' : 'text'} column '${c}' in every year; the dyad table of ${y} has it of the other kind`);
    }
  };

  for (const y of needed) {
    const covariatesFor = o.lag ? y + 1 : y; // the panel year whose covariates this table holds
    const isCovariates = years.includes(covariatesFor);
    const isStacked = stackedSinks.length > 0 && years.includes(y);
    if (!isCovariates && !isStacked && y === latest) continue;
    // a turn of the event loop between years: Ctrl-C stops the run here (a county year takes
    // seconds to build, and a signal is handled only between synchronous steps)
    fault('panel-year');
    await nextTurn();
    collectAfter(letGo); // the last table gone before the next is built
    const st = latestStage && y === latest ? latestStage : computeYear(y);
    const t = st.dyads.dyads;
    letGo = t.nrow;
    const p = y === latest ? null : pairsOf(t);
    if (p) citySets.set(y, p.present);

    // an earlier folder's dates that disagree with the latest file
    if (p) {
      const ex: string[] = [];
      let count = 0;
      for (let r = 0; r < p.n; r++) {
        if (p.coop[r] !== 1) continue;
        const s = p.signed(r);
        const now = lastSigned.get(pairKey(p.a(r), p.b(r)));
        // the same date; or undated then, and dated no later than that year now
        if (now === s || (s === '' && now !== undefined && now !== '' && calendarOf(dayNumber(now)!).year <= y)) continue;
        count++;
        if (ex.length < 5) ex.push(`${p.name(r)}: ${s === '' ? 'signed, undated,' : s} in ${y}, ${now === undefined ? 'no agreement' : now === '' ? 'undated' : now} in ${latest}`);
      }
      if (count) disagreements.push({ year: y, pairs: count, examples: ex });
    }
    const q = p ?? pairsOf(t);
    const source = (name: string) => ({ name, col: t.columns.get(name)!, rows: null as Int32Array | null });
    // the first table's columns with a missing value (a hint for the Parquet schemas), scanned once
    let missing: Set<string> | undefined;
    const missingHere = () => (missing ??= missingIn(t));

    if (isCovariates) {
      // the pairs of this table still at risk in the panel year
      const py = covariatesFor;
      if (!covariates) {
        covariates = t.names.filter((n) => !OUTCOME_COLUMNS.has(n)).map((n) => [n, t.columns.get(n)!.kind]);
        if (covariates[0]?.[0] !== 'i' || covariates[1]?.[0] !== 'j') throw new Error('internal: a dyad table whose first columns are not i, j');
        const [ci, cj, ...rest] = covariates;
        for (const s of riskSinks) s.start([ci, cj, ['year', 'number'], ['event', 'number'], ['t', 'number'], ...rest], missingHere());
      }
      checkColumns(t, covariates, y, 'the pair-year table');
      const rows = new Int32Array(q.n);
      const event = new Float64Array(q.n);
      let n = 0;
      for (let r = 0; r < q.n; r++) {
        const s = signOf(q.a(r), q.b(r));
        if (Number.isNaN(s)) continue; // undated: left out
        if (s < py) {
          if (py === years[0]) signedBefore++;
          continue;
        }
        rows[n] = r;
        event[n++] = s === py ? 1 : 0;
      }
      // pairs of the latest table at risk in the panel year that this table lacks (a city missing that year)
      let dropped = 0;
      const { a, b, sign } = latestPairs;
      const here = new Uint8Array(cityCode.size());
      for (const c of q.present) here[cityCode.code(c)] = 1;
      for (let r = 0; r < a.length; r++) if (sign[r] >= py && !(here[a[r]] && here[b[r]])) dropped++;
      let events = 0;
      for (let k = 0; k < n; k++) events += event[k];
      byYear.push({ year: py, pairs_at_risk: n, events, pairs_dropped: dropped });
      const at = rows.subarray(0, n);
      const part: TablePart = {
        n,
        columns: [
          { ...source('i'), rows: at },
          { ...source('j'), rows: at },
          { name: 'year', col: constant(n, py), rows: null },
          { name: 'event', col: { kind: 'number', values: event.subarray(0, n) }, rows: null },
          { name: 't', col: constant(n, py - origin), rows: null },
          ...covariates.slice(2).map(([c]) => ({ ...source(c), rows: at })),
        ],
      };
      rep.step(`panel: ${py}: ${n} pairs at risk, ${events} first agreements`);
      for (const s of riskSinks) s.push(part);
    }

    if (isStacked) {
      // every pair of the year with its own outcome (coop cumulative to that year) and `new`
      if (!stackedColumns) {
        stackedColumns = t.names.map((n) => [n, t.columns.get(n)!.kind]);
        const [si, sj, ...rest] = stackedColumns;
        for (const s of stackedSinks) s.start([si, sj, ['year', 'number'], ['t', 'number'], ['new', 'number'], ...rest], missingHere());
      }
      checkColumns(t, stackedColumns, y, 'the stacked table');
      const fresh = new Float64Array(q.n);
      for (let r = 0; r < q.n; r++) fresh[r] = signOf(q.a(r), q.b(r)) === y ? 1 : 0;
      const part: TablePart = {
        n: q.n,
        columns: [
          source('i'),
          source('j'),
          { name: 'year', col: constant(q.n, y), rows: null },
          { name: 't', col: constant(q.n, y - origin), rows: null },
          { name: 'new', col: { kind: 'number', values: fresh }, rows: null },
          ...stackedColumns.slice(2).map(([c]) => source(c)),
        ],
      };
      for (const s of stackedSinks) s.push(part);
    }
  }
  latestStage = null;
  for (const s of riskSinks) s.finish();
  for (const s of stackedSinks) s.finish();

  // cities not in every folder used
  const all = new Set([...citySets.values()].flatMap((s) => [...s]));
  const missing: PanelReport['cities_not_in_every_year'] = [];
  for (const c of [...all].sort()) {
    const gone = needed.filter((y) => citySets.has(y) && !citySets.get(y)!.has(c));
    if (gone.length) missing.push({ city: c, missing_in: gone });
  }
  return {
    latest: latestInfo,
    report: {
      years,
      lag: o.lag,
      origin,
      dates_from: latest,
      by_year: byYear,
      signed_before_first_year: signedBefore,
      undated_pairs_left_out: undated,
      date_disagreements: disagreements,
      cities_not_in_every_year: missing,
    },
  };
}

/**
 * The panel tables in memory (columns `keep` names, default all): the pair-year table, and the
 * stacked cross-sections when asked for.
 */
export async function pairYearTables(o: PanelOptions, rep: Reporter = silentReporter, want: { stacked?: boolean; keep?: (column: string) => boolean } = {}) {
  const risk = new TableCollector(want.keep);
  const stacked = want.stacked ? new TableCollector(want.keep) : null;
  const { report, latest } = await buildPairYears(o, rep, { pair_years: [risk], pair_years_stacked: stacked ? [stacked] : [] });
  return { table: risk.table(), stacked: stacked?.table() ?? null, report, latest };
}

/** The report as Markdown (pair_years_report.md), in the spec's language (English without one). */
export function panelReportMarkdown(r: PanelReport, lang: 'zh' | 'en' = 'en'): string {
  if (lang === 'zh') {
    // an example of a disagreement, "a–b: <date> in <year>, <date> in <latest>", in Chinese
    const example = (e: string) => {
      const m = /^(.+): (signed, undated,|\S+) in (\d{4}), (no agreement|undated|\S+) in (\d{4})$/.exec(e);
      if (!m) return e;
      const then = m[2] === 'signed, undated,' ? '已签署但无日期' : `首次签署于 ${m[2]}`;
      const now = m[4] === 'no agreement' ? '无协议' : m[4] === 'undated' ? '无日期' : `首次签署于 ${m[4]}`;
      return `${m[1]}：${m[3]} 年文件${then}，${m[5]} 年文件${now}`;
    };
    const zhLines = [
      '# 城市对-年份表（首次签约的离散时间事件史）',
      '',
      `年份 ${r.years.join('、')}；协变量取${r.lag ? '上一年' : '当年'}；t = 年份 − ${r.origin}；签署日期取自 ${r.dates_from} 年的协议文件。`,
      '',
      '| 年份 | 处于风险中的城市对 | 首次签约（event = 1） | 因城市缺失而剔除的城市对 |',
      '|---|---:|---:|---:|',
      ...r.by_year.map((b) => `| ${b.year} | ${b.pairs_at_risk} | ${b.events} | ${b.pairs_dropped} |`),
      '',
      `- ${r.years[0]} 年之前已签约（不在风险集中）的城市对：${r.signed_before_first_year}`,
      `- 有协议但无签署日期（未纳入）的城市对：${r.undated_pairs_left_out}`,
    ];
    for (const d of r.date_disagreements) zhLines.push(`- ${d.pairs} 个城市对在 ${d.year} 年协议文件中的日期与 ${r.dates_from} 年文件不同（采用后者），如 ${d.examples.map(example).join('；')}`);
    if (r.cities_not_in_every_year.length) {
      zhLines.push(`- 并非每年都有的城市（${r.cities_not_in_every_year.length} 个）：${r.cities_not_in_every_year.slice(0, 20).map((c) => `${c.city}（${c.missing_in.join('、')} 年缺失）`).join('、')}${r.cities_not_in_every_year.length > 20 ? '等' : ''}`);
    }
    return zhLines.join('\n') + '\n';
  }
  const lines = [
    '# Pair-year table (discrete-time event history of first agreements)',
    '',
    `Years ${r.years.join(', ')}; covariates ${r.lag ? 'of the year before' : 'of the same year'}; t = year − ${r.origin}; signing dates from the ${r.dates_from} agreements file.`,
    '',
    '| year | pairs at risk | first agreements (event = 1) | pairs dropped (a city missing that year) |',
    '|---|---:|---:|---:|',
    ...r.by_year.map((b) => `| ${b.year} | ${b.pairs_at_risk} | ${b.events} | ${b.pairs_dropped} |`),
    '',
    `- pairs that had signed before ${r.years[0]} (not at risk): ${r.signed_before_first_year}`,
    `- pairs with agreements but no signing date (left out): ${r.undated_pairs_left_out}`,
  ];
  for (const d of r.date_disagreements) lines.push(`- ${d.pairs} pair${d.pairs > 1 ? 's' : ''} dated differently in the ${d.year} agreements file than in the ${r.dates_from} file (the latter is used), e.g. ${d.examples.join('; ')}`);
  if (r.cities_not_in_every_year.length) {
    lines.push(`- cities not in every year folder (${r.cities_not_in_every_year.length}): ${r.cities_not_in_every_year.slice(0, 20).map((c) => `${c.city} (missing in ${c.missing_in.join(', ')})`).join(', ')}${r.cities_not_in_every_year.length > 20 ? ', …' : ''}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The columns a spec may read from the panel tables: every name that appears in it (formulas,
 * subsets, derived variables, clusters), with the panel's own. The models need no others, and at
 * county scale the panel holds 16 million rows of each column it keeps.
 */
export function specColumns(loaded: LoadedSpec): (column: string) => boolean {
  const names = new Set(['i', 'j']);
  for (const text of [loaded.text, JSON.stringify(loaded.spec), JSON.stringify(loaded.models)]) {
    for (const m of text.matchAll(/[A-Za-z_][A-Za-z0-9_.]*/g)) names.add(m[0]);
  }
  return (c) => names.has(c);
}

/**
 * `tongban panel`: the pair-year tables and their report into <out>/<dataset>/panel/; with a
 * spec, its models on samples of `table: pair_years` / `pair_years_stacked`, with fits, tables,
 * plots and report.html as a yearly run has them. The tables are written as they are built,
 * year by year; the models see only the columns their spec names. The stacked table is built
 * when the spec uses it or `stacked` is asked for.
 */
export function runPanel(o: PanelOptions & { out: string; spec?: string; stacked?: boolean }, rep: Reporter = silentReporter): Promise<{ outDir: string; report: PanelReport }> {
  const outDir = join(o.out, basename(resolve(o.data)), 'panel');
  const loaded = o.spec ? loadSpec(o.spec) : null;
  const usesStacked = loaded !== null && Object.values(loaded.spec.samples).some((s) => s.table === 'pair_years_stacked');
  const stacked = o.stacked || usesStacked;
  return withOutput(outDir, async () => {
    const files: OutputFiles = new Map();
    const keep = loaded ? specColumns(loaded) : () => false;
    // the tables are written as they are built; a number missing where the first year had
    // none (a REQUIRED column of the Parquet file) means building them again with every number
    // column nullable
    const build = async (nullable: boolean) => {
      const sinks: PanelSinks = {};
      const inMemory: TableCollector[] = [];
      for (const [name, wanted] of [['pair_years', true], ['pair_years_stacked', stacked]] as const) {
        if (!wanted) continue;
        const earlier = files.get(`${name}.parquet`);
        if (earlier instanceof StagedFile) earlier.close();
        const file = stageFile(outDir, `${name}.parquet`);
        files.set(`${name}.parquet`, file);
        const collector = new TableCollector(keep);
        inMemory.push(collector);
        const writer = new ParquetPartWriter((bytes) => file.write(bytes), nullable ? 'all' : []);
        sinks[name] = [writer, ...(loaded ? [collector] : [])];
      }
      return { ...(await buildPairYears(o, rep, sinks)), inMemory };
    };
    let built;
    try {
      built = await build(false);
    } catch (e) {
      if (!(e instanceof NullableColumns)) throw e;
      rep.step(`panel: ${e.columns.join(', ')} ha${e.columns.length > 1 ? 've' : 's'} missing values in a later year than the first: building the tables again with every number column nullable`);
      built = await build(true);
    }
    const { report, latest, inMemory } = built;
    rep.step(`panel: ${report.by_year.reduce((a, b) => a + b.pairs_at_risk, 0)} pair-years (${report.by_year.map((b) => `${b.year}: ${b.pairs_at_risk} at risk, ${b.events} events`).join('; ')})`);
    files.set('pair_years_report.json', JSON.stringify(report, null, 2) + '\n');
    files.set('pair_years_report.md', panelReportMarkdown(report, loaded?.spec.language ?? 'en'));
    if (loaded) {
      const [risk, both] = inMemory;
      // the models see the tables with the spec's derived variables (written files stay as built)
      const samples = await prepareModels(loaded, { pair_years: risk.table(), ...(both ? { pair_years_stacked: both.table() } : {}) });
      // nothing after the fits reads the pair-year tables: each table's number columns go once its
      // last model's design is built (at county scale the design would otherwise be a second 1.5 GB copy)
      const models = await fitModels(loaded, samples, rep, { releaseColumns: true });
      const record = { ...runRecord(loaded, { dataset: basename(resolve(o.data)), year: report.dates_from }, models, { ...latest.cleaning, sample: latest.sample }), panel: report };
      rep.step('report: tables, plots, report.html');
      for (const [name, content] of await reportFiles(record, models.fits, (w) => rep.warn(w))) files.set(name, content);
    }
    // a run without a spec drops an earlier spec run's fits, tables, plots and report (they
    // would describe other years or options); a stacked table not built this time goes too
    const stale = [...(stacked ? [] : ['pair_years_stacked.parquet']), ...(loaded ? [] : ['fits', 'tables', 'plots', 'report.html', 'tidy.csv', 'glance.csv'])];
    writeOutputsAtomically(outDir, files, loaded ? { replaceDirs: ['fits', 'tables', 'plots'], drop: stale } : { drop: stale });
    rep.step(`panel: -> ${join(outDir, 'pair_years.parquet')}`);
    return { outDir, report };
  });
}
