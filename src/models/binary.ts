/**
 * Rare-event and separation-robust logits.
 * - Firth's bias-reduced logit: maximises ℓ(β) + ½ log det I(β) (Jeffreys prior), whose
 *   score is U*(β) = X'(y − π + h(½ − π)), h the hat values of W^{1/2}X. Equal to
 *   brglm2's AS_mean for the logit link; finite under separation.
 * - King & Zeng's rare-events correction of the ML logit (no prior correction).
 */
import { cholesky, cholInverse, cholSolve, linearPredictor } from '../linalg/dense.ts';
import { binomialLogDensity, plogis } from '../util/math.ts';
import { onBothCores, parallelCrossprod } from '../linalg/parallel.ts';
import { fitGlm, Scratch, type GlmFit, type GlmInput } from './glm.ts';
import type { FirthScoreJob, FirthStateJob } from './rows-jobs.ts';
import { binomial, links } from './family.ts';

export interface FirthFit {
  beta: Float64Array;
  /** (X'WX)^{-1} at the estimate */
  bread: Float64Array;
  mu: Float64Array;
  loglik: number;
  converged: boolean;
  iterations: number;
  warnings: string[];
}

/** Binomial log-likelihood of fitted means (prior weights; rows of weight 0 left out). */
export function binomialLoglik(y: Float64Array, mu: Float64Array, w: Float64Array | null): number {
  let ll = 0;
  for (let r = 0; r < y.length; r++) {
    const pw = w ? w[r] : 1;
    if (pw === 0) continue;
    ll += pw * binomialLogDensity(y[r], mu[r]);
  }
  return ll;
}

/**
 * Firth's per-row state over rows from … to − 1: η = offset + Xβ, μ, w = pw μ(1 − μ); returns
 * the rows' log-likelihood (binomialLoglik's terms in its order), each row's term also into
 * `llRow` when given (0 for a row of weight 0), for a caller that sums two threads' rows in order.
 */
export function firthStateRows(
  X: Float64Array, p: number, beta: Float64Array, offset: Float64Array | null, y: Float64Array, weights: Float64Array | null,
  eta: Float64Array, mu: Float64Array, w: Float64Array, llRow: Float64Array | null, from: number, to: number,
): number {
  linearPredictor(X, to, p, beta, offset, eta, from);
  for (let r = from; r < to; r++) {
    const m = plogis(eta[r]);
    mu[r] = m;
    w[r] = (weights ? weights[r] : 1) * m * (1 - m);
  }
  let ll = 0;
  for (let r = from; r < to; r++) {
    const pw = weights ? weights[r] : 1;
    if (pw === 0) {
      if (llRow) llRow[r] = 0;
      continue;
    }
    const t = pw * binomialLogDensity(y[r], mu[r]);
    ll += t;
    if (llRow) llRow[r] = t;
  }
  return ll;
}

/**
 * The factor of each row in Firth's modified score U*(β) = Σ_r f_r x_r over rows from … to − 1:
 * f_r = pw (y − μ) + h_r (½ − μ), h_r = w_r ‖L⁻¹ x_r‖² the hat value (L the Cholesky factor of X'WX).
 */
export function firthScoreRows(
  X: Float64Array, p: number, l: Float64Array, y: Float64Array, weights: Float64Array | null, mu: Float64Array, w: Float64Array, f: Float64Array, from: number, to: number,
): void {
  const v = new Float64Array(p);
  for (let r = from; r < to; r++) {
    const o = r * p;
    let h = 0;
    for (let i = 0; i < p; i++) {
      let s = X[o + i];
      for (let m = 0; m < i; m++) s -= l[i * p + m] * v[m];
      v[i] = s / l[i * p + i];
      h += v[i] * v[i];
    }
    h *= w[r];
    const pw = weights ? weights[r] : 1;
    f[r] = pw * (y[r] - mu[r]) + h * (0.5 - mu[r]);
  }
}

export function fitFirth(inp: GlmInput, opts: { maxit?: number; start?: Float64Array } = {}): FirthFit {
  const scratch = new Scratch(inp.n);
  try {
    return fitFirthWith(inp, opts, (len) => scratch.vector(len));
  } finally {
    scratch.release();
  }
}

