/**
 * Fitting a list of multiverse specifications (stages/multiverse.ts plans them): each one's
 * model, its skip reason or the AME of a one-SD change of its variable of interest. Used on the
 * main thread and in multiverse-worker.ts; a specification's numbers do not depend on where it
 * runs (the cache only lets specifications that share a design reuse it).
 */
import type { Table } from '../data/table.ts';
import { FitCache, fitModel } from '../fit/fit-model.ts';
import type { FamilyName } from '../fit/families.ts';
import { averageMarginalEffects } from '../inference/effects.ts';
import { UsageError } from '../util/errors.ts';
import { dyadTableDefaults, type VcovType } from '../vcov/registry.ts';
import type { MultiverseRow } from '../report/run-record.ts';

export interface PlanItem {
  index: number;
  sample: string;
  family: FamilyName;
  vcov: VcovType;
  interest: string;
  formula: string;
}

/** A specification's numbers (or its skip reason), by its index in the plan. */
export type Outcome = { index: number } & Pick<MultiverseRow, 'estimate' | 'std_error' | 'conf_low' | 'conf_high' | 'p_value' | 'sd' | 'n' | 'aic' | 'converged' | 'skipped'>;

const ids = (vcov: VcovType) => Object.values(dyadTableDefaults(vcov)).flat() as string[];

/** The specifications' outcomes, in the order given; `tick` after each. */
export function evaluateSpecs(samples: Map<string, Table>, items: PlanItem[], tick: () => void = () => {}): Outcome[] {
  const cache = new FitCache();
  for (const p of items) cache.expect(samples.get(p.sample)!, p.formula, undefined, ids(p.vcov), p.family);
  return items.map((p) => {
    const empty = { index: p.index, estimate: null, std_error: null, conf_low: null, conf_high: null, p_value: null, sd: null, n: null, aic: null, converged: null };
    try {
      const fit = fitModel(samples.get(p.sample)!, { formula: p.formula, family: p.family, vcov: p.vcov, ...dyadTableDefaults(p.vcov), fitStats: false }, cache);
      // a term made constant or collinear by the sample (same_province among cross-province pairs): skipped, with the reason
      const part = fit.design.parts[0];
      const dropped = part.names.filter((_, k) => part.aliased[k]);
      if (dropped.length) return { ...empty, skipped: `${dropped.map((t) => `'${t}'`).join(', ')} constant or collinear with the other terms in sample ${p.sample}` };
      const sd = sdOf(fit.design.vars, fit.design.formula.variables.findIndex((v) => v.type === 'var' && v.name === p.interest));
      if (!(sd > 0)) return { ...empty, skipped: `'${p.interest}' is constant in sample ${p.sample}` };
      const ame = averageMarginalEffects(fit, { only: [p.interest] }).find((e) => e.term === p.interest && e.part === null);
      if (!ame) throw new UsageError(`no marginal effect of '${p.interest}' in this model`);
      return {
        index: p.index,
        estimate: ame.estimate! * sd,
        std_error: ame.std_error! * sd,
        conf_low: ame.conf_low! * sd,
        conf_high: ame.conf_high! * sd,
        p_value: ame.p_value,
        sd,
        n: fit.result.n,
        aic: fit.result.aic,
        converged: fit.result.converged,
        skipped: null,
      };
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      return { ...empty, skipped: e.message };
    } finally {
      tick();
    }
  });
}

/** Sample SD (n − 1) of a formula variable on the fitted rows; NaN when it is not numeric. */
function sdOf(vars: { kind: string; v?: Float64Array }[], k: number): number {
  const v = k >= 0 ? vars[k] : undefined;
  if (!v || v.kind !== 'num' || !v.v) return NaN;
  const x = v.v;
  let m = 0;
  for (let r = 0; r < x.length; r++) m += x[r];
  m /= x.length;
  let s = 0;
  for (let r = 0; r < x.length; r++) s += (x[r] - m) ** 2;
  return Math.sqrt(s / (x.length - 1));
}
