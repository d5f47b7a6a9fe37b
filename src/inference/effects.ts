/**
 * Effects on the scale people read: exponentiated coefficients (incidence-rate ratios
 * for count models, odds ratios for logits) and average marginal effects, each with
 * delta-method standard errors from the fit's own variance (so a robust or dyadic
 * variance carries over).
 */
import { UsageError } from '../util/errors.ts';
import { linearPredictor } from '../linalg/dense.ts';
import { FAMILY_NAMES, family } from '../fit/families.ts';
import type { ModelFit } from '../fit/types.ts';
import { criticalValue, pValue, type CoefRow } from './wald.ts';

export interface EffectRow extends CoefRow {
  /** 'IRR', 'OR' or 'AME' */
  effect: string;
  /** 'count', 'zero' or null */
  part: string | null;
}

/** exp(β) with SE exp(β)·SE(β) and the exponentiated confidence interval; the test of β = 0 is kept. */
export function exponentiate(fit: ModelFit): EffectRow[] {
  const r = fit.result;
  const conv = (rows: CoefRow[], effect: string, part: string | null): EffectRow[] =>
    rows.map((c) => ({
      ...c,
      estimate: c.estimate === null ? null : Math.exp(c.estimate),
      std_error: c.estimate === null || c.std_error === null ? null : Math.exp(c.estimate) * c.std_error,
      conf_low: c.conf_low === null ? null : Math.exp(c.conf_low),
      conf_high: c.conf_high === null ? null : Math.exp(c.conf_high),
      effect,
      part,
    }));
  const fam = family(r.family);
  if (r.parts && fam.partRatios) return [...conv(r.parts.count, fam.partRatios.count, 'count'), ...conv(r.parts.zero, fam.partRatios.zero, 'zero')];
  const effect = fam.ratio;
  if (!effect) throw new UsageError(`exponentiated coefficients have no ratio reading for family ${r.family} (they do for logit models and log-link count models)`);
  return conv(r.coefficients, effect, null);
}

/**
 * Average marginal effects dE[y]/dx_j averaged over the fitted rows (prior weights as
 * weights), for every column but the intercept, with delta-method SEs:
 * AME_j = β_j · mean μ'(η), ∂AME_j/∂β_k = 1{j=k} mean μ'(η) + β_j mean μ''(η) x_k.
 * A factor level or an interaction column is differentiated like any other column.
 */
export function averageMarginalEffects(fit: ModelFit, level = 0.95): EffectRow[] {
  const link = family(fit.result.family).ameLink;
  if (!link) {
    const offered = FAMILY_NAMES.filter((f) => family(f).ameLink).join(', ');
    throw new UsageError(`average marginal effects are available for ${offered}, not ${fit.result.family}`);
  }
  const part = fit.design.parts[0];
  const { X, p, offset } = part;
  const n = fit.design.n;
  const w = fit.design.weights;
  const beta = fit.estimate.blocks[0].params;
  const V = fit.vcov.V;
  let sw = 0;
  let m1 = 0;
  const m2x = new Float64Array(p);
  const eta = linearPredictor(X, n, p, beta, offset);
  for (let r = 0; r < n; r++) {
    const wr = w ? w[r] : 1;
    const e = eta[r];
    sw += wr;
    m1 += wr * link.muEta(e);
    const d2 = wr * link.muEta2(e);
    for (let a = 0; a < p; a++) m2x[a] += d2 * X[r * p + a];
  }
  m1 /= sw;
  for (let a = 0; a < p; a++) m2x[a] /= sw;
  const crit = criticalValue(level, null);
  const rows: EffectRow[] = [];
  let k = 0;
  part.names.forEach((term, c) => {
    if (part.aliased[c]) return;
    const j = k++;
    if (term === '(Intercept)') return;
    const J = new Float64Array(p);
    for (let a = 0; a < p; a++) J[a] = beta[j] * m2x[a] + (a === j ? m1 : 0);
    let v = 0;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) v += J[a] * V[a * p + b] * J[b];
    const est = beta[j] * m1;
    const se = Math.sqrt(v);
    rows.push({
      term,
      estimate: est,
      std_error: se,
      statistic: est / se,
      p_value: pValue(est / se, null),
      conf_low: est - crit * se,
      conf_high: est + crit * se,
      effect: 'AME',
      part: null,
    });
  });
  return rows;
}
