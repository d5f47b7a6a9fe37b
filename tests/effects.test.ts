/**
 * Effects and model comparison against values computed independently in R
 * (tests/fixtures/reference-extra: numDeriv Jacobians for the AME SEs, pscl::vuong,
 * the boundary LR test computed from logLik()).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { averageMarginalEffects, exponentiate } from '../src/inference/effects.ts';
import { alphaTest, criteria, lrTest, vuong } from '../src/inference/model-tests.ts';
import { filterRows, getNum } from '../src/data/table.ts';
import { expectClose, runCli } from './helpers.ts';

const F = join(import.meta.dirname, 'fixtures');
const eff = JSON.parse(readFileSync(join(F, 'reference-extra', 'effects.json'), 'utf8'));
const vu = JSON.parse(readFileSync(join(F, 'reference-extra', 'vuong.json'), 'utf8'));
const dy = readCsvTable(join(F, 'reference', 'sim_dyads_60.csv'));
const ct = readCsvTable(join(F, 'reference', 'sim_cities_60.csv'));
const X = 'log_flow + same_province + log_dist + strategy + gdp_absdiff + fiscal_min + gov_sum';
const DEG = 'degree ~ log_outflow + fiscal_ratio + log_gdp + gov_index';

describe('average marginal effects', () => {
  it.each([
    ['logit', eff.ame_logit],
    ['probit', eff.ame_probit],
  ] as const)('%s: AMEs and delta-method SEs match R with numDeriv Jacobians', (family, ref) => {
    const rows = averageMarginalEffects(fitModel(dy, { formula: `coop ~ ${X}`, family }));
    expect(rows.map((r) => r.term)).toEqual(ref.terms);
    rows.forEach((r, k) => {
      expectClose(r.estimate, ref.ame[k], 1e-7, 1e-10, `AME ${r.term}`);
      expectClose(r.std_error, ref.se[k], 1e-6, 0, `SE ${r.term}`);
    });
  });
  it('negbin (breadth): AMEs and SEs match R', () => {
    const rows = averageMarginalEffects(fitModel(ct, { formula: DEG, family: 'negbin' }));
    rows.forEach((r, k) => {
      expectClose(r.estimate, eff.ame_negbin_breadth.ame[k], 1e-7, 0, `AME ${r.term}`);
      expectClose(r.std_error, eff.ame_negbin_breadth.se[k], 1e-6, 0, `SE ${r.term}`);
    });
  });
  it('equal a numerical derivative of the mean prediction', () => {
    const fit = fitModel(dy, { formula: `coop ~ ${X}`, family: 'logit' });
    const ame = averageMarginalEffects(fit);
    const { X: M, p } = fit.design.parts[0];
    const b = fit.estimate.blocks[0].params;
    const meanP = (col: number, h: number) => {
      let s = 0;
      for (let r = 0; r < fit.design.n; r++) {
        let e = 0;
        for (let a = 0; a < p; a++) e += (M[r * p + a] + (a === col ? h : 0)) * b[a];
        s += 1 / (1 + Math.exp(-e));
      }
      return s / fit.design.n;
    };
    const h = 1e-5;
    ame.forEach((r, k) => expectClose(r.estimate, (meanP(k + 1, h) - meanP(k + 1, -h)) / (2 * h), 1e-7, 0, r.term));
  });
  it('a hurdle model has effects on E[y], P(y > 0) and E[y | y > 0] (values: ame-multipart.test.ts)', () => {
    const rows = averageMarginalEffects(fitModel(dy, { formula: `items ~ ${X}`, family: 'hurdle-negbin' }));
    expect([...new Set(rows.map((r) => r.part))]).toEqual([null, 'zero', 'positive']);
  });
});

describe('exponentiated coefficients', () => {
  it('odds ratios with delta-method SEs and exponentiated intervals', () => {
    const fit = fitModel(dy, { formula: `coop ~ ${X}`, family: 'logit' });
    const rows = exponentiate(fit);
    rows.forEach((r, k) => {
      const c = fit.result.coefficients[k];
      expect(r.effect).toBe('OR');
      expectClose(r.estimate, Math.exp(c.estimate!), 1e-15);
      // delta method: d exp(b)/db = exp(b); checked against a numerical derivative
      const h = 1e-6;
      const deriv = (Math.exp(c.estimate! + h) - Math.exp(c.estimate! - h)) / (2 * h);
      expectClose(r.std_error, deriv * c.std_error!, 1e-8);
      expectClose(r.conf_low, Math.exp(c.conf_low!), 1e-15);
      expect(r.p_value).toBe(c.p_value);
    });
  });
  it('incidence-rate ratios for count models, both parts of a hurdle', () => {
    expect(exponentiate(fitModel(ct, { formula: DEG, family: 'poisson' }))[0].effect).toBe('IRR');
    const h = exponentiate(fitModel(dy, { formula: `items ~ ${X}`, family: 'hurdle-negbin' }));
    expect(h.filter((r) => r.part === 'count').every((r) => r.effect === 'IRR')).toBe(true);
    expect(h.filter((r) => r.part === 'zero').every((r) => r.effect === 'OR')).toBe(true);
  });
  it('refuses a link without a ratio reading', () => {
    expect(() => exponentiate(fitModel(dy, { formula: `coop ~ ${X}`, family: 'probit' }))).toThrow(/no ratio reading for family probit/);
  });
});

describe('model comparison', () => {
  it('Vuong test of ZINB against NB as pscl::vuong, with AIC and BIC corrections', () => {
    const zinb = { name: 'ZINB', fit: fitModel(dy, { formula: `items ~ ${X} | ${X}`, family: 'zinb' }) };
    const nb = { name: 'NB', fit: fitModel(dy, { formula: `items ~ ${X}`, family: 'negbin' }) };
    expectClose(nb.fit.result.loglik, vu.loglik_nb, 0, 1e-7, 'NB loglik');
    const v = vuong(zinb, nb);
    expect([v.k1, v.k2, v.n]).toEqual([vu.k1, vu.k2, vu.n]);
    // pscl's ZINB optimum differs from ours by ~1e-8 (its optim stops earlier): 1e-5 here
    v.statistic.forEach((s, k) => expectClose(s, vu.vuong_stat[k], 1e-5, 0, `Vuong ${k}`));
    v.p_value.forEach((p, k) => expectClose(p, vu.vuong_p[k], 1e-3, 0, `p ${k}`));
    expect(v.favours).toEqual(['ZINB', 'ZINB', 'ZINB']);
  });
  it('boundary-corrected LR test of alpha = 0 (NB against Poisson)', () => {
    const t = alphaTest(
      { name: 'Poisson', fit: fitModel(ct, { formula: DEG, family: 'poisson' }) },
      { name: 'NB', fit: fitModel(ct, { formula: DEG, family: 'negbin' }) },
    );
    expectClose(t.statistic, eff.breadth_lr_alpha, 1e-8);
    expectClose(t.p_value, eff.breadth_lr_alpha_p, 1e-7);
    // only for the same terms
    expect(() =>
      alphaTest(
        { name: 'P', fit: fitModel(ct, { formula: 'degree ~ log_gdp', family: 'poisson' }) },
        { name: 'NB', fit: fitModel(ct, { formula: DEG, family: 'negbin' }) },
      ),
    ).toThrow(/needs the same terms in 'P' and 'NB'/);
  });
  it('LR test of nested models on the same rows', () => {
    const small = { name: 'demand', fit: fitModel(dy, { formula: 'coop ~ log_flow + same_province + log_dist + strategy', family: 'logit' }) };
    const big = { name: 'full', fit: fitModel(dy, { formula: `coop ~ ${X}`, family: 'logit' }) };
    const t = lrTest(small, big);
    expect(t.df).toBe(3);
    expectClose(t.statistic, eff.nested_lr, 1e-8);
    expectClose(t.p_value, eff.nested_p, 1e-7);
    const c = criteria([small, big]);
    expect(c.map((r) => r.df)).toEqual([5, 8]);
  });
  it('refuses models fitted on different rows, and non-nested ones, with the reason', () => {
    const sub = filterRows(dy, Uint8Array.from(getNum(dy, 'log_flow'), (x, r) => +(r !== 5 || x > 1e9)));
    const a = { name: 'a', fit: fitModel(sub, { formula: 'coop ~ log_flow', family: 'logit' }) };
    const b = { name: 'b', fit: fitModel(dy, { formula: 'coop ~ log_flow + strategy', family: 'logit' }) };
    expect(() => lrTest(a, b)).toThrow(/different rows \(n = 1769 and 1770/);
    const c = { name: 'c', fit: fitModel(dy, { formula: 'coop ~ gov_sum', family: 'logit' }) };
    expect(() => lrTest(c, b)).toThrow(/'c' is not nested in 'b' \(it has gov_sum\)/);
  });
});

describe('the CLI exposes effects and comparisons', () => {
  it('tongban fit --effects ame prints the AME table', () => {
    const r = runCli(['fit', '--data', join(F, 'reference', 'sim_dyads_60.csv'), '--formula', `coop ~ ${X}`, '--family', 'logit', '--effects', 'ame']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Average marginal effects/);
    expect(r.stdout).toMatch(/log_flow\s+0\.0311/);
  });
  it('tongban compare reports criteria and the tests that apply', () => {
    const r = runCli([
      'compare', '--data', join(F, 'reference', 'sim_cities_60.csv'),
      '--model', `poisson: ${DEG}`, '--model', `negbin: ${DEG}`, '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.criteria.map((c: { model: string }) => c.model)).toEqual(['m1', 'm2']);
    const t = out.tests.find((x: { test: string }) => x.test === 'LR alpha = 0');
    expectClose(t.statistic, eff.breadth_lr_alpha, 1e-8);
  });
});
