/**
 * The arithmetic of one QAP replication (used on the main thread and in qap-worker.ts): a
 * permutation of the cities drawn from its own seeded stream, the permuted outcome or
 * residual column, and a refit that returns the statistic of every coefficient (Y
 * permutation) or of the one whose column was replaced (DSP).
 *
 * The refits are lean: the design is built once and shared, only the permuted column
 * changes; GLMs run Newton steps from a start near the null solution until the largest relative
 * step is below 1e-5 (logit and Poisson: IRLS; probit: with the observed information), with the
 * classical variance at the final estimate (the statistic is then exact to ~1e-9, far below any
 * difference that could change a p-value's count); OLS is closed-form, with the permutation-
 * invariant sums (y'y, e'e) computed once. Replication t's permutation depends only on
 * (seed, t), so any split of the replications over threads gives the same numbers.
 */
import { cholesky, cholInverse, cholSolve, linearPredictor } from '../linalg/dense.ts';
import { weightedCrossprod } from '../linalg/crossprod.ts';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { binomial, INV_SQRT_2PI, links, poisson, PROBIT_THRESH, workingValues, type Family } from '../models/family.ts';
import { fitNegbin } from '../models/negbin.ts';
import { Rng } from '../util/random.ts';

import { QAP_FAMILIES, type QapFamily } from './qap-families.ts';

export { QAP_FAMILIES, type QapFamily };
export type QapNull = 'y' | 'dsp';
export type QapStatistic = 'z' | 'coef';

/** Everything a replication reads; the arrays may live in shared memory. */
export interface QapJob {
  family: QapFamily;
  null: QapNull;
  statistic: QapStatistic;
  seed: number;
  /** row-major n × p design */
  X: Float64Array;
  n: number;
  p: number;
  y: Float64Array;
  /** city codes 0..m−1 of each pair */
  a: Int32Array;
  b: Int32Array;
  m: number;
  /** row of the pair (c, d) at c·m + d and d·m + c; −1 on the diagonal */
  pos: Int32Array;
  /** Y permutation: the start of every refit (p) */
  start: Float64Array;
  /** DSP: the coefficients tested (design columns), their residual columns (|ks| × n, row k·n + r) and starts (|ks| × p) */
  ks: Int32Array;
  resid: Float64Array;
  starts: Float64Array;
}

/** The permutation of the cities for replication t: Fisher–Yates from a stream seeded by (seed, t). */
export function permutation(m: number, seed: number, t: number, out: Int32Array = new Int32Array(m)): Int32Array {
  const rng = new Rng(mix(seed, t));
  for (let c = 0; c < m; c++) out[c] = c;
  for (let c = m - 1; c > 0; c--) {
    const d = Math.floor(rng.uniform() * (c + 1));
    const tmp = out[c];
    out[c] = out[d];
    out[d] = tmp;
  }
  return out;
}

/** A 32-bit seed for replication t of a run seeded `seed` (two rounds of a murmur-style mixer). */
function mix(seed: number, t: number): number {
  let h = (seed >>> 0) ^ Math.imul(t + 1, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h ^ Math.imul(seed >>> 0, 0x27d4eb2f), 0x165667b1);
  return (h ^ (h >>> 15)) >>> 0;
}

/** v permuted by the node labels: out[r] = v at the pair (π(a_r), π(b_r)). */
export function permuteColumn(job: QapJob, perm: Int32Array, v: Float64Array, out: Float64Array): void {
  const { a, b, m, pos, n } = job;
  for (let r = 0; r < n; r++) out[r] = v[pos[perm[a[r]] * m + perm[b[r]]]];
}

/** the GLM family of the refits that run through IRLS here (OLS and NB have their own) */
export const glmFamilyOf = (f: 'logit' | 'probit' | 'poisson'): Family => (f === 'logit' ? binomial(links.logit) : f === 'probit' ? binomial(links.probit) : poisson());

/** Work arrays of one thread. */
export interface Scratch {
  eta: Float64Array;
  mu: Float64Array;
  w: Float64Array;
  res: Float64Array;
  col: Float64Array;
  perm: Int32Array;
  Xw: Float64Array | null;
}

