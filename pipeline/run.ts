/**
 * `npm run pipeline`: the main job on the embedded demo data set: both years with the
 * book's spec, the year comparison, the years as a panel (specs/panel.yaml), the
 * specification comparison, and the specification curve (specs/multiverse.yaml).
 * Thin on purpose: options in, one src/ call per step, no statistics here.
 *
 * Options (after `npm run pipeline --`): `--steps years,compare,panel,measures,multiverse`
 * runs only those steps (in this order); `--book-spec FILE` is the spec of the year runs and
 * the comparison (default specs/book.yaml); `--out DIR` the output folder (default outputs);
 * `--quiet` no progress. The demo data and the other specs are the project's, from any folder.
 */
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runYear } from '../src/stages/run-year.ts';
import { compareYears } from '../src/stages/compare-years.ts';
import { runPanel } from '../src/stages/panel.ts';
import { reportError } from '../src/cli/errors.ts';
import { UsageError } from '../src/util/errors.ts';
import { makeReporter } from '../src/util/progress.ts';

const STEPS = ['years', 'compare', 'panel', 'measures', 'multiverse'] as const;
const VALUED = ['--steps', '--book-spec', '--out'] as const;

/** A file of the project (pipeline/ and dist/ are both one level below it), as a path from the current folder. */
const project = (...parts: string[]) => relative(process.cwd(), join(fileURLToPath(new URL('..', import.meta.url)), ...parts)) || '.';

/** The pipeline's options from the command line (`--name value` or `--name=value`; anything else is a usage error). */
function options(argv: string[]): { steps: Set<string>; bookSpec: string; out: string; quiet: boolean } {
  const given = new Map<string, string>();
  let quiet = false;
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k];
    if (a === '--quiet') {
      quiet = true;
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (!(VALUED as readonly string[]).includes(name)) {
      throw new UsageError(a.startsWith('-') ? `unknown option '${a}' (options: ${VALUED.join(', ')}, --quiet)` : `unexpected argument '${a}' (options: ${VALUED.join(', ')}, --quiet)`);
    }
    const value = eq > 0 && name !== a ? a.slice(eq + 1) : argv[++k];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
    if (value.trim() === '') throw new UsageError(`${name} is empty`);
    if (given.has(name)) throw new UsageError(`${name} is given twice ('${given.get(name)}' and '${value}'); give it once`);
    given.set(name, value);
  }
  const steps = new Set(given.has('--steps') ? given.get('--steps')!.split(',').map((s) => s.trim()) : STEPS);
  const unknown = [...steps].filter((s) => !(STEPS as readonly string[]).includes(s));
  if (unknown.length) throw new UsageError(`--steps: unknown step ${unknown.map((s) => `'${s}'`).join(', ')} (steps: ${STEPS.join(', ')})`);
  if (given.has('--book-spec') && !steps.has('years') && !steps.has('compare')) throw new UsageError('--book-spec is the spec of the steps years and compare, and --steps has neither');
  return { steps, bookSpec: given.get('--book-spec') ?? project('specs', 'book.yaml'), out: given.get('--out') ?? 'outputs', quiet };
}

try {
  const o = options(process.argv.slice(2));
  const rep = makeReporter(o.quiet);
  const data = project('data', 'demo');
  if (o.steps.has('years')) {
    for (const year of [2021, 2022]) {
      const { outDir } = await runYear({ data, year, out: o.out, spec: o.bookSpec }, rep);
      rep.step(`pipeline: demo ${year} done -> ${outDir}/report.html`);
    }
  }
  if (o.steps.has('compare')) await compareYears({ data, years: [2021, 2022], spec: o.bookSpec, out: o.out }, rep);
  if (o.steps.has('panel')) {
    const panel = await runPanel({ data, years: [2019, 2020, 2021, 2022], lag: 0, spec: project('specs', 'panel.yaml'), out: o.out }, rep);
    rep.step(`pipeline: years as a panel -> ${panel.outDir}/report.html`);
  }
  if (o.steps.has('measures')) {
    const { outDir } = await runYear({ data, year: 2021, out: join(o.out, 'measures'), spec: project('specs', 'measures.yaml') }, rep);
    rep.step(`pipeline: specification comparison -> ${outDir}/report.html`);
  }
  if (o.steps.has('multiverse')) {
    const mv = await runYear({ data, year: 2021, out: join(o.out, 'multiverse'), spec: project('specs', 'multiverse.yaml') }, rep);
    rep.step(`pipeline: specification curve -> ${mv.outDir}/report.html`);
  }
} catch (e) {
  process.exitCode = reportError(e);
}
