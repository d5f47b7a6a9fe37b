/**
 * Generalised linear models by iteratively reweighted least squares (Fisher scoring),
 * as R's glm.fit, with tighter convergence: relative deviance change below 1e-10 and
 * a Newton step below 1e-10 (relative). The round that finds the step negligible has
 * computed the information and score at the estimate already, so no further pass is
 * made (docs/decisions.md, decision 9).
 * Per iteration: η = Xβ, the family's working values in one loop, then X'WX and X'Wz
 * in one pass (upper triangle). X is row-major n × p. From 200,000 rows both passes run on
 * two cores (linalg/parallel.ts) with the same results.
 */
import { cholesky, cholInverse, cholSolve, linearPredictor } from '../linalg/dense.ts';
import { borrowShared, giveBack, onBothCores, parallelCrossprod, PARALLEL_MIN_ROWS } from '../linalg/parallel.ts';
import { familyKey, INV_SQRT_2PI, workingValues, type Family } from './family.ts';
import type { WorkingJob } from './rows-jobs.ts';

export interface GlmInput {
  X: Float64Array;
  n: number;
  p: number;
  y: Float64Array;
  offset: Float64Array | null;
  weights: Float64Array | null;
}

export interface GlmControl {
  maxit?: number;
  /** relative deviance change */
  epsilon?: number;
  /** relative coefficient step */
  stepTol?: number;
  start?: Float64Array | null;
}

export interface GlmFit {
  beta: Float64Array;
  eta: Float64Array;
  mu: Float64Array;
  converged: boolean;
  iterations: number;
  deviance: number;
  loglik: number;
  /** (X'WX)^{-1} at the final estimate (expected information; classical vcov with dispersion 1) */
  bread: Float64Array;
  /** per-row score factor: score row = s[r] · x_r (prior weight included) */
  s: Float64Array;
  /** X' W_obs X at the final estimate (observed information of β) */
  observedInfo: Float64Array;
  warnings: string[];
}

const EPS = 2.220446049250313e-16;
const EPS10 = 10 * EPS;

/** From this many rows, IRLS starts from a fit on a random eighth of them (fewer full passes). */
const WARM_START_MIN_ROWS = 100_000;
/** the warm-start subsample keeps one row in this many */
const SUBSAMPLE_EVERY = 8;

/**
 * Coefficients from the same model on a fixed random subsample of 1/8 of the rows:
 * a start close enough that the full data need only a few Newton steps. The optimum
 * is the full data's either way; on any trouble the ordinary start is used.
 */
function subsampleStart(inp: GlmInput, family: Family): Float64Array | null {
  const { X, n, p, y, offset, weights } = inp;
  let state = 0x2545f491;
  const rows: number[] = [];
  for (let r = 0; r < n; r++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    if ((state >>> 0) % SUBSAMPLE_EVERY === 0) rows.push(r);
  }
  const m = rows.length;
  const scratch = new Scratch(m);
  try {
    const Xs = scratch.vector(m * p);
    for (let k = 0; k < m; k++) for (let a = 0, o = rows[k] * p; a < p; a++) Xs[k * p + a] = X[o + a];
    const pick = (v: Float64Array | null) => {
      if (!v) return null;
      const out = scratch.vector(m);
      for (let k = 0; k < m; k++) out[k] = v[rows[k]];
      return out;
    };
    const sub = fitGlm({ X: Xs, n: m, p, y: pick(y)!, offset: pick(offset), weights: pick(weights) }, family, { epsilon: 1e-6, stepTol: 1e-4 });
    return sub.converged && sub.warnings.length === 0 && sub.beta.every(Number.isFinite) ? sub.beta : null;
  } finally {
    scratch.release();
  }
}

/**
 * The vectors of one fit: from 200,000 rows shared (both cores' row loops read and write them)
 * and borrowed from the pool (linalg/parallel.ts), zeroed; ordinary arrays below. `release`
 * gives them back: nothing that outlives the fit may point into them.
 */
export class Scratch {
  private readonly lent: Float64Array[] = [];
  constructor(private readonly n: number) {}
  vector(len: number): Float64Array {
    if (this.n < PARALLEL_MIN_ROWS) return new Float64Array(len);
    const v = borrowShared(len);
    this.lent.push(v);
    return v;
  }
  release(): void {
    giveBack(this.lent.splice(0));
  }
}

