/**
 * The clean and dyads stages as file-to-file functions: read a year folder, compute,
 * and write every output at once (nothing is written when the input is bad).
 */
import { tableCsvChunks, tableToCsv } from './csv.ts';
import { filterRows, type Table } from './table.ts';
import { citiesCleanTable, cleanYear, reportMarkdown, type CleanData } from './clean.ts';
import { buildDyads, type DyadOptions, type DyadResult } from './dyads.ts';
import { writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { silentReporter, type Reporter } from '../util/progress.ts';

export interface SampleInfo {
  provinces: string[] | null;
  cities: number;
  dyads: number;
  coop_dyads: number;
  agreements_outside_sample: number;
  monadic: string[];
}

function reportFiles(data: CleanData, sample?: SampleInfo): OutputFiles {
  const report = sample ? { ...data.report, sample } : data.report;
  let md = reportMarkdown(data.report);
  if (sample) {
    md +=
      `\n## Dyad sample\n\n- provinces: ${sample.provinces ? sample.provinces.join(', ') : 'all'}\n` +
      `- cities: ${sample.cities}; dyads: ${sample.dyads}; cooperating dyads: ${sample.coop_dyads}\n` +
      `- agreements left out because a city is outside the sample: ${sample.agreements_outside_sample}\n` +
      `- dyadic forms (_sum, _absdiff, _min, _max) of: ${sample.monadic.join(', ')}\n`;
  }
  return new Map([
    ['cleaning_report.json', JSON.stringify(report, null, 2) + '\n'],
    ['cleaning_report.md', md],
  ]);
}

export function runClean(input: string, out: string, rep: Reporter = silentReporter): { data: CleanData; written: string[] } {
  rep.step(`clean: reading ${input}`);
  const data = cleanYear(input);
  const files = reportFiles(data);
  files.set('cities_clean.csv', tableToCsv(citiesCleanTable(data)));
  const written = writeOutputsAtomically(out, files);
  rep.step(`clean: ${data.report.cities} cities, ${data.report.agreement_pairs} cooperating pairs -> ${out}`);
  return { data, written };
}

export interface DyadsStageResult {
  data: CleanData;
  dyads: DyadResult;
  sample: SampleInfo;
  /** cities_clean of the sample's cities */
  cities: Table;
  written: string[];
}

export function computeDyads(input: string, opts: DyadOptions, rep: Reporter = silentReporter): Omit<DyadsStageResult, 'written'> {
  rep.step(`clean: reading ${input}`);
  const data = cleanYear(input);
  rep.step(`dyads: building pairs of ${data.ids.length} cities`);
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

/** The files of the dyads stage: cleaning report (with the sample), cities_clean.csv of the sample cities, dyads.csv. */
export function dyadsStageFiles(res: Omit<DyadsStageResult, 'written'>): OutputFiles {
  const { data, dyads, sample } = res;
  const files = reportFiles(data, sample);
  files.set('cities_clean.csv', tableToCsv(res.cities));
  files.set('dyads.csv', () => tableCsvChunks(dyads.dyads));
  return files;
}

export function runDyads(input: string, out: string, opts: DyadOptions = {}, rep: Reporter = silentReporter): DyadsStageResult {
  const res = computeDyads(input, opts, rep);
  rep.step(`dyads: writing ${res.sample.dyads} dyads`);
  const written = writeOutputsAtomically(out, dyadsStageFiles(res));
  rep.step(`dyads: ${res.sample.cities} cities, ${res.sample.dyads} dyads, ${res.sample.coop_dyads} cooperating -> ${out}`);
  return { ...res, written };
}
