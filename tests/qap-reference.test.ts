/**
 * QAP and network statistics against R (tests/fixtures/qap/: qap_reference.R on a simulated
 * complete network of 100 cities, 4,950 pairs, with city effects in every outcome):
 *  - the observed fit equals sna::netlogit / netlm with nullhyp = "classical";
 *  - refits under five given permutations (Y permutation and DSP, logit, probit, Poisson, NB,
 *    OLS) equal R's glm / glm.nb / lm on the permuted data, statistic by statistic — the engine's
 *    arithmetic checked bit by bit, independently of the random draws;
 *  - p-values agree with sna's qapy / qapspp runs (2,000 permutations) within Monte-Carlo error:
 *    4 binomial SDs of the difference of two independent estimates, plus the 1/(R + 1)
 *    difference of the two p definitions (sna: #/R; tongban: (1 + #)/(1 + R));
 *  - the network's statistics equal igraph's to 1e-10 (integers exactly).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { fitModel, type FitOptions } from '../src/fit/fit-model.ts';
import { prepareQap, qap } from '../src/inference/qap.ts';
import { scratch, statisticsUnder, sumSquares } from '../src/inference/qap-kernel.ts';
import { networkFromTable } from '../src/inference/network-stats.ts';
import { expectClose } from './helpers.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'qap');
const ref = JSON.parse(readFileSync(join(DIR, 'qap_reference.json'), 'utf8'));
const net = readCsvTable(join(DIR, 'qap_network.csv'), new Set(['i', 'j']));
const RHS = 'log_dist + size_sum + same_prov + x_mod + noise';
const FAMILIES: [string, FitOptions['family'], string][] = [
  ['logit', 'logit', 'coop'],
  ['probit', 'probit', 'coop'],
  ['poisson', 'poisson', 'items'],
  ['negbin', 'negbin', 'items'],
  ['ols', 'ols', 'y_cont'],
];
const fitOf = (family: FitOptions['family'], y: string) => fitModel(net, { formula: `${y} ~ ${RHS}`, family });

/**
 * sna's netlogit stops glm.fit at its default epsilon (1e-8 on the deviance) and takes the SE
 * from the weights of the last IRLS step, 7e-5 (relative) from the converged value: the SEs and
 * statistics are checked against the same glm run to convergence (glm_logit_tight), and against
 * sna itself within that convergence error.
 */
const TIGHT: Record<string, string> = { netlogit: 'glm_logit_tight', netlm: 'netlm' };
describe('the observed fit is sna::netlogit / netlm with nullhyp = "classical"', () => {
  for (const [key, family, y] of [['netlogit', 'logit', 'coop'], ['netlm', 'ols', 'y_cont']] as const) {
    it(key, () => {
      const r = ref.classical[key];
      const tight = ref.classical[TIGHT[key]];
      const f = fitOf(family, y).result;
      f.coefficients.forEach((c, k) => {
        const scale = Math.max(Math.abs(r.coefficients[k]), r.se[k]);
        expectClose(c.estimate, r.coefficients[k], 0, 1e-6 * scale, c.term);
        expectClose(c.std_error, r.se[k], key === 'netlm' ? 1e-6 : 1e-4, 0, `${c.term} SE vs sna`);
        expectClose(c.estimate, tight.coefficients[k], 1e-6, 0, `${c.term} vs converged R`);
        expectClose(c.std_error, tight.se[k], 1e-5, 0, `${c.term} SE vs converged R`);
      });
    });
  }
});

