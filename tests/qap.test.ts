/**
 * QAP / MRQAP: the refusals, reproducibility (the same seed gives the same p-values with one
 * thread and with two), the p-value definition, and the CLI's JSON shape. The agreement with
 * R (exact refit statistics under given permutations, and sna::netlogit / netlm p-values within
 * Monte-Carlo error) is in qap-reference.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { filterRows, getNum } from '../src/data/table.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { qap, qapWorkerReplications } from '../src/inference/qap.ts';
import { permutation } from '../src/inference/qap-kernel.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { runYear } from '../src/stages/run-year.ts';
import { loadSpec } from '../src/specfile/load.ts';
import { runCli, tmp } from './helpers.ts';

const CSV = join(import.meta.dirname, 'fixtures', 'reference', 'sim_dyads_60.csv');
const dy = readCsvTable(CSV, new Set(['i', 'j']));
const F = 'coop ~ log_dist + same_province + gov_sum + fiscal_min';

describe('QAP', () => {
  it('gives the same p-values with one thread and with two (replication t depends only on the seed and t)', async () => {
    const fit = fitModel(dy, { formula: F, family: 'logit' });
    for (const nul of ['y', 'dsp'] as const) {
      const one = await qap(fit, { null: nul, reps: 40, seed: 7, dyad: ['i', 'j'], threads: 1 });
      const before = qapWorkerReplications();
      const two = await qap(fit, { null: nul, reps: 40, seed: 7, dyad: ['i', 'j'], threads: 2 });
      expect(qapWorkerReplications() - before).toBe(40); // the worker threads did run them
      expect(two).toEqual(one);
      const other = await qap(fit, { null: nul, reps: 40, seed: 8, dyad: ['i', 'j'], threads: 1 });
      expect(other.coefficients.map((c) => c.p_two_sided)).not.toEqual(one.coefficients.map((c) => c.p_two_sided));
    }
  });
  it('p-values count the observed value: (1 + #)/(1 + R), never 0; the DSP intercept has none', async () => {
    const fit = fitModel(dy, { formula: F, family: 'logit' });
    const r = await qap(fit, { null: 'dsp', reps: 19, seed: 1, dyad: ['i', 'j'], threads: 1 });
    expect(r.coefficients[0]).toMatchObject({ term: '(Intercept)', p_two_sided: null });
    for (const c of r.coefficients.slice(1)) {
      for (const p of [c.p_two_sided!, c.p_greater!, c.p_less!]) {
        expect(p).toBeGreaterThanOrEqual(1 / 20);
        expect(Number.isInteger(p * 20 + 1e-9) || Math.abs(p * 20 - Math.round(p * 20)) < 1e-9).toBe(true);
      }
      // one-sided shares add to 1 + (ties, here the observed value itself) / (R + 1)
      expect(c.p_greater! + c.p_less!).toBeCloseTo(1 + 1 / 20, 12);
    }
  });
  it('permutations are permutations, and differ between replications', () => {
    const a = permutation(60, 1, 0);
    const b = permutation(60, 1, 1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, k) => k));
    expect([...a]).not.toEqual([...b]);
    expect([...permutation(60, 1, 0)]).toEqual([...a]);
  });
  it('refuses samples that are not a whole network, and families it cannot refit', async () => {
    const pos = filterRows(dy, Uint8Array.from(getNum(dy, 'items'), (x) => +(x >= 1)));
    const fit = fitModel(pos, { formula: 'items ~ log_dist', family: 'poisson' });
    await expect(qap(fit, { null: 'y', reps: 10, seed: 1, dyad: ['i', 'j'] })).rejects.toThrow(/145 pairs among its \d+ cities, not all \d+ .*selected by a pair attribute/);
    const hurdle = fitModel(dy, { formula: 'items ~ log_dist', family: 'hurdle-negbin' });
    await expect(qap(hurdle, { null: 'y', reps: 10, seed: 1, dyad: ['i', 'j'] })).rejects.toThrow(/QAP is available for logit, probit, ols, poisson, negbin .*not hurdle-negbin/);
    await expect(qap(fitModel(dy, { formula: F, family: 'logit' }), { null: 'y', reps: 0, seed: 1, dyad: ['i', 'j'] })).rejects.toThrow(/--reps 0/);
  });
  it('refuses a table whose model variables are missing for some pairs, with the count', async () => {
    const v = Float64Array.from(getNum(dy, 'gov_sum'));
    v[3] = NaN;
    v[10] = NaN;
    const t = { ...dy, columns: new Map(dy.columns).set('gov_sum', { kind: 'number' as const, values: v }) };
    await expect(qap(fitModel(t, { formula: F, family: 'logit' }), { null: 'dsp', reps: 10, seed: 1, dyad: ['i', 'j'] })).rejects.toThrow(/2 pairs have missing values/);
  });
  it('tongban qap --json: {fit, qap} with the documented fields', () => {
    const r = runCli(['qap', '--data', CSV, '--formula', F, '--family', 'logit', '--null', 'y', '--reps', '20', '--seed', '3', '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['fit', 'qap']);
    expect(j.fit.family).toBe('logit');
    expect(j.qap).toMatchObject({ null: 'y', statistic: 'z', reps: 20, seed: 3 });
    expect(Object.keys(j.qap.coefficients[1])).toEqual(['term', 'statistic', 'p_two_sided', 'p_greater', 'p_less']);
  });
});

describe('QAP in a spec run', () => {
  const ROOT = join(import.meta.dirname, '..');
  const spec = (sample: string, extra = '') =>
    [
      'name: qaptest',
      'language: en',
      'samples:',
      '  delta: { table: dyads, provinces: [上海, 江苏, 浙江, 安徽] }',
      '  delta_cross: { table: dyads, provinces: [上海, 江苏, 浙江, 安徽], subset: same_province == 0 }',
      'levels:',
      '  - id: partner',
      '    models:',
      '      - id: main',
      '        family: logit',
      `        sample: ${sample}`,
      '        outcome: coop',
      '        terms: [log_distance, log_flow, same_province]',
      '        vcov: dyadic',
      '        qap: { null: dsp, reps: 30, seed: 2 }',
      '      - id: probit',
      '        like: main',
      '        family: probit',
      extra,
    ].join('\n') + '\n';
  it('puts a "QAP p" line under each SE of the model that asks (not of the models like: it), with a note; the run record keeps it', async () => {
    const file = join(tmp(), 'qap.yaml');
    writeFileSync(file, spec('delta'));
    const out = tmp();
    const { outDir, record } = await runYear({ data: join(ROOT, 'data', 'demo'), year: 2021, out, spec: file });
    expect(Object.keys(record!.qap)).toEqual(['main']);
    expect(record!.qap.main).toMatchObject({ null: 'dsp', reps: 30, seed: 2 });
    const md = readFileSync(join(outDir, 'tables', 'partner.md'), 'utf8');
    const qapLines = md.split('\n').filter((l) => l.startsWith('| QAP p |'));
    expect(qapLines).toHaveLength(3); // one per covariate; the intercept has no DSP test
    for (const l of qapLines) expect(l).toMatch(/^\| QAP p \| \[0\.\d{3}\] \| {2}\|$/);
    expect(md).toMatch(/\(1\) QAP two-sided p-values in brackets \(double semi-partialling, DSP; 30 permutations of the city labels, seed 2/);
  });
  it('refuses a sample chosen by a pair attribute, naming the model', async () => {
    const file = join(tmp(), 'qap.yaml');
    writeFileSync(file, spec('delta_cross').replace('terms: [log_distance, log_flow, same_province]', 'terms: [log_distance, log_flow]'));
    await expect(runYear({ data: join(ROOT, 'data', 'demo'), year: 2021, out: tmp(), spec: file })).rejects.toThrow(/qap\.yaml:\d+ \(model main, qap\): QAP permutes whole networks: the sample has \d+ pairs among its \d+ cities/);
  });
  it('refuses a family QAP cannot refit when the spec is loaded', () => {
    const file = join(tmp(), 'qap.yaml');
    writeFileSync(file, spec('delta').replace('family: probit', 'family: firth-logit\n        qap: { null: y }'));
    expect(() => loadSpec(file)).toThrow(/qap.*a family QAP refits \(logit, probit, ols, poisson, negbin\), not firth-logit/s);
  });
  it('the book spec asks DSP permutations for its main partner-choice model only', () => {
    const loaded = loadSpec(join(ROOT, 'specs', 'book.yaml'));
    expect(loaded.models.filter((m) => m.qap).map((m) => [m.id, m.qap])).toEqual([['partner_main', { null: 'dsp', reps: 200, seed: 1, statistic: 'z' }]]);
  });
});
