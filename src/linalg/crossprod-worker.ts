/**
 * Worker half of the parallel cross product (parallel.ts): computes X'WX (and X'Wz) over
 * a range of rows of shared arrays and signals the main thread through an Int32Array flag.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { weightedCrossprod } from './crossprod.ts';
import { collectAfter } from '../util/gc.ts';

export interface CrossprodJob {
  X: Float64Array;
  w: Float64Array | null;
  z: Float64Array | null;
  p: number;
  from: number;
  to: number;
  /** p*p matrix followed by p entries of X'Wz */
  out: Float64Array;
  flag: Int32Array;
}

parentPort!.on('message', (job: CrossprodJob) => {
  const { X, w, z, p, from, to, out, flag } = job;
  const xtwz = z ? new Float64Array(p) : null;
  const m = weightedCrossprod(X.subarray(from * p, to * p), to - from, p, w ? w.subarray(from, to) : null, z ? z.subarray(from, to) : null, xtwz);
  out.set(m, 0);
  if (xtwz) out.set(xtwz, p * p);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  // The job's arrays are shared with the main thread: this isolate's dead reference to them keeps
  // a design matrix (hundreds of MB at county scale) alive after the main thread has let it go,
  // and this small heap is seldom collected on its own.
  collectAfter(to - from);
});

// tell the main thread, through shared memory, that jobs can come
const ready = (workerData as { ready: Int32Array }).ready;
Atomics.store(ready, 0, 1);