export function scratch(job: QapJob): Scratch {
  const n = job.n;
  return {
    eta: new Float64Array(n),
    mu: new Float64Array(n),
    w: new Float64Array(n),
    res: new Float64Array(n),
    col: new Float64Array(n),
    perm: new Int32Array(job.m),
    Xw: job.null === 'dsp' ? Float64Array.from(job.X) : null,
  };
}

/** An evaluation of a refit at its start, when the caller has it: the deviance, the information and the score there. */
export interface Evaluation {
  dev: number;
  info: Float64Array;
  g: Float64Array;
}

/** A refit's coefficients, the diagonal of its classical variance and (Newton refits) the whole inverse information. */
export interface Refit {
  beta: Float64Array;
  varDiag: Float64Array;
  inv?: Float64Array;
  /** binary refits: η and the score factors (y − μ)μ'/V of the rows at the final β */
  eta?: Float64Array;
  score?: Float64Array;
}

/**
 * β, the inverse information and the classical variance diagonal by Newton/IRLS steps from `start`, with step halving:
 * `evaluate(β, info, g)` returns the deviance at β and writes the information and the score
 * there. Stops when the largest relative step is below `tol`; the last evaluation was at the
 * final β, so its information is the variance's. NaNs when the information is singular.
 */
export function newtonRefit(
  p: number,
  start: Float64Array,
  tol: number,
  evaluate: (beta: Float64Array, info: Float64Array, g: Float64Array) => number,
  expectedInfo?: (info: Float64Array) => void,
  atStart?: Evaluation,
): Refit {
  let beta = Float64Array.from(start);
  const info = new Float64Array(p * p);
  const g = new Float64Array(p);
  let dev: number;
  if (atStart) {
    info.set(atStart.info);
    g.set(atStart.g);
    dev = atStart.dev;
  } else dev = evaluate(beta, info, g);
  const failed = () => ({ beta: beta.fill(NaN), varDiag: new Float64Array(p).fill(NaN), inv: new Float64Array(p * p).fill(NaN) });
  for (let it = 0; it < 100; it++) {
    const l = cholesky(info, p);
    if (!l) return failed();
    const delta = cholSolve(l, p, g);
    let next = beta.map((v, k) => v + delta[k]);
    let devNew = evaluate(next, info, g);
    for (let h = 0; h < 30 && (!Number.isFinite(devNew) || devNew > dev + 1e-9 * Math.abs(dev)); h++) {
      next = next.map((v, k) => (v + beta[k]) / 2);
      devNew = evaluate(next, info, g);
    }
    let step = 0;
    for (let k = 0; k < p; k++) step = Math.max(step, Math.abs(next[k] - beta[k]) / (Math.abs(next[k]) + 0.1));
    beta = next;
    dev = devNew;
    if (step < tol) break;
  }
  // steps with the observed information: the classical variance is the inverse expected information
  expectedInfo?.(info);
  const l = cholesky(info, p);
  if (!l) return failed();
  const inv = cholInverse(l, p);
  return { beta, varDiag: Float64Array.from({ length: p }, (_, k) => inv[k * p + k]), inv };
}

/** A Poisson (log link) refit by Newton steps — IRLS with a canonical link — to a relative step of 1e-5 (the error is then ~1e-10). */
export function glmRefit(X: Float64Array, n: number, p: number, y: Float64Array, fam: Family, start: Float64Array, s: Pick<Scratch, 'eta' | 'mu' | 'w' | 'res'>): Refit {
  return newtonRefit(p, start, 1e-5, (beta, info, g) => {
    linearPredictor(X, n, p, beta, null, s.eta);
    const dev = workingValues(fam, s.eta, y, null, s.mu, s.w, s.res);
    g.fill(0);
    info.set(weightedCrossprod(X, n, p, s.w, s.res, g));
    return dev;
  });
}

/** Work arrays of a binary refit (n each). */
interface BinaryWork {
  eta: Float64Array;
  w: Float64Array;
  z: Float64Array;
  /** probit: the expected weights μ'²/V at the last β */
  wExp: Float64Array;
}

