/**
 * The expected outcome of each model as a function of its linear predictors — what
 * average marginal effects and predictions differentiate. A kernel maps one row's
 * (η, or η_count and η_zero, and log θ where the quantity depends on θ) to E and gives its
 * gradient and Hessian over those inputs; the effects layer chains them with the design.
 *
 * GLMs: E[y] = linkinv(η), analytic derivatives. Count models with a truncated or inflated
 * zero (μ = exp(η_count), θ the NB size, p0 = (θ/(θ+μ))^θ the NB probability of a zero):
 *   positive  E[y | y > 0] = μ / (1 − p0)                  (ZTNB; a hurdle's count part)
 *   zero      P(y > 0) = plogis(η_zero)                    (a hurdle's zero part)
 *   hurdle    E[y] = plogis(η_zero) · μ / (1 − p0)
 *   zinb      E[y] = (1 − plogis(η_zero)) · μ              (η_zero: log-odds of a structural zero)
 * Their gradients are analytic; their Hessians are central differences of the analytic
 * gradient with one Richardson step (error ~1e-12 relative, far below what SEs need).
 */
import { plogis } from '../util/math.ts';
import type { Link } from './family.ts';

export interface MeanKernel {
  /** linear predictors read: 1 (η) or 2 (η_count, η_zero) */
  etas: 1 | 2;
  /** whether E depends on θ (the input after the η's is log θ) */
  theta: boolean;
  /** E at x = (η…, log θ); g, when given, receives dE/dx */
  value(x: Float64Array, g: Float64Array | null): number;
  /** d²E/dx dx' (row-major, inputs² entries) */
  hessian(x: Float64Array, H: Float64Array): void;
}

/** Which expected outcome: E[y] ('mean'), P(y > 0), or E[y | y > 0] (a ZTNB's own mean). */
export type OutcomeId = 'mean' | 'zero' | 'positive';

export interface MeanOutcome {
  id: OutcomeId;
  label: { zh: string; en: string };
  kernel: MeanKernel;
}

/** E[y] = linkinv(η) of a single-part model. */
export function linkMean(link: Link): MeanOutcome[] {
  return [
    {
      id: 'mean',
      label: { zh: 'E[y]', en: 'E[y]' },
      kernel: {
        etas: 1,
        theta: false,
        value: (x, g) => {
          if (g) g[0] = link.muEta(x[0]);
          return link.inv(x[0]);
        },
        hessian: (x, H) => {
          H[0] = link.muEta2(x[0]);
        },
      },
    },
  ];
}

/** Hessian of a kernel from its analytic gradient: central differences, one Richardson step. */
function hessianFromGradient(value: MeanKernel['value'], q: number) {
  const xp = new Float64Array(q);
  const gp = new Float64Array(q);
  const gm = new Float64Array(q);
  const d1 = new Float64Array(q);
  return (x: Float64Array, H: Float64Array) => {
    for (let a = 0; a < q; a++) {
      const h = 1e-3 * Math.max(1, Math.abs(x[a]));
      const diff = (step: number, out: Float64Array) => {
        xp.set(x);
        xp[a] = x[a] + step;
        value(xp, gp);
        xp[a] = x[a] - step;
        value(xp, gm);
        for (let b = 0; b < q; b++) out[b] = (gp[b] - gm[b]) / (2 * step);
      };
      diff(h, d1);
      const d2 = new Float64Array(q);
      diff(h / 2, d2);
      for (let b = 0; b < q; b++) H[a * q + b] = (4 * d2[b] - d1[b]) / 3;
    }
    for (let a = 0; a < q; a++) {
      for (let b = 0; b < a; b++) {
        const s = (H[a * q + b] + H[b * q + a]) / 2;
        H[a * q + b] = s;
        H[b * q + a] = s;
      }
    }
  };
}

/** A kernel whose Hessian comes from its gradient. */
function kernel(etas: 1 | 2, theta: boolean, value: MeanKernel['value']): MeanKernel {
  return { etas, theta, value, hessian: hessianFromGradient(value, etas + (theta ? 1 : 0)) };
}

/**
 * μ/(1 − p0) and its derivatives in η_count and log θ: with a = θ/(θ+μ) and P = 1 − p0,
 * d/dη = c·(1 − p0·a·μ/P), d/dlog θ = c·p0·θ·(log a + 1 − a)/P.
 */
function truncatedMean(eta: number, lt: number): { c: number; dEta: number; dLt: number } {
  const mu = Math.exp(eta);
  const th = Math.exp(lt);
  const logA = -Math.log1p(mu / th);
  const a = th / (th + mu);
  const P = -Math.expm1(th * logA);
  const p0 = 1 - P;
  const c = mu / P;
  return { c, dEta: c * (1 - (p0 * a * mu) / P), dLt: (c * p0 * th * (logA + 1 - a)) / P };
}

const positiveLabel = { zh: 'E[y | y > 0]', en: 'E[y | y > 0]' };

/** ZTNB: E[y | y > 0] from (η, log θ). */
export const ZTNB_MEANS: MeanOutcome[] = [
  {
    id: 'positive',
    label: positiveLabel,
    kernel: kernel(1, true, (x, g) => {
      const t = truncatedMean(x[0], x[1]);
      if (g) {
        g[0] = t.dEta;
        g[1] = t.dLt;
      }
      return t.c;
    }),
  },
];

/** Hurdle NB: E[y], P(y > 0) and E[y | y > 0], each from (η_count, η_zero, log θ). */
export const HURDLE_MEANS: MeanOutcome[] = [
  {
    id: 'mean',
    label: { zh: 'E[y]', en: 'E[y]' },
    kernel: kernel(2, true, (x, g) => {
      const t = truncatedMean(x[0], x[2]);
      const pi = plogis(x[1]);
      if (g) {
        g[0] = pi * t.dEta;
        g[1] = pi * (1 - pi) * t.c;
        g[2] = pi * t.dLt;
      }
      return pi * t.c;
    }),
  },
  {
    id: 'zero',
    label: { zh: 'P(y > 0)', en: 'P(y > 0)' },
    kernel: kernel(2, true, (x, g) => {
      const pi = plogis(x[1]);
      if (g) {
        g[0] = 0;
        g[1] = pi * (1 - pi);
        g[2] = 0;
      }
      return pi;
    }),
  },
  {
    id: 'positive',
    label: positiveLabel,
    kernel: kernel(2, true, (x, g) => {
      const t = truncatedMean(x[0], x[2]);
      if (g) {
        g[0] = t.dEta;
        g[1] = 0;
        g[2] = t.dLt;
      }
      return t.c;
    }),
  },
];

/** ZINB: E[y] = (1 − ψ)·μ from (η_count, η_zero); θ does not enter. */
export const ZINB_MEANS: MeanOutcome[] = [
  {
    id: 'mean',
    label: { zh: 'E[y]', en: 'E[y]' },
    kernel: kernel(2, false, (x, g) => {
      const mu = Math.exp(x[0]);
      const psi = plogis(x[1]);
      if (g) {
        g[0] = (1 - psi) * mu;
        g[1] = -psi * (1 - psi) * mu;
      }
      return (1 - psi) * mu;
    }),
  },
];
