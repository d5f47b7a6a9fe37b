/**
 * The estimators as the fit layer sees them: each turns a design into an Estimate — its
 * parameter blocks (bread, score rows, rows, reported names), fit statistics and warnings.
 * The numerical work lives in the model files; this file only adapts their results.
 */
import { UsageError } from '../util/errors.ts';
import type { Design, DesignPart } from '../formula/design.ts';
import { binomial, links, negbin as negbinFamily, type Family } from './family.ts';
import { fitGlm, nullGlm, type GlmInput } from './glm.ts';
import { fitNegbin } from './negbin.ts';
import { fitOls } from './ols.ts';
import { binomialLoglik, fitFirth, fitRelogit } from './binary.ts';
import { fitZinb, fitZtnb } from './counts.ts';
import type { MleFit } from './mle.ts';
import { cholesky, cholInverse, linearPredictor, scale } from '../linalg/dense.ts';
import { binomialLogDensity, plogis } from '../util/math.ts';
import { scalarTimesX, type VariancePieces } from '../vcov/vcov.ts';
import { rowVector } from '../linalg/parallel.ts';

/**
 * One block of parameters with its own variance: the whole model for single-part
 * models, each part of a hurdle model (they are separable), or the joint ZINB.
 */
export interface EstBlock {
  /** parameter vector of this block (may include log θ) */
  params: Float64Array;
  pieces: VariancePieces;
  /** rows of the design (0..n-1) whose scores these are; null = all rows */
  rowSubset: Int32Array | null;
  /** which parameters are reported under which column names */
  report: { part: 'count' | 'zero' | null; names: string[]; aliased: boolean[]; index: number[] }[];
  /** index of log θ in params, when the block estimates it jointly */
  logThetaIndex: number | null;
}

/** What an estimator hands back to the fit layer. */
export interface Estimate {
  link: string;
  blocks: EstBlock[];
  converged: boolean;
  iterations: number;
  loglik: number;
  /** per-row log-likelihood (Vuong tests); null where not kept */
  rowLoglik: Float64Array | null;
  deviance: number | null;
  nullDeviance: number | null;
  theta: number | null;
  /** SE(θ) when θ is not part of a block's variance (glm.nb's convention) */
  thetaSe: number | null;
  /** NB: log-likelihood of the constant-only NB with its own θ (Stata's nbreg null model) */
  nullLoglikConstant: number | null;
  /** fitted means of the (single-part) model, for marginal effects */
  mu: Float64Array | null;
  warnings: string[];
}


export function glmInput(d: Design, part: DesignPart): GlmInput {
  return { X: part.X, n: d.n, p: part.p, y: d.y, offset: part.offset, weights: d.weights };
}


/** An Estimate with the fields most estimators leave empty set to null. */
function estimate(e: Pick<Estimate, 'link' | 'blocks' | 'converged' | 'iterations' | 'loglik' | 'warnings'> & Partial<Estimate>): Estimate {
  return { rowLoglik: null, deviance: null, nullDeviance: null, theta: null, thetaSe: null, nullLoglikConstant: null, mu: null, ...e };
}

function singleBlock(part: DesignPart, params: Float64Array, pieces: VariancePieces): EstBlock[] {
  const index = Array.from({ length: part.p }, (_, k) => k);
  return [{ params, pieces, rowSubset: null, report: [{ part: null, names: part.names, aliased: part.aliased, index }], logThetaIndex: null }];
}

function glmPieces(inp: GlmInput, bread: Float64Array, observedInfo: Float64Array, s: Float64Array): VariancePieces {
  const oimL = cholesky(observedInfo, inp.p);
  return { k: inp.p, n: inp.n, bread, classical: bread, oim: oimL ? cholInverse(oimL, inp.p) : null, scores: scalarTimesX(inp.X, inp.p, s) };
}

/** A GLM fitted by IRLS (logit, probit, cloglog, Poisson: the family object says which). */
export function glmEstimate(inp: GlmInput, part: DesignPart, fam: Family): Estimate {
  const f = fitGlm(inp, fam);
  const nul = nullGlm(inp, fam, part.intercept);
  return estimate({
    link: fam.link.name,
    blocks: singleBlock(part, f.beta, glmPieces(inp, f.bread, f.observedInfo, f.s)),
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    deviance: f.deviance,
    nullDeviance: nul.deviance,
    mu: f.mu,
    warnings: f.warnings,
  });
}