/**
 * η = offset + Xβ and the family's working values (μ, w, res) for every row; returns the
 * deviance. On two cores when the rows are many and the arrays shared: the worker takes the
 * first half of the rows, and the rows' deviance terms are summed in row order afterwards,
 * which is the sum workingValues makes on one thread.
 */
function etaAndWorking(inp: GlmInput, family: Family, beta: Float64Array, eta: Float64Array, mu: Float64Array, w: Float64Array, res: Float64Array, devRow: Float64Array | null): number {
  const { X, n, p, y, offset, weights } = inp;
  const half = n >> 1;
  const split =
    devRow !== null &&
    onBothCores(n, { kind: 'working', family: familyKey(family), X, p, beta, offset, y, pw: weights, eta, mu, w, res, devRow, from: 0, to: half } satisfies WorkingJob, [X, offset, y, weights, eta, mu, w, res, devRow], () => {
      linearPredictor(X, n, p, beta, offset, eta, half);
      workingValues(family, eta, y, weights, mu, w, res, half, n, devRow);
    });
  if (!split) {
    linearPredictor(X, n, p, beta, offset, eta);
    return workingValues(family, eta, y, weights, mu, w, res);
  }
  let dev = 0;
  for (let r = 0; r < n; r++) dev += devRow![r];
  return dev;
}

/** X'Wz with z = η − offset + res (the first round, from mustart rather than from a β). */
function xtwzFromStart(X: Float64Array, n: number, p: number, w: Float64Array, eta: Float64Array, res: Float64Array, offset: Float64Array | null): Float64Array {
  const out = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const wz = w[r] * (eta[r] - (offset ? offset[r] : 0) + res[r]);
    const o = r * p;
    for (let a = 0; a < p; a++) out[a] += wz * X[o + a];
  }
  return out;
}

/**
 * Fits already made with the default controls, by design matrix: the same arrays and family
 * give the same fit (every step is deterministic), so the ML logit that Firth starts from and
 * King–Zeng corrects, or the Poisson fit NB starts from, is computed once per design.
 * Callers treat a GlmFit as read-only.
 */
const memo = new WeakMap<Float64Array, { inp: GlmInput; key: string; fit: GlmFit }[]>();

/** IRLS fit of a GLM (R's glm.fit with tighter convergence; see the file's comment). */
export function fitGlm(inp: GlmInput, family: Family, ctl: GlmControl = {}): GlmFit {
  const plain = (ctl.start === undefined || ctl.start === null) && ctl.maxit === undefined && ctl.epsilon === undefined && ctl.stepTol === undefined;
  if (!plain) return irls(inp, family, ctl);
  const key = `${family.name}/${family.link.name}/${family.theta}`;
  let list = memo.get(inp.X);
  if (!list) memo.set(inp.X, (list = []));
  const hit = list.find((e) => e.key === key && e.inp.y === inp.y && e.inp.offset === inp.offset && e.inp.weights === inp.weights && e.inp.n === inp.n && e.inp.p === inp.p);
  if (hit) return hit.fit;
  const fit = irls(inp, family, ctl);
  list.push({ inp, key, fit });
  return fit;
}

/** The observed weight −d²l/dη² of a row: w − pw (y − μ)(μ''/V − μ'² V'/V²), w the IRLS (expected) weight. */
function observedWeight(family: Family, eta: number, mu: number, y: number, w: number, pw: number): number {
  if (family.name === 'binomial' && family.link.name === 'probit') {
    // links.probit's muEta and muEta2 and the binomial variance inline, the same arithmetic: the
    // calls through the family returned each number boxed (a probit's Newton steps at county
    // scale allocated ~1 GB for them)
    const dp = Math.max(INV_SQRT_2PI * Math.exp(-0.5 * eta * eta), EPS);
    const vp = mu * (1 - mu);
    return w - pw * (y - mu) * ((-eta * INV_SQRT_2PI * Math.exp(-0.5 * eta * eta)) / vp - (dp * dp * (1 - 2 * mu)) / (vp * vp));
  }
  const d = family.link.muEta(eta);
  const v = family.variance(mu);
  return w - pw * (y - mu) * (family.link.muEta2(eta) / v - (d * d * family.varianceDeriv(mu)) / (v * v));
}

