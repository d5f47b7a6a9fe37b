/**
 * Row loops on both cores: the rows are split in two, a worker thread (models/rows-worker.ts)
 * computes the first half while the main thread computes the second, and the main thread
 * waits (Atomics.wait) for the worker, so the call stays synchronous. Used only for large n,
 * when the arrays live in SharedArrayBuffers and a worker could be started.
 *  - X'WX: the split point depends on n only, and without a worker the main thread computes the
 *    same two halves, so results are bit-for-bit the same either way.
 *  - Loops with a result per row (`onBothCores`; the GLM's working values): the caller sums
 *    whatever it needs in row order, so results do not depend on the split either.
 */
import type { Worker } from 'node:worker_threads';
import { startWorker, threadsAllowed } from '../util/workers.ts';
import { weightedCrossprod, type CrossprodArgs } from './crossprod.ts';

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
    // an entry point, not an import: it runs the GLM kernels of models/ as well as X'WX
    worker = startWorker('rows-worker', new URL('../models/rows-worker.ts', import.meta.url), import.meta.url, { ready });
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

/** How many jobs (cross products, working values) the worker thread has computed a half of. */
export const workerJobsDone = (): number => workerJobs;

/** Whether the worker has loaded and takes jobs (for tests and the benchmark). */
export function workerReady(): boolean {
  if (state === 'starting' && Atomics.load(ready, 0) === 1) state = 'ready';
  return state === 'ready';
}

/** A job for the rows worker: a kind its handler knows, rows from … to − 1, and its arrays (shared). */
export interface RowsJob {
  kind: string;
  from: number;
  to: number;
}

export interface CrossprodJob extends RowsJob {
  kind: 'crossprod';
  X: Float64Array;
  w: Float64Array | null;
  z: Float64Array | null;
  p: number;
  /** p*p matrix followed by p entries of X'Wz */
  out: Float64Array;
}

export const shared = (n: number): Float64Array => new Float64Array(new SharedArrayBuffer(n * 8));

/** A vector of n rows: in shared memory when there are enough rows for the row loops over it to run on two cores. */
export const rowVector = (n: number): Float64Array => (n >= PARALLEL_MIN_ROWS ? shared(n) : new Float64Array(n));

/**
 * Shared scratch vectors, lent for one computation and reused by the next. V8 does not count
 * SharedArrayBuffers towards the pressure that starts a collection, so dropped ones stay in
 * memory until something else does: fresh ones for every county-scale fit (a 4-million-row
 * vector is 32 MB) piled up to gigabytes. The pool keeps what was given back until
 * `dropIdleShared` (the models stage calls it when a large design is done with).
 */
const idle: SharedArrayBuffer[] = [];

/** A zeroed shared vector of `len` entries: an idle one of the pool (the smallest that fits) or a new one. */
export function borrowShared(len: number): Float64Array {
  let best = -1;
  for (let k = 0; k < idle.length; k++) {
    if (idle[k].byteLength >= len * 8 && (best < 0 || idle[k].byteLength < idle[best].byteLength)) best = k;
  }
  if (best < 0) return shared(len);
  const [buffer] = idle.splice(best, 1);
  return new Float64Array(buffer, 0, len).fill(0);
}

/** Empties the pool (its vectors become garbage, for the next collection). */
export function dropIdleShared(): void {
  idle.length = 0;
}

/** Gives vectors of `borrowShared` back to the pool (the caller keeps no reference to them). */
export function giveBack(vectors: Float64Array[]): void {
  for (const v of vectors) idle.push(v.buffer as SharedArrayBuffer);
}
const isShared = (a: Float64Array | null) => a === null || a.buffer instanceof SharedArrayBuffer;

export function parallelCrossprod(...args: CrossprodArgs): Float64Array {
  const [X, n, p, w, z = null, xtwz = null] = args;
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
    worker.postMessage({ kind: 'crossprod', X, w, z, p, from: 0, to: half, out, flag } satisfies CrossprodJob & { flag: Int32Array });
  }
  const mine = new Float64Array(p);
  const m = weightedCrossprod(X.subarray(half * p, n * p), n - half, p, w ? w.subarray(half, n) : null, z ? z.subarray(half, n) : null, z ? mine : null);
  if (flag) waitFor(flag);
  else out = first();
  for (let q = 0; q < p * p; q++) m[q] += out![q];
  if (xtwz) for (let a = 0; a < p; a++) xtwz[a] += out![p * p + a] + mine[a];
  return m;
}

/** Blocks until the worker has done its half (flag 1); an internal error when it failed or did not answer. */
function waitFor(flag: Int32Array): void {
  if (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out') throw new Error('internal: the rows worker did not answer');
  if (Atomics.load(flag, 0) !== 1) throw new Error('internal: the rows worker failed on its half of the rows');
  workerJobs++;
}


/**
 * Rows `job.from` … `job.to` − 1 on the worker while the main thread runs `mine` (the other
 * rows), for loops whose results are per row. False, with nothing run, when n is small, an
 * array is not in shared memory or the worker is not ready: the caller then runs all rows itself.
 */
export function onBothCores<J extends RowsJob>(n: number, job: J, arrays: (Float64Array | null)[], mine: () => void): boolean {
  if (n < PARALLEL_MIN_ROWS || !arrays.every(isShared)) return false;
  warmUpWorker();
  if (state === 'starting' && Atomics.load(ready, 0) === 1) state = 'ready';
  if (state !== 'ready' || !worker) return false;
  const flag = new Int32Array(new SharedArrayBuffer(4));
  worker.postMessage({ ...job, flag });
  try {
    mine();
  } finally {
    // even when the main thread's half failed: the caller may reuse the arrays the worker writes
    waitFor(flag);
  }
  return true;
}
