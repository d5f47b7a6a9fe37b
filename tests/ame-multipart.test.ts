/**
 * Marginal effects and predictions of models with a zero part against R
 * (tests/fixtures/reference-extra/ame_multipart.json: analytic chain rule on the Newton-polished
 * pscl optimum, Jacobians by numDeriv with Richardson extrapolation, variances of the full
 * parameter vector including log θ). A ZTNB on E[y | y > 0]; a hurdle NB on E[y], P(y > 0) and
 * E[y | y > 0] with the JOINT variance of its two parts (cross-part terms in every sandwich); a
 * ZINB on E[y]; predictions averaged over the rows and at the means (Stata's atmeans), also for
 * a logit with a factor. Estimates 1e-6 relative, SEs 1e-5, for classical, HC1, cluster and dyadic.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { filterRows, getNum } from '../src/data/table.ts';
import { fitModel, type FitOptions } from '../src/fit/fit-model.ts';
import { averageMarginalEffects, predictionsAt } from '../src/inference/effects.ts';
import { expectClose } from './helpers.ts';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'reference-extra', 'ame_multipart.json'), 'utf8'));
const dy = readCsvTable(join(import.meta.dirname, 'fixtures', 'reference', 'sim_dyads_60.csv'), new Set(['i', 'j']));
const pos = filterRows(dy, Uint8Array.from(getNum(dy, 'items'), (x) => +(x >= 1)));
const VARIANCES: [string, Partial<FitOptions>][] = [
  ['classical', {}],
  ['HC1', { vcov: 'HC1' }],
  ['cluster_i', { vcov: 'cluster', cluster: ['i'] }],
  ['dyadic', { vcov: 'dyadic', dyad: ['i', 'j'] }],
];
const MODELS: { key: string; formula: string; family: FitOptions['family']; data: typeof dy; outcomes: Record<string, string | null> }[] = [
  {
    key: 'hurdle_nb',
    formula: 'items ~ log_flow * same_province + log_dist + I(log_dist^2) | log_flow + same_province + log_dist + gov_sum',
    family: 'hurdle-negbin',
    data: dy,
    outcomes: { response: null, zero: 'zero', positive: 'positive' },
  },
  { key: 'ztnb', formula: 'items ~ log_flow * same_province + log_dist + gov_sum', family: 'ztnb', data: pos, outcomes: { positive: 'positive' } },
  { key: 'zinb', formula: 'items ~ log_flow + same_province + log_dist | log_flow + gov_sum', family: 'zinb', data: dy, outcomes: { response: null } },
];

for (const m of MODELS) {
  describe(`AMEs with a zero part: ${m.key}`, () => {
    const r = ref[m.key];
    for (const [vname, opts] of VARIANCES) {
      it(`${vname} variance`, () => {
        const fit = fitModel(m.data, { formula: m.formula, family: m.family, ...opts } as FitOptions);
        // the parameters are the polished optimum, and the joint variance is R's (log θ included)
        const params = fit.estimate.blocks.flatMap((b) => [...b.params]);
        params.forEach((v, k) => expectClose(v, r.params[k], 1e-6, 1e-9, r.param_names[k]));
        const V = fit.jointVcov().V;
        const Vr: number[] = r.variances[vname].V;
        const scale = Math.max(...Vr.map(Math.abs));
        Vr.forEach((v, k) => expectClose(V[k], v, 1e-5, 1e-7 * scale, `V[${k}]`));
        const slopes = averageMarginalEffects(fit);
        const discrete = averageMarginalEffects(fit, { binary: ['same_province'] });
        for (const [outcome, part] of Object.entries(m.outcomes)) {
          for (const [label, want] of Object.entries(r.ame[outcome]) as [string, { estimate: number; se: Record<string, number> }][]) {
            const rows = label === 'same_province_binary' ? discrete : slopes;
            const term = label === 'same_province_binary' ? 'same_province' : label;
            const got = rows.find((e) => e.term === term && e.part === part);
            // a variable outside this outcome's part (gov_sum and E[y | y > 0] of the hurdle): R's AME is exactly 0, and tongban has no row
            if (want.estimate === 0 && Object.values(want.se).every((x) => x === 0)) {
              expect(got, `${outcome} ${label}`).toBeUndefined();
              continue;
            }
            expect(got, `${outcome} ${label}`).toBeDefined();
            if (label === 'same_province_binary') expect(got!.effect).toMatch(/discrete/);
            expectClose(got!.estimate, want.estimate, 1e-6, 1e-12, `${outcome} ${label}`);
            expectClose(got!.std_error, want.se[vname], 1e-5, 1e-12, `${outcome} ${label} SE`);
          }
          // no variable is left out or added
          const entering = Object.entries(r.ame[outcome] as Record<string, { estimate: number }>).filter(([l, w]) => !l.endsWith('_binary') && w.estimate !== 0);
          expect(slopes.filter((e) => e.part === part).map((e) => e.term).sort()).toEqual(entering.map(([l]) => l).sort());
        }
      });
    }
  });
}

describe('predictions of a hurdle model: averaged over the rows and at the means', () => {
  const pr = ref.hurdle_nb.predictions.response;
  for (const [vname, opts] of VARIANCES) {
    it(`${vname} variance`, () => {
      const fit = fitModel(dy, { formula: MODELS[0].formula, family: 'hurdle-negbin', ...opts } as FitOptions);
      for (const [kind, atmeans] of [['average', false], ['atmeans', true]] as const) {
        const got = predictionsAt(fit, 'log_flow', pr.at, { atmeans });
        got.forEach((g, k) => {
          expectClose(g.estimate, pr[kind][k].estimate, 1e-6, 0, `${kind} at ${g.at}`);
          expectClose(g.std_error, pr[kind][k].se[vname], 1e-5, 0, `${kind} at ${g.at} SE`);
        });
      }
    });
  }
});

describe('atmeans for a logit with an interaction, a square and a factor (indicators at their shares)', () => {
  const r = ref.logit_atmeans;
  for (const [vname, opts] of VARIANCES) {
    it(`${vname} variance`, () => {
      const fit = fitModel(dy, { formula: r.formula, family: 'logit', ...opts } as FitOptions);
      const at = r.predictions.atmeans.map((x: { at: number }) => x.at);
      predictionsAt(fit, 'log_flow', at, { atmeans: true }).forEach((g, k) => {
        expectClose(g.estimate, r.predictions.atmeans[k].estimate, 1e-6, 0, `at ${g.at}`);
        expectClose(g.std_error, r.predictions.atmeans[k].se[vname], 1e-5, 0, `at ${g.at} SE`);
      });
    });
  }
});
