/**
 * `npm run pipeline`: the main job on the embedded demo data set: both years with the
 * book's spec, the year comparison, the years as a panel (specs/panel.yaml), the
 * specification comparison, and the specification curve (specs/multiverse.yaml).
 * Thin on purpose: options in, one src/ call per step, no statistics here.
 */
import { runYear } from '../src/stages/run-year.ts';
import { compareYears } from '../src/stages/compare-years.ts';
import { runPanel } from '../src/stages/panel.ts';
import { reportError } from '../src/cli/errors.ts';
import { makeReporter } from '../src/util/progress.ts';

const quiet = process.argv.includes('--quiet');
const rep = makeReporter(quiet);
try {
  for (const year of [2021, 2022]) {
    const { outDir } = await runYear({ data: 'data/demo', year, out: 'outputs', spec: 'specs/book.yaml' }, rep);
    rep.step(`pipeline: demo ${year} done -> ${outDir}/report.html`);
  }
  await compareYears({ data: 'data/demo', years: [2021, 2022], spec: 'specs/book.yaml', out: 'outputs' }, rep);
  const panel = await runPanel({ data: 'data/demo', years: [2019, 2020, 2021, 2022], lag: 0, spec: 'specs/panel.yaml', out: 'outputs' }, rep);
  rep.step(`pipeline: years as a panel -> ${panel.outDir}/report.html`);
  const { outDir } = await runYear({ data: 'data/demo', year: 2021, out: 'outputs/measures', spec: 'specs/measures.yaml' }, rep);
  rep.step(`pipeline: specification comparison -> ${outDir}/report.html`);
  const mv = await runYear({ data: 'data/demo', year: 2021, out: 'outputs/multiverse', spec: 'specs/multiverse.yaml' }, rep);
  rep.step(`pipeline: specification curve -> ${mv.outDir}/report.html`);
} catch (e) {
  process.exitCode = reportError(e);
}
