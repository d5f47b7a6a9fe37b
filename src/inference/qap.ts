/**
 * QAP / MRQAP permutation inference for models of the full pair table (UCINET's QAP
 * regression, R's sna::netlogit / netlm): the observed statistics of a fitted model are
 * compared with their distribution when the node labels of the network are permuted.
 *
 *  - null `y`:   permute the node labels of the outcome (Y permutation, sna's "qapy");
 *  - null `dsp`: for each coefficient k, regress x_k on the other columns by OLS over all pairs,
 *                permute the node labels of the residual and refit with it in x_k's place
 *                (Dekker, Krackhardt & Snijders 2007, double semi-partialling; sna's "qapspp").
 *
 * Statistic: the z (OLS: t) value from the classical variance — as sna's — or the coefficient.
 * p-values count the observed value among the replications: (1 + #{s* ≥ s})/(1 + R) and the
 * like (sna reports #/R; docs/estimation.md). Replications run on worker threads
 * (qap-worker.ts); the numbers do not depend on the number of threads.
 */
import { availableParallelism } from 'node:os';
import type { Table } from '../data/table.ts';
import { UsageError } from '../util/errors.ts';
import { runTaskPool, threadsAllowed } from '../util/workers.ts';
import { dyadCodes } from '../fit/fit-model.ts';
import type { ModelFit } from '../fit/types.ts';
import { fitGlm } from '../models/glm.ts';
import { fitNegbin } from '../models/negbin.ts';
import { cholesky, cholSolve } from '../linalg/dense.ts';
import { weightedCrossprod } from '../linalg/crossprod.ts';
import { binaryRefit, glmFamilyOf, QAP_FAMILIES, replicate, scratch, sumSquares, type QapFamily, type QapJob, type QapNull, type QapStatistic } from './qap-kernel.ts';

export { QAP_FAMILIES, type QapNull, type QapStatistic };

export interface QapOptions {
  null: QapNull;
  statistic?: QapStatistic;
  reps: number;
  seed: number;
  /** the two city columns */
  dyad: [string, string];
  /** threads for the replications (default: both cores; TONGBAN_THREADS=1 forces one) */
  threads?: number;
  /** called as replications finish */
  progress?: (done: number, total: number) => void;
}

export interface QapCoefficient {
  term: string;
  /** the observed statistic (null: aliased, or the DSP intercept) */
  statistic: number | null;
  p_two_sided: number | null;
  p_greater: number | null;
  p_less: number | null;
}

export interface QapResult {
  null: QapNull;
  statistic: QapStatistic;
  reps: number;
  seed: number;
  coefficients: QapCoefficient[];
  warnings: string[];
}

/** Replications whose statistic is within this (relative) distance of the observed one count as ties (≥ and ≤). */
const TIE = 1e-7;

/** The pair table as a network: city codes, and the row of every pair (refused unless complete). */
export function completeNetwork(fit: Pick<ModelFit, 'design' | 'table'>, dyad: [string, string]) {
  const d = fit.design;
  if (d.nDropped > 0) {
    throw new UsageError(
      `QAP permutes whole networks: ${d.nDropped} pair${d.nDropped > 1 ? 's have' : ' has'} missing values in the model's variables and would be dropped. Fill them in, or use a sample of cities whose pairs are all complete`,
    );
  }
  return networkOfRows(fit.table, dyad, d.rows);
}

/** The given rows of a pair table as a network (each pair once, every pair of their cities), or a UsageError saying why not. */
export function networkOfRows(table: Table, dyad: [string, string], rows: Int32Array) {
  const { i: a, j: b, G: m, cities } = dyadCodes(table, dyad, rows);
  const n = rows.length;
  const full = (m * (m - 1)) / 2;
  const pos = new Int32Array(m * m).fill(-1);
  for (let r = 0; r < n; r++) {
    const at = a[r] * m + b[r];
    if (pos[at] >= 0) throw new UsageError(`QAP: the pair ${cities[a[r]]}–${cities[b[r]]} is in rows ${rows[pos[at]] + 2} and ${rows[r] + 2}; a pair table has each pair once (for a stacked table, keep one year with --subset)`);
    pos[at] = r;
    pos[b[r] * m + a[r]] = r;
  }
  if (n !== full) {
    throw new UsageError(
      `QAP permutes whole networks: the sample has ${n} pairs among its ${m} cities, not all ${full} (${full - n} missing). ` +
        'Samples selected by a pair attribute (cooperating pairs, cross-province pairs) cannot be permuted; use all pairs, or all pairs among a set of cities (e.g. a provinces sample)',
    );
  }
  return { a, b, m, pos, cities };
}

