/**
 * The specification curve's permutation null (inference/curve-null.ts) against R
 * (tests/fixtures/curve-null/: curve_null.R on 60 simulated cities, 1,770 pairs, 8
 * specifications): under each of four given permutations of the cities (the identity and three
 * random ones) every specification's refit with its permuted residual gives R's AME per SD and its
 * dyadic and two-way clustered SEs; and the whole test — the identity check, seeded draws on one
 * or two threads, p-values counted from the draws — behaves as documented.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { takeRows } from '../src/data/table.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { averageMarginalEffects } from '../src/inference/effects.ts';
import { curveNull, curveNullWorkerDraws, prepareCurveNull, type CurveRow } from '../src/inference/curve-null.ts';
import { curveScratch, statisticsUnderPermutation } from '../src/inference/curve-null-kernel.ts';
import { pValue } from '../src/inference/wald.ts';
import { dyadTableDefaults, type VcovType } from '../src/vcov/registry.ts';
import { expectClose } from './helpers.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'curve-null');
const ref = JSON.parse(readFileSync(join(DIR, 'curve_null.json'), 'utf8'));
const pairs = readCsvTable(join(DIR, 'curve_null_pairs.csv'), new Set(['i', 'j']));
const samples = new Map([['pairs', pairs]]);
const VCOVS: VcovType[] = ['dyadic', 'cluster2'];

/** The multiverse's rows for the fixture's 8 specifications (fitted here as the multiverse fits them). */
function rowsOf(): CurveRow[] {
  const rows: CurveRow[] = [];
  for (const s of ref.specifications) {
    for (const vcov of VCOVS) {
      const fit = fitModel(pairs, { formula: s.formula, family: s.family, vcov, ...dyadTableDefaults(vcov) });
      const ame = averageMarginalEffects(fit, { only: [s.interest] })[0];
      rows.push({ spec: s.spec + 1, sample: 'pairs', family: s.family, vcov, formula: s.formula, interest: s.interest, estimate: ame.estimate! * s.sd_x, p_value: ame.p_value, sd: s.sd_x, skipped: null });
    }
  }
  return rows;
}
const rows = rowsOf();

describe('refits under given permutations equal R on the permuted data', () => {
  const { job, specs } = prepareCurveNull(samples, rows, 1);
  // the job's cities in its own order (the network's codes), to translate R's permutations
  const cities: string[] = [];
  const net = job.networks[0];
  const iCol = pairs.columns.get('i')!;
  const jCol = pairs.columns.get('j')!;
  const text = (c: typeof iCol, r: number) => (c.kind === 'number' ? String(c.values[r]) : c.levels[c.codes[r]]);
  for (let r = 0; r < pairs.nrow; r++) {
    cities[net.a[r]] = text(iCol, r);
    cities[net.b[r]] = text(jCol, r);
  }
  const ids: string[] = Array.from({ length: 60 }, (_, k) => `C${String(k + 1).padStart(2, '0')}`);
  it('every specification is in the test', () => {
    expect(specs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(job.vcovs).toEqual(VCOVS);
  });
  ref.permutations.forEach((perm: string[], t: number) => {
    it(`permutation ${t}${t === 0 ? ' (identity)' : ''}`, () => {
      // R: entry k of perm is π(C_k); ours: perm[c] = π(c) in the job's city codes
      const image = new Map(ids.map((c, k) => [c, perm[k]]));
      const code = new Map(cities.map((c, k) => [c, k]));
      const p = Int32Array.from(cities, (c) => code.get(image.get(c)!)!);
      const out = { estimate: new Float64Array(8), se: new Float64Array(16) };
      statisticsUnderPermutation(job, p, curveScratch(job), out);
      for (let s = 0; s < 8; s++) {
        const r = ref.results[8 * t + s];
        expect(r.permutation).toBe(t);
        expectClose(out.estimate[s], r.estimate, 1e-6, 0, `${r.label}: estimate`);
        expectClose(out.se[2 * s], r.se_dyadic, 1e-5, 0, `${r.label}: dyadic SE`);
        expectClose(out.se[2 * s + 1], r.se_cluster2, 1e-5, 0, `${r.label}: two-way SE`);
        expectClose(pValue(out.estimate[s] / out.se[2 * s], null), r.p_dyadic, 1e-5, 1e-300, `${r.label}: dyadic p`);
      }
    });
  });
  it("the multiverse's rows (fitted the usual way) are R's AMEs of the original models", () => {
    for (let s = 0; s < 8; s++) {
      expectClose(rows[2 * s].estimate, ref.original[s].estimate, 1e-6, 0, `spec ${s}`);
      expectClose(rows[2 * s].p_value, ref.original[s].p_dyadic, 1e-5, 1e-300, `spec ${s} dyadic p`);
      expectClose(rows[2 * s + 1].p_value, ref.original[s].p_cluster2, 1e-5, 1e-300, `spec ${s} two-way p`);
    }
  });
});

describe('the whole test', () => {
  it('is seeded: one thread and two give the same draws; p-values count the draws', async () => {
    const before = curveNullWorkerDraws();
    const two = await curveNull(samples, rows, { reps: 9, seed: 7, threads: 2 });
    expect(curveNullWorkerDraws() - before).toBe(10); // the identity and 9 draws ran on worker threads
    process.env.TONGBAN_THREADS = '1';
    try {
      const one = await curveNull(samples, rows, { reps: 9, seed: 7 });
      expect(one.draws).toEqual(two.draws);
      expect(one.median).toEqual(two.median);
    } finally {
      delete process.env.TONGBAN_THREADS;
    }
    const obs = two.median.observed;
    const asExtreme = two.draws.filter((d) => Math.abs(d.median) >= Math.abs(obs) * (1 - 1e-9)).length;
    expect(two.median.p_value).toBe((1 + asExtreme) / 10);
    two.share_significant.forEach((s, v) => {
      const n = two.draws.filter((d) => d.shares[v] >= s.observed - 1e-9).length;
      expect(s.p_value).toBe((1 + n) / 10);
    });
    // the observed median is the median of the 8 AMEs; every specification is significant and positive
    const est = rows.filter((r) => r.vcov === 'dyadic').map((r) => r.estimate!).sort((a, b) => a - b);
    expectClose(obs, (est[3] + est[4]) / 2, 1e-12, 0, 'median');
    expect(two.share_significant.map((s) => s.observed)).toEqual([1, 1]);
    expect(two.direction).toBe(1);
    // a different seed, different draws
    const other = await curveNull(samples, rows, { reps: 9, seed: 8, threads: 2 });
    expect(other.draws).not.toEqual(two.draws);
  });

  it('leaves out what it cannot permute, saying why', async () => {
    // a sample that is not every pair of its cities: the first 1,000 rows
    const cut = new Map([
      ['pairs', pairs],
      ['partial', takeRows(pairs, Int32Array.from({ length: 1000 }, (_, r) => r))],
    ]);
    const extra = rows.slice(0, 2).map((r) => ({ ...r, spec: 9, sample: 'partial' }));
    const skipped: CurveRow = { ...rows[0], spec: 10, estimate: null, p_value: null, skipped: "'x' constant" };
    const { specs, leftOut } = prepareCurveNull(cut, [...rows, ...extra, skipped], 1);
    expect(specs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(leftOut.map((l) => l.spec)).toEqual([9, 10]);
    expect(leftOut[0].reason).toMatch(/sample partial cannot be permuted: .*not all 1770/);
    expect(leftOut[1].reason).toMatch(/not fitted/);
  });
});
