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
import { warningText } from '../report/warnings.ts';

/**
 * cleaning_report.json and .md; with the dyads stage's sample when there is one. The Markdown is
 * in the language of the run's spec (English without one), with city names beside the codes.
 */
export function cleaningReportFiles(data: CleanData, sample?: SampleInfo, lang: 'zh' | 'en' = 'en'): OutputFiles {
  const report = sample ? { ...data.report, sample } : data.report;
  const zh = lang === 'zh';
  let md = reportMarkdown(data.report, { lang, name: cityNames(data), warning: (w) => warningText(w, lang) });
  if (sample) {
    md += zh
      ? `\n## 城市对样本\n\n- 省份：${sample.provinces ? sample.provinces.join('、') : '全部'}\n` +
        `- 城市：${sample.cities}；城市对：${sample.dyads}；合作城市对：${sample.coop_dyads}\n` +
        `- 因一方城市不在样本中而未计入的协议：${sample.agreements_outside_sample}\n` +
        `- 取城市对形式（_sum、_absdiff、_min、_max）的城市变量：${sample.monadic.join('、')}\n`
      : `\n## Dyad sample\n\n- provinces: ${sample.provinces ? sample.provinces.join(', ') : 'all'}\n` +
        `- cities: ${sample.cities}; dyads: ${sample.dyads}; cooperating dyads: ${sample.coop_dyads}\n` +
        `- agreements left out because a city is outside the sample: ${sample.agreements_outside_sample}\n` +
        `- dyadic forms (_sum, _absdiff, _min, _max) of: ${sample.monadic.join(', ')}\n`;
  }
  return new Map([
    ['cleaning_report.json', JSON.stringify(report, null, 2) + '\n'],
    ['cleaning_report.md', md],
  ]);
}

/** City id → name, from cities.csv's city_name (when it has one). */
export function cityNames(data: CleanData): (id: string) => string {
  const names = data.cities.columns.get('city_name');
  if (!names || names.kind !== 'string') return () => '';
  const byId = new Map(data.ids.map((id, k) => [id, names.codes[k] < 0 ? '' : names.levels[names.codes[k]]]));
  return (id) => byId.get(id) ?? '';
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