/** OLS residual of column k on the other columns (unweighted, over all pairs). */
export function residualOn(X: Float64Array, n: number, p: number, k: number): Float64Array {
  const others = Array.from({ length: p }, (_, c) => c).filter((c) => c !== k);
  const q = others.length;
  const Z = new Float64Array(n * q);
  const x = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    x[r] = X[r * p + k];
    for (let t = 0; t < q; t++) Z[r * q + t] = X[r * p + others[t]];
  }
  const ztx = new Float64Array(q);
  const l = cholesky(weightedCrossprod(Z, n, q, null, x, ztx), q);
  if (!l) throw new UsageError('QAP (dsp): the other columns of the design are collinear; cannot partial them out');
  const g = cholSolve(l, q, ztx);
  const e = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = x[r];
    for (let t = 0; t < q; t++) s -= Z[r * q + t] * g[t];
    e[r] = s;
  }
  return e;
}

/** The model without column k, fitted by the family's own estimator; its coefficients with 0 at k (a start near the DSP null). */
export function startWithout(fam: QapFamily, X: Float64Array, n: number, p: number, y: Float64Array, k: number): Float64Array {
  const start = new Float64Array(p);
  if (fam === 'ols') return start;
  const others = Array.from({ length: p }, (_, c) => c).filter((c) => c !== k);
  const q = others.length;
  const Z = new Float64Array(n * q);
  for (let r = 0; r < n; r++) for (let t = 0; t < q; t++) Z[r * q + t] = X[r * p + others[t]];
  const inp = { X: Z, n, p: q, y, offset: null, weights: null };
  // logit and probit: the lean Newton refit from 0 (a start needs no more; glm's full IRLS takes ~4× as long)
  const lean = fam === 'logit' || fam === 'probit' ? binaryRefit(Z, n, q, y, fam, new Float64Array(q)).beta : null;
  const beta = lean && lean.every(Number.isFinite) ? lean : fam === 'negbin' ? fitNegbin(inp).beta : fitGlm(inp, glmFamilyOf(fam)).beta;
  others.forEach((c, t) => (start[c] = beta[t]));
  return start;
}

/** Statistics of every replication (reps × p), on worker threads or here. */
async function runReplications(job: QapJob, reps: number, threads: number, progress?: (done: number, total: number) => void): Promise<Float64Array> {
  const p = job.p;
  const stats = new Float64Array(new SharedArrayBuffer(reps * p * 8));
  const sums = Float64Array.of(sumSquares(job.y));
  if (threads <= 1) {
    const s = scratch(job);
    const out = new Float64Array(p);
    for (let t = 0; t < reps; t++) {
      replicate(job, t, s, sums, out);
      stats.set(out, t * p);
      progress?.(t + 1, reps);
    }
    return stats;
  }
  workerReplications += await runTaskPool({
    name: 'qap-worker',
    sourceUrl: new URL('./qap-worker.ts', import.meta.url),
    callerUrl: import.meta.url,
    threads,
    message: { job, reps, stats, sums },
    what: 'QAP',
    progress: progress ? (done) => progress(done, reps) : undefined,
  });
  progress?.(reps, reps);
  return stats;
}

let workerReplications = 0;
/** How many replications worker threads have computed in this process (for tests and the benchmark). */
export const qapWorkerReplications = (): number => workerReplications;

/**
 * Everything the replications need, from a fitted model of a complete pair table: the shared
 * job (design, outcome, network, starts, DSP residuals) and the observed statistics. Refuses
 * families, samples and options QAP cannot handle, saying why.
 */
