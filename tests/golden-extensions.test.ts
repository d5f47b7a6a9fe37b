/**
 * Golden tests for the extensions (issue: count and rare-event models) against
 * tests/fixtures/reference/sim_60.json. For ZTNB, hurdle and ZINB the reference is the
 * `extras.polished` optimum (Newton with Richardson derivatives from R's estimate);
 * pscl's and VGAM's own numbers stop earlier (VGAM's SEs also use a simulated expected
 * information), see tests/fixtures/reference/README.md.
 * Tolerances: coefficients 1e-6 relative, SEs 1e-5 relative, log-likelihood 1e-8.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { filterRows, getNum, makeTable, numColumn } from '../src/data/table.ts';
import { fitModel, type FitOptions } from '../src/fit/fit-model.ts';
import { expectClose } from './helpers.ts';


const F = join(import.meta.dirname, 'fixtures', 'reference');
const sim = JSON.parse(readFileSync(join(F, 'sim_60.json'), 'utf8'));
const dy = readCsvTable(join(F, 'sim_dyads_60.csv'));
const pos = filterRows(dy, Uint8Array.from(getNum(dy, 'items'), (x) => +(x >= 1)));
const X = 'log_flow + same_province + log_dist + strategy + gdp_absdiff + fiscal_min + gov_sum';

describe('firth-logit (brglm2 AS_mean)', () => {
  const ref = sim.firth_logit;
  const r = fitModel(dy, { formula: `coop ~ ${X}`, family: 'firth-logit' }).result;
  it('matches coefficients, SEs, log-likelihood and deviances', () => {
    expect(r.coefficients.map((c) => c.term)).toEqual(ref.coef_names);
    r.coefficients.forEach((c, k) => {
      expectClose(c.estimate, ref.coefficients[k], 1e-7, 1e-9, c.term);
      expectClose(c.std_error, ref.variance.classical.se[k], 1e-7, 0, c.term);
    });
    expectClose(r.loglik, ref.loglik, 0, 1e-8, 'loglik');
    expectClose(r.deviance, ref.deviance, 1e-10, 0, 'deviance');
    expectClose(r.null_deviance, ref.null_deviance, 1e-9, 0, 'null deviance (bias-reduced intercept-only fit)');
    expect(r.converged).toBe(true);
  });
});

/**
 * Sandwich variances of the Firth and King–Zeng logits against R
 * (tests/fixtures/reference-extra/firth_relogit_sandwich.json: sandwich + brglm2, and the ML
 * logit's sandwich times (n/(n+k))² for King–Zeng). SEs to 1e-5 relative, whole matrices to
 * 1e-9 of their largest entry (R's own glm weights are one iteration stale: see the fixture's notes).
 */
const sw = JSON.parse(readFileSync(join(F, '..', 'reference-extra', 'firth_relogit_sandwich.json'), 'utf8'));
const VARIANCES: [string, Partial<FitOptions>][] = [
  ['HC0', { vcov: 'HC0' }],
  ['HC1', { vcov: 'HC1' }],
  ['cluster_i_HC1', { vcov: 'cluster', cluster: ['i'] }],
  ['cluster_i_cadjust_only', { vcov: 'cluster', cluster: ['i'], ssc: 'stata' }],
  ['cluster2_ij', { vcov: 'cluster2', cluster: ['i', 'j'] }],
  ['dyadic', { vcov: 'dyadic', dyad: ['i', 'j'] }],
];
for (const [family, key] of [['firth-logit', 'firth_logit'], ['relogit', 'relogit_kz']] as const) {
  describe(`${family}: HC, cluster, two-way and dyadic sandwiches as R gives them`, () => {
    const ref = sw[key];
    for (const [name, opts] of VARIANCES) {
      it(name, () => {
        const fit = fitModel(dy, { formula: `coop ~ ${X}`, family, ...opts } as FitOptions);
        const k = ref.coef_names.length;
        expect(fit.result.coefficients.map((c) => c.term)).toEqual(ref.coef_names);
        fit.result.coefficients.forEach((c, a) => {
          expectClose(c.estimate, ref.coefficients[a], 1e-7, 1e-9, `${name} ${c.term} estimate`);
          expectClose(c.std_error, ref.variance[name].se[a], 1e-5, 0, `${name} ${c.term} SE`);
        });
        const V = fit.vcov.V;
        const Vr: number[] = ref.variance[name].V;
        const big = Math.max(...Vr.map(Math.abs));
        for (let q = 0; q < k * k; q++) expect(Math.abs(V[q] - Vr[q]), `${name} V[${q}]`).toBeLessThanOrEqual(1e-9 * big);
      });
    }
  });
}

describe('relogit (King–Zeng)', () => {
  const ref = sim.relogit_kz;
  const r = fitModel(dy, { formula: `coop ~ ${X}`, family: 'relogit' }).result;
  it('matches the corrected coefficients and the (n/(n+k))² variance', () => {
    r.coefficients.forEach((c, k) => {
      expectClose(c.estimate, ref.coefficients[k], 1e-7, 1e-9, c.term);
      expectClose(c.std_error, ref.variance.classical.se[k], 1e-7, 0, c.term);
    });
  });
});

