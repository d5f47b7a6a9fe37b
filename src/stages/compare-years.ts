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
import { buildRegTable, termLabeller } from '../report/regtable.ts';
import { htmlEscape, htmlPage, regGrid, toHtmlFragment } from '../report/formats.ts';
import { TableWriter } from '../report/table-writer.ts';
import { addPngs, DEFAULT_PNG } from '../report/png.ts';
import { withOutput, writeOutputsAtomically, type OutputFiles } from '../util/output.ts';
import { UsageError } from '../util/errors.ts';
import type { Reporter } from '../util/progress.ts';
import { loadSpec, type LoadedSpec } from '../specfile/load.ts';
import { coefficientPlotSvg } from '../report/plot.ts';
import type { Grid } from '../report/formats.ts';
import { yearChanges, type YearChange } from './year-change.ts';

export async function compareYears(given: { data: string; years: number[]; spec: string; out: string }, rep: Reporter): Promise<string> {
  const repeated = given.years.filter((y, k) => given.years.indexOf(y) !== k);
  if (repeated.length) throw new UsageError(`--years ${given.years.join(',')}: ${repeated[0]} is given twice; give each year once, e.g. --years 2021,2022`);
  if (given.years.length < 2) throw new UsageError('--years needs at least two years, e.g. --years 2021,2022');
  // in time order: the changes are from the first year
  const o = { ...given, years: [...given.years].sort((a, b) => a - b) };
  const missing = o.years.filter((y) => !existsSync(join(o.data, String(y))));
  if (missing.length) throw new UsageError(`--years: no folder ${missing.map((y) => join(o.data, String(y))).join(', ')} (the data folder has one folder per year)`);
  // a spec without main models has nothing to compare: said before any year is run
  const loaded = await loadSpec(o.spec);
  if (!loaded.models.some((m) => m.main)) throw loaded.error(['levels'], 'levels', 'at least one model with main: true (compare-years compares the main models across years)');
  const dataset = basename(resolve(o.data));
  const outDir = join(o.out, dataset, `compare-years_${o.years.join('-')}`);
  return withOutput(outDir, () => compareYearsLocked(o, loaded, dataset, outDir, rep));
}

async function compareYearsLocked(o: { data: string; years: number[]; spec: string; out: string }, loaded: LoadedSpec, dataset: string, outDir: string, rep: Reporter): Promise<string> {
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
  const tables = new TableWriter(files, new Set(loaded.spec.outputs.filter((f) => f !== 'html')), lang);
  const termLabel = termLabeller(first.spec.groups, lang);
  // the tests of change: the main models refitted on the stacked years with year interactions
  const mainIds = new Set(first.spec.levels.flatMap((level) => level.models.filter((id) => first.models.find((m) => m.id === id)?.main)));
  const changes = new Map((await yearChanges({ data: o.data, years: o.years, loaded, mains: loaded.models.filter((m) => mainIds.has(m.id)) }, rep)).map((c) => [c.model, c]));
  const summary: YearChange[] = [];
  for (const level of first.spec.levels) {
    const mains = level.models.filter((id) => mainIds.has(id));
    for (const id of mains) {
      const m = first.models.find((x) => x.id === id)!;
      const models = o.years.map((y) => ({ id: `${id}_${y}`, label: String(y) as string, fit: byYear.get(y)!.fits.get(id)! }));
      const name = zh ? `${labelText(level.label, lang, level.id)}：${labelText(m.label, lang, id)}` : `${labelText(level.label, lang, level.id)}: ${labelText(m.label, lang, id)}`;
      const title = zh ? `${name}（分年度）` : `${name} (by year)`;
      const grid = regGrid(buildRegTable(models, { title, lang, stars: first.spec.stars, digits: first.spec.digits, groups: first.spec.groups, statistics: first.spec.statistics, pseudoR2: first.spec.pseudo_r2, cells: first.spec.cells }));
      tables.write(id, grid);
      html.push(toHtmlFragment(grid));
      // the coefficients by year, one colour per year
      const pts = models.flatMap((x) =>
        x.fit.coefficients
          .filter((c) => c.term !== '(Intercept)' && c.estimate !== null && Number.isFinite(c.conf_low) && Number.isFinite(c.conf_high))
          .map((c) => ({ model: x.label, term: termLabel(c.term), estimate: c.estimate!, conf_low: c.conf_low!, conf_high: c.conf_high! })),
      );
      if (pts.length) {
        const svg = await coefficientPlotSvg(pts, title, zh ? '估计值与 95% 置信区间' : 'Estimate and 95% CI');
        files.set(`${id}_by_year.svg`, svg);
        html.push(`<div class="plot">${svg}</div>`);
      }
      const change = changes.get(id);
      if (change) {
        summary.push(change);
        if (change.skipped) {
          // no table: a line in the page and the reason in year_changes.json
          html.push(`<p class="notes">${htmlEscape(zh ? `${name}：未检验年份间变化（${change.skipped.zh}）。` : `${name}: change between years not tested (${change.skipped.en}).`)}</p>`);
        } else {
          const cg = changeGrid(change, zh ? `${name}（年份间变化）` : `${name} (change between years)`, o.years, lang, first.spec.digits, termLabel);
          tables.write(`${id}_change`, cg);
          html.push(toHtmlFragment(cg));
        }
      }
    }
  }
  files.set('year_changes.json', `${JSON.stringify(summary, null, 2)}\n`);
  const figures = first.spec.figures ?? { width_cm: DEFAULT_PNG.widthCm, dpi: DEFAULT_PNG.dpi };
  for (const w of await addPngs(files, { widthCm: figures.width_cm, dpi: figures.dpi })) {
    rep.warn(w);
    html.push(`<p class="notes">${htmlEscape(w)}</p>`);
  }
  await tables.finish('tables.docx');
  files.set('index.html', htmlPage(zh ? '主模型分年度比较' : 'Main models by year', html.join('\n')));
  // the folder is wholly compare-years': no table of an earlier comparison stays behind
  writeOutputsAtomically(outDir, files, { replaceAll: true });
  rep.step(`compare-years: ${files.size} files -> ${outDir}`);
  return outDir;
}