export function negbinEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitNegbin(inp);
  const nul = nullGlm(inp, negbinFamily(f.theta), part.intercept);
  // the constant-only NB with θ re-estimated (McFadden's R² as Stata's nbreg reports it)
  const constant = part.intercept && !inp.offset && !inp.weights ? fitNegbin({ ...inp, X: new Float64Array(inp.n).fill(1), p: 1 }) : null;
  const p = inp.p;
  let oim: Float64Array | null = null;
  if (f.jointObservedInv) {
    oim = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) oim[a * p + b] = f.jointObservedInv[a * (p + 1) + b];
  }
  const pieces: VariancePieces = { k: p, n: inp.n, bread: f.bread, classical: f.bread, oim, scores: scalarTimesX(inp.X, p, f.s) };
  return estimate({
    link: 'log',
    blocks: singleBlock(part, f.beta, pieces),
    converged: f.converged && !f.boundary,
    iterations: f.iterations,
    loglik: f.loglik,
    deviance: f.deviance,
    nullDeviance: nul.deviance,
    theta: f.theta,
    thetaSe: f.thetaSe,
    nullLoglikConstant: constant ? constant.loglik : null,
    mu: f.mu,
    warnings: f.warnings,
  });
}

export function olsEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitOls(inp, part.intercept);
  const p = inp.p;
  const s = Float64Array.from(f.resid, (e, r) => e * (inp.weights ? inp.weights[r] : 1));
  const classical = scale(f.bread, f.sigma2);
  const pieces: VariancePieces = { k: p, n: inp.n, bread: f.bread, classical, oim: classical, scores: scalarTimesX(inp.X, p, s) };
  return estimate({
    link: 'identity',
    blocks: singleBlock(part, f.beta, pieces),
    converged: true,
    iterations: 0,
    loglik: f.loglik,
    deviance: f.rss,
    nullDeviance: f.nullRss,
    warnings: f.warnings,
  });
}

export function firthEstimate(inp: GlmInput, part: DesignPart): Estimate {
  // the Firth estimate is within O(1/n) of the ML one: start there unless ML separates
  const ml = inp.n >= 10_000 ? fitGlm(inp, binomial(links.logit)) : null;
  const start = ml && ml.converged && ml.warnings.length === 0 ? ml.beta : undefined;
  const f = fitFirth(inp, { start });
  const nul = part.intercept ? fitFirth({ ...inp, X: rowVector(inp.n).fill(1), p: 1 }) : null;
  // sandwiches use the ordinary logit score at the bias-reduced estimate, (y − μ)·x (prior
  // weights included), with (X'WX)⁻¹ there as bread: what sandwich does for a brglm2 fit
  // (an approximation: the estimate solves the modified score, not this one)
  const s = new Float64Array(inp.n);
  for (let r = 0; r < inp.n; r++) s[r] = (inp.weights ? inp.weights[r] : 1) * (inp.y[r] - f.mu[r]);
  const pieces: VariancePieces = { k: inp.p, n: inp.n, bread: f.bread, classical: f.bread, oim: f.bread, scores: scalarTimesX(inp.X, inp.p, s) };
  return estimate({
    link: 'logit',
    blocks: singleBlock(part, f.beta, pieces),
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    deviance: -2 * f.loglik,
    nullDeviance: nul ? -2 * nul.loglik : null,
    mu: f.mu,
    warnings: f.warnings,
  });
}

export function relogitEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitRelogit(inp);
  // sandwiches: the ML logit's, times the same (n/(n+k))² as the classical variance — the
  // bread carries one n/(n+k), so bread·meat·bread carries its square
  const shrink = inp.n / (inp.n + inp.p);
  const pieces: VariancePieces = { k: inp.p, n: inp.n, bread: scale(f.ml.bread, shrink), classical: f.vcov, oim: f.vcov, scores: scalarTimesX(inp.X, inp.p, f.ml.s) };
  // the corrected estimate's fitted values and log-likelihood
  const mu = linearPredictor(inp.X, inp.n, inp.p, f.beta, inp.offset);
  for (let r = 0; r < inp.n; r++) mu[r] = plogis(mu[r]);
  const ll = binomialLoglik(inp.y, mu, inp.weights);
  return estimate({
    link: 'logit',
    blocks: singleBlock(part, f.beta, pieces),
    converged: f.ml.converged,
    iterations: f.ml.iterations,
    loglik: ll,
    deviance: -2 * ll,
    mu,
    warnings: f.ml.warnings,
  });
}

