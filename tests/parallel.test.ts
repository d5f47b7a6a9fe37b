import { describe, expect, it } from 'vitest';
import { onBothCores, parallelCrossprod, PARALLEL_MIN_ROWS, shared, warmUpWorker, workerJobsDone, workerReady } from '../src/linalg/parallel.ts';
import { binomial, links, negbin, poisson, type Family } from '../src/models/family.ts';
import { fitGlm } from '../src/models/glm.ts';
import { fitFirth } from '../src/models/binary.ts';
import { weightedCrossprod } from '../src/linalg/crossprod.ts';
import { Rng } from '../src/util/random.ts';

describe('parallel cross product', () => {
  it('gives the same bits with and without the worker thread, and X\'WX to 1e-13', async () => {
    const n = PARALLEL_MIN_ROWS + 1001;
    const p = 5;
    const rng = new Rng(3);
    // filled in place: TypedArray.map would return a copy in ordinary (unshared) memory
    const fill = (a: Float64Array, f: () => number) => {
      for (let k = 0; k < a.length; k++) a[k] = f();
      return a;
    };
    const X = fill(shared(n * p), () => rng.normal());
    const w = fill(shared(n), () => rng.uniform());
    const z = fill(shared(n), () => rng.normal());
    expect(X.buffer).toBeInstanceOf(SharedArrayBuffer);
    warmUpWorker();
    const g1 = new Float64Array(p);
    const jobs0 = workerJobsDone();
    const before = parallelCrossprod(X, n, p, w, z, g1); // the worker is still loading: main thread does both halves
    expect(workerJobsDone()).toBe(jobs0);
    for (let k = 0; k < 200 && !workerReady(); k++) await new Promise((r) => setTimeout(r, 50));
    expect(workerReady()).toBe(true);
    const g2 = new Float64Array(p);
    const after = parallelCrossprod(X, n, p, w, z, g2);
    expect(workerJobsDone()).toBe(jobs0 + 1); // the worker computed the first half
    expect(Array.from(after)).toEqual(Array.from(before));
    expect(Array.from(g2)).toEqual(Array.from(g1));
    const g3 = new Float64Array(p);
    const ref = weightedCrossprod(X, n, p, w, z, g3);
    ref.forEach((v, q) => expect(Math.abs(after[q] - v)).toBeLessThanOrEqual(1e-13 * Math.abs(v) + 1e-9));
    g3.forEach((v, q) => expect(Math.abs(g2[q] - v)).toBeLessThanOrEqual(1e-13 * Math.abs(v) + 1e-9));
  });
});

