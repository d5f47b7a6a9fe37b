/**
 * Negative binomial (NB2, log link) by maximum likelihood, as MASS::glm.nb:
 * alternate IRLS for β at fixed θ with a Newton solve for θ at fixed μ, until both
 * stop moving. θ's standard error is MASS's (observed information, β fixed); the
 * joint observed information of (β, θ) gives Stata's `nbreg` variance (`oim`).
 */
import digamma from '@stdlib/math-base-special-digamma';
import trigamma from '@stdlib/math-base-special-trigamma';
import gammaln from '@stdlib/math-base-special-gammaln';
import { fitGlm, type GlmFit, type GlmInput } from './glm.ts';
import { negbin, poisson } from './family.ts';
import { spdInverse } from '../linalg/dense.ts';

export interface NegbinFit extends GlmFit {
  theta: number;
  thetaSe: number;
  /** inverse of the negative observed Hessian in (β, θ), (p+1)×(p+1) */
  jointObservedInv: Float64Array | null;
  /** true when θ ran to the Poisson boundary */
  boundary: boolean;
}

const THETA_MAX = 1e8;
/** mean(μ)/θ below this = no overdispersion to speak of */
const BOUNDARY_RATIO = 1e-6;

/** Distinct outcome values with their summed prior weights: the special functions of y + θ are evaluated once per value. */
interface Distinct {
  values: Float64Array;
  weights: Float64Array;
  /** Σ pw · lgamma(y + 1) */
  lgammaY1: number;
}

function distinctY(y: Float64Array, w: Float64Array | null): Distinct {
  const acc = new Map<number, number>();
  for (let r = 0; r < y.length; r++) {
    const pw = w ? w[r] : 1;
    if (pw === 0) continue;
    acc.set(y[r], (acc.get(y[r]) ?? 0) + pw);
  }
  const values = Float64Array.from(acc.keys());
  const weights = Float64Array.from(acc.values());
  let lgammaY1 = 0;
  for (let k = 0; k < values.length; k++) lgammaY1 += weights[k] * gammaln(values[k] + 1);
  return { values, weights, lgammaY1 };
}

/** Log-likelihood of NB2 in θ at fixed μ, its score and observed information. */
function thetaPieces(y: Float64Array, mu: Float64Array, w: Float64Array | null, th: number, dy: Distinct) {
  let ll = -dy.lgammaY1;
  let score = 0;
  let info = 0;
  // terms in y + θ, once per distinct y
  const lgth = gammaln(th);
  const dgth = digamma(th);
  const tgth = trigamma(th);
  for (let k = 0; k < dy.values.length; k++) {
    const v = dy.values[k] + th;
    const pw = dy.weights[k];
    ll += pw * (gammaln(v) - lgth + th * Math.log(th));
    score += pw * (digamma(v) - dgth + Math.log(th) + 1);
    info += pw * (-trigamma(v) + tgth - 1 / th);
  }
  // terms in μ, per row
  for (let r = 0; r < y.length; r++) {
    const pw = w ? w[r] : 1;
    if (pw === 0) continue;
    const yr = y[r];
    const m = mu[r];
    const tm = th + m;
    const ratio = (yr + th) / tm;
    ll += pw * ((yr > 0 ? yr * Math.log(m) : 0) - (th + yr) * Math.log(tm));
    score -= pw * (Math.log(tm) + ratio);
    info += pw * (2 / tm - ratio / tm);
  }
  return { ll, score, info };
}

