/**
 * X'WX on both cores: the rows are split in two, a worker thread computes the first half
 * while the main thread computes the second, and the main thread waits (Atomics.wait) for
 * the worker, so the call stays synchronous. Used only for large n, when X, w and z live in
 * SharedArrayBuffers and a worker could be started; otherwise weightedCrossprod runs alone.
 * The split point depends on n only, and without a worker the main thread computes the
 * same two halves, so results are bit-for-bit the same either way.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker, threadsAllowed } from '../util/workers.ts';
import { weightedCrossprod } from './crossprod.ts';

/** Below this many rows a second thread is not worth its message round trip. */
export const PARALLEL_MIN_ROWS = 200_000;

let worker: Worker | null = null;
let state: 'untried' | 'starting' | 'ready' | 'off' = 'untried';
/** set to 1 by the worker once loaded (read synchronously: the main thread may not yield) */
const ready = new Int32Array(new SharedArrayBuffer(4));
/** jobs the worker has completed (for tests and the benchmark) */
let workerJobs = 0;

/** Starts the worker in the background (TONGBAN_THREADS=1 keeps everything on one thread). */
export function warmUpWorker(): void {
  if (state !== 'untried') return;
  if (!threadsAllowed()) {
    state = 'off';
    return;
  }
  state = 'starting';
  try {
    worker = startWorker('crossprod-worker', new URL('./crossprod-worker.ts', import.meta.url), import.meta.url, { ready });
    worker.unref();
    worker.on('error', () => {
      state = 'off';
      worker = null;
    });
  } catch {
    state = 'off';
    worker = null;
  }
}

/** How many cross products the worker thread has computed a half of. */
export const workerJobsDone = (): number => workerJobs;

/** Whether the worker has loaded and takes jobs (for tests and the benchmark). */
export function workerReady(): boolean {
  if (state === 'starting' && Atomics.load(ready, 0) === 1) state = 'ready';
  return state === 'ready';
}

export const shared = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(n * 8));
const isShared = (a: Float64Array | null) => a === null || a.buffer instanceof SharedArrayBuffer;

export function parallelCrossprod(
  X: Float64Array,
  n: number,
  p: number,
  w: Float64Array | null,
  z: Float64Array | null = null,
  xtwz: Float64Array | null = null,
): Float64Array {
  if (n < PARALLEL_MIN_ROWS) return weightedCrossprod(X, n, p, w, z, xtwz);
  warmUpWorker();
  if (state === 'starting' && Atomics.load(ready, 0) === 1) state = 'ready';
  // Always the same two halves, summed in the same order, whether or not the worker takes
  // the first: results do not depend on when the worker became ready.
  const half = n >> 1;
  const first = (): Float64Array => {
    const out = new Float64Array(p * p + p);
    const part = z ? new Float64Array(p) : null;
    out.set(weightedCrossprod(X.subarray(0, half * p), half, p, w ? w.subarray(0, half) : null, z ? z.subarray(0, half) : null, part), 0);
    if (part) out.set(part, p * p);
    return out;
  };
  let out: Float64Array | null = null;
  let flag: Int32Array | null = null;
  if (state === 'ready' && worker && isShared(X) && isShared(w) && isShared(z)) {
    out = shared(p * p + p);
    flag = new Int32Array(new SharedArrayBuffer(4));
    worker.postMessage({ X, w, z, p, from: 0, to: half, out, flag });
  }
  const mine = new Float64Array(p);
  const m = weightedCrossprod(X.subarray(half * p, n * p), n - half, p, w ? w.subarray(half, n) : null, z ? z.subarray(half, n) : null, z ? mine : null);
  if (flag) {
    if (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out') throw new Error('the cross-product worker did not answer');
    workerJobs++;
  } else out = first();
  for (let q = 0; q < p * p; q++) m[q] += out![q];
  if (xtwz) for (let a = 0; a < p; a++) xtwz[a] += out![p * p + a] + mine[a];
  return m;
}
