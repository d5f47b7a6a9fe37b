/**
 * Worker thread of the specification curve's permutation null (curve-null.ts): takes task
 * numbers from a shared counter until all are done, writes each draw's statistics into the
 * shared results, and says when it has finished.
 */
import { parentPort } from 'node:worker_threads';
import { curveTask, curveScratch, type CurveJob, type DrawOut } from './curve-null-kernel.ts';

interface Message {
  job: CurveJob;
  tasks: number;
  next: Int32Array;
  done: Int32Array;
  estimate: Float64Array;
  se: Float64Array;
}

parentPort!.once('message', ({ job, tasks, next, done, estimate, se }: Message) => {
  const P = job.points.length;
  const V = job.vcovs.length;
  const sc = curveScratch(job);
  const out: DrawOut = { estimate: new Float64Array(P), se: new Float64Array(P * V) };
  for (;;) {
    const t = Atomics.add(next, 0, 1);
    if (t >= tasks) break;
    curveTask(job, t, sc, out);
    estimate.set(out.estimate, t * P);
    se.set(out.se, t * P * V);
    Atomics.add(done, 0, 1);
  }
  parentPort!.postMessage('finished');
});
