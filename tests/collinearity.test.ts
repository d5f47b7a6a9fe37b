/**
 * VIFs and correlations against R (tests/fixtures/reference-extra/vif_cor.R on the 2021 demo
 * dyads): car::vif of the partner-choice covariates, cor and cor.test's p-values.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeDyads } from '../src/stages/dyads.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { correlations, vifs } from '../src/inference/collinearity.ts';
import { expectClose } from './helpers.ts';

const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'reference-extra', 'vif_cor.json'), 'utf8'));
const dyads = computeDyads(join(import.meta.dirname, '..', 'data', 'demo', '2021'), {}).dyads.dyads;

describe('collinearity tables equal R', () => {
  it("VIFs of a model's covariates are car::vif's", () => {
    const fit = fitModel(dyads, { formula: ref.formula, family: 'logit' });
    const v = vifs(fit.design.parts[0], fit.design.n);
    expect(v.map((x) => x.term)).toEqual(ref.vif.terms);
    v.forEach((x, k) => expectClose(x.vif, ref.vif.values[k], 1e-10, 0, x.term));
    // a second model on the same design (as the book's probit column) gets the same rows, not a second pass
    expect(vifs(fit.design.parts[0], fit.design.n)).toBe(v);
    expect(vifs(fitModel(dyads, { formula: ref.formula, family: 'logit' }).design.parts[0], fit.design.n)).not.toBe(v);
  });
  it("correlations and their p-values are cor's and cor.test's", () => {
    const c = correlations(dyads, Int32Array.from({ length: dyads.nrow }, (_, r) => r), ref.correlations.variables);
    expect(c.variables).toEqual(ref.correlations.variables);
    expect(c.n).toBe(ref.correlations.n);
    c.r.forEach((row, a) => row.forEach((x, b) => expectClose(x, ref.correlations.r[a][b], 1e-10, 1e-14, `r ${a},${b}`)));
    c.p.forEach((row, a) =>
      row.forEach((x, b) => {
        if (a === b) expect(x).toBeNull();
        else expectClose(x, ref.correlations.p[a][b], 1e-6, 1e-300, `p ${a},${b}`);
      }),
    );
  });
});
