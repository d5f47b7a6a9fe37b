/**
 * `tongban run`: the four stages for one data set and year, into <out>/<dataset>/<year>/:
 * clean → dyads → (with a spec) models → report. Everything is computed before anything
 * is written, and written at once.
 */
import { basename, join, resolve } from 'node:path';
import type { Encoding } from '../data/csv-columns.ts';
import type { FitResult } from '../fit/types.ts';
import { loadSpec } from '../specfile/load.ts';
import { fault, withOutput, writeOutputsAtomically } from '../util/output.ts';
import { silentReporter, type Reporter } from '../util/progress.ts';
import { materializeDeferred } from '../data/dyads.ts';
import { computeDyads, dyadsStageFiles } from './dyads.ts';
import { columnsRead, columnsUsed, fitModels, prepareModels } from './models.ts';
import { fitMultiverse } from './multiverse.ts';
import type { RunRecord } from '../report/run-record.ts';
import { manifest, NETWORK_COLUMNS, reportFiles, runNetwork, runRecord } from './report.ts';
import { warmUpWordWorker } from '../report/table-writer.ts';

export interface RunOptions {
  data: string;
  year: number;
  out: string;
  spec?: string;
  provinces?: string[];
  /** write dyads.csv whatever the number of dyads (it is written up to DYADS_CSV_MAX anyway) */
  dyadsCsv?: boolean;
  /** the character set of the year folder's CSV files (default UTF-8) */
  encoding?: Encoding;
}

/** The outputs of a run with a spec, which a run without one removes (they would describe other data). */
const SPEC_OUTPUTS = ['fits', 'tables', 'plots', 'report.html', 'tidy.csv', 'glance.csv', 'network.csv', 'multiverse.csv', 'multiverse_null.csv', 'manifest.json'];

export interface YearResult {
  outDir: string;
  record?: RunRecord;
  fits?: Map<string, FitResult>;
}

/**
 * In: a data set folder, a year, an outputs root, and optionally a spec file and a
 * province filter. Out: the files of every stage in <out>/<dataset>/<year>/ (without a
 * spec, only the clean and dyads stages run); returns that folder, the run record and the fits.
 */
export async function runYear(o: RunOptions, rep: Reporter = silentReporter): Promise<YearResult> {
  const outDir = join(o.out, basename(resolve(o.data)), String(o.year));
  // writable, locked, an interrupted earlier write undone: before any work
  return withOutput(outDir, () => runYearLocked(o, outDir, rep));
}

async function runYearLocked(o: RunOptions, outDir: string, rep: Reporter): Promise<YearResult> {
  const startedAt = new Date().toISOString();
  const dataset = basename(resolve(o.data));
  const input = join(o.data, String(o.year));
  const loaded = o.spec ? loadSpec(o.spec) : null;
  // of the monadic covariates' pair columns, only those the models or the network read are
  // built in memory; the others are computed as the dyad files are written
  const used = loaded ? await columnsUsed(loaded, 'dyads') : new Set<string>();
  const inMemory = used ? new Set([...used, ...NETWORK_COLUMNS]) : undefined;
  const stage = computeDyads(input, { provinces: o.provinces, monadic: loaded?.spec.monadic, encoding: o.encoding, inMemory }, rep);
  // a name the spec reads that is no column at all (a typo) is an error the models stage words
  // with the table's columns and a "did you mean": they are all built, as without deferring
  const derived = new Set(Object.keys(loaded?.spec.derived.dyads ?? {}));
  if (used && [...used].some((c) => !derived.has(c) && !stage.dyads.dyads.columns.has(c) && !stage.dyads.deferred.has(c))) materializeDeferred(stage.dyads);
  if (!loaded) {
    // an earlier spec run's outputs would no longer match these data: they go
    writeOutputsAtomically(outDir, await dyadsStageFiles(stage, outDir, o.dyadsCsv), { drop: SPEC_OUTPUTS });
    rep.step(`run: ${stage.sample.cities} cities, ${stage.sample.dyads} dyads -> ${outDir}`);
    return { outDir };
  }
  // derived variables join the dyad table (and so dyads.csv), not cities_clean.csv (the city
  // table gets them on a shallow copy); then the files are encoded on the second core while
  // the models are fitted
  const cities = { ...stage.cities, names: [...stage.cities.names], columns: new Map(stage.cities.columns) };
  const samples = await prepareModels(loaded, { cities, dyads: stage.dyads.dyads });
  // the dyad columns nothing reads after this (neither the models nor the network) move to the
  // encoding worker instead of being copied: at county scale 25 of 40 columns, 0.8 GB
  const kept = new Set([...columnsRead(loaded, 'dyads'), ...NETWORK_COLUMNS]);
  const stageFiles = dyadsStageFiles(stage, outDir, o.dyadsCsv, loaded.spec.language, stage.dyads.dyads.names.filter((n) => !kept.has(n)));
  // a failure surfaces where it is awaited; a run that fails earlier (its staging folder then
  // removed under the writing worker) must not leave it unhandled
  stageFiles.catch(() => {});
  const network = runNetwork(stage.dyads.dyads, stage.cities); // on a worker at county scale, while the models are fitted
  network.catch(() => {}); // a failure surfaces where it is awaited; a run that fails earlier must not leave it unhandled
  if (loaded.spec.outputs.includes('docx')) warmUpWordWorker(); // it loads the docx library while the models are fitted
  const models = await fitModels(loaded, samples, rep);
  const multiverse = loaded.spec.multiverse ? await fitMultiverse(loaded, samples, rep) : null;
  const record = runRecord(loaded, { dataset, year: o.year }, models, { ...stage.data.report, sample: stage.sample }, await network);
  if (multiverse) record.multiverse = multiverse;
  rep.step('report: tables, plots, report.html');
  fault('models');
  const report = await reportFiles(record, models.fits, (w) => rep.warn(w)); // while the second core still encodes the dyad table
  const files = await stageFiles;
  for (const [name, content] of report) files.set(name, content);
  const spec = { file: o.spec, sha256: record.spec.sha256 };
  const m = manifest({ dataset, year: o.year, dataDir: o.data, inputDir: input, spec, provinces: o.provinces ?? null, startedAt });
  writeOutputsAtomically(outDir, files, { replaceDirs: ['fits', 'tables', 'plots'], drop: SPEC_OUTPUTS, manifest: m });
  rep.step(`run: ${models.fits.size} models, report -> ${join(outDir, 'report.html')}`);
  return { outDir, record, fits: models.fits };
}
