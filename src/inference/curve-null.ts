/**
 * Inference for a whole specification curve under the null of no effect, valid for dyadic
 * data (Simonsohn, Simmons & Nelson 2020's "inferential specification curve", with their
 * bootstrap replaced by a network permutation). In each draw one permutation of the cities is
 * shared by every point of the curve; in each point the variable of interest is residualised on
 * that point's other covariates (OLS over all pairs) and the residual's node labels are permuted
 * (double semi-partialling, Dekker, Krackhardt & Snijders 2007 — permuting x itself over-rejects
 * when x is correlated with the controls), the model refitted and its statistic recomputed as the
 * multiverse does. The observed median effect and share of significant points are compared with
 * their distributions over the draws: p = (1 + #{draws at least as extreme})/(1 + draws).
 *
 * Why not specr's `boot_null` or an i.i.d. bootstrap: resampling rows treats pairs as
 * independent, but pairs that share a city are dependent (the reason for dyadic variances), and
 * forcing the null by subtracting b·x from a 0/1 outcome leaves no binary outcome to refit.
 * Permuting node labels keeps the network's dependence and the outcome as observed.
 *
 * Only points on samples that are complete networks over the same cities can be permuted (a
 * sample selected by a pair attribute — cross-province pairs — cannot); the others are listed
 * with the reason and are not part of the test. Draws run on worker threads; draw t's
 * permutation depends only on (seed, t), so any number of threads gives the same numbers.
 */
import { availableParallelism } from 'node:os';
import type { Table } from '../data/table.ts';
import { buildDesign, type Design } from '../formula/design.ts';
import { family } from '../fit/families.ts';
import { varianceRequest } from '../fit/fit-model.ts';
import { UsageError } from '../util/errors.ts';
import { runTaskPool, threadsAllowed } from '../util/workers.ts';
import { dyadTableDefaults, type VcovRequest, type VcovType } from '../vcov/registry.ts';
import { curveScratch, curveTask, type CurveJob, type CurveNetwork, type CurvePoint, type DrawOut } from './curve-null-kernel.ts';
import { binaryStart } from './qap-kernel.ts';
import { pValue } from './wald.ts';
import { completeNetwork, residualOn, startWithout } from './qap.ts';

export interface CurveNullOptions {
  reps: number;
  seed: number;
  /** significance level of a point (default 0.05) */
  alpha?: number;
  /** the sample whose cities are permuted when several are complete networks (default: the first met) */
  reference?: string;
  /** threads for the draws (default: both cores; TONGBAN_THREADS=1 forces one) */
  threads?: number;
  progress?: (done: number, total: number) => void;
}

/** The observed value of one curve statistic, its p-value and a summary of its null distribution. */
export interface CurveTest {
  observed: number;
  p_value: number;
  /** the 2.5%, 50% and 97.5% quantiles of the statistic over the draws */
  null_quantiles: [number, number, number];
}

export interface CurveNullResult {
  reps: number;
  seed: number;
  alpha: number;
  /** draws in which every point refitted (the others are left out, with a warning) */
  valid_draws: number;
  /** specifications (the multiverse's spec numbers) whose points are in the test */
  specs: number[];
  /** the samples of those specifications */
  samples: string[];
  /** specifications not in the test, with the reason */
  left_out: { spec: number; reason: string }[];
  /** sign of the observed median: the direction the share of significant points counts */
  direction: 1 | -1;
  /** the median effect (two-sided: |median| at least as large) */
  median: CurveTest;
  /** per variance choice: the share of points significant in the observed median's direction (one-sided: at least as large) */
  share_significant: ({ vcov: string } & CurveTest)[];
  /** per draw: its median and its shares (order of share_significant); NaN in a left-out draw */
  draws: { median: number; shares: number[] }[];
  /** the observed curve (sorted effects of the tested points) and the null curves' 2.5/50/97.5% quantiles at each rank */
  curve: { rank: number; observed: number; low: number; mid: number; high: number }[];
  warnings: string[];
}

/** What the null reads of a multiverse's row (one specification under one variance choice; report/run-record.ts's CurveRow). */
export interface CurveRow {
  spec: number;
  sample: string;
  family: string;
  vcov: VcovType;
  formula: string;
  interest: string;
  estimate: number | null;
  p_value: number | null;
  sd: number | null;
  skipped: string | null;
}

/** A point of the curve as planned: one fitted specification and its rows (one per variance choice). */
interface PlannedPoint {
  spec: number;
  rows: CurveRow[];
}

