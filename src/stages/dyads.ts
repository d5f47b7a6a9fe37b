/**
 * Stage 2, dyads: a year folder → every unordered pair of sample cities (dyads.csv), with
 * cities_clean.csv of the sample's cities and the cleaning report (docs/contract.md §3).
 * It runs the clean stage's reading first; nothing is written when the input is bad.
 */
import { tableToCsv } from '../data/csv.ts';
import type { Encoding } from '../data/csv-columns.ts';
import { encodeInBackground, type FileTargets, type TableFormat } from '../data/serialize.ts';
import { filterRows, type Table } from '../data/table.ts';
import { citiesCleanTable, cleanYear, type CleanData } from '../data/clean.ts';
import { buildDyads, fileColumns, type DyadOptions, type DyadResult, type SampleInfo } from '../data/dyads.ts';
import { basename, join, resolve } from 'node:path';
import { outputError, StagedFile, stagedPath, withOutput, writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { silentReporter, type Reporter } from '../util/progress.ts';
import { cleaningReportFiles } from './clean.ts';

export interface DyadsStageResult {
  data: CleanData;
  dyads: DyadResult;
  sample: SampleInfo;
  /** cities_clean of the sample's cities */
  cities: Table;
}

/** Reads and cleans a year folder and builds the dyad table in memory (nothing is written). */
export function computeDyads(input: string, opts: DyadOptions & { encoding?: Encoding }, rep: Reporter = silentReporter): DyadsStageResult {
  rep.step(`clean: reading ${input}`);
  const data = cleanYear(input, opts.encoding);
  rep.step(`dyads: building pairs of ${opts.provinces?.length ? `the cities of ${opts.provinces.join(', ')} (of ${data.ids.length})` : `${data.ids.length} cities`}`);
  const dyads = buildDyads(data, opts);
  const coop = dyads.dyads.columns.get('coop');
  let coopCount = 0;
  if (coop?.kind === 'number') for (const v of coop.values) coopCount += v;
  const sample: SampleInfo = {
    provinces: opts.provinces?.length ? opts.provinces : null,
    cities: dyads.order.length,
    dyads: dyads.dyads.nrow,
    coop_dyads: coopCount,
    agreements_outside_sample: dyads.agreementsOutside,
    monadic: dyads.monadic,
  };
  // the sample's cities, in input order, with degree counted inside the sample
  const cities = filterRows(citiesCleanTable(data, dyads.inSample), dyads.inSample);
  return { data, dyads, sample, cities };
}

/** Above this many dyads, dyads.csv is written only on request (dyads.parquet always is). */
export const DYADS_CSV_MAX = 1_000_000;

/**
 * The files of the dyads stage in `outDir`: cleaning report (with the sample), cities_clean.csv of
 * the sample cities, dyads.parquet, and dyads.csv up to DYADS_CSV_MAX dyads or when `csv` asks.
 * The dyad table is encoded and written (staged) on the second core: the promise can be awaited
 * after other work. The columns in `give` leave the dyad table, moved to that core rather than copied.
 */
export async function dyadsStageFiles(res: DyadsStageResult, outDir: string, csv = false, lang: 'zh' | 'en' = 'en', give: Iterable<string> = []): Promise<OutputFiles> {
  const { data, dyads, sample } = res;
  const formats: TableFormat[] = csv || dyads.dyads.nrow <= DYADS_CSV_MAX ? ['parquet', 'csv'] : ['parquet'];
  const targets: FileTargets = Object.fromEntries(formats.map((f) => [f, stagedPath(outDir, `dyads.${f}`)]));
  const encoded = encodeInBackground(dyads.dyads, targets, give, { order: fileColumns(dyads), deferred: dyads.deferred });
  const files = cleaningReportFiles(data, sample, lang);
  files.set('cities_clean.csv', tableToCsv(res.cities));
  const written = await encoded;
  if ('failed' in written) {
    const { path, code, message } = written.failed;
    throw outputError(Object.assign(new Error(message), { code }), join(resolve(outDir), basename(path)), 'write');
  }
  for (const f of formats) files.set(`dyads.${f}`, new StagedFile(targets[f]!, { sha256: written.sha256[f] }));
  return files;
}

/**
 * `tongban dyads`: in, a year folder and options (provinces, monadic covariates; `csv`:
 * dyads.csv whatever the size); out, the stage's files in `out`.
 */
export function runDyads(input: string, out: string, opts: DyadOptions & { csv?: boolean; encoding?: Encoding } = {}, rep: Reporter = silentReporter): Promise<DyadsStageResult & { written: string[] }> {
  return withOutput(out, async () => {
    // the monadic covariates' pair columns are computed as the files are written, never held
    const res = computeDyads(input, { inMemory: new Set(), ...opts }, rep);
    rep.step(`dyads: writing ${res.sample.dyads} dyads`);
    const written = writeOutputsAtomically(out, await dyadsStageFiles(res, out, opts.csv));
    rep.step(`dyads: ${res.sample.cities} cities, ${res.sample.dyads} dyads, ${res.sample.coop_dyads} cooperating -> ${out}`);
    return { ...res, written };
  });
}
