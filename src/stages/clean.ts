/**
 * Stage 1, clean: a year folder → cities_clean.csv and the cleaning report (JSON and
 * Markdown). Everything is validated before anything is written (docs/data-format.md).
 */
import { tableToCsv } from '../data/csv.ts';
import type { Encoding } from '../data/csv-columns.ts';
import { citiesCleanTable, cleanYear, reportMarkdown, type CleanData } from '../data/clean.ts';
import type { SampleInfo } from '../data/dyads.ts';
import { withOutput, writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { silentReporter, type Reporter } from '../util/progress.ts';

/** cleaning_report.json and .md; with the dyads stage's sample when there is one. */
export function cleaningReportFiles(data: CleanData, sample?: SampleInfo): OutputFiles {
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

/** `tongban clean`: in, a year folder; out, cities_clean.csv and the cleaning report in `out`. */
export function runClean(input: string, out: string, rep: Reporter = silentReporter, encoding: Encoding = 'utf8'): Promise<{ data: CleanData; written: string[] }> {
  return withOutput(out, () => {
    rep.step(`clean: reading ${input}`);
    const data = cleanYear(input, encoding);
    const files = cleaningReportFiles(data);
    files.set('cities_clean.csv', tableToCsv(citiesCleanTable(data)));
    const written = writeOutputsAtomically(out, files);
    rep.step(`clean: ${data.report.cities} cities, ${data.report.agreement_pairs} cooperating pairs -> ${out}`);
    return { data, written };
  });
}
