/**
 * The multiverse (specification curve): the product of the spec's dimensions, every row equal to
 * the same specification fitted on its own, skipped combinations listed with their reasons, and
 * bad blocks refused before any fit with the spec file's line and field.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runYear } from '../src/stages/run-year.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { averageMarginalEffects } from '../src/inference/effects.ts';
import { loadSpec } from '../src/specfile/load.ts';
import { dyadTableDefaults } from '../src/vcov/registry.ts';
import { tmp } from './helpers.ts';
import type { FamilyName } from '../src/fit/families.ts';
import type { VcovType } from '../src/vcov/registry.ts';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'data', 'demo');
const spec = (dimensions: string, extra = '') =>
  [
    'name: mv',
    'language: en',
    'monadic: [log_outflow, fiscal_ratio, log_budget_revenue, gov_index]',
    'derived:',
    '  dyads:',
    '    cross_province: 1 - same_province',
    'samples:',
    '  delta: { table: dyads, provinces: [上海, 江苏, 浙江, 安徽] }',
    '  delta_cross: { table: dyads, provinces: [上海, 江苏, 浙江, 安徽], subset: cross_province == 1 }',
    '  nothing: { table: dyads, subset: log_distance < 0 }',
    'multiverse:',
    '  sample: delta',
    '  outcome: coop',
    '  interest: demand',
    '  terms: [log_distance]',
    '  dimensions:',
    dimensions,
    extra,
  ].join('\n') + '\n';
const GOOD = ['    demand: [log_outflow_sum, log_flow]', '    supply: [fiscal_ratio_min, log_budget_revenue_min]', '    controls: [[], [same_province]]', '    sample: [delta, delta_cross]', '    family: [logit, probit]', '    vcov: [dyadic, HC1]'].join('\n');

describe('a multiverse run', async () => {
  const file = join(tmp(), 'mv.yaml');
  writeFileSync(file, spec(GOOD));
  const { outDir, record } = await runYear({ data: DATA, year: 2021, out: tmp(), spec: file });
  const mv = record!.multiverse!;
  it('fits the product of the dimensions, each specification under each variance', () => {
    expect(mv.rows).toHaveLength(2 * 2 * 2 * 2 * 2 * 2);
    expect(new Set(mv.rows.map((r) => r.spec)).size).toBe(32);
    const csv = readFileSync(join(outDir, 'multiverse.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(65);
    expect(csv[0]).toMatch(/^spec,choice_demand,choice_supply,choice_controls,choice_sample,choice_family,choice_vcov,/);
    expect(readFileSync(join(outDir, 'plots', 'multiverse.svg'), 'utf8')).toMatch(/^<svg/);
    expect(readFileSync(join(outDir, 'report.html'), 'utf8')).toMatch(/Multiverse \(specification curve\)/);
  });
  it('gives the same rows on one thread as on two (the worker threads share the specifications)', async () => {
    process.env.TONGBAN_THREADS = '1';
    try {
      const one = await runYear({ data: DATA, year: 2021, out: tmp(), spec: file });
      expect(one.record!.multiverse!.rows).toEqual(mv.rows);
    } finally {
      delete process.env.TONGBAN_THREADS;
    }
  });
  it('skips same_province among cross-province pairs, with the reason', () => {
    const skipped = mv.rows.filter((r) => r.skipped !== null);
    expect(skipped).toHaveLength(16); // 2 demand × 2 supply × 2 families × 2 variances
    for (const r of skipped) {
      expect(r.choices).toMatchObject({ controls: 'same_province', sample: 'delta_cross' });
      expect(r.skipped).toMatch(/'same_province' constant or collinear with the other terms in sample delta_cross/);
    }
  });
  it('every row equals the specification fitted on its own (AME of a one-SD change), to 1e-10', async () => {
    const loaded = loadSpec(file);
    const { prepareModels } = await import('../src/stages/models.ts');
    const { computeDyads } = await import('../src/stages/dyads.ts');
    const stage = computeDyads(join(DATA, '2021'), { monadic: loaded.spec.monadic });
    const samples = await prepareModels(loaded, { cities: stage.cities, dyads: stage.dyads.dyads });
    for (const r of mv.rows.filter((x) => x.skipped === null).filter((_, k) => k % 5 === 0)) {
      const fit = fitModel(samples.get(r.sample)!, { formula: r.formula, family: r.family as FamilyName, vcov: r.vcov as VcovType, ...dyadTableDefaults(r.vcov as VcovType) });
      const ame = averageMarginalEffects(fit).find((e) => e.term === r.interest)!;
      const x = fit.design.vars[fit.design.formula.variables.findIndex((v) => v.type === 'var' && v.name === r.interest)] as { v: Float64Array };
      const m = x.v.reduce((a, b) => a + b, 0) / x.v.length;
      const sd = Math.sqrt(x.v.reduce((a, b) => a + (b - m) ** 2, 0) / (x.v.length - 1));
      expect(Math.abs(r.estimate! - ame.estimate! * sd)).toBeLessThanOrEqual(1e-10 * Math.abs(r.estimate!));
      expect(Math.abs(r.std_error! - ame.std_error! * sd)).toBeLessThanOrEqual(1e-10 * r.std_error!);
      expect(r.n).toBe(fit.result.n);
    }
  });
});

describe('the permutation test of the curve in a run', () => {
  it('runs when an exclusion leaves some specifications without a variance choice, on the complete network of the provinces sample', async () => {
    const file = join(tmp(), 'mv.yaml');
    writeFileSync(file, spec(GOOD, '  exclude: [{ family: probit, vcov: HC1 }]\n  curve_null: { reps: 9, seed: 3 }'));
    const { record } = await runYear({ data: DATA, year: 2021, out: tmp(), spec: file });
    const n = record!.multiverse!.null!;
    expect(n.samples).toEqual(['delta']);
    // delta: 2 demand × 2 supply × 2 controls × 2 families; delta_cross is not a complete network
    expect(n.specs).toHaveLength(16);
    expect(n.left_out.every((l) => /delta_cross/.test(l.reason) || /not fitted/.test(l.reason))).toBe(true);
    expect(n.valid_draws).toBe(9);
    expect(n.share_significant.map((x) => x.vcov)).toEqual(['dyadic', 'HC1']);
    // the HC1 share counts only the logit specifications (probit has no HC1 row)
    const rows = record!.multiverse!.rows.filter((r) => n.specs.includes(r.spec) && r.vcov === 'HC1');
    expect(rows.every((r) => r.family === 'logit')).toBe(true);
    const sig = rows.filter((r) => r.p_value! < 0.05 && Math.sign(r.estimate!) === n.direction).length / rows.length;
    expect(n.share_significant[1].observed).toBe(sig);
  });
});

describe('bad multiverse blocks are refused before any fit, with line and field', () => {
  const run = async (text: string) => {
    const file = join(tmp(), 'mv.yaml');
    writeFileSync(file, text);
    return runYear({ data: DATA, year: 2021, out: tmp(), spec: file });
  };
  it('an unknown variable in an alternative', async () => {
    await expect(run(spec(GOOD.replace('log_budget_revenue_min', 'log_budget_revnue_min')))).rejects.toThrow(/mv\.yaml, line \d+, field 'multiverse\.dimensions\.supply\.1': value "log_budget_revnue_min": expected a variable of sample delta/);
  });
  it('an empty dimension', async () => {
    await expect(run(spec(GOOD + '\n    extra: []'))).rejects.toThrow(/field 'multiverse\.dimensions\.extra': .*at least one alternative/);
  });
  it('a sample with no rows', async () => {
    await expect(run(spec(GOOD.replace('sample: [delta, delta_cross]', 'sample: [delta, nothing]')))).rejects.toThrow(/nothing.*(no rows|empty)/);
  });
  it('a variable of interest that is an expression, not a column', async () => {
    await expect(run(spec(GOOD.replace('demand: [log_outflow_sum, log_flow]', 'demand: [log_outflow_sum, log(flow + 1)]')))).rejects.toThrow(
      /field 'multiverse\.dimensions\.demand\.1': value "log\(flow \+ 1\)": expected a column of sample delta: .*not an expression \(make it one under derived:/,
    );
  });
  it('a permutation test with nothing it could permute, before any fit', async () => {
    const onlyCross = spec(GOOD.replace('sample: [delta, delta_cross]', 'sample: [delta_cross]'), '  curve_null: { reps: 5 }').replace('  sample: delta\n', '  sample: delta_cross\n');
    await expect(run(onlyCross)).rejects.toThrow(/field 'multiverse\.curve_null'.*no sample of the multiverse \(delta_cross\) is every pair of its cities/);
    await expect(run(spec(GOOD.replace('family: [logit, probit]', 'family: [poisson]'), '  curve_null: { reps: 5 }'))).rejects.toThrow(/field 'multiverse\.curve_null'.*refits logit and probit specifications, and this multiverse has poisson/);
  });
  it('more specifications than the limit, and an interest that is neither a dimension nor a term', async () => {
    await expect(run(spec(GOOD, '  limit: 10'))).rejects.toThrow(/field 'multiverse\.limit'.*the 32 specifications/);
    await expect(run(spec(GOOD).replace('interest: demand', 'interest: demnd'))).rejects.toThrow(/field 'multiverse\.interest'.*a dimension whose alternatives measure the variable of interest/);
  });
});
