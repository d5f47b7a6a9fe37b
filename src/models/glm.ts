/**
 * Generalised linear models by iteratively reweighted least squares (Fisher scoring),
 * as R's glm.fit, with tighter convergence: relative deviance change below 1e-10 and
 * coefficient steps below 1e-9 (relative), then one last pass at the final estimate
 * so that the information, scores and log-likelihood belong to it exactly.
 * One fused pass over the rows per iteration; X is row-major n × p.
 */
import { cholesky, cholInverse, cholSolve, symmetrize } from '../linalg/dense.ts';
import type { Family } from './family.ts';

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
  /** X' W_obs X at the final estimate (observed information of β), upper+lower */
  observedInfo: Float64Array;
  warnings: string[];
}

const EPS10 = 10 * 2.220446049250313e-16;

export function fitGlm(inp: GlmInput, family: Family, ctl: GlmControl = {}): GlmFit {
  const { X, n, p, y, offset, weights } = inp;
  const maxit = ctl.maxit ?? 100;
  const epsilon = ctl.epsilon ?? 1e-10;
  const stepTol = ctl.stepTol ?? 1e-9;
  const link = family.link;
  const warnings: string[] = [];
  const eta = new Float64Array(n);
  const mu = new Float64Array(n);
  const xtwx = new Float64Array(p * p);
  const xtwz = new Float64Array(p);

  /** Given eta, fills mu and accumulates X'WX, X'Wz; returns the deviance. */
  const accumulate = (): number => {
    xtwx.fill(0);
    xtwz.fill(0);
    let dev = 0;
    for (let r = 0; r < n; r++) {
      const pw = weights ? weights[r] : 1;
      const e = eta[r];
      const m = link.inv(e);
      mu[r] = m;
      if (pw === 0) continue;
      const d = link.muEta(e);
      const v = family.variance(m);
      const w = (pw * d * d) / v;
      const z = e - (offset ? offset[r] : 0) + (y[r] - m) / d;
      dev += pw * family.devResid(y[r], m);
      const o = r * p;
      for (let a = 0; a < p; a++) {
        const wa = w * X[o + a];
        xtwz[a] += wa * z;
        for (let b = a; b < p; b++) xtwx[a * p + b] += wa * X[o + b];
      }
    }
    return dev;
  };
  const setEta = (beta: Float64Array) => {
    for (let r = 0; r < n; r++) {
      let e = offset ? offset[r] : 0;
      const o = r * p;
      for (let a = 0; a < p; a++) e += X[o + a] * beta[a];
      eta[r] = e;
    }
  };
  const deviance = (): number => {
    let dev = 0;
    for (let r = 0; r < n; r++) {
      const pw = weights ? weights[r] : 1;
      if (pw === 0) continue;
      dev += pw * family.devResid(y[r], link.inv(eta[r]));
    }
    return dev;
  };

  let beta: Float64Array = new Float64Array(p);
  if (ctl.start) {
    beta = Float64Array.from(ctl.start);
    setEta(beta);
  } else {
    for (let r = 0; r < n; r++) eta[r] = link.fun(family.muStart(y[r], weights ? weights[r] : 1));
  }
  let dev = accumulate();
  let devOld = ctl.start ? dev : Infinity;
  let converged = false;
  let iterations = 0;
  for (iterations = 1; iterations <= maxit; iterations++) {
    symmetrize(xtwx, p);
    const l = cholesky(xtwx, p);
    if (!l) {
      warnings.push(`the weighted information matrix X'WX became singular at iteration ${iterations} (separation or a degenerate design?)`);
      break;
    }
    let next = cholSolve(l, p, xtwz);
    setEta(next);
    let devNew = deviance();
    // step halving on a non-finite or increased deviance
    for (let h = 0; h < 40; h++) {
      const bad = !Number.isFinite(devNew) || (Number.isFinite(devOld) && devNew > dev + 1e-9 * Math.abs(dev));
      if (!bad) break;
      next = next.map((b, a) => (b + beta[a]) / 2);
      setEta(next);
      devNew = deviance();
    }
    if (!Number.isFinite(devNew)) {
      warnings.push(`the deviance became non-finite at iteration ${iterations}; no valid step found`);
      setEta(beta);
      break;
    }
    let step = 0;
    for (let a = 0; a < p; a++) step = Math.max(step, Math.abs(next[a] - beta[a]) / (Math.abs(next[a]) + 0.1));
    beta = next;
    devOld = dev;
    dev = accumulate();
    if (Math.abs(dev - devOld) / (Math.abs(dev) + 0.1) < epsilon && step < stepTol) {
      converged = true;
      break;
    }
  }
  if (!converged && iterations > maxit) {
    iterations = maxit;
    warnings.push(`IRLS did not converge in ${maxit} iterations`);
  }

  // final pass at beta: information, observed information, scores, log-likelihood
  setEta(beta);
  const s = new Float64Array(n);
  const info = new Float64Array(p * p);
  const obs = new Float64Array(p * p);
  let loglik = 0;
  dev = 0;
  let boundary = 0;
  for (let r = 0; r < n; r++) {
    const pw = weights ? weights[r] : 1;
    const e = eta[r];
    const m = link.inv(e);
    mu[r] = m;
    if (pw === 0) continue;
    if (family.name === 'binomial' && (m < EPS10 || m > 1 - EPS10)) boundary++;
    const d = link.muEta(e);
    const v = family.variance(m);
    const res = y[r] - m;
    const w = (pw * d * d) / v;
    // observed weight: -d²l/dη² = μ'²/V − (y − μ)(μ''/V − μ'² V'/V²)
    const wObs = w - pw * res * (link.muEta2(e) / v - (d * d * family.varianceDeriv(m)) / (v * v));
    s[r] = (pw * res * d) / v;
    dev += pw * family.devResid(y[r], m);
    loglik += pw * family.logDensity(y[r], m);
    const o = r * p;
    for (let a = 0; a < p; a++) {
      const xa = X[o + a];
      if (xa === 0) continue;
      for (let b = a; b < p; b++) {
        info[a * p + b] += w * xa * X[o + b];
        obs[a * p + b] += wObs * xa * X[o + b];
      }
    }
  }
  symmetrize(info, p);
  symmetrize(obs, p);
  const l = cholesky(info, p);
  const bread = l ? cholInverse(l, p) : new Float64Array(p * p).fill(NaN);
  if (!l) warnings.push('the information matrix is singular at the estimate: standard errors are not available');
  if (boundary > 0) {
    warnings.push(
      `fitted probabilities numerically 0 or 1 occurred for ${boundary} row${boundary > 1 ? 's' : ''} (possible separation: coefficients may be diverging; consider firth-logit)`,
    );
  }
  return { beta, eta, mu, converged, iterations, deviance: dev, loglik, bread, s, observedInfo: obs, warnings };
}