describe('refits under given permutations equal R on the permuted data', () => {
  const perms: number[][] = ref.refits.perms;
  for (const [key, family, y] of FAMILIES) {
    const r = ref.refits[key];
    it(`${key}: Y permutation, every coefficient's statistic`, () => {
      const fit = fitOf(family, y);
      expect(fit.result.coefficients.map((c) => c.term)).toEqual(r.coef_names);
      const { job } = prepareQap(fit, { null: 'y', statistic: 'z', seed: 1, dyad: ['i', 'j'] });
      const { job: jobCoef } = prepareQap(fit, { null: 'y', statistic: 'coef', seed: 1, dyad: ['i', 'j'] });
      const out = new Float64Array(job.p);
      perms.forEach((perm, q) => {
        statisticsUnder(job, Int32Array.from(perm), scratch(job), Float64Array.of(sumSquares(job.y)), out);
        out.forEach((v, k) => expectClose(v, r.y[q].stat[k], 1e-6, 1e-9, `perm ${q} ${r.coef_names[k]}`));
        statisticsUnder(jobCoef, Int32Array.from(perm), scratch(jobCoef), Float64Array.of(sumSquares(jobCoef.y)), out);
        out.forEach((v, k) => expectClose(v, r.y[q].coef[k], 1e-6, 1e-9, `perm ${q} ${r.coef_names[k]} coef`));
      });
    });
    it(`${key}: DSP, the statistic of each covariate with its permuted residual`, () => {
      const fit = fitOf(family, y);
      const { job } = prepareQap(fit, { null: 'dsp', statistic: 'z', seed: 1, dyad: ['i', 'j'] });
      const out = new Float64Array(job.p);
      perms.forEach((perm, q) => {
        statisticsUnder(job, Int32Array.from(perm), scratch(job), Float64Array.of(sumSquares(job.y)), out);
        expect(Number.isNaN(out[0])).toBe(true); // the intercept is not tested
        r.coef_names.slice(1).forEach((name: string, k: number) => expectClose(out[k + 1], r.dsp[q][name].stat, 1e-6, 1e-9, `perm ${q} ${name}`));
      });
    });
  }
});

describe('p-values agree with sna within Monte-Carlo error', () => {
  const cases = [
    ['netlogit_qapy', 'logit', 'coop', 'y'],
    ['netlogit_qapspp', 'logit', 'coop', 'dsp'],
    ['netlm_qapy', 'ols', 'y_cont', 'y'],
    ['netlm_qapspp', 'ols', 'y_cont', 'dsp'],
  ] as const;
  for (const [key, family, y, nul] of cases) {
    it(key, async () => {
      const s = ref.permutation[key];
      const R = nul === 'dsp' && family === 'logit' ? 1000 : 2000;
      const mine = await qap(fitOf(family, y), { null: nul, reps: R, seed: 11, dyad: ['i', 'j'] });
      const observed = family === 'logit' ? ref.classical.glm_logit_tight.stat : s.tstat;
      mine.coefficients.forEach((c, k) => {
        expectClose(c.statistic, observed[k], 1e-6, 1e-9, `${c.term} observed statistic`);
        if (nul === 'dsp' && k === 0) return expect(c.p_two_sided).toBeNull();
        for (const [mineP, theirs] of [[c.p_two_sided, s.pgreqabs[k]], [c.p_greater, s.pgreq[k]], [c.p_less, s.pleeq[k]]] as [number, number][]) {
          const p = Math.min(Math.max((mineP + theirs) / 2, 1 / R), 1 - 1 / R);
          const tol = 4 * Math.sqrt((p * (1 - p)) / R + (p * (1 - p)) / s.reps) + 1 / (R + 1);
          expect(Math.abs(mineP - theirs), `${c.term}: ${mineP} vs sna ${theirs}`).toBeLessThanOrEqual(tol);
        }
      });
    });
  }
});

describe('network statistics equal igraph', () => {
  const r = ref.network;
  const { summary, cities } = networkFromTable(net, { dyad: ['i', 'j'], tie: 'coop', weight: 'items' });
  it('the whole network', () => {
    expect([summary.cities, summary.ties, summary.max_degree, summary.components]).toEqual([r.vertices, r.edges, r.max_degree, r.components]);
    expect(summary.component_sizes).toEqual(r.component_sizes);
    expectClose(summary.density, r.density, 1e-10);
    expectClose(summary.mean_degree, r.mean_degree, 1e-10);
    expectClose(summary.degree_centralization, r.degree_centralization, 1e-10);
    expectClose(summary.transitivity, r.transitivity_global, 1e-10);
    expectClose(summary.assortativity, r.assortativity_degree, 1e-10);
  });
  it('every city', () => {
    const c = r.city;
    expect(cities.map((x) => x.city)).toEqual(c.id);
    expect(cities.map((x) => x.degree)).toEqual(c.degree);
    cities.forEach((x, k) => {
      expectClose(x.strength, c.strength[k], 1e-12, 0, `${x.city} strength`);
      expectClose(x.betweenness, c.betweenness[k], 1e-10, 1e-10, `${x.city} betweenness`);
      expectClose(x.betweenness_normalized, c.betweenness_normalized[k], 1e-10, 1e-12, `${x.city} betweenness normalised`);
      expectClose(x.eigenvector, c.eigen_centrality[k], 1e-10, 1e-12, `${x.city} eigenvector`);
      if (c.closeness_in_component[k] === null) expect(x.closeness).toBeNull();
      else expectClose(x.closeness, c.closeness_in_component[k], 1e-10, 0, `${x.city} closeness`);
    });
  });
});