describe('GLM working values on two cores', () => {
  const n = PARALLEL_MIN_ROWS + 777;
  const p = 4;
  const rng = new Rng(11);
  const fill = (a: Float64Array, f: (r: number) => number) => {
    for (let k = 0; k < a.length; k++) a[k] = f(k);
    return a;
  };
  const X = fill(shared(n * p), (k) => (k % p === 0 ? 1 : rng.normal()));
  const eta0 = Float64Array.from({ length: n }, (_, r) => -1 + 0.5 * X[r * p + 1] - 0.3 * X[r * p + 2] + 0.2 * X[r * p + 3]);
  const binary = fill(shared(n), (r) => (rng.uniform() < 1 / (1 + Math.exp(-eta0[r])) ? 1 : 0));
  const counts = fill(shared(n), (r) => Math.floor(-Math.log(rng.uniform()) * Math.exp(eta0[r] + 1)));
  const weights = fill(shared(n), () => 0.5 + rng.uniform());
  const offset = fill(shared(n), () => 0.1 * rng.normal());
  const cases: [string, Family, Float64Array][] = [
    ['logit', binomial(links.logit), binary],
    ['probit', binomial(links.probit), binary],
    ['cloglog', binomial(links.cloglog), binary],
    ['poisson', poisson(), counts],
    ['negbin', negbin(1.7), counts],
  ];
  it.each(cases)('%s: the same bits whether or not the worker takes half of the rows', async (_, family, y) => {
    warmUpWorker();
    for (let k = 0; k < 200 && !workerReady(); k++) await new Promise((r) => setTimeout(r, 50));
    expect(workerReady()).toBe(true);
    const inp = { X, n, p, y, offset, weights };
    // epsilon given: not the memoised default fit, so each call runs
    const jobs0 = workerJobsDone();
    const two = fitGlm(inp, family, { epsilon: 1e-10 });
    expect(workerJobsDone() - jobs0).toBeGreaterThanOrEqual(2 * two.iterations); // a cross product and a working-values pass per round
    // the same fit with inputs in ordinary memory runs every row loop on this thread
    const copy = { X: Float64Array.from(X), n, p, y: Float64Array.from(y), offset: Float64Array.from(offset), weights: Float64Array.from(weights) };
    const jobs1 = workerJobsDone();
    const one = fitGlm(copy, family, { epsilon: 1e-10 });
    expect(workerJobsDone()).toBe(jobs1);
    expect(two.converged).toBe(true);
    expect(two.iterations).toBe(one.iterations);
    for (const k of ['beta', 'eta', 'mu', 's', 'bread', 'observedInfo'] as const) expect(Array.from(two[k]), k).toEqual(Array.from(one[k]));
    expect(Object.is(two.deviance, one.deviance) && Object.is(two.loglik, one.loglik)).toBe(true);
  });
  it('a half the worker fails on is an internal error, not numbers', async () => {
    warmUpWorker();
    for (let k = 0; k < 200 && !workerReady(); k++) await new Promise((r) => setTimeout(r, 50));
    const a = () => shared(n);
    // no Poisson family has a logit link: the worker's rebuild of the family throws
    const job = { kind: 'working', family: { name: 'poisson', link: 'logit', theta: Infinity }, X, p, beta: new Float64Array(p), offset: null, y: counts, pw: null, eta: a(), mu: a(), w: a(), res: a(), devRow: a(), from: 0, to: n >> 1 };
    expect(() => onBothCores(n, job, [X], () => {})).toThrow(/rows worker failed/);
  });
});

describe("Firth's logit on two cores", () => {
  it('the same bits whether or not the worker takes half of the rows (state and score factors)', async () => {
    const n = PARALLEL_MIN_ROWS + 321;
    const p = 4;
    const rng = new Rng(5);
    const fill = (a: Float64Array, f: (r: number) => number) => {
      for (let k = 0; k < a.length; k++) a[k] = f(k);
      return a;
    };
    const X = fill(shared(n * p), (k) => (k % p === 0 ? 1 : rng.normal()));
    const y = fill(shared(n), (r) => (rng.uniform() < 1 / (1 + Math.exp(3 - X[r * p + 1])) ? 1 : 0));
    const weights = fill(shared(n), (r) => (r % 97 === 0 ? 0 : 0.5 + rng.uniform())); // rows of weight 0 left out of the likelihood
    const offset = fill(shared(n), () => 0.1 * rng.normal());
    warmUpWorker();
    for (let k = 0; k < 200 && !workerReady(); k++) await new Promise((r) => setTimeout(r, 50));
    expect(workerReady()).toBe(true);
    const jobs0 = workerJobsDone();
    const two = fitFirth({ X, n, p, y, offset, weights });
    expect(workerJobsDone() - jobs0).toBeGreaterThanOrEqual(3 * two.iterations); // state, score and X'WX halves
    const jobs1 = workerJobsDone();
    const one = fitFirth({ X: Float64Array.from(X), n, p, y: Float64Array.from(y), offset: Float64Array.from(offset), weights: Float64Array.from(weights) });
    expect(workerJobsDone()).toBe(jobs1);
    expect(two.converged).toBe(true);
    expect(two.iterations).toBe(one.iterations);
    expect(Array.from(two.beta)).toEqual(Array.from(one.beta));
    expect(Array.from(two.bread)).toEqual(Array.from(one.bread));
    expect(Array.from(two.mu)).toEqual(Array.from(one.mu));
    expect(Object.is(two.loglik, one.loglik)).toBe(true);
  });
});
