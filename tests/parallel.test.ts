import { describe, expect, it } from 'vitest';
import { parallelCrossprod, PARALLEL_MIN_ROWS, shared, warmUpWorker, workerJobsDone, workerReady } from '../src/linalg/parallel.ts';
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
