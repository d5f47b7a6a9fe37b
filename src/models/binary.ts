/**
 * Rare-event and separation-robust logits.
 * - Firth's bias-reduced logit: maximises ℓ(β) + ½ log det I(β) (Jeffreys prior), whose
 *   score is U*(β) = X'(y − π + h(½ − π)), h the hat values of W^{1/2}X. Equal to
 *   brglm2's AS_mean for the logit link; finite under separation.
 * - King & Zeng's rare-events correction of the ML logit (no prior correction).
 */
import { cholesky, cholInverse, cholSolve, linearPredictor } from '../linalg/dense.ts';
import { binomialLogDensity, plogis } from '../util/math.ts';
import { parallelCrossprod, PARALLEL_MIN_ROWS, shared } from '../linalg/parallel.ts';
import { fitGlm, type GlmFit, type GlmInput } from './glm.ts';
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

export function fitFirth(inp: GlmInput, opts: { maxit?: number; start?: Float64Array } = {}): FirthFit {
  const { X, n, p, y, offset, weights } = inp;
  const maxit = opts.maxit ?? 500;
  const warnings: string[] = [];
  const mu = new Float64Array(n);
  // the weights in shared memory for a large design, so that both cores compute X'WX
  const w = n >= PARALLEL_MIN_ROWS ? shared(n) : new Float64Array(n);
  const v = new Float64Array(p);

  const eta = new Float64Array(n);
  const state = (beta: Float64Array) => {
    linearPredictor(X, n, p, beta, offset, eta);
    for (let r = 0; r < n; r++) {
      const m = plogis(eta[r]);
      mu[r] = m;
      w[r] = (weights ? weights[r] : 1) * m * (1 - m);
    }
    const info = parallelCrossprod(X, n, p, w);
    const l = cholesky(info, p);
    let logdet = 0;
    if (l) for (let a = 0; a < p; a++) logdet += 2 * Math.log(l[a * p + a]);
    return { info, l, pll: binomialLoglik(y, mu, weights) + 0.5 * logdet };
  };
  /** U*(β) with hat values h_r = w_r ‖L⁻¹ x_r‖². */
  const modifiedScore = (l: Float64Array) => {
    const u = new Float64Array(p);
    for (let r = 0; r < n; r++) {
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
      const f = pw * (y[r] - mu[r]) + h * (0.5 - mu[r]);
      for (let a = 0; a < p; a++) u[a] += f * X[o + a];
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
    loglik: binomialLoglik(y, mu, weights),
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
