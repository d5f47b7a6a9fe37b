/**
 * Zero-truncated NB2, the hurdle NB (logit zero part + ZTNB count part) and the
 * zero-inflated NB2 (logit inflation), by Newton on analytic derivatives through the
 * row-wise ML engine (mle.ts). Parameters: count β (log link), τ = log θ, zero γ.
 */
import digamma from '@stdlib/math-base-special-digamma';
import trigamma from '@stdlib/math-base-special-trigamma';
import gammaln from '@stdlib/math-base-special-gammaln';
import { fitMle, type Block, type MleFit } from './mle.ts';
import { fitNegbin } from './negbin.ts';
import { fitGlm, type GlmInput } from './glm.ts';
import { binomial, links } from './family.ts';
import { plogis } from '../util/math.ts';
import { rowVector } from '../linalg/parallel.ts';

/** NB2 log density at (y, η = log μ, θ) and its derivatives in η and θ. */
function nb(y: number, eta: number, th: number) {
  const mu = Math.exp(eta);
  const tm = th + mu;
  const l = gammaln(y + th) - gammaln(th) - gammaln(y + 1) + th * Math.log(th) + y * eta - (th + y) * Math.log(tm);
  return {
    mu,
    l,
    e: (th * (y - mu)) / tm,
    ee: (-th * mu * (th + y)) / (tm * tm),
    t: digamma(y + th) - digamma(th) + Math.log(th) + 1 - Math.log(tm) - (th + y) / tm,
    et: ((y - mu) * mu) / (tm * tm),
    tt: trigamma(y + th) - trigamma(th) + 1 / th - 2 / tm + (th + y) / (tm * tm),
  };
}

/** log P(Y = 0) = θ log(θ/(θ+μ)) and its derivatives in η and θ. */
function zeroProb(mu: number, th: number) {
  const tm = th + mu;
  return {
    logP0: th * Math.log(th / tm),
    e: (-th * mu) / tm,
    ee: (-th * th * mu) / (tm * tm),
    t: Math.log(th / tm) + 1 - th / tm,
    et: (-mu * mu) / (tm * tm),
    tt: 1 / th - 1 / tm - mu / (tm * tm),
  };
}

/**
 * Row log-likelihood of the zero-truncated NB2 for y ≥ 1 in (η, τ = log θ):
 * ℓ = ℓ_NB − log(1 − P0).
 */
function ztnbRow(y: number, eta: number, tau: number, g: Float64Array, h: Float64Array, gi = 0, ti = 1, m = 2): number {
  const th = Math.exp(tau);
  const d = nb(y, eta, th);
  const z = zeroProb(d.mu, th);
  const p0 = Math.exp(z.logP0);
  const one = -Math.expm1(z.logP0); // 1 − P0
  const q = p0 / one;
  // g = −log(1 − P0): first and second derivatives
  const ge = q * z.e;
  const gt = q * z.t;
  const gee = (q * z.e * z.e) / one + q * z.ee;
  const get = (q * z.e * z.t) / one + q * z.et;
  const gtt = (q * z.t * z.t) / one + q * z.tt;
  const le = d.e + ge;
  const lt = d.t + gt;
  g[gi] = le;
  g[ti] = th * lt;
  h[gi * m + gi] = d.ee + gee;
  h[gi * m + ti] = h[ti * m + gi] = th * (d.et + get);
  h[ti * m + ti] = th * lt + th * th * (d.tt + gtt);
  return d.l - Math.log(one);
}

export interface CountPartFit {
  beta: Float64Array;
  theta: number;
  fit: MleFit;
}

const ones = (n: number) => new Float64Array(n).fill(1);

/** ZTNB on rows with y ≥ 1; start from NB2 on the same rows. */
export function fitZtnb(inp: GlmInput): CountPartFit {
  const { X, n, p, y } = inp;
  if (inp.offset || inp.weights) throw new Error('ztnb: offsets and weights are not supported');
  const nbFit = fitNegbin(inp);
  const start = new Float64Array(p + 1);
  start.set(nbFit.beta);
  start[p] = Math.log(Math.min(nbFit.theta, 1e6));
  const blocks: Block[] = [{ X, p }, { X: ones(n), p: 1 }];
  const fit = fitMle(n, blocks, (r, t, g, h) => ztnbRow(y[r], t[0], t[1], g, h), start);
  return { beta: fit.beta.slice(0, p), theta: Math.exp(fit.beta[p]), fit };
}