/**
 * One evaluation of a binary-outcome refit at β: the deviance, the information X'WX and the
 * score X'(y − μ)μ'/V. η by one pass, the per-row weights in a tight loop, then the cross-product
 * kernel (linalg/crossprod.ts) with z = score/W — measured twice as fast as one fused pass whose
 * per-row work sits in a closure. Logit: W = μ(1 − μ), Newton = IRLS. Probit: W is the observed
 * weight μ'²/V − (y − μ)(μ''/V − μ'²V'/V²) (> 0: the probit log-likelihood is concave), so the
 * steps are Newton's, quadratic, not Fisher scoring's; the expected weights μ'²/V go to `wExp` for
 * the classical variance at the end. μ and μ' are clamped as R's binomial() links do.
 */
function binaryPass(X: Float64Array, n: number, p: number, beta: Float64Array, y: Float64Array, probit: boolean, info: Float64Array, g: Float64Array, work: BinaryWork): number {
  const { eta, w, z, wExp } = work;
  linearPredictor(X, n, p, beta, null, eta);
  const EPS = 2.220446049250313e-16;
  let dev = 0;
  if (probit) {
    for (let r = 0; r < n; r++) {
      const e = eta[r];
      const m = normalCdf(Math.min(Math.max(e, -PROBIT_THRESH), PROBIT_THRESH), 0, 1);
      const phi = INV_SQRT_2PI * Math.exp(-0.5 * e * e);
      const d = Math.max(phi, EPS);
      const v = m * (1 - m);
      const we = (d * d) / v;
      const yr = y[r];
      wExp[r] = we;
      const wo = we - (yr - m) * ((-e * phi) / v - (d * d * (1 - 2 * m)) / (v * v));
      w[r] = wo;
      z[r] = ((yr - m) * d) / v / wo;
      dev += yr === 1 ? -2 * Math.log(m) : -2 * Math.log1p(-m);
    }
  } else {
    for (let r = 0; r < n; r++) {
      const e = eta[r];
      let m: number;
      if (e < -30) m = EPS / (1 + EPS);
      else if (e > 30) m = 1 / (1 + EPS);
      else {
        const t = Math.exp(-Math.abs(e));
        const s = 1 / (1 + t);
        m = e >= 0 ? s : t * s;
      }
      const yr = y[r];
      const wr = m * (1 - m);
      w[r] = wr;
      z[r] = (yr - m) / wr;
      dev += yr === 1 ? -2 * Math.log(m) : -2 * Math.log1p(-m);
    }
  }
  g.fill(0);
  info.set(weightedCrossprod(X, n, p, w, z, g));
  return dev;
}

/**
 * A binary refit's first evaluation, with the per-row weights W and score factors (y − μ)μ'/V
 * at `start` (callers whose refits all start there compute it once).
 */
export function binaryStart(X: Float64Array, n: number, p: number, y: Float64Array, link: 'logit' | 'probit', start: Float64Array): Evaluation & { w: Float64Array; score: Float64Array } {
  const work: BinaryWork = { eta: new Float64Array(n), w: new Float64Array(n), z: new Float64Array(n), wExp: new Float64Array(link === 'probit' ? n : 0) };
  const info = new Float64Array(p * p);
  const g = new Float64Array(p);
  const dev = binaryPass(X, n, p, start, y, link === 'probit', info, g, work);
  for (let r = 0; r < n; r++) work.z[r] *= work.w[r];
  return { dev, info, g, w: work.w, score: work.z };
}

/**
 * A logit or probit refit: Newton steps with one evaluation each (`binaryPass`), stopping at a
 * relative step of 1e-5 (quadratic convergence: the error is then ~1e-10); a probit's classical
 * variance from the expected information at the estimate, as glm's.
 */