describe('ztnb', () => {
  const pol = sim.ztnb_vglm.extras.polished;
  const fit = fitModel(pos, { formula: `items ~ ${X}`, family: 'ztnb' });
  const r = fit.result;
  it('matches the polished optimum (coefficients, observed-information SEs, theta, loglik)', () => {
    expect(r.coefficients.map((c) => c.term)).toEqual(pol.names.slice(0, 8));
    r.coefficients.forEach((c, k) => {
      expectClose(c.estimate, pol.coefficients[k], 1e-6, 1e-8, c.term);
      expectClose(c.std_error, pol.se[k], 1e-5, 0, c.term);
    });
    expectClose(r.theta, pol.theta, 1e-6, 0, 'theta');
    // SE(θ) = θ · SE(log θ) by the delta method
    expectClose(r.theta_se, pol.theta * pol.se[8], 1e-5, 0, 'SE(theta)');
    expectClose(r.loglik, pol.loglik, 0, 1e-8, 'loglik');
    expect(r.converged).toBe(true);
  });
  it('agrees with the hurdle count part (same model)', () => {
    const h = fitModel(dy, { formula: `items ~ ${X}`, family: 'hurdle-negbin' }).result;
    h.parts!.count.forEach((c, k) => expectClose(c.estimate, r.coefficients[k].estimate!, 1e-9, 1e-12));
  });
  it('takes sandwich, cluster and dyadic variances (joint in β and log θ)', () => {
    const requests: Partial<FitOptions>[] = [{ vcov: 'HC1' }, { vcov: 'cluster', cluster: ['i'] }, { vcov: 'dyadic', dyad: ['i', 'j'] }];
    for (const v of requests) {
      const rr = fitModel(pos, { formula: `items ~ ${X}`, family: 'ztnb', ...v }).result;
      expect(rr.coefficients.every((c) => Number.isFinite(c.std_error!))).toBe(true);
      expect(rr.vcov_type).toBe(v.vcov);
    }
  });
  it('refuses zeros with a pointer to hurdle-negbin', () => {
    expect(() => fitModel(dy, { formula: `items ~ ${X}`, family: 'ztnb' })).toThrow(/ztnb models counts >= 1.*hurdle-negbin/);
  });
});

describe.each([
  ['hurdle-negbin', sim.hurdle_negbin],
  ['zinb', sim.zinb],
] as const)('%s', (family, ref) => {
  const pol = ref.extras.polished;
  const r = fitModel(dy, { formula: `items ~ ${X} | ${X}`, family }).result;
  it('reports both parts and matches the polished optimum', () => {
    expect(r.coefficients).toEqual([]);
    expect(r.parts!.count.map((c) => `count_${c.term}`)).toEqual(ref.coef_names.slice(0, 8));
    expect(r.parts!.zero.map((c) => `zero_${c.term}`)).toEqual(ref.coef_names.slice(8));
    const all = [...r.parts!.count, ...r.parts!.zero];
    all.forEach((c, k) => {
      expectClose(c.estimate, pol.coefficients[k], 1e-6, 1e-8, c.term);
      expectClose(c.std_error, pol.se[k], 1e-5, 0, c.term);
    });
    expectClose(r.theta, pol.theta, 1e-6, 0, 'theta');
    expectClose(r.theta_se, pol.theta * pol.SE_logtheta, 1e-5, 0, 'SE(theta)');
    expectClose(r.loglik, pol.loglik, 0, 1e-8, 'loglik');
    expectClose(r.aic, -2 * pol.loglik + 2 * 17, 1e-10, 0, 'aic');
    expect(r.converged).toBe(true);
  });
  it('accepts a one-part formula as the same terms in both parts', () => {
    const one = fitModel(dy, { formula: `items ~ ${X}`, family }).result;
    expectClose(one.loglik, r.loglik, 1e-12, 0);
  });
  it('refuses data without zeros', () => {
    expect(() => fitModel(pos, { formula: `items ~ ${X}`, family })).toThrow(/needs zeros in 'items'/);
  });
});

describe('hurdle parts take their own robust variances', () => {
  it('dyadic variance per part, with the clusters of each part', () => {
    const r = fitModel(dy, { formula: `items ~ ${X}`, family: 'hurdle-negbin', vcov: 'dyadic', dyad: ['i', 'j'] }).result;
    expect(r.clusters).toEqual({ 'count:cities': 58, 'zero:cities': 60 });
    // the zero part is the logit of coop: its dyadic SEs are the logit's
    r.parts!.zero.forEach((c, k) => expectClose(c.std_error, sim.logit.variance.dyadic.se[k], 1e-5, 0, c.term));
  });
});

describe('degenerate input', () => {
  it('all outcomes zero: a clear message, not a number', () => {
    const t = makeTable(5, [['y', numColumn(new Float64Array(5))], ['x', numColumn(Float64Array.of(1, 2, 3, 4, 5))]]);
    for (const family of ['poisson', 'negbin', 'hurdle-negbin', 'zinb'] as const) {
      expect(() => fitModel(t, { formula: 'y ~ x', family })).toThrow(/is 0 on every one of the 5 rows/);
    }
  });
  it('perfect separation: logit diverges (and says so), Firth stays finite', () => {
    const x = Float64Array.of(-3, -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, 3);
    const y = Float64Array.from(x, (v) => +(v > 0));
    const t = makeTable(10, [['y', numColumn(y)], ['x', numColumn(x)]]);
    const ml = fitModel(t, { formula: 'y ~ x', family: 'logit' }).result;
    expect(ml.warnings.join(' ')).toMatch(/separation/);
    expect(Math.abs(ml.coefficients[1].estimate!)).toBeGreaterThan(10);
    const fl = fitModel(t, { formula: 'y ~ x', family: 'firth-logit' }).result;
    expect(fl.converged).toBe(true);
    expect(Number.isFinite(fl.coefficients[1].estimate!)).toBe(true);
    expect(fl.coefficients[1].estimate!).toBeGreaterThan(0.5);
    expect(fl.coefficients[1].estimate!).toBeLessThan(10);
    expect(Number.isFinite(fl.coefficients[1].std_error!)).toBe(true);
  });
});
