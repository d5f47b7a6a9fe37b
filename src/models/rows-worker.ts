/**
 * Worker half of the row loops that run on two cores (linalg/parallel.ts starts it): over a
 * range of rows of shared arrays: X'WX (and X'Wz); the linear predictor and a GLM family's
 * working values (glm.ts); Firth's per-row state and score factors (binary.ts). It signals the main thread through the job's Int32Array
 * flag: 1 done, 2 failed. It lives in models/ because it runs kernels of both layers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { weightedCrossprod } from '../linalg/crossprod.ts';
import { linearPredictor } from '../linalg/dense.ts';
import type { CrossprodJob } from '../linalg/parallel.ts';
import type { FirthScoreJob, FirthStateJob, WorkingJob } from './rows-jobs.ts';
import { collectAfter } from '../util/gc.ts';
import { familyFromKey, workingValues, type Family } from './family.ts';
import { firthScoreRows, firthStateRows } from './binary.ts';

type Job = CrossprodJob | WorkingJob | FirthStateJob | FirthScoreJob;

const families = new Map<string, Family>();

function run(job: Job): void {
  const { from, to } = job;
  if (job.kind === 'crossprod') {
    const { X, w, z, p, out } = job;
    const xtwz = z ? new Float64Array(p) : null;
    const m = weightedCrossprod(X.subarray(from * p, to * p), to - from, p, w ? w.subarray(from, to) : null, z ? z.subarray(from, to) : null, xtwz);
    out.set(m, 0);
    if (xtwz) out.set(xtwz, p * p);
    return;
  }
  if (job.kind === 'firth-state') {
    firthStateRows(job.X, job.p, job.beta, job.offset, job.y, job.weights, job.eta, job.mu, job.w, job.llRow, from, to);
    return;
  }
  if (job.kind === 'firth-score') {
    firthScoreRows(job.X, job.p, job.l, job.y, job.weights, job.mu, job.w, job.f, from, to);
    return;
  }
  const key = JSON.stringify(job.family);
  let family = families.get(key);
  if (!family) families.set(key, (family = familyFromKey(job.family)));
  linearPredictor(job.X, to, job.p, job.beta, job.offset, job.eta, from);
  workingValues(family, job.eta, job.y, job.pw, job.mu, job.w, job.res, from, to, job.devRow);
}

parentPort!.on('message', (job: Job & { flag: Int32Array }) => {
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
