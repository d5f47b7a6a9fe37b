/**
 * `tongban compare-years`: the main models' coefficients side by side by year. Years
 * whose fits are missing, or were made with another spec, are run first; each year's
 * outputs stay in their own folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { FitResult } from '../fit/types.ts';
import { labelText } from '../specfile/schema.ts';
import { readFits, type RunRecord } from '../report/run-record.ts';
import { runYear } from './run-year.ts';
import { buildRegTable } from '../report/regtable.ts';
import { htmlPage, regGrid, toCsvTable, toHtmlFragment, toLatex, toMarkdown } from '../report/formats.ts';
import { withOutput, writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { UsageError } from '../util/errors.ts';
import type { Reporter } from '../util/progress.ts';

export async function compareYears(o: { data: string; years: number[]; spec: string; out: string }, rep: Reporter): Promise<string> {
  if (o.years.length < 2) throw new UsageError('--years needs at least two years, e.g. --years 2021,2022');
  const dataset = basename(resolve(o.data));
  const outDir = join(o.out, dataset, `compare-years_${o.years.join('-')}`);
  return withOutput(outDir, () => compareYearsLocked(o, dataset, outDir, rep));
}

async function compareYearsLocked(o: { data: string; years: number[]; spec: string; out: string }, dataset: string, outDir: string, rep: Reporter): Promise<string> {
  const specHash = createHash('sha256').update(readFileSync(o.spec, 'utf8')).digest('hex');
  const byYear = new Map<number, { record: RunRecord; fits: Map<string, FitResult> }>();
  for (const year of o.years) {
    const fitsDir = join(o.out, dataset, String(year), 'fits');
    let done = existsSync(join(fitsDir, '_run.json')) ? readFits(fitsDir) : null;
    if (!done || done.record.spec.sha256 !== specHash) {
      rep.step(`compare-years: running ${dataset} ${year} first`);
      await runYear({ data: o.data, year, out: o.out, spec: o.spec }, rep);
      done = readFits(fitsDir);
    }
    byYear.set(year, done);
  }
  const first = byYear.get(o.years[0])!.record;
  const lang = first.spec.language;
  const zh = lang === 'zh';
  const files: OutputFiles = new Map();
  const html: string[] = [];
  for (const level of first.spec.levels) {
    const mains = level.models.filter((id) => first.models.find((m) => m.id === id)?.main);
    for (const id of mains) {
      const m = first.models.find((x) => x.id === id)!;
      const models = o.years.map((y) => ({ id: `${id}_${y}`, label: String(y) as string, fit: byYear.get(y)!.fits.get(id)! }));
      const title = `${labelText(level.label, lang, level.id)}：${labelText(m.label, lang, id)}（${zh ? '分年度' : 'by year'}）`;
      const grid = regGrid(buildRegTable(models, { title, lang, stars: first.spec.stars, digits: first.spec.digits, groups: first.spec.groups, statistics: first.spec.statistics, pseudoR2: first.spec.pseudo_r2 }));
      files.set(`${id}.md`, toMarkdown(grid));
      files.set(`${id}.csv`, toCsvTable(grid));
      files.set(`${id}.tex`, toLatex(grid));
      html.push(toHtmlFragment(grid));
    }
  }
  if (!html.length) throw new UsageError(`${o.spec} marks no model as main: (add main: true to the models to compare across years)`);
  files.set('index.html', htmlPage(zh ? '主模型分年度比较' : 'Main models by year', html.join('\n')));
  writeOutputsAtomically(outDir, files);
  rep.step(`compare-years: ${html.length} tables -> ${outDir}`);
  return outDir;
}
