/**
 * Benchmark child: dyads of a simulated year folder, then
 *  - logit of coop on 10 dyadic covariates + intercept with dyadic-robust variance,
 *  - NB2 of items on the cooperating dyads with dyadic-robust variance.
 * Prints one JSON line: seconds (fit, variance) and peak memory.
 */
import { cleanYear } from '../src/data/clean.ts';
import { buildDyads } from '../src/data/dyads.ts';
import { filterRows, getNum, type Table } from '../src/data/table.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { computeVcov } from '../src/vcov/registry.ts';

const dir = process.argv[2];
const COVARIATES = [
  'log_flow',
  'same_province',
  'log_distance',
  'same_region',
  'log_outflow_sum',
  'fiscal_ratio_min',
  'gov_index_sum',
  'log_gdp_sum',
  'log_population_absdiff',
  'log_gdp_per_capita_absdiff',
];
const { dyads } = buildDyads(cleanYear(dir));
// keep only what the models use, as a user's table of these columns would
const keep = new Set(['i', 'j', 'coop', 'items', ...COVARIATES]);
for (const name of [...dyads.names]) if (!keep.has(name)) dyads.columns.delete(name);
dyads.names = dyads.names.filter((n) => keep.has(n));
(globalThis as { gc?: () => void }).gc?.();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median of three runs (as the R and statsmodels timings were taken). */
function timed(table: Table, formula: string, family: 'logit' | 'negbin') {
  const ic = table.columns.get('i')!;
  const jc = table.columns.get('j')!;
  if (ic.kind !== 'string' || jc.kind !== 'string') throw new Error('i, j must be text');
  const fits: number[] = [];
  const dyadic: number[] = [];
  let fit = null as ReturnType<typeof fitModel> | null;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    fit = fitModel(table, { formula, family });
    const t1 = performance.now();
    const rows = fit.design.rows;
    const i = new Int32Array(rows.length);
    const j = new Int32Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      i[k] = ic.codes[rows[k]];
      j[k] = jc.codes[rows[k]];
    }
    computeVcov(fit.estimate.blocks[0].pieces, { type: 'dyadic', rule: 'ml', dyad: { i, j, G: ic.levels.length, names: ['i', 'j'] } });
    const t2 = performance.now();
    fits.push((t1 - t0) / 1000);
    dyadic.push((t2 - t1) / 1000);
  }
  return { n: fit!.result.n, fit_s: median(fits), dyadic_s: median(dyadic), iterations: fit!.result.iterations, first_fit_s: fits[0] };
}

const formula = `~ ${COVARIATES.join(' + ')}`;
const logit = timed(dyads, `coop ${formula}`, 'logit');
const pos = filterRows(dyads, Uint8Array.from(getNum(dyads, 'coop'), (x) => +(x === 1)));
const nb = timed(pos, `items ${formula}`, 'negbin');
console.log(
  JSON.stringify({
    bench: 'fit',
    dyads: dyads.nrow,
    logit_n: logit.n,
    logit_fit_s: logit.fit_s,
    logit_dyadic_s: logit.dyadic_s,
    logit_iterations: logit.iterations,
    logit_first_run_fit_s: logit.first_fit_s,
    negbin_n: nb.n,
    negbin_fit_s: nb.fit_s,
    negbin_dyadic_s: nb.dyadic_s,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }),
);