export function prepareQap(fit: ModelFit, o: Pick<QapOptions, 'null' | 'statistic' | 'seed' | 'dyad'>): { job: QapJob; observed: Float64Array } {
  const famName = fit.result.family;
  if (!(QAP_FAMILIES as readonly string[]).includes(famName)) {
    throw new UsageError(`QAP is available for ${QAP_FAMILIES.join(', ')} models of the full pair table, not ${famName}`);
  }
  const fam = famName as QapFamily;
  const d = fit.design;
  const part = d.parts[0];
  if (d.weights || part.offset) throw new UsageError('QAP does not take prior weights or offsets');
  if (!Number.isInteger(o.seed)) throw new UsageError(`--seed ${o.seed}: give a whole number`);
  const statistic = o.statistic ?? 'z';
  const { a, b, m, pos } = completeNetwork(fit, o.dyad);
  const { n } = d;
  const p = part.p;
  const X = part.X;
  const beta = fit.estimate.blocks[0].params;
  // the observed statistics, with the classical variance (as sna's)
  const classical = fit.estimate.blocks[0].pieces.classical;
  const K = fit.estimate.blocks[0].params.length;
  const observed = Float64Array.from({ length: p }, (_, k) => (statistic === 'coef' ? beta[k] : beta[k] / Math.sqrt(classical[k * K + k])));
  const interceptCol = part.intercept ? 0 : -1;

  let start = Float64Array.from(beta.subarray(0, p));
  let ks = new Int32Array(0);
  let resid = new Float64Array(0);
  let starts = new Float64Array(0);
  if (o.null === 'y') {
    // under the null the outcome is unrelated to the covariates: start from the constant-only fit
    if (interceptCol === 0 && fam !== 'ols') {
      let ybar = 0;
      for (let r = 0; r < n; r++) ybar += d.y[r];
      ybar /= n;
      start = new Float64Array(p);
      start[0] = fam === 'logit' || fam === 'probit' ? glmFamilyOf(fam).link.fun(ybar) : Math.log(ybar);
    }
  } else {
    ks = Int32Array.from(Array.from({ length: p }, (_, k) => k).filter((k) => k !== interceptCol));
    if (!ks.length) throw new UsageError('QAP (dsp) needs at least one covariate besides the intercept');
    resid = new Float64Array(ks.length * n);
    starts = new Float64Array(ks.length * p);
    ks.forEach((k, q) => {
      resid.set(residualOn(X, n, p, k), q * n);
      starts.set(startWithout(fam, X, n, p, d.y, k), q * p);
    });
  }
  const job: QapJob = { family: fam, null: o.null, statistic, seed: o.seed, X, n, p, y: d.y, a, b, m, pos, start, ks, resid, starts };
  return { job, observed };
}

/** QAP p-values for the coefficients of a fitted model of a complete pair table. */
export async function qap(fit: ModelFit, o: QapOptions): Promise<QapResult> {
  if (!Number.isInteger(o.reps) || o.reps < 1) throw new UsageError(`--reps ${o.reps}: give a positive whole number of permutations`);
  const { job, observed } = prepareQap(fit, o);
  const { p, statistic } = job;
  const part = fit.design.parts[0];
  const threads = threadsAllowed() ? Math.max(1, Math.min(o.threads ?? 2, availableParallelism())) : 1;
  const stats = await runReplications(job, o.reps, threads, o.progress);

  // p-values: the observed value counts as one of the permutations
  const warnings: string[] = [];
  const names = part.names;
  let col = 0;
  const coefficients: QapCoefficient[] = names.map((term, c) => {
    if (part.aliased[c]) return { term, statistic: null, p_two_sided: null, p_greater: null, p_less: null };
    const k = col++;
    // DSP tests the covariates; the intercept has no test
    if (o.null === 'dsp' && !job.ks.includes(k)) return { term, statistic: observed[k], p_two_sided: null, p_greater: null, p_less: null };
    const s = observed[k];
    const tie = TIE * Math.max(1, Math.abs(s));
    let valid = 0;
    let ge = 0;
    let le = 0;
    let abs = 0;
    for (let t = 0; t < o.reps; t++) {
      const v = stats[t * p + k];
      if (!Number.isFinite(v)) continue;
      valid++;
      if (v >= s - tie) ge++;
      if (v <= s + tie) le++;
      if (Math.abs(v) >= Math.abs(s) - tie) abs++;
    }
    if (valid < o.reps) warnings.push(`${term}: ${o.reps - valid} of ${o.reps} permuted fits failed (singular information) and are left out`);
    const P = (c: number) => (1 + c) / (1 + valid);
    return { term, statistic: s, p_two_sided: P(abs), p_greater: P(ge), p_less: P(le) };
  });
  return { null: o.null, statistic, reps: o.reps, seed: o.seed, coefficients, warnings };
}
