/**
 * Worker thread of the QAP replications (qap.ts): takes replication numbers from a shared
 * counter until all are done, writes each replication's statistics into the shared result,
 * and says when it has finished.
 */
import { parentPort } from 'node:worker_threads';
import { replicate, scratch, type QapJob } from './qap-kernel.ts';

interface Message {
  job: QapJob;
  reps: number;
  next: Int32Array;
  done: Int32Array;
  stats: Float64Array;
  sums: Float64Array;
}

parentPort!.once('message', ({ job, reps, next, done, stats, sums }: Message) => {
  const s = scratch(job);
  const out = new Float64Array(job.p);
  for (;;) {
    const t = Atomics.add(next, 0, 1);
    if (t >= reps) break;
    replicate(job, t, s, sums, out);
    stats.set(out, t * job.p);
    Atomics.add(done, 0, 1);
  }
  parentPort!.postMessage('finished');
});
