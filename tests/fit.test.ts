import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvTable } from '../src/data/csv.ts';
import { makeTable, numColumn, strColumn, filterRows, takeRows, type Column } from '../src/data/table.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { checkPsd, denseScores, intersect, pairCodes, pairOuter, PAIR_BLOCK, scalarTimesX } from '../src/vcov/vcov.ts';
import { weightedCrossprod } from '../src/linalg/crossprod.ts';
import { compileRestricted, subsetRows } from '../src/expr/restricted.ts';
import type { Table } from '../src/data/table.ts';

const subsetMask = async (t: Table, text: string) => subsetRows((await compileRestricted(text, '--subset')).evaluate(t));
import { Rng } from '../src/util/random.ts';
import { runCliNpm, runCli, expectClose } from './helpers.ts';


const F = join(import.meta.dirname, 'fixtures', 'reference');
const dy = readCsvTable(join(F, 'sim_dyads_60.csv'));
const X = 'log_flow + same_province + log_dist + strategy + gdp_absdiff + fiscal_min + gov_sum';

describe('ols', () => {
  const rng = new Rng(1);
  const n = 50;
  const x = Float64Array.from({ length: n }, () => rng.normal());
  const y = x.map((v) => 1 + 2 * v + rng.normal());
  const t = makeTable(n, [['x', numColumn(x)], ['y', numColumn(y)]]);
  it('matches the closed form of simple regression, with t statistics', () => {
    const fit = fitModel(t, { formula: 'y ~ x', family: 'ols' }).result;
    const mx = x.reduce((a, b) => a + b) / n;
    const my = y.reduce((a, b) => a + b) / n;
    let sxy = 0;
    let sxx = 0;
    for (let r = 0; r < n; r++) {
      sxy += (x[r] - mx) * (y[r] - my);
      sxx += (x[r] - mx) ** 2;
    }
    const b = sxy / sxx;
    const a = my - b * mx;
    let rss = 0;
    for (let r = 0; r < n; r++) rss += (y[r] - a - b * x[r]) ** 2;
    const s2 = rss / (n - 2);
    expectClose(fit.coefficients[1].estimate, b, 1e-12);
    expectClose(fit.coefficients[0].estimate, a, 1e-12);
    expectClose(fit.coefficients[1].std_error, Math.sqrt(s2 / sxx), 1e-12);
    expectClose(fit.coefficients[0].std_error, Math.sqrt(s2 * (1 / n + (mx * mx) / sxx)), 1e-12);
    expectClose(fit.deviance, rss, 1e-12);
    // R's logLik.lm: -n/2 (log(2π) + 1 - log n + log RSS), df = k + 1
    expectClose(fit.loglik, (-n / 2) * (Math.log(2 * Math.PI) + 1 - Math.log(n) + Math.log(rss)), 1e-12);
    expectClose(fit.aic, -2 * fit.loglik + 2 * 3, 1e-12);
    expect(fit.warnings).toEqual([]); // ml-regression agreed with the normal equations
    // t, not z: the p-value uses n - k degrees of freedom
    const stat = fit.coefficients[0].statistic!;
    expect(fit.coefficients[0].p_value).toBeGreaterThan(2 * (1 - 0.5 * (1 + erf(Math.abs(stat) / Math.SQRT2))));
  });
  it('HC1 for OLS uses n/(n-k) under both r and stata presets', () => {
    const r = fitModel(t, { formula: 'y ~ x', family: 'ols', vcov: 'HC1' }).result;
    const s = fitModel(t, { formula: 'y ~ x', family: 'ols', vcov: 'HC1', ssc: 'stata' }).result;
    expect(r.ssc_factor).toBeCloseTo(n / (n - 2), 14);
    expect(s.ssc_factor).toBeCloseTo(n / (n - 2), 14);
  });
});

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for equality; used only for an inequality above
  const t = 1 / (1 + 0.3275911 * x);
  return 1 - (((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t) * Math.exp(-x * x);
}

describe('fit errors and warnings', () => {
  it('rejects a non-0/1 outcome for binary families, listing rows', () => {
    expect(() => fitModel(dy, { formula: `items ~ ${X}`, family: 'logit' })).toThrow(/family logit needs a 0\/1 outcome, but 'items' has \d+ other values \(row \d+: \d+/);
  });
  it('rejects negative or fractional counts', () => {
    expect(() => fitModel(dy, { formula: `log_flow ~ same_province`, family: 'poisson' })).toThrow(/count outcome \(integers >= 0\)/);
  });
  it('rejects an unknown column', () => {
    expect(() => fitModel(dy, { formula: 'coop ~ nope', family: 'logit' })).toThrow(/unknown column 'nope'/);
    expect(() => fitModel(dy, { formula: 'coop ~ log_flow', family: 'logit', vcov: 'cluster', cluster: ['nope'] })).toThrow(/unknown column 'nope'/);
  });
  it('rejects an outcome without variation', () => {
    const pos = filterRows(dy, Uint8Array.from(dy.columns.get('coop')!.kind === 'number' ? (dy.columns.get('coop') as { values: Float64Array }).values : [], (v) => +(v === 1)));
    expect(() => fitModel(pos, { formula: 'coop ~ log_flow', family: 'logit' })).toThrow(/is 1 on every one of the 145 rows/);
    const zero = makeTable(3, [['y', numColumn(Float64Array.of(0, 0, 0))], ['x', numColumn(Float64Array.of(1, 2, 3))]]);
    expect(() => fitModel(zero, { formula: 'y ~ x', family: 'poisson' })).toThrow(/is 0 on every one of the 3 rows/);
  });
  it('asks for the columns a variance type needs', () => {
    expect(() => fitModel(dy, { formula: 'coop ~ log_flow', family: 'logit', vcov: 'dyadic' })).toThrow(/--dyad/);
    expect(() => fitModel(dy, { formula: 'coop ~ log_flow', family: 'logit', vcov: 'cluster2', cluster: ['i'] })).toThrow(/two --cluster columns/);
  });
  it('reports separation instead of hiding it', () => {
    const t = makeTable(6, [['y', numColumn(Float64Array.of(0, 0, 0, 1, 1, 1))], ['x', numColumn(Float64Array.of(1, 2, 3, 4, 5, 6))]]);
    const r = fitModel(t, { formula: 'y ~ x', family: 'logit' }).result;
    expect(r.warnings.join(' ')).toMatch(/numerically 0 or 1.*separation/);
  });
  it('reports the Poisson boundary of NB when there is no overdispersion', () => {
    // under-dispersed counts: theta runs off to infinity
    const y = Float64Array.from({ length: 40 }, (_, r) => 3 + (r % 2));
    const x = Float64Array.from({ length: 40 }, (_, r) => r % 5);
    const t = makeTable(40, [['y', numColumn(y)], ['x', numColumn(x)]]);
    const r = fitModel(t, { formula: 'y ~ x', family: 'negbin' }).result;
    expect(r.warnings.join(' ')).toMatch(/Poisson boundary/);
    expect(r.converged).toBe(false);
  });
  it('drops collinear columns with a null estimate and a warning', () => {
    const t = makeTable(6, [
      ['y', numColumn(Float64Array.of(0, 1, 0, 1, 1, 0))],
      ['x', numColumn(Float64Array.of(1, 2, 3, 4, 5, 7))],
      ['x2', numColumn(Float64Array.of(2, 4, 6, 8, 10, 14))],
    ]);
    const r = fitModel(t, { formula: 'y ~ x + x2', family: 'logit' }).result;
    expect(r.coefficients[2]).toEqual({ term: 'x2', estimate: null, std_error: null, statistic: null, p_value: null, conf_low: null, conf_high: null });
    expect(r.warnings[0]).toMatch(/collinear column dropped.*x2/);
    expect(r.df_residual).toBe(4);
  });
});

describe('positive semi-definiteness of multi-way variances', () => {
  const V = Float64Array.of(1, 2, 2, 1); // eigenvalues 3 and -1
  it('is reported with the smallest eigenvalue', () => {
    const res = checkPsd(V, 2, false, 'two-way cluster');
    expect(res.V).toBe(V);
    expect(res.warnings[0]).toMatch(/not positive semi-definite: smallest eigenvalue -1\.00000/);
  });
  it('is repaired only on request', () => {
    const res = checkPsd(V, 2, true, 'two-way cluster');
    // projection on the positive eigenvector (1,1)/√2 with eigenvalue 3: 1.5 everywhere
    Array.from(res.V).forEach((v) => expect(v).toBeCloseTo(1.5, 12));
    expect(res.warnings[0]).toMatch(/repaired on request/);
  });
});

describe('too few rows', () => {
  it('refuses a model with no more rows than coefficients (its variance would be Infinity or NaN)', () => {
    const t = makeTable(2, [
      ['y', numColumn(Float64Array.of(1, 2))],
      ['x', numColumn(Float64Array.of(0.5, 3))],
    ]);
    expect(() => fitModel(t, { formula: 'y ~ x', family: 'ols' })).toThrow(/2 rows are used, no more than the model's coefficients/);
  });
});

describe('restricted expressions (--subset, derived variables)', () => {
  const t = makeTable(4, [
    ['a', numColumn(Float64Array.of(1, 2, NaN, 4))],
    ['p', strColumn(['广东', '广西', '广东', null])],
    ['q', strColumn(['广东', '广东', '广西', '广西'])],
  ]);
  it('evaluates arithmetic, comparisons, logic and text equality; missing is false', async () => {
    expect(Array.from(await subsetMask(t, 'a > 1 and log(a) < 1.3'))).toEqual([0, 1, 0, 0]);
    expect(Array.from(await subsetMask(t, 'p != q'))).toEqual([0, 1, 1, 0]);
    expect(Array.from(await subsetMask(t, 'p == "广东" or a == 4'))).toEqual([1, 0, 1, 1]);
    expect(Array.from((await compileRestricted('a ^ 2 + max(a, 3)')).evaluate(t))).toEqual([4, 7, NaN, 20]);
  });
  it('refuses anything beyond arithmetic and mathematical functions', async () => {
    await expect(compileRestricted('a = 2')).rejects.toThrow(/assignment expressions are not allowed/);
    await expect(compileRestricted('f(x) = 2')).rejects.toThrow(/not allowed/);
    await expect(compileRestricted('import("fs")')).rejects.toThrow(/function 'import\(\)' is not allowed/);
    await expect(compileRestricted('[1, 2]')).rejects.toThrow(/array expressions are not allowed/);
    await expect(compileRestricted('a[1]')).rejects.toThrow(/not allowed/);
    await expect(compileRestricted('evaluate("1")')).rejects.toThrow(/function 'evaluate\(\)' is not allowed/);
  });
  it('names an unknown column', async () => {
    await expect(subsetMask(t, 'b > 1')).rejects.toThrow(/unknown column 'b'/);
  });
  it("follows mathjs's precedence: ^ above unary minus, not above comparisons, and above xor above or", async () => {
    const v = async (e: string) => Array.from((await compileRestricted(e)).evaluate(t));
    expect(await v('-2 ^ 2')).toEqual([-4, -4, -4, -4]);
    expect(await v('2 ^ -1 + 2 ^ 3 ^ 2')).toEqual([512.5, 512.5, 512.5, 512.5]); // ^ is right-associative
    expect(await v('not a == 0')).toEqual([1, 1, NaN, 1]); // (not a) == 0
    expect(await v('7 mod 3 + 7 % 4 - 1 - 1')).toEqual([2, 2, 2, 2]); // left to right
    expect(await v('a > 1 ? a * 10 : -a')).toEqual([-1, 20, NaN, 40]);
    expect(await v('true or false and false')).toEqual([1, 1, 1, 1]);
    expect(await v('1 xor 1 or 1')).toEqual([1, 1, 1, 1]);
    expect(await v("p == '广东' and .5e1 == 5")).toEqual([1, 0, 1, NaN]);
  });
  it('refuses constructs it does not support, and names them', async () => {
    await expect(compileRestricted('2a')).rejects.toThrow(/implicit multiplication is not allowed/);
    await expect(compileRestricted('1 < a < 3')).rejects.toThrow(/chained comparisons/);
    await expect(compileRestricted('"open')).rejects.toThrow(/no closing "/);
    await expect(compileRestricted('!a')).rejects.toThrow(/write not/);
    await expect(compileRestricted('a.b')).rejects.toThrow(/property access is not allowed/);
    await expect(compileRestricted('constructor(a)')).rejects.toThrow(/function 'constructor\(\)' is not allowed/);
    await expect(compileRestricted('log()')).rejects.toThrow(/log\(\) takes 1 or 2 arguments/);
    await expect(compileRestricted('(((((a)))')).rejects.toThrow(/expected '\)'/);
    await expect(compileRestricted('('.repeat(300) + 'a' + ')'.repeat(300))).rejects.toThrow(/nested more than 200 levels/);
  });
  it('refuses an expression whose value is text (a quoting slip), instead of using it as a mask', async () => {
    await expect(subsetMask(t, "'coop == 1'")).rejects.toThrow(/gives text \("coop == 1"\).*quoted by mistake/);
    await expect(subsetMask(t, 'p')).rejects.toThrow(/gives text \(a text column\)/);
  });
});

describe('tongban fit on the command line', () => {
  it('prints the contract §5 JSON that matches R (logit, dyadic variance), run as a user would', () => {
    const ref = JSON.parse(readFileSync(join(F, 'sim_60.json'), 'utf8')).logit;
    const r = runCliNpm(['fit', '--data', join(F, 'sim_dyads_60.csv'), '--formula', `coop ~ ${X}`, '--family', 'logit', '--vcov', 'dyadic', '--dyad', 'i,j', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const fit = JSON.parse(r.stdout);
    expect(Object.keys(fit)).toEqual([
      'schema_version', 'family', 'link', 'formula', 'n', 'df_residual', 'converged', 'iterations', 'vcov_type', 'ssc', 'ssc_factor', 'clusters',
      'n_dropped', 'warnings', 'coefficients', 'loglik', 'aic', 'bic', 'deviance', 'null_deviance', 'theta', 'theta_se', 'alpha', 'parts', 'auc', 'pr_auc', 'loglik_null_constant',
    ]);
    expect(Object.keys(fit.coefficients[0])).toEqual(['term', 'estimate', 'std_error', 'statistic', 'p_value', 'conf_low', 'conf_high']);
    fit.coefficients.forEach((c: { estimate: number; std_error: number }, k: number) => {
      expectClose(c.estimate, ref.coefficients[k], 1e-6);
      expectClose(c.std_error, ref.variance.dyadic.se[k], 1e-5);
    });
    expect(fit.vcov_type).toBe('dyadic');
    expect(fit.ssc).toBe('none');
    expect(fit.theta).toBeNull();
    expectClose(fit.loglik, ref.loglik, 0, 1e-8);
  });
  it('applies --subset and prints a readable table', () => {
    const r = runCli(['fit', '--data', join(F, 'sim_dyads_60.csv'), '--formula', 'items ~ log_flow + strategy', '--family', 'negbin', '--subset', 'items > 0', '--vcov', 'HC1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Observations: 145/);
    expect(r.stdout).toMatch(/\(Intercept\)\s+-?\d+\.\d{4}\s+\d+\.\d{4}/);
    expect(r.stdout).toMatch(/theta: /);
  });
  it('exits 2 with a clear message on a bad option', () => {
    const r = runCli(['fit', '--data', join(F, 'sim_dyads_60.csv'), '--formula', 'coop ~ log_flow', '--family', 'logit', '--subset', 'items = 3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--subset 'items = 3': assignment expressions are not allowed/);
  });
});

describe('prior weights and offsets', () => {
  const ct = readCsvTable(join(F, 'sim_cities_60.csv'));
  const DEG = 'degree ~ log_outflow + fiscal_ratio + log_gdp';
  it('integer weights equal duplicated rows (poisson, logit, negbin)', () => {
    const n = ct.nrow;
    const w = Float64Array.from({ length: n }, (_, r) => 1 + (r % 3));
    const weighted = makeTable(n, ct.names.map((name) => [name, ct.columns.get(name)!] as [string, Column]).concat([['w', numColumn(w)]]));
    const idx: number[] = [];
    for (let r = 0; r < n; r++) for (let k = 0; k < w[r]; k++) idx.push(r);
    const dup = takeRows(ct, Int32Array.from(idx));
    for (const [family, formula] of [['poisson', DEG], ['negbin', DEG], ['logit', 'I(degree > 4) ~ log_outflow + log_gdp']] as const) {
      const a = fitModel(weighted, { formula, family, weights: 'w' }).result;
      const b = fitModel(dup, { formula, family }).result;
      a.coefficients.forEach((c, k) => {
        expectClose(c.estimate, b.coefficients[k].estimate!, 1e-8, 1e-10, `${family} ${c.term}`);
        expectClose(c.std_error, b.coefficients[k].std_error!, 1e-7, 0, `${family} SE ${c.term}`);
      });
      expectClose(a.loglik, b.loglik, 1e-10, 0, `${family} loglik`);
    }
  });
  it('an offset of a constant shifts only the intercept', () => {
    const withOff = makeTable(ct.nrow, ct.names.map((name) => [name, ct.columns.get(name)!] as [string, Column]).concat([['e', numColumn(new Float64Array(ct.nrow).fill(Math.E ** 2))]]));
    const a = fitModel(withOff, { formula: `${DEG} + offset(log(e))`, family: 'poisson' }).result;
    const b = fitModel(ct, { formula: DEG, family: 'poisson' }).result;
    expectClose(a.coefficients[0].estimate, b.coefficients[0].estimate! - 2, 1e-9);
    expectClose(a.coefficients[1].estimate, b.coefficients[1].estimate!, 1e-9);
    expectClose(a.loglik, b.loglik, 1e-10);
  });
});

describe('two-way cluster intersection', () => {
  it('gives one code per distinct (a, b) pair', () => {
    const a = { name: 'a', codes: Int32Array.of(0, 1, 0, 2, 1, 0), G: 3 };
    const b = { name: 'b', codes: Int32Array.of(1, 1, 1, 0, 0, 0), G: 2 };
    const x = intersect(a, b);
    expect(x.G).toBe(5);
    expect(x.name).toBe('a:b');
    expect(x.codes[0]).toBe(x.codes[2]); // (0,1) twice
    expect(new Set(x.codes).size).toBe(5);
  });
});

describe('FitCache', () => {
  it('keeps a design and each of its estimates only until the last model announced for them', async () => {
    const { FitCache } = await import('../src/fit/fit-model.ts');
    const n = 50;
    const t = makeTable(n, [
      ['y', numColumn(Float64Array.from({ length: n }, (_, r) => r % 3 === 0 ? 1 : 0))],
      ['x', numColumn(Float64Array.from({ length: n }, (_, r) => r / n))],
    ]);
    const cache = new FitCache();
    cache.expect(t, 'y ~ x', undefined, [], 'logit');
    cache.expect(t, 'y ~ x', undefined, [], 'logit');
    cache.expect(t, 'y ~ x', undefined, [], 'probit');
    const d1 = cache.design(t, 'y ~ x', undefined, []);
    let made = 0;
    const make = () => ({ made: ++made }) as never;
    const e1 = cache.estimate(d1, 'logit', make);
    const d2 = cache.design(t, 'y ~ x', undefined, []);
    expect(d2).toBe(d1); // two uses left after the first
    expect(cache.estimate(d2, 'logit', make)).toBe(e1); // the second logit reuses it
    expect(made).toBe(1);
    cache.estimate(d2, 'probit', make);
    expect(made).toBe(2);
    const d3 = cache.design(t, 'y ~ x', undefined, []);
    expect(d3).toBe(d1); // the probit model's design: its last use, then dropped
    // every announced use is spent: nothing is kept for a later, unannounced model
    expect(cache.estimate(d3, 'logit', make)).not.toBe(e1);
    expect(cache.design(t, 'y ~ x', undefined, [])).not.toBe(d1);
  });

  it('gives a model with fewer id columns the design of one with more when the others miss no value (same rows), and not otherwise', async () => {
    const { FitCache } = await import('../src/fit/fit-model.ts');
    const { strColumn } = await import('../src/data/table.ts');
    const n = 40;
    const t = makeTable(n, [
      ['y', numColumn(Float64Array.from({ length: n }, (_, r) => (r % 3 === 0 ? 1 : 0)))],
      ['x', numColumn(Float64Array.from({ length: n }, (_, r) => r / n))],
      ['i', strColumn(Array.from({ length: n }, (_, r) => `c${r % 7}`))],
      ['j', strColumn(Array.from({ length: n }, (_, r) => `c${(r % 5) + 7}`))],
      ['g', strColumn(Array.from({ length: n }, (_, r) => (r === 3 ? null : `g${r % 4}`)))], // one missing id
    ]);
    const cache = new FitCache();
    cache.expect(t, 'y ~ x', undefined, ['i', 'j'], 'logit'); // the main model, dyadic SEs
    cache.expect(t, 'y ~ x', undefined, [], 'firth-logit'); // a column with classical SEs
    cache.expect(t, 'y ~ x', undefined, ['i', 'j'], 'logit'); // two-way clustered, later
    cache.expect(t, 'y ~ x', undefined, ['i', 'j', 'g'], 'logit');
    cache.expect(t, 'y ~ x', undefined, ['g'], 'logit');
    const main = cache.design(t, 'y ~ x', undefined, ['i', 'j']);
    let made = 0;
    const make = () => ({ made: ++made }) as never;
    const logit = cache.estimate(main, 'logit', make);
    const firth = cache.design(t, 'y ~ x', undefined, []);
    expect(firth).toBe(main);
    cache.estimate(firth, 'firth-logit', make);
    // the announced logit use of the main design is still there for the two-way column
    expect(cache.estimate(cache.design(t, 'y ~ x', undefined, ['i', 'j']), 'logit', make)).toBe(logit);
    expect(made).toBe(2);
    // g misses a value: a design that requires it has fewer rows; one without g cannot stand for it
    const withG = cache.design(t, 'y ~ x', undefined, ['i', 'j', 'g']);
    expect(withG).not.toBe(main);
    expect(withG.n).toBe(n - 1);
    const onlyG = cache.design(t, 'y ~ x', undefined, ['g']);
    expect(onlyG.n).toBe(n - 1);
    expect(main.n).toBe(n);
  });
});

describe('the dyadic meat of a pair-year table, a block of pairs at a time', () => {
  it("gives the bits of the sum over every pair's score sum at once, across blocks and ragged pairs", () => {
    const rng = new Rng(3);
    const G = 402; // 80,601 pairs: several blocks, the last one not a multiple of four
    const i: number[] = [];
    const j: number[] = [];
    for (let year = 0; year < 3; year++) {
      for (let a = 0; a < G; a++) {
        for (let b = a + 1; b < G; b++) {
          if (year > 0 && rng.uniform() < 0.3) continue; // a pair leaves the risk set
          i.push(rng.uniform() < 0.5 ? a : b);
          j.push(i[i.length - 1] === a ? b : a);
        }
      }
    }
    const n = i.length;
    const pairs = pairCodes(Int32Array.from(i), Int32Array.from(j), G);
    expect(pairs.P).toBeGreaterThan(4 * PAIR_BLOCK);
    expect(pairs.P % 4).not.toBe(0);
    const k = 5;
    const X = Float64Array.from({ length: n * k }, () => rng.normal() * 10 ** rng.int(4));
    const s = Float64Array.from({ length: n }, () => (rng.uniform() < 0.01 ? -0 : rng.normal()));
    for (const scores of [scalarTimesX(X, k, s), denseScores(X, n, k)]) {
      // every pair's score sum (rows in order), then one pass of the kernel
      const U = new Float64Array(pairs.P * k);
      const u = new Float64Array(k);
      for (let r = 0; r < n; r++) {
        scores.row(r, u);
        for (let a = 0; a < k; a++) U[pairs.codes[r] * k + a] += u[a];
      }
      const want = weightedCrossprod(U, pairs.P, k, null);
      const got = pairOuter(scores, pairs);
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });
});