function irls(inp: GlmInput, family: Family, ctl: GlmControl): GlmFit {
  const scratch = new Scratch(inp.n);
  try {
    return irlsWith(inp, family, ctl, (len) => scratch.vector(len));
  } finally {
    scratch.release();
  }
}

function irlsWith(inp: GlmInput, family: Family, ctl: GlmControl, alloc: (len: number) => Float64Array): GlmFit {
  const { X, n, p, y, offset, weights } = inp;
  const maxit = ctl.maxit ?? 100;
  const epsilon = ctl.epsilon ?? 1e-10;
  const stepTol = ctl.stepTol ?? 1e-10;
  const link = family.link;
  const warnings: string[] = [];
  // η and μ are copied out of the scratch vectors for the result
  const eta = alloc(n);
  const mu = alloc(n);
  const w = alloc(n);
  const res = alloc(n);
  const devRow = n >= PARALLEL_MIN_ROWS ? alloc(n) : null; // each row's deviance term, when two cores share the rows

  let beta: Float64Array = new Float64Array(p);
  let haveBeta = false;
  const start = ctl.start ?? (n >= WARM_START_MIN_ROWS ? subsampleStart(inp, family) : null);
  let dev: number;
  if (start) {
    beta = Float64Array.from(start);
    haveBeta = true;
    dev = etaAndWorking(inp, family, beta, eta, mu, w, res, devRow);
  } else {
    for (let r = 0; r < n; r++) eta[r] = link.fun(family.muStart(y[r], weights ? weights[r] : 1)) + (offset ? offset[r] : 0);
    dev = workingValues(family, eta, y, weights, mu, w, res);
  }
  let converged = false;
  let iterations = 0;
  let info: Float64Array | null = null;
  let devOld = Infinity;
  // Binomial models with a non-canonical link (probit, cloglog) have a concave log-likelihood:
  // their steps after the first use the observed information, Newton's quadratic convergence
  // instead of Fisher scoring's linear one (half the iterations of a probit); the estimate is the
  // same maximum, and the information kept for the variance is the expected one, as glm's.
  const newton = family.name === 'binomial' && link.name !== 'logit';
  const wNewton = newton ? alloc(n) : null;
  const zNewton = newton ? alloc(n) : null;
  /** observed weights into wNewton and the score over them into zNewton (false: some weight ≤ 0, use Fisher's) */
  const observedWeights = (): boolean => {
    for (let r = 0; r < n; r++) {
      const pw = weights ? weights[r] : 1;
      const wo = observedWeight(family, eta[r], mu[r], y[r], w[r], pw);
      if (!(wo > 0) && pw > 0) return false;
      wNewton![r] = wo;
      zNewton![r] = pw > 0 ? (w[r] * res[r]) / wo : 0;
    }
    return true;
  };
  // Each round: information and score at β, Newton (Fisher) step δ = I⁻¹ g. When δ is
  // negligible, β is the estimate and this round's information is the final one.
  for (iterations = 1; iterations <= maxit; iterations++) {
    // information X'WX and score g = X'W·res in the same pass
    const g = new Float64Array(p);
    info = haveBeta && newton && observedWeights() ? parallelCrossprod(X, n, p, wNewton!, zNewton, g) : parallelCrossprod(X, n, p, w, res, g);
    const l = cholesky(info, p);
    if (!l) {
      warnings.push(`the weighted information matrix X'WX became singular at iteration ${iterations} (separation or a degenerate design?)`);
      break;
    }
    const delta = cholSolve(l, p, g);
    let step = 0;
    for (let a = 0; a < p; a++) step = Math.max(step, Math.abs(delta[a]) / (Math.abs(beta[a]) + 0.1));
    if (haveBeta && step < stepTol && Math.abs(dev - devOld) / (Math.abs(dev) + 0.1) < epsilon) {
      converged = true;
      break;
    }
    // the first round from mustart: δ is measured from η, not from a β
    let next = haveBeta ? beta.map((b, a) => b + delta[a]) : cholSolve(l, p, xtwzFromStart(X, n, p, w, eta, res, offset));
    let devNew = etaAndWorking(inp, family, next, eta, mu, w, res, devRow);
    // step halving on a non-finite or (after the first step) increased deviance
    for (let h = 0; h < 40 && haveBeta && (!Number.isFinite(devNew) || devNew > dev + 1e-9 * Math.abs(dev)); h++) {
      next = next.map((b, a) => (b + beta[a]) / 2);
      devNew = etaAndWorking(inp, family, next, eta, mu, w, res, devRow);
    }
    if (!Number.isFinite(devNew)) {
      warnings.push(`the deviance became non-finite at iteration ${iterations}; no valid step found`);
      break;
    }
    beta = next;
    haveBeta = true;
    devOld = dev;
    dev = devNew;
  }
  if (!converged && iterations > maxit) {
    iterations = maxit;
    warnings.push(`IRLS did not converge in ${maxit} iterations`);
  }
  iterations = Math.min(iterations, maxit);
  if (!converged || !info) {
    // not converged: recompute at the last β so that everything belongs to it
    dev = etaAndWorking(inp, family, beta, eta, mu, w, res, devRow);
    info = parallelCrossprod(X, n, p, w);
  } else if (newton) {
    // the expected information at the estimate (the last round's was the observed one)
    info = parallelCrossprod(X, n, p, w);
  }

  const canonical =
    (family.name === 'binomial' && link.name === 'logit') || (family.name === 'poisson' && link.name === 'log');
  const s = new Float64Array(n);
  // for a 0/1 outcome the saturated log-likelihood is 0, so loglik = −deviance/2
  let binary01 = family.name === 'binomial';
  for (let r = 0; r < n && binary01; r++) binary01 = y[r] === 0 || y[r] === 1;
  let loglik = 0;
  let boundary = 0;
  // observed weights (equal to w for canonical links)
  const wObs = canonical ? w : alloc(n);
  for (let r = 0; r < n; r++) {
    const pw = weights ? weights[r] : 1;
    if (pw === 0) continue;
    const m = mu[r];
    if (family.name === 'binomial' && (m < EPS10 || m > 1 - EPS10)) boundary++;
    // score factor: pw (y − μ) μ'/V = w · res
    s[r] = w[r] * res[r];
    if (!binary01) loglik += pw * family.logDensity(y[r], m);
    if (!canonical) wObs[r] = observedWeight(family, eta[r], m, y[r], w[r], pw);
  }
  if (binary01) loglik = -dev / 2;
  const obs = canonical ? info : parallelCrossprod(X, n, p, wObs);
  const l = cholesky(info, p);
  const bread = l ? cholInverse(l, p) : new Float64Array(p * p).fill(NaN);
  if (!l) warnings.push('the information matrix is singular at the estimate: standard errors are not available');
  if (boundary > 0) {
    warnings.push(
      `fitted probabilities numerically 0 or 1 occurred for ${boundary} row${boundary > 1 ? 's' : ''} (possible separation: coefficients may be diverging; consider firth-logit)`,
    );
  }
  // ordinary copies of the scratch vectors, which go back to the pool
  const own = (v: Float64Array) => (v.buffer instanceof SharedArrayBuffer ? v.slice() : v);
  return { beta, eta: own(eta), mu: own(mu), converged, iterations, deviance: dev, loglik, bread, s, observedInfo: canonical ? Float64Array.from(info) : obs, warnings };
}

/** Null model (intercept only when the model has one, with the same offset and weights). */
export function nullGlm(inp: GlmInput, family: Family, intercept: boolean): { deviance: number; loglik: number } {
  const { n, y, offset, weights } = inp;
  const value = (m: (r: number) => number) => {
    let dev = 0;
    let ll = 0;
    for (let r = 0; r < n; r++) {
      const w = weights ? weights[r] : 1;
      if (w === 0) continue;
      const mr = m(r);
      dev += w * family.devResid(y[r], mr);
      ll += w * family.logDensity(y[r], mr);
    }
    return { deviance: dev, loglik: ll };
  };
  if (intercept && !offset) {
    let sw = 0;
    let swy = 0;
    for (let r = 0; r < n; r++) {
      const w = weights ? weights[r] : 1;
      sw += w;
      swy += w * y[r];
    }
    const m = swy / sw;
    return value(() => m);
  }
  if (intercept) {
    const f = fitGlm({ ...inp, X: new Float64Array(n).fill(1), p: 1 }, family);
    return { deviance: f.deviance, loglik: f.loglik };
  }
  return value((r) => family.link.inv(offset ? offset[r] : 0));
}
