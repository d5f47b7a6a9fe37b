/**
 * `npm run pipeline`: the main job on the embedded demo data set, both years.
 * Thin on purpose: options in, one src/ call per year, no statistics here.
 */
import { runYear } from '../src/run.ts';
import { reportError } from '../src/cli/errors.ts';
import { makeReporter } from '../src/util/progress.ts';

const quiet = process.argv.includes('--quiet');
const rep = makeReporter(quiet);
try {
  for (const year of [2021, 2022]) {
    const { outDir } = runYear({ data: 'data/demo', year, out: 'outputs' }, rep);
    rep.step(`pipeline: demo ${year} done -> ${outDir}`);
  }
} catch (e) {
  process.exitCode = reportError(e);
}