/** θ by Newton's method on log θ with step halving; returns θ and whether it hit the boundary. */
function thetaMl(y: Float64Array, mu: Float64Array, w: Float64Array | null, start?: number, dy: Distinct = distinctY(y, w)): { theta: number; boundary: boolean } {
  let th = start;
  if (!(th && th > 0 && Number.isFinite(th))) {
    // moment start, as MASS
    let sw = 0;
    let s = 0;
    for (let r = 0; r < y.length; r++) {
      const pw = w ? w[r] : 1;
      sw += pw;
      s += pw * (y[r] / mu[r] - 1) ** 2;
    }
    th = s > 0 ? sw / s : 1;
  }
  // θ so large that the extra variance μ²/θ is below a millionth of μ: the Poisson limit
  let meanMu = 0;
  for (let r = 0; r < mu.length; r++) meanMu += mu[r] / mu.length;
  const atBoundary = (x: number) => meanMu / x < BOUNDARY_RATIO;
  let t = Math.log(th);
  let cur = thetaPieces(y, mu, w, th, dy);
  for (let it = 0; it < 200; it++) {
    // derivatives in t = log θ: dl/dt = θ S, d²l/dt² = θ S − θ² I
    const g = th * cur.score;
    const h = th * cur.score - th * th * cur.info;
    let step = h < 0 ? -g / h : Math.sign(g) * 1; // not concave here: move uphill by one unit of log θ
    step = Math.max(-5, Math.min(5, step));
    let tn = t + step;
    let nx = thetaPieces(y, mu, w, Math.exp(tn), dy);
    for (let k = 0; k < 50 && !(nx.ll >= cur.ll - 1e-12 * Math.abs(cur.ll)); k++) {
      step /= 2;
      tn = t + step;
      nx = thetaPieces(y, mu, w, Math.exp(tn), dy);
    }
    t = tn;
    th = Math.exp(t);
    cur = nx;
    if (th > THETA_MAX || atBoundary(th)) return { theta: th, boundary: true };
    if (Math.abs(step) < 1e-13) break;
  }
  return { theta: th, boundary: atBoundary(th) };
}

export function fitNegbin(inp: GlmInput, opts: { maxOuter?: number; start?: Float64Array | null; theta?: number } = {}): NegbinFit {
  const warnings: string[] = [];
  const dy = distinctY(inp.y, inp.weights);
  let fit: GlmFit;
  let theta: number;
  let boundary = false;
  if (opts.start && opts.theta) {
    theta = opts.theta;
    fit = fitGlm(inp, negbin(theta), { start: opts.start });
  } else {
    fit = fitGlm(inp, poisson(), { start: opts.start ?? null });
    const th = thetaMl(inp.y, fit.mu, inp.weights, undefined, dy);
    theta = th.theta;
    boundary = th.boundary;
  }
  let outer = 0;
  const maxOuter = opts.maxOuter ?? 200;
  for (outer = 1; outer <= maxOuter && !boundary; outer++) {
    const prevBeta = fit.beta;
    const prevTheta = theta;
    // inner fits need not be tight while θ still moves; the final fit below is
    fit = fitGlm(inp, negbin(theta), { start: prevBeta, epsilon: 1e-8, stepTol: 1e-7 });
    const th = thetaMl(inp.y, fit.mu, inp.weights, theta, dy);
    theta = th.theta;
    boundary = th.boundary;
    let move = Math.abs(theta - prevTheta) / theta;
    for (let a = 0; a < inp.p; a++) move = Math.max(move, Math.abs(fit.beta[a] - prevBeta[a]) / (Math.abs(fit.beta[a]) + 0.1));
    if (move < 1e-9) break;
  }
  if (outer > maxOuter) warnings.push(`alternating estimation of β and θ did not converge in ${maxOuter} rounds`);
  if (boundary) {
    warnings.push(
      `theta ran to the Poisson boundary (θ = ${theta.toPrecision(3)}, α = 1/θ ≈ 0): the data show no overdispersion; the Poisson model is the better description`,
    );
  }
  // final IRLS at the final θ (β, information and scores belong to it)
  fit = fitGlm(inp, negbin(theta), { start: fit.beta });
  const tp = thetaPieces(inp.y, fit.mu, inp.weights, theta, dy);
  const thetaSe = tp.info > 0 ? 1 / Math.sqrt(tp.info) : NaN;

  // joint observed information of (β, θ)
  const p = inp.p;
  const k = p + 1;
  const J = new Float64Array(k * k);
  for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) J[a * k + b] = fit.observedInfo[a * p + b];
  const { X, y, weights } = inp;
  for (let r = 0; r < inp.n; r++) {
    const pw = weights ? weights[r] : 1;
    if (pw === 0) continue;
    const m = fit.mu[r];
    // −∂²l/∂η∂θ = −(y − μ) μ / (μ + θ)²
    const c = (-pw * (y[r] - m) * m) / ((m + theta) * (m + theta));
    const o = r * p;
    for (let a = 0; a < p; a++) J[a * k + p] += c * X[o + a];
  }
  for (let a = 0; a < p; a++) J[p * k + a] = J[a * k + p];
  J[p * k + p] = tp.info;
  const jointObservedInv = spdInverse(J, k);
  return {
    ...fit,
    warnings: [...fit.warnings, ...warnings],
    theta,
    thetaSe,
    jointObservedInv,
    boundary,
  };
}
