/**
 * Ordinary (and weighted) least squares. Point estimates come from ml-regression's
 * multivariate linear regression and are checked against our own Cholesky solution
 * of the normal equations; a disagreement (an ill-conditioned design) is reported.
 */
import { MultivariateLinearRegression } from 'ml-regression';
import { cholesky, cholInverse, cholSolve, linearPredictor, symmetrize } from '../linalg/dense.ts';
import type { GlmInput } from './glm.ts';
import { UsageError } from '../util/errors.ts';

export interface OlsFit {
  beta: Float64Array;
  resid: Float64Array;
  rss: number;
  sigma2: number;
  /** (X'WX)^{-1} */
  bread: Float64Array;
  loglik: number;
  nullRss: number;
  warnings: string[];
}

/** Above this many cells ml-regression's arrays of arrays cost more than they are worth. */
const ML_REGRESSION_MAX_CELLS = 5_000_000;

export function fitOls(inp: GlmInput, intercept: boolean): OlsFit {
  const { X, n, p, y, offset, weights } = inp;
  const warnings: string[] = [];
  const yy = Float64Array.from(y, (v, r) => v - (offset ? offset[r] : 0));
  const xtx = new Float64Array(p * p);
  const xty = new Float64Array(p);
  for (let r = 0; r < n; r++) {
    const w = weights ? weights[r] : 1;
    const o = r * p;
    for (let a = 0; a < p; a++) {
      const wa = w * X[o + a];
      xty[a] += wa * yy[r];
      for (let b = a; b < p; b++) xtx[a * p + b] += wa * X[o + b];
    }
  }
  symmetrize(xtx, p);
  const l = cholesky(xtx, p);
  if (!l) throw new UsageError("the weighted X'X is singular: with these weights a column has no variation left (rows of weight 0 remove every row where it differs), or its values are too large; drop or rescale it, or change the weights");
  const own = cholSolve(l, p, xty);
  let beta = own;
  if (n * p <= ML_REGRESSION_MAX_CELLS) {
    const xs: number[][] = new Array(n);
    const ys: number[][] = new Array(n);
    for (let r = 0; r < n; r++) {
      const sw = weights ? Math.sqrt(weights[r]) : 1;
      const row = new Array<number>(p);
      for (let a = 0; a < p; a++) row[a] = sw * X[r * p + a];
      xs[r] = row;
      ys[r] = [sw * yy[r]];
    }
    const mlr = new MultivariateLinearRegression(xs, ys, { intercept: false, statistics: false });
    const ml = Float64Array.from(mlr.weights, (w) => w[0]);
    let worst = 0;
    for (let a = 0; a < p; a++) worst = Math.max(worst, Math.abs(ml[a] - own[a]) / Math.max(Math.abs(own[a]), 1e-8));
    if (worst > 1e-8) {
      warnings.push(`ml-regression and the normal equations disagree by ${worst.toExponential(2)} (relative): the design is ill-conditioned`);
    }
    beta = ml;
  }
  const resid = new Float64Array(n);
  let rss = 0;
  let sw = 0;
  let swy = 0;
  let slogw = 0;
  const fitted = linearPredictor(X, n, p, beta, offset);
  for (let r = 0; r < n; r++) {
    resid[r] = y[r] - fitted[r];
    const w = weights ? weights[r] : 1;
    rss += w * resid[r] * resid[r];
    sw += w;
    swy += w * y[r];
    if (w > 0) slogw += Math.log(w);
  }
  const mean = intercept ? swy / sw : 0;
  let nullRss = 0;
  for (let r = 0; r < n; r++) {
    const w = weights ? weights[r] : 1;
    nullRss += w * (y[r] - mean) ** 2;
  }
  const nUsed = weights ? weights.filter((w) => w > 0).length : n;
  const loglik = 0.5 * slogw - (nUsed / 2) * (Math.log(2 * Math.PI) + 1 - Math.log(nUsed) + Math.log(rss));
  return { beta, resid, rss, sigma2: rss / (nUsed - p), bread: cholInverse(l, p), loglik, nullRss, warnings };
}