/** The table of a model's change between years: each term's difference from the first year (SE) and p, and the joint test. */
function changeGrid(c: YearChange, title: string, years: number[], lang: 'zh' | 'en', digits: number, termLabel: (t: string) => string): Grid {
  const zh = lang === 'zh';
  const later = years.slice(1);
  const f = (x: number | null) => (x === null ? '' : x.toFixed(digits));
  const pv = (x: number | null) => (x === null ? '' : x < 0.001 ? '<0.001' : x.toFixed(3));
  const pEq = (x: number) => (x < 0.001 ? 'p < 0.001' : `p = ${x.toFixed(3)}`);
  const terms = [...new Set(c.differences.map((d) => d.term))];
  const body = terms.map((t) => ({
    cells: [
      t === '(Intercept)' ? (zh ? '常数项' : 'Constant') : termLabel(t),
      ...later.flatMap((y) => {
        const d = c.differences.find((x) => x.term === t && x.year === y);
        return [d && d.difference !== null ? `${f(d.difference)} (${f(d.std_error)})` : '', pv(d?.p_value ?? null)];
      }),
    ],
  }));
  const notes: string[] = [];
  if (c.skipped) notes.push(zh ? `未检验：${c.skipped.zh}` : `Not tested: ${c.skipped.en}`);
  else {
    if (c.wald) {
      notes.push(
        zh
          ? `联合检验（各斜率在各年相同，常数项可变）：χ²(${c.wald.df}) = ${c.wald.statistic.toFixed(2)}，${pEq(c.wald.p_value)}。`
          : `Joint test (every slope the same in all years; the constant may shift): χ²(${c.wald.df}) = ${c.wald.statistic.toFixed(2)}, ${pEq(c.wald.p_value)}.`,
      );
    }
    notes.push(
      zh
        ? `注：差异为各年份样本叠加后 ${c.formula} 的年份交互项系数，即相对 ${years[0]} 年的变化；括号内为跨年份的二元组稳健标准误（城市为单位：同一城市对的各年观测、共享城市的城市对均视为相关）；N = ${c.n}。`
        : `Note: differences are the year-interaction coefficients of ${c.formula} on the model's sample of every year stacked, i.e. the change from ${years[0]}; standard errors in parentheses are dyadic-robust across years (cities as the units: a pair's rows in different years, and all pairs sharing a city, are dependent); N = ${c.n}.`,
    );
  }
  for (const w of c.warnings) notes.push(w);
  return {
    title,
    header: [[zh ? '变量' : 'Variable', ...later.flatMap((y) => [`${y} − ${years[0]}`, 'p'])]],
    body,
    notes,
  };
}