/** Null model (intercept only when the model has one, with the same offset and weights). */
export function nullGlm(inp: GlmInput, family: Family, intercept: boolean): { deviance: number; loglik: number } {
  const { n, y, offset, weights } = inp;
  if (intercept && !offset) {
    let sw = 0;
    let swy = 0;
    for (let r = 0; r < n; r++) {
      const w = weights ? weights[r] : 1;
      sw += w;
      swy += w * y[r];
    }
    const m = swy / sw;
    let dev = 0;
    let ll = 0;
    for (let r = 0; r < n; r++) {
      const w = weights ? weights[r] : 1;
      if (w === 0) continue;
      dev += w * family.devResid(y[r], m);
      ll += w * family.logDensity(y[r], m);
    }
    return { deviance: dev, loglik: ll };
  }
  if (intercept) {
    const f = fitGlm({ ...inp, X: new Float64Array(n).fill(1), p: 1 }, family);
    return { deviance: f.deviance, loglik: f.loglik };
  }
  let dev = 0;
  let ll = 0;
  for (let r = 0; r < n; r++) {
    const w = weights ? weights[r] : 1;
    const m = family.link.inv(offset ? offset[r] : 0);
    dev += w * family.devResid(y[r], m);
    ll += w * family.logDensity(y[r], m);
  }
  return { deviance: dev, loglik: ll };
}

