/**
 * Average marginal effects per variable against R (tests/fixtures/reference-extra/ame_variables.json:
 * the analytic chain rule, checked there against numDeriv with Richardson extrapolation to ~1e-9).
 * Estimates 1e-6 relative, delta-method SEs 1e-5 relative, for classical, HC1, cluster and dyadic
 * variances: a logit with an interaction, a squared term and a factor; a probit; a Poisson with an
 * interaction; an NB2.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { filterRows, getNum } from '../src/data/table.ts';
import { fitModel, type FitOptions } from '../src/fit/fit-model.ts';
import { averageMarginalEffects, predictionsAt } from '../src/inference/effects.ts';
import { expectClose } from './helpers.ts';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'reference-extra', 'ame_variables.json'), 'utf8'));
const dy = readCsvTable(join(import.meta.dirname, 'fixtures', 'reference', 'sim_dyads_60.csv'), new Set(['i', 'j']));
const pos = filterRows(dy, Uint8Array.from(getNum(dy, 'items'), (x) => +(x >= 1)));
const VARIANCES: [string, Partial<FitOptions>][] = [
  ['classical', {}],
  ['HC1', { vcov: 'HC1' }],
  ['cluster_i', { vcov: 'cluster', cluster: ['i'] }],
  ['dyadic', { vcov: 'dyadic', dyad: ['i', 'j'] }],
];
const MODELS: { key: string; formula: string; family: FitOptions['family']; data: typeof dy }[] = [
  { key: 'logit_interact', formula: 'coop ~ log_flow * same_province + log_dist + I(log_dist^2) + factor(strategy)', family: 'logit', data: dy },
  { key: 'probit', formula: 'coop ~ log_flow + same_province + log_dist + I(log_dist^2)', family: 'probit', data: dy },
  { key: 'poisson_interact', formula: 'items ~ log_flow * same_province + log_dist', family: 'poisson', data: dy },
  { key: 'negbin', formula: 'items ~ log_flow + log_dist + fiscal_min + I(fiscal_min^2)', family: 'negbin', data: pos },
];

for (const m of MODELS) {
  describe(`AMEs per variable: ${m.key}`, () => {
    const r = ref[m.key];
    for (const [vname, opts] of VARIANCES) {
      it(`${vname} variance`, () => {
        const fit = fitModel(m.data, { formula: m.formula, family: m.family, ...opts } as FitOptions);
        expect(fit.result.coefficients.map((c) => c.term)).toEqual(r.coef_names);
        const rows = new Map(averageMarginalEffects(fit).map((e) => [e.term, e]));
        for (const [label, a] of Object.entries(r.ame) as [string, { kind: string; estimate: number; se: Record<string, number> }][]) {
          if (label === 'same_province_binary') continue;
          const got = rows.get(label);
          expect(got, label).toBeDefined();
          expectClose(got!.estimate, a.estimate, 1e-6, 0, `${label} AME`);
          expectClose(got!.std_error, a.se[vname], 1e-5, 0, `${label} SE`);
        }
        if (r.ame.same_province_binary) {
          const b = averageMarginalEffects(fit, { binary: ['same_province'] }).find((e) => e.term === 'same_province')!;
          expect(b.effect).toMatch(/discrete change/);
          expectClose(b.estimate, r.ame.same_province_binary.estimate, 1e-6, 0, 'same_province discrete change');
          expectClose(b.std_error, r.ame.same_province_binary.se[vname], 1e-5, 0, 'same_province discrete change SE');
        }
      });
    }
  });
}

describe('AMEs are per variable, not per design column', () => {
  it('log_dist gets the total derivative through I(log_dist^2), far from the per-column number; no row for I() or the interaction', () => {
    const fit = fitModel(dy, { formula: MODELS[0].formula, family: 'logit' });
    const ames = averageMarginalEffects(fit);
    expect(ames.map((a) => a.term)).toEqual(['log_flow', 'same_province', 'log_dist', 'factor(strategy)1']);
    const logDist = ames.find((a) => a.term === 'log_dist')!.estimate!;
    expectClose(logDist, ref.logit_interact.ame.log_dist.estimate, 1e-6, 0, 'total derivative');
    expect(Math.abs(logDist - ref.logit_interact.naive_per_column.log_dist.estimate)).toBeGreaterThan(0.1);
  });
  it('refuses a --binary variable that is not in the formula', () => {
    const fit = fitModel(dy, { formula: 'coop ~ log_flow', family: 'logit' });
    expect(() => averageMarginalEffects(fit, { binary: ['same_region'] })).toThrow(/--binary same_region: 'same_region' is not a numeric variable of the formula/);
  });
});

describe('predicted outcomes at representative values (margins, at()), as R', () => {
  const pr = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'reference-extra', 'predict_at.json'), 'utf8'));
  const cases: [string, string, FitOptions['family']][] = [
    ['logit_interact', MODELS[0].formula, 'logit'],
    ['poisson_interact', MODELS[2].formula, 'poisson'],
  ];
  for (const [key, formula, family] of cases) {
    for (const [vname, opts] of VARIANCES) {
      it(`${key}, ${vname}`, () => {
        const r = pr[key];
        const fit = fitModel(dy, { formula, family, ...opts } as FitOptions);
        const got = predictionsAt(fit, r.variable, r.at);
        got.forEach((g, k) => {
          expect(g.at).toBe(r.at[k]);
          expectClose(g.estimate, r.predictions[k].estimate, 1e-6, 0, `${key} at ${g.at}`);
          expectClose(g.std_error, r.predictions[k].se[vname], 1e-5, 0, `${key} SE at ${g.at}`);
        });
      });
    }
  }
  it('refuses a variable the formula does not use', () => {
    const fit = fitModel(dy, { formula: 'coop ~ log_flow', family: 'logit' });
    expect(() => predictionsAt(fit, 'gov_sum', [0, 1])).toThrow(/--predict gov_sum: 'gov_sum' is not a numeric variable of the formula/);
  });
});
