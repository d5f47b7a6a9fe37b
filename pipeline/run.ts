/**
 * `npm run pipeline`: the main job on the embedded demo data set: both years with the
 * book's spec, the year comparison, the years as a panel (specs/panel.yaml), the
 * specification comparison, and the specification curve (specs/multiverse.yaml).
 * Thin on purpose: options in, one src/ call per step, no statistics here.
 *
 * Options (after `npm run pipeline --`): `--steps years,compare,panel,measures,multiverse`
 * runs only those steps (in this order); `--book-spec FILE` is the spec of the year runs and
 * the comparison (default specs/book.yaml); `--out DIR` the output folder (default outputs);
 * `--quiet` no progress.
 */
import { join } from 'node:path';
import { runYear } from '../src/stages/run-year.ts';
import { compareYears } from '../src/stages/compare-years.ts';
import { runPanel } from '../src/stages/panel.ts';
import { reportError } from '../src/cli/errors.ts';
import { UsageError } from '../src/util/errors.ts';
import { makeReporter } from '../src/util/progress.ts';

const STEPS = ['years', 'compare', 'panel', 'measures', 'multiverse'] as const;

/** The pipeline's options from the command line (unknown options and steps are usage errors). */
function options(argv: string[]): { steps: Set<string>; bookSpec: string; out: string; quiet: boolean } {
  const o = { steps: new Set<string>(STEPS), bookSpec: 'specs/book.yaml', out: 'outputs', quiet: false };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--quiet') o.quiet = true;
    else if (a === '--steps' || a === '--book-spec' || a === '--out') {
      const v = argv[++k];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
      if (a === '--book-spec') o.bookSpec = v;
      else if (a === '--out') o.out = v;
      else {
        o.steps = new Set(v.split(',').map((s) => s.trim()));
        const unknown = [...o.steps].filter((s) => !(STEPS as readonly string[]).includes(s));
        if (unknown.length) throw new UsageError(`--steps: unknown step ${unknown.map((s) => `'${s}'`).join(', ')} (steps: ${STEPS.join(', ')})`);
      }
    } else throw new UsageError(`unknown option '${a}' (options: --steps, --book-spec, --out, --quiet)`);
  }
  return o;
}

try {
  const o = options(process.argv.slice(2));
  const rep = makeReporter(o.quiet);
  const data = 'data/demo';
  if (o.steps.has('years')) {
    for (const year of [2021, 2022]) {
      const { outDir } = await runYear({ data, year, out: o.out, spec: o.bookSpec }, rep);
      rep.step(`pipeline: demo ${year} done -> ${outDir}/report.html`);
    }
  }
  if (o.steps.has('compare')) await compareYears({ data, years: [2021, 2022], spec: o.bookSpec, out: o.out }, rep);
  if (o.steps.has('panel')) {
    const panel = await runPanel({ data, years: [2019, 2020, 2021, 2022], lag: 0, spec: 'specs/panel.yaml', out: o.out }, rep);
    rep.step(`pipeline: years as a panel -> ${panel.outDir}/report.html`);
  }
  if (o.steps.has('measures')) {
    const { outDir } = await runYear({ data, year: 2021, out: join(o.out, 'measures'), spec: 'specs/measures.yaml' }, rep);
    rep.step(`pipeline: specification comparison -> ${outDir}/report.html`);
  }
  if (o.steps.has('multiverse')) {
    const mv = await runYear({ data, year: 2021, out: join(o.out, 'multiverse'), spec: 'specs/multiverse.yaml' }, rep);
    rep.step(`pipeline: specification curve -> ${mv.outDir}/report.html`);
  }
} catch (e) {
  process.exitCode = reportError(e);
}
