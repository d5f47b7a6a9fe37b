/**
 * Wald tests and binary fit statistics against R (tests/fixtures/reference-extra/wald_auc.json:
 * car::linearHypothesis with each variance, pf/pchisq; AUC by Mann–Whitney, average precision,
 * classification tables). Statistics and p-values 1e-6 relative (the bar; they agree
 * far closer), AUC to 1e-12, counts exactly.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { fitModel, type FitOptions } from '../src/fit/fit-model.ts';
import { binaryFitStats } from '../src/inference/fit-stats.ts';
import { Rng } from '../src/util/random.ts';
import { waldTest } from '../src/inference/wald-test.ts';
import { expectClose } from './helpers.ts';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'reference-extra', 'wald_auc.json'), 'utf8'));
const dy = readCsvTable(join(import.meta.dirname, 'fixtures', 'reference', 'sim_dyads_60.csv'), new Set(['i', 'j']));
const X = 'log_flow + same_province + log_dist + strategy + gdp_absdiff + fiscal_min + gov_sum';
const HYPOTHESES: Record<string, string> = {
  joint: 'log_flow = 0, same_province = 0',
  difference: 'log_dist - strategy = 0',
  combination: 'gdp_absdiff + 2*fiscal_min = 1',
};
const VARIANCES: [string, Partial<FitOptions>][] = [
  ['classical', {}],
  ['HC1', { vcov: 'HC1' }],
  ['cluster_i', { vcov: 'cluster', cluster: ['i'] }],
  ['cluster2_ij', { vcov: 'cluster2', cluster: ['i', 'j'] }],
  ['dyadic', { vcov: 'dyadic', dyad: ['i', 'j'] }],
];

describe('Wald tests with the model\'s variance (logit), as car::linearHypothesis', () => {
  for (const [vname, opts] of VARIANCES) {
    const fit = fitModel(dy, { formula: `coop ~ ${X}`, family: 'logit', ...opts } as FitOptions);
    for (const [h, text] of Object.entries(HYPOTHESES)) {
      it(`${h}, ${vname}`, () => {
        const t = waldTest(fit, text);
        const r = ref.logit.wald[h][vname];
        expect(t.df).toBe(r.df);
        expectClose(t.statistic, r.statistic, 1e-6, 0, 'W');
        expectClose(t.p_value, r.p_value, 1e-6, 0, 'p');
        expect(t.f).toBeNull();
      });
    }
  }
});

describe('Wald tests of OLS: F with (q, n - k) df for the classical variance, chi-squared for HC1', () => {
  const classical = fitModel(dy, { formula: `items ~ ${X}`, family: 'ols' });
  const hc1 = fitModel(dy, { formula: `items ~ ${X}`, family: 'ols', vcov: 'HC1' });
  for (const [h, text] of Object.entries(HYPOTHESES)) {
    it(h, () => {
      const f = waldTest(classical, text).f!;
      const r = ref.ols.wald[h];
      expect([f.df1, f.df2]).toEqual([r.classical_F.df1, r.classical_F.df2]);
      expectClose(f.statistic, r.classical_F.statistic, 1e-6, 0, 'F');
      expectClose(f.p_value, r.classical_F.p_value, 1e-6, 0, 'p of F');
      const w = waldTest(hc1, text);
      expect(w.f).toBeNull();
      expectClose(w.statistic, r.HC1.statistic, 1e-6, 0, 'W (HC1)');
      expectClose(w.p_value, r.HC1.p_value, 1e-6, 0, 'p (HC1)');
    });
  }
});

describe('bad restrictions get clear errors', () => {
  const fit = fitModel(dy, { formula: `coop ~ ${X}`, family: 'logit' });
  it('an unknown coefficient is named, with the coefficients there are', () => {
    expect(() => waldTest(fit, 'log_flwo = 0')).toThrow(/'log_flwo' is not a coefficient of the model; the coefficients are `\(Intercept\)`, log_flow/);
  });
  it('a singular restriction matrix (a restriction repeated) is refused', () => {
    expect(() => waldTest(fit, 'log_flow = 0, 2*log_flow = 0')).toThrow(/not independent/);
  });
  it('malformed restrictions say what is wrong', () => {
    expect(() => waldTest(fit, 'log_flow')).toThrow(/not an equation with one '='/);
    expect(() => waldTest(fit, 'log_flow = 0 = 1')).toThrow(/not an equation/);
    expect(() => waldTest(fit, '2 log_flow = 0')).toThrow(/a \+ or - is missing|with a \* sign/);
    expect(() => waldTest(fit, '1 = 1')).toThrow(/names no coefficient/);
  });
  it('backticks name a coefficient with special characters', () => {
    const t = waldTest(fit, '`(Intercept)` = 0');
    expect(t.df).toBe(1);
    const c = fit.result.coefficients[0];
    expectClose(t.statistic, (c.estimate! / c.std_error!) ** 2, 1e-12, 0, 'W = z²');
  });
});

describe('AUC, area under the precision-recall curve and the classification table, as R', () => {
  for (const family of ['logit', 'probit'] as const) {
    it(family, () => {
      const fit = fitModel(dy, { formula: `coop ~ ${X}`, family });
      const r = ref[family];
      expectClose(fit.result.auc, r.auc, 1e-12, 0, 'AUC');
      expectClose(fit.result.pr_auc, r.pr_auc, 1e-12, 0, 'PR-AUC');
      const s = binaryFitStats(fit.design.y, fit.estimate.mu!, 0.5).classification;
      expect([s.tp, s.fp, s.tn, s.fn]).toEqual([r.classification['0.5'].TP, r.classification['0.5'].FP, r.classification['0.5'].TN, r.classification['0.5'].FN]);
      const share = r.classification.share;
      const t = binaryFitStats(fit.design.y, fit.estimate.mu!, share.threshold).classification;
      expect([t.tp, t.fp, t.tn, t.fn]).toEqual([share.TP, share.FP, share.TN, share.FN]);
    });
  }
  it('ties: AUC counts them one half, average precision lets tied scores enter together', () => {
    const e = ref._tie_example;
    const s = binaryFitStats(Float64Array.from(e.y), Float64Array.from(e.p_hat), 0.5);
    expectClose(s.auc, e.auc, 1e-12, 0, 'AUC');
    expectClose(s.pr_auc, e.pr_auc, 1e-12, 0, 'PR-AUC');
    const c = e['classification_0.5'];
    expect([s.classification.tp, s.classification.fp, s.classification.tn, s.classification.fn]).toEqual([c.TP, c.FP, c.TN, c.FN]);
  });
});

describe('fit statistics of a diverged binary fit', () => {
  it('a NaN fitted value is an error in binaryFitStats (its rank loops never ended on one), and a fit with one has no AUC', async () => {
    expect(() => binaryFitStats(Float64Array.of(0, 1, 1), Float64Array.of(0.2, Number.NaN, 0.7))).toThrow(/NaN fitted value/);
    // King–Zeng on the demo pairs with factor(round(log_distance)): a level of three pairs, all
    // cooperating, separates; the ML logit's information becomes singular and the corrected fit's
    // values are NaN. The fit says so and has no AUC (it used to hang here, never returning)
    const { computeDyads } = await import('../src/stages/dyads.ts');
    const { numColumn } = await import('../src/data/table.ts');
    const t = computeDyads(join(import.meta.dirname, '..', 'data', 'demo', '2021'), {}).dyads.dyads;
    const d = t.columns.get('log_distance')!;
    if (d.kind !== 'number') throw new Error('log_distance is not a number column');
    t.names.push('pj');
    t.columns.set('pj', numColumn(Float64Array.from(d.values, Math.round)));
    const fit = fitModel(t, { formula: 'coop ~ log_distance + log_gdp_sum + log_flow + same_province + factor(pj)', family: 'relogit', vcov: 'classical' });
    expect(fit.estimate.mu!.some((m) => Number.isNaN(m))).toBe(true); // the case this is about
    expect(fit.result.auc).toBeNull();
    expect(fit.result.converged).toBe(false);
    expect(fit.result.warnings.join(' ')).toMatch(/singular/);
  }, 60_000);
});

/** The areas by their definitions over every fitted value sorted (the implementation before the placement table), as the reference. */
function areasBySorting(y: Float64Array, p: Float64Array): { auc: number; pr_auc: number } {
  const n = y.length;
  const all = Float64Array.from(p).sort();
  const pos = Float64Array.from(p.filter((_, r) => y[r] === 1)).sort();
  const n1 = pos.length;
  const n0 = n - n1;
  let rankSum = 0;
  for (let k = 0, s = 0; k < n1; ) {
    const x = pos[k];
    while (all[s] < x) s++;
    let e = s;
    while (e + 1 < n && all[e + 1] === x) e++;
    let m = k;
    while (m < n1 && pos[m] === x) m++;
    rankSum += (m - k) * ((s + e) / 2 + 1);
    k = m;
  }
  let ap = 0;
  let prevRecall = 0;
  let ip = n1 - 1;
  for (let e = n - 1; e >= 0; ) {
    const x = all[e];
    let s = e;
    while (s - 1 >= 0 && all[s - 1] === x) s--;
    while (ip >= 0 && pos[ip] >= x) ip--;
    const tp = n1 - 1 - ip;
    const recall = tp / n1;
    ap += (recall - prevRecall) * (tp / (n - s));
    prevRecall = recall;
    e = s - 1;
  }
  return { auc: (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0), pr_auc: ap };
}