function fitFirthWith(inp: GlmInput, opts: { maxit?: number; start?: Float64Array }, alloc: (len: number) => Float64Array): FirthFit {
  const { X, n, p, y, offset, weights } = inp;
  const maxit = opts.maxit ?? 500;
  const warnings: string[] = [];
  // per-row vectors, shared for a large design: both cores compute X'WX, and the rows
  // worker takes the first half of the rows' state and score factors (same results)
  const mu = alloc(n);
  const w = alloc(n);
  const eta = alloc(n);
  const rowTerm = alloc(n);
  const half = n >> 1;
  const arrays = [X, offset, y, weights, eta, mu, w, rowTerm];

  const state = (beta: Float64Array) => {
    let ll: number;
    const job: FirthStateJob = { kind: 'firth-state', X, p, beta, offset, y, weights, eta, mu, w, llRow: rowTerm, from: 0, to: half };
    if (onBothCores(n, job, arrays, () => firthStateRows(X, p, beta, offset, y, weights, eta, mu, w, rowTerm, half, n))) {
      ll = 0;
      for (let r = 0; r < n; r++) ll += rowTerm[r];
    } else ll = firthStateRows(X, p, beta, offset, y, weights, eta, mu, w, null, 0, n);
    const info = parallelCrossprod(X, n, p, w);
    const l = cholesky(info, p);
    let logdet = 0;
    if (l) for (let a = 0; a < p; a++) logdet += 2 * Math.log(l[a * p + a]);
    return { info, l, ll, pll: ll + 0.5 * logdet };
  };
  /** U*(β): the rows' factors (on two cores when they are many), then Σ f_r x_r in row order */
  const modifiedScore = (l: Float64Array) => {
    const f = rowTerm;
    const job: FirthScoreJob = { kind: 'firth-score', X, p, l, y, weights, mu, w, f, from: 0, to: half };
    if (!onBothCores(n, job, arrays, () => firthScoreRows(X, p, l, y, weights, mu, w, f, half, n))) firthScoreRows(X, p, l, y, weights, mu, w, f, 0, n);
    const u = new Float64Array(p);
    for (let r = 0; r < n; r++) {
      const o = r * p;
      const fr = f[r];
      for (let a = 0; a < p; a++) u[a] += fr * X[o + a];
    }
    return u;
  };
  let beta = opts.start ? Float64Array.from(opts.start) : new Float64Array(p);
  let cur = state(beta);
  let converged = false;
  let iterations = 0;
  let maxU = Infinity;
  for (iterations = 1; iterations <= maxit; iterations++) {
    if (!cur.l) {
      warnings.push('firth: the information matrix became singular');
      break;
    }
    const u = modifiedScore(cur.l);
    maxU = Math.max(...Array.from(u, Math.abs));
    const delta = cholSolve(cur.l, p, u);
    let step = 0;
    for (let a = 0; a < p; a++) step = Math.max(step, Math.abs(delta[a]) / (Math.abs(beta[a]) + 0.1));
    // converged when the step is negligible: the modified score itself grows with n
    // (summation noise), so an absolute bound on it would not scale to millions of rows
    if (step < 1e-10) {
      converged = true;
      break;
    }
    // quasi-Fisher step, halved while the penalised likelihood falls
    let f = 1;
    let next = beta.map((b, a) => b + delta[a]);
    let nx = state(next);
    while ((!nx.l || !(nx.pll >= cur.pll - 1e-10 * Math.abs(cur.pll))) && f > 1e-8) {
      f /= 2;
      next = beta.map((b, a) => b + f * delta[a]);
      nx = state(next);
    }
    beta = next;
    cur = nx;
  }
  if (!converged) warnings.push(`firth: did not converge in ${Math.min(iterations, maxit)} iterations (largest modified score ${maxU.toExponential(2)})`);
  cur = state(beta);
  return {
    beta,
    bread: cur.l ? cholInverse(cur.l, p) : new Float64Array(p * p).fill(NaN),
    mu: Float64Array.from(mu),
    loglik: cur.ll,
    converged,
    iterations: Math.min(iterations, maxit),
    warnings,
  };
}

export interface RelogitFit {
  beta: Float64Array;
  ml: GlmFit;
  /** (n/(n+k))² (X'WX)^{-1} */
  vcov: Float64Array;
}

/** King & Zeng (2001): β̃ = β_ML − (X'WX)^{-1} X'W ξ, ξ_i = ½ Q_ii (2π_i − 1); V = (n/(n+k))² (X'WX)^{-1}. */
export function fitRelogit(inp: GlmInput): RelogitFit {
  const { X, n, p } = inp;
  const ml = fitGlm(inp, binomial(links.logit));
  const B = ml.bread;
  const xb = new Float64Array(p);
  const rhs = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const o = r * p;
    let q = 0;
    for (let a = 0; a < p; a++) {
      let s = 0;
      for (let b = 0; b < p; b++) s += B[a * p + b] * X[o + b];
      xb[a] = s;
      q += s * X[o + a];
    }
    const pi = ml.mu[r];
    const pw = inp.weights ? inp.weights[r] : 1;
    const wxi = pw * pi * (1 - pi) * 0.5 * q * (2 * pi - 1);
    for (let a = 0; a < p; a++) rhs[a] += wxi * X[o + a];
  }
  const bias = new Float64Array(p);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) bias[a] += B[a * p + b] * rhs[b];
  const f = (n / (n + p)) ** 2;
  return { beta: ml.beta.map((b, a) => b - bias[a]), ml, vcov: B.map((x) => x * f) };
}