/** Zero-inflated NB2: y = 0 with probability π + (1 − π) P0, π = plogis(zγ). Parameters (β, τ, γ). */
function zinbRow(y: number, eta: number, tau: number, zeta: number, g: Float64Array, h: Float64Array): number {
  const m = 3;
  const th = Math.exp(tau);
  // π and its derivatives in ζ
  const pi = plogis(zeta);
  const dpi = pi * (1 - pi);
  if (y > 0) {
    const d = nb(y, eta, th);
    g[0] = d.e;
    g[1] = th * d.t;
    g[2] = -pi;
    h.fill(0);
    h[0] = d.ee;
    h[1] = h[3] = th * d.et;
    h[4] = th * d.t + th * th * d.tt;
    h[8] = -dpi;
    return Math.log1p(-pi) + d.l;
  }
  const mu = Math.exp(eta);
  const z = zeroProb(mu, th);
  const p0 = Math.exp(z.logP0);
  const L = pi + (1 - pi) * p0;
  // derivatives of L in (η, θ, ζ)
  const Le = (1 - pi) * p0 * z.e;
  const Lt = (1 - pi) * p0 * z.t;
  const Lz = dpi * (1 - p0);
  const Lee = (1 - pi) * p0 * (z.e * z.e + z.ee);
  const Let = (1 - pi) * p0 * (z.e * z.t + z.et);
  const Ltt = (1 - pi) * p0 * (z.t * z.t + z.tt);
  const Lzz = dpi * (1 - 2 * pi) * (1 - p0);
  const Lze = -dpi * p0 * z.e;
  const Lzt = -dpi * p0 * z.t;
  // ℓ = log L; in (η, θ, ζ) first, then θ → τ
  const ge = Le / L;
  const gt = Lt / L;
  const gz = Lz / L;
  g[0] = ge;
  g[1] = th * gt;
  g[2] = gz;
  const hee = Lee / L - ge * ge;
  const het = Let / L - ge * gt;
  const htt = Ltt / L - gt * gt;
  const hzz = Lzz / L - gz * gz;
  const hze = Lze / L - gz * ge;
  const hzt = Lzt / L - gz * gt;
  h[0 * m + 0] = hee;
  h[0 * m + 1] = h[1 * m + 0] = th * het;
  h[1 * m + 1] = th * gt + th * th * htt;
  h[0 * m + 2] = h[2 * m + 0] = hze;
  h[1 * m + 2] = h[2 * m + 1] = th * hzt;
  h[2 * m + 2] = hzz;
  return Math.log(L);
}

export interface ZinbFit {
  theta: number;
  /** observed-information variance over (count β, log θ, zero γ) */
  vcov: Float64Array | null;
  loglik: number;
  rowLoglik: Float64Array;
  converged: boolean;
  iterations: number;
  warnings: string[];
  /** the ML fit over (count β, log θ, zero γ): estimates and score rows */
  fit: MleFit;
}

export function fitZinb(count: GlmInput, Z: Float64Array, q: number): ZinbFit {
  const { X, n, p, y } = count;
  // starts: NB2 on all rows for the count part, logit of (y == 0) for the inflation part
  const nbFit = fitNegbin(count);
  const isZero = rowVector(n);
  for (let r = 0; r < n; r++) isZero[r] = +(y[r] === 0);
  const zl = fitGlm({ X: Z, n, p: q, y: isZero, offset: null, weights: null }, binomial(links.logit));
  const start = new Float64Array(p + 1 + q);
  start.set(nbFit.beta);
  start[p] = Math.log(Math.min(nbFit.theta, 1e6));
  // a modest inflation start: the logit of zeros shifted down (most zeros are NB zeros)
  start.set(zl.beta.map((b, k) => (k === 0 ? b - 2 : b)), p + 1);
  const blocks: Block[] = [{ X, p }, { X: ones(n), p: 1 }, { X: Z, p: q }];
  const fit = fitMle(n, blocks, (r, t, g, h) => zinbRow(y[r], t[0], t[1], t[2], g, h), start);
  return {
    theta: Math.exp(fit.beta[p]),
    vcov: fit.vcov,
    loglik: fit.loglik,
    rowLoglik: fit.rowLoglik,
    converged: fit.converged,
    iterations: fit.iterations,
    warnings: fit.warnings,
    fit,
  };
}