/** The block of a fit over (β, log θ) from the ML engine; theta's own row is not reported. */
function countBlock(part: DesignPart, fit: MleFit, rowSubset: Int32Array | null, p: number, label: 'count' | null, nRows: number): EstBlock {
  const K = p + 1;
  const V = fit.vcov ?? new Float64Array(K * K).fill(NaN);
  return {
    params: fit.beta,
    pieces: { k: K, n: nRows, bread: V, classical: V, oim: V, scores: fit.scores },
    rowSubset,
    report: [{ part: label, names: part.names, aliased: part.aliased, index: Array.from({ length: p }, (_, k) => k) }],
    logThetaIndex: p,
  };
}

export function ztnbEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitZtnb(inp);
  return estimate({
    link: 'log',
    blocks: [countBlock(part, f.fit, null, inp.p, null, inp.n)],
    converged: f.fit.converged,
    iterations: f.fit.iterations,
    loglik: f.fit.loglik,
    rowLoglik: f.fit.rowLoglik,
    theta: f.theta,
    warnings: f.fit.warnings,
  });
}

export function hurdleEstimate(d: Design, count: DesignPart, zero: DesignPart): Estimate {
  const n = d.n;
  const positives = Int32Array.from({ length: n }, (_, r) => r).filter((r) => d.y[r] > 0);
  if (positives.length === n) throw new UsageError(`hurdle-negbin needs zeros in '${d.responseName}', but every one of the ${n} rows is positive; use ztnb or negbin`);
  const any = rowVector(n);
  for (let r = 0; r < n; r++) any[r] = +(d.y[r] > 0);
  const zInp: GlmInput = { X: zero.X, n, p: zero.p, y: any, offset: zero.offset, weights: null };
  const zf = fitGlm(zInp, binomial(links.logit));
  const Xc = new Float64Array(positives.length * count.p);
  positives.forEach((r, k) => Xc.set(count.X.subarray(r * count.p, (r + 1) * count.p), k * count.p));
  const cInp: GlmInput = { X: Xc, n: positives.length, p: count.p, y: Float64Array.from(positives, (r) => d.y[r]), offset: null, weights: null };
  const cf = fitZtnb(cInp);
  const zeroBlock: EstBlock = {
    params: zf.beta,
    pieces: glmPieces(zInp, zf.bread, zf.observedInfo, zf.s),
    rowSubset: null,
    report: [{ part: 'zero', names: zero.names, aliased: zero.aliased, index: Array.from({ length: zero.p }, (_, k) => k) }],
    logThetaIndex: null,
  };
  const rowLoglik = new Float64Array(n);
  for (let r = 0; r < n; r++) rowLoglik[r] = binomialLogDensity(any[r], zf.mu[r]);
  positives.forEach((r, k) => (rowLoglik[r] += cf.fit.rowLoglik[k]));
  return estimate({
    link: 'log',
    blocks: [countBlock(count, cf.fit, positives, count.p, 'count', positives.length), zeroBlock],
    converged: zf.converged && cf.fit.converged,
    iterations: zf.iterations + cf.fit.iterations,
    loglik: zf.loglik + cf.fit.loglik,
    rowLoglik,
    theta: cf.theta,
    warnings: [...zf.warnings.map((w) => `zero part: ${w}`), ...cf.fit.warnings.map((w) => `count part: ${w}`)],
  });
}

export function zinbEstimate(d: Design, count: DesignPart, zero: DesignPart): Estimate {
  const n = d.n;
  if (d.y.every((v) => v > 0)) throw new UsageError(`zinb needs zeros in '${d.responseName}', but every one of the ${n} rows is positive; use ztnb or negbin`);
  const f = fitZinb({ X: count.X, n, p: count.p, y: d.y, offset: count.offset, weights: null }, zero.X, zero.p);
  const K = count.p + 1 + zero.p;
  const V = f.vcov ?? new Float64Array(K * K).fill(NaN);
  const block: EstBlock = {
    params: f.fit.beta,
    pieces: { k: K, n, bread: V, classical: V, oim: V, scores: f.fit.scores },
    rowSubset: null,
    report: [
      { part: 'count', names: count.names, aliased: count.aliased, index: Array.from({ length: count.p }, (_, k) => k) },
      { part: 'zero', names: zero.names, aliased: zero.aliased, index: Array.from({ length: zero.p }, (_, k) => count.p + 1 + k) },
    ],
    logThetaIndex: count.p,
  };
  return estimate({
    link: 'log',
    blocks: [block],
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    rowLoglik: f.rowLoglik,
    theta: f.theta,
    warnings: f.warnings,
  });
}