/** SharedArrayBuffer copies, so worker threads read one copy of the large arrays. */
function shared<T extends Float64Array | Int32Array>(a: T): T {
  const Ctor = a.constructor as { new (b: SharedArrayBuffer): T };
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/** The job of the draws: the permutable points (with their designs and residuals) and the ones left out. */
export function prepareCurveNull(
  samples: Map<string, Table>,
  rows: CurveRow[],
  seed: number,
  reference?: string,
): { job: CurveJob; specs: number[]; leftOut: { spec: number; reason: string }[]; observedRows: (CurveRow | undefined)[][]; tested: string[] } {
  if (!Number.isInteger(seed)) throw new UsageError(`seed ${seed}: give a whole number`);
  const vcovs = [...new Set(rows.map((r) => r.vcov))];
  const planned = new Map<number, PlannedPoint>();
  for (const r of rows) {
    if (!planned.has(r.spec)) planned.set(r.spec, { spec: r.spec, rows: [] });
    planned.get(r.spec)!.rows.push(r);
  }
  // the reference sample's cities are the ones permuted: its specifications come first
  const order = [...planned.values()].sort((a, b) => Number(b.rows[0].sample === reference) - Number(a.rows[0].sample === reference));
  const leftOut: { spec: number; reason: string }[] = [];
  const networks: CurveNetwork[] = [];
  const networkOf = new Map<string, number | string>();
  const requestOf = new Map<string, VcovRequest>();
  const designOf = new Map<string, Design>();
  const sharedOf = new Map<string, { X: Float64Array; y: Float64Array; resid: Float64Array }>();
  let baseCities: string[] | null = null;
  let networkSample = '';
  const points: CurvePoint[] = [];
  const specs: number[] = [];
  const observedRows: (CurveRow | undefined)[][] = [];
  for (const pt of order) {
    const r0 = pt.rows[0];
    const skip = (reason: string) => leftOut.push({ spec: pt.spec, reason });
    if (r0.skipped !== null) {
      skip(`not fitted: ${r0.skipped}`);
      continue;
    }
    if (r0.family !== 'logit' && r0.family !== 'probit') {
      skip(`the null refits logit and probit models, not ${r0.family}`);
      continue;
    }
    const table = samples.get(r0.sample)!;
    // logit and probit points of one formula share its design
    const dkey = `${r0.sample}\t${r0.formula}`;
    if (!designOf.has(dkey)) designOf.set(dkey, buildDesign(table, r0.formula, { require: ['i', 'j'] }));
    const design = designOf.get(dkey)!;
    // the sample's network: complete, and over the base sample's cities
    let net = networkOf.get(r0.sample);
    if (net === undefined) {
      try {
        const { a, b, m, pos, cities } = completeNetwork({ design, table }, ['i', 'j']);
        if (!baseCities) {
          baseCities = cities;
          networkSample = r0.sample;
        }
        const index = new Map(cities.map((c, k) => [c, k]));
        const local = Int32Array.from(baseCities, (c) => index.get(c) ?? -1);
        if (cities.length !== baseCities.length || local.includes(-1)) {
          net = `sample ${r0.sample} has other cities than sample ${networkSample}, whose cities are permuted; one permutation of the cities cannot serve both`;
        } else {
          const baseOf = new Int32Array(m);
          local.forEach((c, g) => (baseOf[c] = g));
          networks.push({ a: shared(a), b: shared(b), m, pos: shared(pos), local, baseOf });
          net = networks.length - 1;
        }
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        net = `sample ${r0.sample} cannot be permuted: ${e.message}`;
      }
      networkOf.set(r0.sample, net);
    }
    if (typeof net === 'string') {
      skip(net);
      continue;
    }
    const part = design.parts[0];
    const ivar = design.formula.variables.findIndex((v) => v.type === 'var' && v.name === r0.interest);
    const cols = part.recipes.map((rec, c) => (rec.vars.includes(ivar) ? c : -1)).filter((c) => c >= 0);
    if (ivar < 0 || cols.length !== 1 || part.recipes[cols[0]].vars.length !== 1 || part.aliased.some((a) => a)) {
      skip(`'${r0.interest}' does not enter as one column of its own, so its residual cannot take its place`);
      continue;
    }
    // design columns are the non-aliased ones (none aliased here): the recipe index is the column
    const k = cols[0];
    const { n } = design;
    const { p } = part;
    const X = part.X;
    if (!sharedOf.has(dkey)) {
      try {
        sharedOf.set(dkey, { X: shared(X), y: shared(design.y), resid: shared(residualOn(X, n, p, k)) });
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        skip(e.message);
        continue;
      }
    }
    const arrays = sharedOf.get(dkey)!;
    const fam = r0.family;
    // one request per sample and variance (its cluster codes are shared by the points)
    const requests = vcovs.map((v) => {
      if (!pt.rows.some((x) => x.vcov === v)) return null;
      const key = `${r0.sample}\t${v}\t${family(fam).smallSample}`;
      if (!requestOf.has(key)) requestOf.set(key, varianceRequest(table, design.rows, { type: v, ...dyadTableDefaults(v) }, family(fam).smallSample));
      return requestOf.get(key)!;
    });
    const start = startWithout(fam, X, n, p, design.y, k);
    const { dev, info, g, w, score } = binaryStart(X, n, p, design.y, fam, start);
    points.push({ family: fam, ...arrays, n, p, k, start, first: { dev, info, g, w: shared(w), score: shared(score) }, sd: r0.sd!, network: net, requests });
    specs.push(pt.spec);
    observedRows.push(vcovs.map((v) => pt.rows.find((x) => x.vcov === v)));
  }
  if (!points.length) {
    const why = [...new Set(leftOut.map((l) => l.reason))].slice(0, 3).join('; ');
    throw new UsageError(`the permutation null has no specification it can permute (${why})`);
  }
  // specifications in expansion order, whatever the reference
  const byOrder = specs.map((_, k) => k).sort((a, b) => specs[a] - specs[b]);
  const tested = [...new Set(byOrder.map((k) => order.find((pt) => pt.spec === specs[k])!.rows[0].sample))];
  return {
    job: { seed, m: baseCities!.length, networks, points: byOrder.map((k) => points[k]), vcovs },
    specs: byOrder.map((k) => specs[k]),
    leftOut: leftOut.sort((a, b) => a.spec - b.spec),
    observedRows: byOrder.map((k) => observedRows[k]),
    tested,
  };
}

/**
 * The statistics of the identity (task 0) and of every draw (tasks 1…reps): estimates tasks ×
 * points, SEs tasks × points × vcovs, on worker threads or here.
 */
async function runTasks(job: CurveJob, reps: number, threads: number, progress?: (done: number, total: number) => void): Promise<{ estimate: Float64Array; se: Float64Array }> {
  const P = job.points.length;
  const V = job.vcovs.length;
  const tasks = reps + 1;
  const estimate = new Float64Array(new SharedArrayBuffer(tasks * P * 8));
  const se = new Float64Array(new SharedArrayBuffer(tasks * P * V * 8));
  const report = (done: number) => progress?.(Math.max(0, done - 1), reps);
  if (threads <= 1) {
    const sc = curveScratch(job);
    const out: DrawOut = { estimate: new Float64Array(P), se: new Float64Array(P * V) };
    for (let t = 0; t < tasks; t++) {
      curveTask(job, t, sc, out);
      estimate.set(out.estimate, t * P);
      se.set(out.se, t * P * V);
      report(t + 1);
    }
    return { estimate, se };
  }
  workerDraws += await runTaskPool({
    name: 'curve-null-worker',
    sourceUrl: new URL('./curve-null-worker.ts', import.meta.url),
    callerUrl: import.meta.url,
    threads,
    message: { job, tasks, estimate, se },
    what: 'curve-null',
    progress: report,
  });
  report(tasks);
  return { estimate, se };
}

let workerDraws = 0;
/** How many tasks (the identity and the draws) worker threads have computed in this process (for tests). */
export const curveNullWorkerDraws = (): number => workerDraws;

/** The median of values (the mean of the two middle ones for an even count). */
export const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/** R's default (type 7) quantile of sorted values. */
const quantile = (sorted: number[], q: number): number => {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
};

/** The curve's statistics from one draw's (or the observed) estimates and p-values. */
function curveStatistics(est: ArrayLike<number>, pAt: (i: number, v: number) => number, P: number, V: number, direction: number, alpha: number): { median: number; shares: number[] } {
  const shares = Array.from({ length: V }, (_, v) => {
    let with_ = 0;
    let sig = 0;
    for (let i = 0; i < P; i++) {
      const pi = pAt(i, v);
      if (Number.isNaN(pi)) continue;
      with_++;
      if (pi < alpha && Math.sign(est[i]) === direction) sig++;
    }
    return with_ ? sig / with_ : NaN;
  });
  return { median: median(Array.from(est)), shares };
}

/** Tolerance of the self-check: the identity permutation must reproduce every fitted point. */
const SELF_CHECK = 1e-6;

/** The permutation test of a multiverse's curve under the null of no effect. */
export async function curveNull(samples: Map<string, Table>, rows: CurveRow[], o: CurveNullOptions): Promise<CurveNullResult> {
  if (!Number.isInteger(o.reps) || o.reps < 1) throw new UsageError(`reps ${o.reps}: give a positive whole number of draws`);
  const alpha = o.alpha ?? 0.05;
  const { job, specs, leftOut, observedRows, tested } = prepareCurveNull(samples, rows, o.seed, o.reference);
  const P = job.points.length;
  const V = job.vcovs.length;
  const threads = threadsAllowed() ? Math.max(1, Math.min(o.threads ?? 2, availableParallelism())) : 1;
  const all = await runTasks(job, o.reps, threads, o.progress);
  // the identity permutation refits every point as fitted: the null's statistic is the curve's
  const estimateOf = (vrows: (CurveRow | undefined)[]) => vrows.find((r) => r)!.estimate!;
  observedRows.forEach((vrows, i) => {
    const e = estimateOf(vrows);
    const got = all.estimate[i];
    if (!(Math.abs(got - e) <= SELF_CHECK * Math.max(Math.abs(e), 1e-12))) {
      throw new Error(`internal: the permutation null's refit of specification ${specs[i]} gives ${got}, not its estimate ${e}`);
    }
  });
  const estimate = all.estimate.subarray(P);
  const se = all.se.subarray(P * V);
  // observed p-values from the multiverse's rows (what the curve shows)
  const obsP = new Float64Array(P * V).fill(NaN);
  observedRows.forEach((vrows, i) => vrows.forEach((r, v) => r && (obsP[i * V + v] = r.p_value ?? NaN)));
  const obsEst = observedRows.map(estimateOf);
  const med0 = median(obsEst);
  const direction: 1 | -1 = med0 < 0 ? -1 : 1;
  const observed = curveStatistics(obsEst, (i, v) => obsP[i * V + v], P, V, direction, alpha);

  const draws: CurveNullResult['draws'] = [];
  const valid: { median: number; shares: number[]; sorted: number[] }[] = [];
  for (let t = 0; t < o.reps; t++) {
    const est = estimate.subarray(t * P, (t + 1) * P);
    if (est.some((x) => !Number.isFinite(x))) {
      draws.push({ median: NaN, shares: job.vcovs.map(() => NaN) });
      continue;
    }
    const seT = se.subarray(t * P * V, (t + 1) * P * V);
    // a draw's p-values as the curve's: the normal test of the AME
    const s = curveStatistics(est, (i, v) => (Number.isNaN(seT[i * V + v]) ? NaN : pValue(est[i] / seT[i * V + v], null)), P, V, direction, alpha);
    draws.push(s);
    valid.push({ ...s, sorted: Array.from(est).sort((a, b) => a - b) });
  }
  const warnings: string[] = [];
  if (valid.length < o.reps) warnings.push(`${o.reps - valid.length} of ${o.reps} draws had a refit that failed (singular information) and are left out`);
  if (!valid.length) throw new UsageError('the permutation null: no draw refitted every specification');
  const R = valid.length;
  const TIE = 1e-9;
  const test = (obsV: number, nulls: number[], extreme: (x: number) => boolean): CurveTest => {
    const sorted = [...nulls].sort((a, b) => a - b);
    return { observed: obsV, p_value: (1 + nulls.filter(extreme).length) / (1 + R), null_quantiles: [quantile(sorted, 0.025), quantile(sorted, 0.5), quantile(sorted, 0.975)] };
  };
  const medianTest = test(
    observed.median,
    valid.map((d) => d.median),
    (x) => Math.abs(x) >= Math.abs(observed.median) * (1 - TIE),
  );
  const shareTests = job.vcovs.map((vcov, v) => ({
    vcov,
    ...test(
      observed.shares[v],
      valid.map((d) => d.shares[v]),
      (x) => x >= observed.shares[v] - TIE,
    ),
  }));
  const obsSorted = [...obsEst].sort((a, b) => a - b);
  const curve = obsSorted.map((x, rank) => {
    const at = valid.map((d) => d.sorted[rank]).sort((a, b) => a - b);
    return { rank: rank + 1, observed: x, low: quantile(at, 0.025), mid: quantile(at, 0.5), high: quantile(at, 0.975) };
  });
  return { reps: o.reps, seed: o.seed, alpha, valid_draws: R, specs, samples: tested, left_out: leftOut, direction, median: medianTest, share_significant: shareTests, draws, curve, warnings };
}