describe('binary fit statistics: the placement table gives the areas of the full sort, bit for bit', () => {
  const rng = new Rng(20261207);
  const draw = (kind: number): number => {
    const u = rng.uniform();
    switch (kind) {
      case 0: return u; // continuous in (0, 1)
      case 1: return Math.round(u * 20) / 20; // heavy ties
      case 2: return 1 / (1 + Math.exp(-(u - 0.5) * 80)); // logistic spread over many binades, some exactly 0 or 1 in double
      case 3: return [0, -0, 5e-324, -5e-324, 1e-310, 1, Infinity, -Infinity, -2.5, 0.3][Math.floor(u * 10)]; // signs, zeros, subnormals, infinities
      default: return u < 0.5 ? 0.25 : 0.25 + Number.EPSILON * Math.floor(u * 8); // ties differing only in the low word
    }
  };
  it.each([0, 1, 2, 3, 4])('value kind %i, 200 random tables', (kind) => {
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(rng.uniform() * (t < 100 ? 40 : 3000));
      const share = [0, 0.04, 0.5, 1][t % 4];
      const y = Float64Array.from({ length: n }, () => (rng.uniform() < share ? 1 : 0));
      const p = Float64Array.from({ length: n }, () => draw(kind));
      const got = binaryFitStats(y, p);
      const want = areasBySorting(y, p);
      expect(Object.is(got.auc, want.auc) && Object.is(got.pr_auc, want.pr_auc), `kind ${kind}, table ${t}: ${got.auc}/${want.auc}, ${got.pr_auc}/${want.pr_auc}`).toBe(true);
    }
  });
  it('a subarray view (the fitted values of a sample within a larger buffer)', () => {
    const big = Float64Array.from({ length: 5000 }, () => rng.uniform());
    const p = big.subarray(1234, 4321);
    const y = Float64Array.from(p, () => (rng.uniform() < 0.1 ? 1 : 0));
    const got = binaryFitStats(y, p);
    const want = areasBySorting(y, p);
    expect([got.auc, got.pr_auc]).toEqual([want.auc, want.pr_auc]);
  });
});
