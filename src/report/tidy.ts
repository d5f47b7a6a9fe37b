/**
 * broom's contract: every fit becomes tidy rows (one per coefficient) and one glance
 * row; every table and plot is built from these two shapes only.
 */
import { family } from '../fit/families.ts';
import type { FitResult } from '../fit/types.ts';
import type { CoefRow } from '../inference/wald.ts';

export interface TidyRow extends CoefRow {
  model: string;
  part: 'count' | 'zero' | null;
  vcov_type: string;
}

export interface GlanceRow {
  model: string;
  family: string;
  n: number;
  n_dropped: number;
  loglik: number;
  aic: number;
  bic: number;
  deviance: number | null;
  null_deviance: number | null;
  pseudo_r2: number | null;
  theta: number | null;
  alpha: number | null;
  vcov_type: string;
  ssc: string | null;
  ssc_factor: number | null;
  clusters: string | null;
  converged: boolean;
  auc: number | null;
  pr_auc: number | null;
}

export function tidy(model: string, f: FitResult): TidyRow[] {
  const rows = (part: TidyRow['part'], cs: FitResult['coefficients']) =>
    cs.map((c) => ({ model, part, ...c, vcov_type: f.vcov_type }));
  if (f.parts) return [...rows('count', f.parts.count), ...rows('zero', f.parts.zero)];
  return rows(null, f.coefficients);
}

/**
 * How the null model of an NB's McFadden R² is fitted: at the model's θ (glm.nb's null deviance;
 * the default) or constant-only with its own θ (Stata's nbreg).
 */
export type PseudoR2Convention = 'same_theta' | 'constant_only';

/**
 * McFadden's pseudo-R² = 1 − ℓ/ℓ0 for GLMs, with the null log-likelihood recovered from
 * the deviances: ℓ0 = ℓ + (D − D0)/2 (the null model at the same dispersion; for NB at
 * the same θ, as glm.nb's null deviance). Null for models without a null deviance and
 * for families the registry marks as having none (OLS).
 */
export function pseudoR2(f: FitResult, convention: PseudoR2Convention = 'same_theta'): number | null {
  if (convention === 'constant_only' && f.loglik_null_constant != null) return 1 - f.loglik / f.loglik_null_constant;
  if (f.deviance === null || f.null_deviance === null || !family(f.family).pseudoR2) return null;
  const ll0 = f.loglik + (f.deviance - f.null_deviance) / 2;
  return 1 - f.loglik / ll0;
}

export function glance(model: string, f: FitResult): GlanceRow {
  return {
    model,
    family: f.family,
    n: f.n,
    n_dropped: f.n_dropped,
    loglik: f.loglik,
    aic: f.aic,
    bic: f.bic,
    deviance: f.deviance,
    null_deviance: f.null_deviance,
    pseudo_r2: pseudoR2(f),
    theta: f.theta,
    alpha: f.alpha,
    vcov_type: f.vcov_type,
    ssc: f.ssc,
    ssc_factor: f.ssc_factor,
    clusters: f.clusters ? Object.entries(f.clusters).map(([k, v]) => `${k}=${v}`).join(';') : null,
    converged: f.converged,
    auc: f.auc ?? null,
    pr_auc: f.pr_auc ?? null,
  };
}