export function binaryRefit(X: Float64Array, n: number, p: number, y: Float64Array, link: 'logit' | 'probit', start: Float64Array, atStart?: Evaluation): Refit {
  const work: BinaryWork = { eta: new Float64Array(n), w: new Float64Array(n), z: new Float64Array(n), wExp: link === 'probit' ? new Float64Array(n) : new Float64Array(0) };
  const probit = link === 'probit';
  const fit: Refit = newtonRefit(
    p,
    start,
    1e-5,
    (beta, info, g) => binaryPass(X, n, p, beta, y, probit, info, g, work),
    probit ? (info) => info.set(weightedCrossprod(X, n, p, work.wExp)) : undefined,
    atStart,
  );
  // the last evaluation was at the final β
  const { w, z } = work;
  for (let r = 0; r < n; r++) z[r] *= w[r];
  fit.eta = work.eta;
  fit.score = z;
  return fit;
}

/** OLS: β = (X'X)⁻¹X'y and σ²·diag((X'X)⁻¹), with y'y given (it does not change under permutation). */
function olsRefit(X: Float64Array, n: number, p: number, y: Float64Array, yy: number): { beta: Float64Array; varDiag: Float64Array } {
  const xty = new Float64Array(p);
  const xtx = weightedCrossprod(X, n, p, null, y, xty);
  const l = cholesky(xtx, p);
  if (!l) return { beta: new Float64Array(p).fill(NaN), varDiag: new Float64Array(p).fill(NaN) };
  const beta = cholSolve(l, p, xty);
  let fitted = 0;
  for (let k = 0; k < p; k++) fitted += beta[k] * xty[k];
  const sigma2 = (yy - fitted) / (n - p);
  const inv = cholInverse(l, p);
  return { beta, varDiag: Float64Array.from({ length: p }, (_, k) => sigma2 * inv[k * p + k]) };
}

function refit(job: QapJob, X: Float64Array, y: Float64Array, start: Float64Array, yy: number, s: Scratch) {
  const { n, p } = job;
  if (job.family === 'ols') return olsRefit(X, n, p, y, yy);
  if (job.family === 'negbin') {
    // θ is re-estimated on every refit (glm.nb's variance: θ held at its estimate)
    const f = fitNegbin({ X, n, p, y, offset: null, weights: null }, { start });
    return { beta: f.beta, varDiag: Float64Array.from({ length: p }, (_, k) => f.bread[k * p + k]) };
  }
  if (job.family === 'logit' || job.family === 'probit') return binaryRefit(X, n, p, y, job.family, start);
  return glmRefit(X, n, p, y, glmFamilyOf(job.family), start, s);
}

const statOf = (job: QapJob, beta: number, varDiag: number) => (job.statistic === 'coef' ? beta : beta / Math.sqrt(varDiag));

/** Sum of squares of a column (the permutation-invariant part of OLS refits). */
export function sumSquares(v: Float64Array): number {
  let s = 0;
  for (let r = 0; r < v.length; r++) s += v[r] * v[r];
  return s;
}

/**
 * Replication t: writes its statistics into out (length p; Y permutation: every coefficient;
 * DSP: the tested coefficients, the others NaN).
 */
export function replicate(job: QapJob, t: number, s: Scratch, sums: Float64Array, out: Float64Array): void {
  statisticsUnder(job, permutation(job.m, job.seed, t, s.perm), s, sums, out);
}

/** The statistics of the refits under one permutation of the cities (see `replicate`). */
export function statisticsUnder(job: QapJob, perm: Int32Array, s: Scratch, sums: Float64Array, out: Float64Array): void {
  out.fill(NaN);
  if (job.null === 'y') {
    permuteColumn(job, perm, job.y, s.col);
    const f = refit(job, job.X, s.col, job.start, sums[0], s);
    for (let k = 0; k < job.p; k++) out[k] = statOf(job, f.beta[k], f.varDiag[k]);
    return;
  }
  const { n, p } = job;
  const Xw = s.Xw!;
  job.ks.forEach((k, q) => {
    permuteColumn(job, perm, job.resid.subarray(q * n, (q + 1) * n), s.col);
    for (let r = 0; r < n; r++) Xw[r * p + k] = s.col[r];
    const f = refit(job, Xw, job.y, job.starts.subarray(q * p, (q + 1) * p), sums[0], s);
    out[k] = statOf(job, f.beta[k], f.varDiag[k]);
    for (let r = 0; r < n; r++) Xw[r * p + k] = job.X[r * p + k];
  });
}
