import { describe, expect, it } from 'vitest';
import { parallelCrossprod, PARALLEL_MIN_ROWS, shared, warmUpWorker, workerReady } from '../src/linalg/parallel.ts';
import { weightedCrossprod } from '../src/linalg/crossprod.ts';
import { Rng } from '../src/util/random.ts';

describe('parallel cross product', () => {
  it('gives the same bits with and without the worker thread, and X\'WX to 1e-13', async () => {
    const n = PARALLEL_MIN_ROWS + 1001;
    const p = 5;
    const rng = new Rng(3);
    const X = shared(n * p).map(() => rng.normal());
    const w = shared(n).map(() => rng.uniform());
    const z = shared(n).map(() => rng.normal());
    warmUpWorker();
    const g1 = new Float64Array(p);
    const before = parallelCrossprod(X, n, p, w, z, g1); // the worker is still loading: main thread does both halves
    for (let k = 0; k < 200 && !workerReady(); k++) await new Promise((r) => setTimeout(r, 50));
    expect(workerReady()).toBe(true);
    const g2 = new Float64Array(p);
    const after = parallelCrossprod(X, n, p, w, z, g2);
    expect(Array.from(after)).toEqual(Array.from(before));
    expect(Array.from(g2)).toEqual(Array.from(g1));
    const g3 = new Float64Array(p);
    const ref = weightedCrossprod(X, n, p, w, z, g3);
    ref.forEach((v, q) => expect(Math.abs(after[q] - v)).toBeLessThanOrEqual(1e-13 * Math.abs(v) + 1e-9));
    g3.forEach((v, q) => expect(Math.abs(g2[q] - v)).toBeLessThanOrEqual(1e-13 * Math.abs(v) + 1e-9));
  });
});
