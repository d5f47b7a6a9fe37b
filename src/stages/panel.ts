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
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Encoding } from '../data/csv-columns.ts';
import { encodeInBackground } from '../data/serialize.ts';
import { makeTable, numColumn, strColumn, type Column, type Table } from '../data/table.ts';
import { UsageError } from '../util/errors.ts';
import { calendarOf, dayNumber } from '../util/dates.ts';
import { withOutput, writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { silentReporter, type Reporter } from '../util/progress.ts';
import { computeDyads, type DyadsStageResult } from './dyads.ts';
import { loadSpec } from '../specfile/load.ts';
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

/**
 * The pair-year table (in memory), the stacked yearly cross-sections (every pair in every panel
 * year, with `year`, `t`, the year's cumulative `coop` and `new` = first signed that year: for
 * tests of change between years) and the report.
 */
export function buildPairYears(o: PanelOptions, rep: Reporter = silentReporter): { table: Table; stacked: Table; report: PanelReport; latest: DyadsStageResult } {
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
  const stages = new Map<number, DyadsStageResult>();
  for (const y of needed) stages.set(y, computeDyads(join(o.data, String(y)), { provinces: o.provinces, monadic: o.monadic, encoding: o.encoding }, rep));
  const latest = years[years.length - 1];

  // pair keys and first signing dates of a year's dyad table
  const pairsOf = (t: Table) => {
    const i = t.columns.get('i')!;
    const j = t.columns.get('j')!;
    const s = t.columns.get('first_signed');
    const coop = t.columns.get('coop');
    if (i.kind !== 'string' || j.kind !== 'string' || !s || s.kind !== 'string' || !coop || coop.kind !== 'number') throw new Error('internal: a dyad table without i, j, first_signed, coop');
    const text = (c: typeof i, r: number) => (c.codes[r] < 0 ? '' : c.levels[c.codes[r]]);
    return { key: (r: number) => `${text(i, r)}\t${text(j, r)}`, signed: (r: number) => text(s, r), coop: coop.values, n: t.nrow };
  };
  // signing year per pair from the latest year: a number, or NaN when the pair signed without a date
  const signYear = new Map<string, number>();
  const last = pairsOf(stages.get(latest)!.dyads.dyads);
  const lastSigned = new Map<string, string>();
  let undated = 0;
  for (let r = 0; r < last.n; r++) {
    if (last.coop[r] !== 1) continue;
    const s = last.signed(r);
    lastSigned.set(last.key(r), s);
    if (s === '') {
      signYear.set(last.key(r), NaN);
      undated++;
    } else signYear.set(last.key(r), calendarOf(dayNumber(s)!).year);
  }
  // earlier folders' dates that disagree with the latest file
  const disagreements: PanelReport['date_disagreements'] = [];
  for (const [y, st] of stages) {
    if (y === latest) continue;
    const e = pairsOf(st.dyads.dyads);
    const ex: string[] = [];
    let count = 0;
    for (let r = 0; r < e.n; r++) {
      if (e.coop[r] !== 1) continue;
      const s = e.signed(r);
      const now = lastSigned.get(e.key(r));
      // the same date; or undated then, and dated no later than that year now
      if (now === s || (s === '' && now !== undefined && now !== '' && calendarOf(dayNumber(now)!).year <= y)) continue;
      count++;
      if (ex.length < 5) ex.push(`${e.key(r).replace('\t', '–')}: ${s === '' ? 'signed, undated,' : s} in ${y}, ${now === undefined ? 'no agreement' : now === '' ? 'undated' : now} in ${latest}`);
    }
    if (count) disagreements.push({ year: y, pairs: count, examples: ex });
  }
  // cities not in every folder used
  const citySets = new Map([...stages].map(([y, st]) => [y, new Set(cityIds(st))]));
  const all = new Set([...citySets.values()].flatMap((s) => [...s]));
  const missing: PanelReport['cities_not_in_every_year'] = [];
  for (const c of [...all].sort()) {
    const gone = needed.filter((y) => !citySets.get(y)!.has(c));
    if (gone.length) missing.push({ city: c, missing_in: gone });
  }

  // the rows: for each panel year, the pairs of its covariate table still at risk
  const first = stages.get(o.lag ? years[0] - 1 : years[0])!.dyads.dyads;
  const covariates = first.names.filter((n) => !OUTCOME_COLUMNS.has(n));
  const picks: { y: number; table: Table; rows: number[]; events: Uint8Array }[] = [];
  const byYear: PanelReport['by_year'] = [];
  let signedBefore = 0;
  for (const y of years) {
    const src = stages.get(o.lag ? y - 1 : y)!.dyads.dyads;
    for (const c of covariates) {
      if (!src.columns.has(c)) throw new UsageError(`the pair-year table needs '${c}' in every year, but the dyad table of ${o.lag ? y - 1 : y} has no such column (does that year's folder lack a file?)`);
    }
    const p = pairsOf(src);
    const rows: number[] = [];
    const ev: number[] = [];
    const inSource = new Set<string>();
    for (let r = 0; r < p.n; r++) {
      const k = p.key(r);
      inSource.add(k);
      const s = signYear.get(k);
      if (s !== undefined && Number.isNaN(s)) continue; // undated: left out
      if (s !== undefined && s < y) {
        if (y === years[0]) signedBefore++;
        continue;
      }
      rows.push(r);
      ev.push(s === y ? 1 : 0);
    }
    // pairs of the latest table at risk in y whose covariate table lacks them (a city missing that year)
    let dropped = 0;
    for (let r = 0; r < last.n; r++) {
      const k = last.key(r);
      const s = signYear.get(k);
      if ((s === undefined || s >= y) && !inSource.has(k)) dropped++;
    }
    picks.push({ y, table: src, rows, events: Uint8Array.from(ev) });
    byYear.push({ year: y, pairs_at_risk: rows.length, events: ev.reduce((a, b) => a + b, 0), pairs_dropped: dropped });
  }
  const risk = stackRows(picks, covariates, first, 'the pair-year table');
  const [ci, cj, ...rest] = risk.cols;
  if (ci[0] !== 'i' || cj[0] !== 'j') throw new Error('internal: a dyad table whose first columns are not i, j');
  const table = makeTable(risk.n, [ci, cj, ['year', risk.perRow((q) => q.y)], ['event', risk.perRow((q, k) => q.events[k])], ['t', risk.perRow((q) => q.y - origin)], ...rest]);
  // the stacked cross-sections: every pair of every panel year with that year's own outcome
  // (coop cumulative to that year) and `new` (first signed in that year)
  const stackedParts = years.map((y) => {
    const src = stages.get(y)!.dyads.dyads;
    const p = pairsOf(src);
    const fresh = new Float64Array(src.nrow);
    for (let r = 0; r < src.nrow; r++) fresh[r] = signYear.get(p.key(r)) === y ? 1 : 0;
    return { y, table: src, rows: null, fresh };
  });
  const every = stackRows(stackedParts, first.names, first, 'the stacked table');
  const [si, sj, ...srest] = every.cols;
  const stacked = makeTable(every.n, [si, sj, ['year', every.perRow((q) => q.y)], ['t', every.perRow((q) => q.y - origin)], ['new', every.perRow((q, k) => q.fresh[k])], ...srest]);
  return {
    table,
    stacked,
    latest: stages.get(latest)!,
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

/** One year's share of a stacked table: its dyad table and the rows taken (null: all). */
interface Part {
  y: number;
  table: Table;
  rows: number[] | null;
}

/**
 * The columns `names` of several years' rows stacked into one table (kinds as in `like`), and
 * `perRow` for columns computed per stacked row from its part and its position k in the part.
 */
function stackRows<P extends Part>(parts: P[], names: string[], like: Table, what: string) {
  const count = (q: P) => (q.rows ? q.rows.length : q.table.nrow);
  const n = parts.reduce((s, q) => s + count(q), 0);
  const rowOf = (q: P, k: number) => (q.rows ? q.rows[k] : k);
  const cols: [string, Column][] = names.map((c) => {
    const kind = like.columns.get(c)!.kind;
    const colOf = (q: P) => {
      const col = q.table.columns.get(c);
      if (!col || col.kind !== kind) throw new UsageError(`${what} needs the ${kind === 'number' ? 'number' : 'text'} column '${c}' in every year; the dyad table of ${q.y} has ${col ? 'it of the other kind' : 'none'}`);
      return col;
    };
    if (kind === 'number') {
      const v = new Float64Array(n);
      let o = 0;
      for (const q of parts) {
        const src = (colOf(q) as { values: Float64Array }).values;
        for (let k = 0; k < count(q); k++) v[o++] = src[rowOf(q, k)];
      }
      return [c, numColumn(v)];
    }
    const v: (string | null)[] = new Array(n);
    let o = 0;
    for (const q of parts) {
      const col = colOf(q) as { codes: Int32Array; levels: string[] };
      for (let k = 0; k < count(q); k++) {
        const code = col.codes[rowOf(q, k)];
        v[o++] = code < 0 ? null : col.levels[code];
      }
    }
    return [c, strColumn(v)];
  });
  const perRow = (f: (q: P, k: number) => number) => {
    const v = new Float64Array(n);
    let o = 0;
    for (const q of parts) for (let k = 0; k < count(q); k++) v[o++] = f(q, k);
    return numColumn(v);
  };
  return { n, cols, perRow };
}

/** The sample cities' ids of a year. */
function cityIds(st: DyadsStageResult): string[] {
  const ids = st.cities.columns.get('city_id');
  if (!ids || ids.kind !== 'string') throw new Error('internal: cities_clean without city_id');
  return Array.from(ids.codes, (k) => ids.levels[k]);
}

/** The report as Markdown (pair_years_report.md). */
export function panelReportMarkdown(r: PanelReport): string {
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
 * `tongban panel`: the pair-year tables and their report into <out>/<dataset>/panel/; with a
 * spec, its models on samples of `table: pair_years` / `pair_years_stacked`, with fits, tables,
 * plots and report.html as a yearly run has them.
 */
export function runPanel(o: PanelOptions & { out: string; spec?: string }, rep: Reporter = silentReporter): Promise<{ outDir: string; report: PanelReport }> {
  const outDir = join(o.out, basename(resolve(o.data)), 'panel');
  const loaded = o.spec ? loadSpec(o.spec) : null;
  return withOutput(outDir, async () => {
    const { table, stacked, report, latest } = buildPairYears(o, rep);
    rep.step(`panel: ${table.nrow} pair-years (${report.by_year.map((b) => `${b.year}: ${b.pairs_at_risk} at risk, ${b.events} events`).join('; ')})`);
    const chunks = await encodeInBackground(table, ['parquet']);
    const stackedChunks = await encodeInBackground(stacked, ['parquet']);
    const files: OutputFiles = new Map();
    files.set('pair_years.parquet', () => chunks.parquet);
    files.set('pair_years_stacked.parquet', () => stackedChunks.parquet);
    files.set('pair_years_report.json', JSON.stringify(report, null, 2) + '\n');
    files.set('pair_years_report.md', panelReportMarkdown(report));
    if (loaded) {
      // the models see the tables with the spec's derived variables (written files stay as built)
      const copy = (t: Table): Table => ({ ...t, names: [...t.names], columns: new Map(t.columns) });
      const samples = await prepareModels(loaded, { pair_years: copy(table), pair_years_stacked: copy(stacked) });
      const models = await fitModels(loaded, samples, rep);
      const record = { ...runRecord(loaded, { dataset: basename(resolve(o.data)), year: report.dates_from }, models, { ...latest.data.report, sample: latest.sample }), panel: report };
      rep.step('report: tables, plots, report.html');
      for (const [name, content] of await reportFiles(record, models.fits)) files.set(name, content);
    }
    writeOutputsAtomically(outDir, files, loaded ? { replaceDirs: ['fits', 'tables', 'plots'] } : {});
    rep.step(`panel: -> ${join(outDir, 'pair_years.parquet')}`);
    return { outDir, report };
  });
}
