/**
 * Worker half of the row loops that run on two cores (linalg/parallel.ts starts it): over a
 * range of rows of shared arrays, either X'WX (and X'Wz), or the linear predictor and a GLM
 * family's working values (glm.ts). It signals the main thread through the job's Int32Array
 * flag: 1 done, 2 failed. It lives in models/ because it runs kernels of both layers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { weightedCrossprod } from '../linalg/crossprod.ts';
import { linearPredictor } from '../linalg/dense.ts';
import type { CrossprodJob, RowsJob } from '../linalg/parallel.ts';
import { collectAfter } from '../util/gc.ts';
import { familyFromKey, workingValues, type Family, type FamilyKey } from './family.ts';

/** η = offset + Xβ, then μ, w, res and each row's deviance term (devRow) */
export interface WorkingJob extends RowsJob {
  kind: 'working';
  family: FamilyKey;
  X: Float64Array;
  p: number;
  beta: Float64Array;
  offset: Float64Array | null;
  y: Float64Array;
  pw: Float64Array | null;
  eta: Float64Array;
  mu: Float64Array;
  w: Float64Array;
  res: Float64Array;
  devRow: Float64Array;
}

const families = new Map<string, Family>();

function run(job: CrossprodJob | WorkingJob): void {
  const { from, to } = job;
  if (job.kind === 'crossprod') {
    const { X, w, z, p, out } = job;
    const xtwz = z ? new Float64Array(p) : null;
    const m = weightedCrossprod(X.subarray(from * p, to * p), to - from, p, w ? w.subarray(from, to) : null, z ? z.subarray(from, to) : null, xtwz);
    out.set(m, 0);
    if (xtwz) out.set(xtwz, p * p);
    return;
  }
  const key = JSON.stringify(job.family);
  let family = families.get(key);
  if (!family) families.set(key, (family = familyFromKey(job.family)));
  linearPredictor(job.X, to, job.p, job.beta, job.offset, job.eta, from);
  workingValues(family, job.eta, job.y, job.pw, job.mu, job.w, job.res, from, to, job.devRow);
}

parentPort!.on('message', (job: (CrossprodJob | WorkingJob) & { flag: Int32Array }) => {
  let state = 1;
  try {
    run(job);
  } catch {
    state = 2;
  }
  Atomics.store(job.flag, 0, state);
  Atomics.notify(job.flag, 0);
  // The job's arrays are shared with the main thread: this isolate's dead reference to them keeps
  // a design matrix (hundreds of MB at county scale) alive after the main thread has let it go,
  // and this small heap is seldom collected on its own. Collected once the handler has returned,
  // when this job's arrays are garbage here too.
  const rows = job.to - job.from;
  setImmediate(() => collectAfter(rows));
});

// tell the main thread, through shared memory, that jobs can come
const ready = (workerData as { ready: Int32Array }).ready;
Atomics.store(ready, 0, 1);
