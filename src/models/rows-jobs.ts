/**
 * The jobs of the rows worker (rows-worker.ts) that run models/ kernels: each names its
 * kernel, its rows and its arrays (shared memory; small ones such as β are copied).
 */
import type { RowsJob } from '../linalg/parallel.ts';
import type { FamilyKey } from './family.ts';

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

/** binary.ts firthStateRows over the job's rows */
export interface FirthStateJob extends RowsJob {
  kind: 'firth-state';
  X: Float64Array;
  p: number;
  beta: Float64Array;
  offset: Float64Array | null;
  y: Float64Array;
  weights: Float64Array | null;
  eta: Float64Array;
  mu: Float64Array;
  w: Float64Array;
  llRow: Float64Array;
}

/** binary.ts firthScoreRows over the job's rows */
export interface FirthScoreJob extends RowsJob {
  kind: 'firth-score';
  X: Float64Array;
  p: number;
  l: Float64Array;
  y: Float64Array;
  weights: Float64Array | null;
  mu: Float64Array;
  w: Float64Array;
  f: Float64Array;
}
