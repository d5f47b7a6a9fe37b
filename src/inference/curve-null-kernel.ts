/**
 * One draw of the specification curve's permutation null (curve-null.ts), used on the main
 * thread and in curve-null-worker.ts: one permutation of the cities, shared by every point of
 * the curve; in each point (a model of the multiverse) the residual of its variable of interest
 * on its other covariates is permuted by that permutation and put in the variable's place
 * (double semi-partialling), the model refitted, and the point's statistic recomputed as the
 * multiverse computes it — the average marginal effect of a one-SD change with its delta-method
 * SE under each of the point's variance choices. Draw t's permutation depends only on
 * (seed, t), so any split of the draws over threads gives the same numbers.
 */
import { links } from '../models/family.ts';
import { computeVcov, type VcovRequest } from '../vcov/registry.ts';
import { scalarTimesX } from '../vcov/vcov.ts';
import { binaryRefit, permutation } from './qap-kernel.ts';

/** The network of a sample: the pairs' city codes and the row of every pair (all pairs present). */
export interface CurveNetwork {
  a: Int32Array;
  b: Int32Array;
  m: number;
  /** row of the pair (c, d) at c·m + d and d·m + c; −1 on the diagonal */
  pos: Int32Array;
  /** this network's code of each city of the shared permutation (cities in the base sample's order) */
  local: Int32Array;
  /** the inverse: the base city of each of this network's codes */
  baseOf: Int32Array;
}

/** One point of the curve: a model, its variable of interest and its variance choices. */
export interface CurvePoint {
  family: 'logit' | 'probit';
  /** row-major n × p design, the interest in column k */
  X: Float64Array;
  n: number;
  p: number;
  k: number;
  y: Float64Array;
  /** the OLS residual of column k on the other columns */
  resid: Float64Array;
  /** the refits' start: the model without column k */
  start: Float64Array;
  /**
   * the first evaluation at the start, where β_k = 0 so η does not depend on column k: the
   * deviance, the information and score (their row k is redone per draw), and the per-row
   * weights and score factors that redo it
   */
  first: { dev: number; info: Float64Array; g: Float64Array; w: Float64Array; score: Float64Array };
  /** the SD of the variable of interest (the effect is per SD) */
  sd: number;
  /** index into the job's networks */
  network: number;
  /** the variance requests, in the order of the job's variance choices (null: not a choice of this point) */
  requests: (VcovRequest | null)[];
}

export interface CurveJob {
  seed: number;
  /** cities permuted (the base sample's) */
  m: number;
  networks: CurveNetwork[];
  points: CurvePoint[];
  /** the variance choices (every point's requests follow this order) */
  vcovs: string[];
}

/** What a draw writes: the estimate of every point, and its SE under every variance choice. */
export interface DrawOut {
  estimate: Float64Array;
  /** points × vcovs, NaN where the choice is not the point's */
  se: Float64Array;
}

const LINKS = { logit: links.logit, probit: links.probit } as const;

/** Work arrays of one thread (sized for the largest point). */
export interface CurveScratch {
  perm: Int32Array;
  Xw: Float64Array;
  col: Float64Array;
  eta: Float64Array;
  mu: Float64Array;
  w: Float64Array;
  res: Float64Array;
  s: Float64Array;
}

export function curveScratch(job: CurveJob): CurveScratch {
  const n = Math.max(...job.points.map((q) => q.n));
  const np = Math.max(...job.points.map((q) => q.n * q.p));
  return { perm: new Int32Array(job.m), Xw: new Float64Array(np), col: new Float64Array(n), eta: new Float64Array(n), mu: new Float64Array(n), w: new Float64Array(n), res: new Float64Array(n), s: new Float64Array(n) };
}

/**
 * Task 0 refits every point under the identity (the observed curve, a check that the null's
 * statistic is the curve's); task t ≥ 1 is draw t − 1, under the permutation of (seed, t − 1).
 */
export function curveTask(job: CurveJob, task: number, sc: CurveScratch, out: DrawOut): void {
  if (task === 0) for (let c = 0; c < job.m; c++) sc.perm[c] = c;
  else permutation(job.m, job.seed, task - 1, sc.perm);
  statisticsUnderPermutation(job, sc.perm, sc, out);
}

/** Every point's statistics with its residual permuted by `perm` (the identity gives the observed curve). */
export function statisticsUnderPermutation(job: CurveJob, perm: Int32Array, sc: CurveScratch, out: DrawOut): void {
  const V = job.vcovs.length;
  out.estimate.fill(NaN);
  out.se.fill(NaN);
  job.points.forEach((q, i) => {
    const net = job.networks[q.network];
    const { n, p, k } = q;
    const Xw = sc.Xw.subarray(0, n * p);
    Xw.set(q.X);
    const { local: toLocal, baseOf } = net;
    const base = perm;
    // the permuted residual: pair (c, d) takes the value of the pair (π(c), π(d)), π acting on the base sample's cities
    for (let r = 0; r < n; r++) {
      const pa = toLocal[base[baseOf[net.a[r]]]];
      const pb = toLocal[base[baseOf[net.b[r]]]];
      Xw[r * p + k] = q.resid[net.pos[pa * net.m + pb]];
    }
    // the evaluation at the start with the permuted column: only row and column k of the information, and g_k, change
    const f0 = q.first;
    const info = Float64Array.from(f0.info);
    const g = Float64Array.from(f0.g);
    const rowK = new Float64Array(p);
    let gk = 0;
    for (let r = 0; r < n; r++) {
      const o = r * p;
      const xk = Xw[o + k];
      const wk = f0.w[r] * xk;
      for (let c = 0; c < p; c++) rowK[c] += wk * Xw[o + c];
      gk += f0.score[r] * xk;
    }
    for (let c = 0; c < p; c++) info[k * p + c] = info[c * p + k] = rowK[c];
    g[k] = gk;
    const f = binaryRefit(Xw, n, p, q.y, q.family, q.start, { dev: f0.dev, info, g });
    if (!Number.isFinite(f.beta[k]) || !f.inv) return;
    // the AME of the column and its gradient over β: mean μ'(η)·β_k, and mean μ''(η)·x·β_k + mean μ'(η) at k
    const eta = f.eta!;
    const link = LINKS[q.family];
    let d1 = 0;
    const J = new Float64Array(p);
    for (let r = 0; r < n; r++) {
      const e = eta[r];
      const d = link.muEta(e);
      const d2 = link.muEta2(e);
      d1 += d;
      const o = r * p;
      for (let c = 0; c < p; c++) J[c] += d2 * Xw[o + c];
    }
    const bk = f.beta[k];
    for (let c = 0; c < p; c++) J[c] = (q.sd * bk * J[c]) / n;
    J[k] += (q.sd * d1) / n;
    const est = (q.sd * d1 * bk) / n;
    out.estimate[i] = est;
    const pieces = { k: p, n, bread: f.inv, classical: f.inv, oim: null, scores: scalarTimesX(Xw, p, f.score!) };
    for (let v = 0; v < V; v++) {
      const req = q.requests[v];
      if (!req) continue;
      const Vb = computeVcov(pieces, req).V;
      let var_ = 0;
      for (let a = 0; a < p; a++) for (let c = 0; c < p; c++) var_ += J[a] * Vb[a * p + c] * J[c];
      out.se[i * V + v] = var_ > 0 ? Math.sqrt(var_) : NaN;
    }
  });
}
