/**
 * `fitModel`: table + formula + family + variance request → the machine-readable fit
 * (docs/contract.md §5) and what effects and comparisons need. The one place that ties
 * the formula layer, the estimators (through the family registry), the variance layer
 * (through the variance registry) and Wald inference together.
 */
import { z } from 'zod';
import { UsageError } from '../util/errors.ts';
import { denseCodes, hasMissing, type Column, type Table } from '../data/table.ts';
import { buildDesign, type Design } from '../formula/design.ts';
import type { Grouping, ScoreRows, VariancePieces } from '../vcov/vcov.ts';
import { checkVcovRequest, computeVcov, SSC_PRESETS, VARIANCES, VCOV_TYPES, type SmallSampleRule, type Ssc, type VcovChoice, type VcovRequest, type VcovResult } from '../vcov/registry.ts';
import { coefficientRows, type CoefRow } from '../inference/wald.ts';
import { binaryFitStats } from '../inference/fit-stats.ts';
import type { EstBlock, Estimate } from '../models/estimates.ts';
import { FAMILY_NAMES, family, type FamilyEntry } from './families.ts';
import { FIT_SCHEMA_VERSION, type FitResult, type ModelFit } from './types.ts';

export const FitOptionsSchema = z.object({
  formula: z.string().min(1),
  family: z.enum(FAMILY_NAMES),
  vcov: z.enum(VCOV_TYPES).default('classical'),
  cluster: z.array(z.string().min(1)).optional(),
  dyad: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
  ssc: z.enum(SSC_PRESETS).optional(),
  weights: z.string().optional(),
  fixPsd: z.boolean().default(false),
  level: z.number().gt(0).lt(1).default(0.95),
  maxLevels: z.number().int().positive().optional(),
  /** a binary model's AUC and PR-AUC (a sort of the fitted values); a multiverse, which does not show them, turns them off */
  fitStats: z.boolean().default(true),
});
export type FitOptions = z.input<typeof FitOptionsSchema>;

/**
 * The estimator pieces of all blocks as one parameter vector (blocks in order): block-diagonal
 * bread and model-based variances (the blocks are separable), and score rows over all n rows of
 * the design, zero for a block on the rows it does not use (a hurdle's count part on zeros).
 * A robust variance of these pieces has the cross-block terms that per-block variances lack.
 */
function jointPieces(blocks: EstBlock[], n: number): VariancePieces {
  const ks = blocks.map((b) => b.pieces.k);
  const K = ks.reduce((a, b) => a + b, 0);
  const offsets = ks.map((_, b) => ks.slice(0, b).reduce((a, c) => a + c, 0));
  const diag = (pick: (p: VariancePieces) => Float64Array | null): Float64Array | null => {
    const out = new Float64Array(K * K);
    for (let b = 0; b < blocks.length; b++) {
      const m = pick(blocks[b].pieces);
      if (!m) return null;
      const k = ks[b];
      const o = offsets[b];
      for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) out[(o + r) * K + o + c] = m[r * k + c];
    }
    return out;
  };
  // position of each design row within a block's row subset (−1: not used by the block)
  const where = blocks.map((b) => {
    if (!b.rowSubset) return null;
    const at = new Int32Array(n).fill(-1);
    b.rowSubset.forEach((r, k) => (at[r] = k));
    return at;
  });
  const scoreRows = blocks.map((b) => b.pieces.scores);
  const scores: ScoreRows | null = scoreRows.every((s) => s)
    ? {
        n,
        k: K,
        row(r, out) {
          for (let b = 0; b < blocks.length; b++) {
            const sub = out.subarray(offsets[b], offsets[b] + ks[b]);
            const at = where[b] ? where[b]![r] : r;
            if (at < 0) sub.fill(0);
            else scoreRows[b]!.row(at, sub);
          }
        },
      }
    : null;
  return { k: K, n, bread: diag((p) => p.bread)!, classical: diag((p) => p.classical)!, oim: diag((p) => p.oim), scores };
}

/** AUC and PR-AUC of a binary model's fitted probabilities (each row counts once, prior weights aside); once per estimate. */
const binaryStatsOf = new WeakMap<Float64Array, Pick<FitResult, 'auc' | 'pr_auc'>>();
function binaryStats(mu: Float64Array | null, y: Float64Array): Pick<FitResult, 'auc' | 'pr_auc'> {
  if (!mu) return { auc: null, pr_auc: null };
  // a fit whose fitted values are not all numbers (a diverged estimate; its warnings say why) has no AUC
  for (let i = 0; i < mu.length; i++) if (!Number.isFinite(mu[i])) return { auc: null, pr_auc: null };
  let r = binaryStatsOf.get(mu);
  if (!r) {
    const s = binaryFitStats(y, mu);
    binaryStatsOf.set(mu, (r = { auc: s.auc, pr_auc: s.pr_auc }));
  }
  return r;
}

/** Counts above this lose all precision in the log-gamma terms of count likelihoods. */
const MAX_COUNT = 1e15;

/** The outcome is of the kind the family models (0/1, counts, positive counts). */
function checkResponse(name: string, fam: FamilyEntry, d: Design): void {
  const bad: number[] = [];
  const isBinary = fam.response === 'binary';
  const isCount = fam.response === 'count' || fam.response === 'positive-count';
  if (!isBinary && !isCount) {
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < d.n; r++) {
      min = Math.min(min, d.y[r]);
      max = Math.max(max, d.y[r]);
    }
    if (min === max) throw new UsageError(`'${d.responseName}' is ${min} on every one of the ${d.n} rows used: there is nothing to explain`);
    return;
  }
  for (let r = 0; r < d.n; r++) {
    const y = d.y[r];
    const ok = isBinary ? y === 0 || y === 1 : y >= 0 && Number.isInteger(y);
    if (!ok) bad.push(r);
  }
  if (bad.length) {
    const shown = bad.slice(0, 10).map((r) => `row ${d.rows[r] + 2}: ${d.y[r]}`).join('; ');
    throw new UsageError(
      `family ${name} needs ${isBinary ? 'a 0/1 outcome' : 'a count outcome (integers >= 0)'}, but '${d.responseName}' has ${bad.length} other value${bad.length > 1 ? 's' : ''} (${shown}${bad.length > 10 ? '; …' : ''})`,
    );
  }
  let ones = 0;
  for (let r = 0; r < d.n; r++) if (d.y[r] > 0) ones++;
  if (isBinary && (ones === 0 || ones === d.n)) {
    throw new UsageError(`'${d.responseName}' is ${ones === 0 ? 0 : 1} on every one of the ${d.n} rows used; a binary model needs both 0s and 1s`);
  }
  if (isCount && ones === 0) {
    throw new UsageError(`'${d.responseName}' is 0 on every one of the ${d.n} rows used; a count model needs some positive counts`);
  }
  if (isCount) {
    let big = 0;
    for (let r = 0; r < d.n; r++) if (d.y[r] > MAX_COUNT) big++;
    if (big) throw new UsageError(`'${d.responseName}' has ${big} count${big > 1 ? 's' : ''} above ${MAX_COUNT.toExponential(0)}: count models cannot be estimated reliably there (the log-gamma terms lose all precision); check the data or rescale the outcome`);
  }
  if (fam.response === 'positive-count' && ones < d.n) {
    throw new UsageError(`${name} models counts >= 1, but '${d.responseName}' has zeros; select the positive rows (--subset "${d.responseName} > 0") or use hurdle-negbin`);
  }
}

function groupingOf(table: Table, name: string, rows: Int32Array): Grouping {
  const c = table.columns.get(name);
  if (!c) throw new UsageError(`unknown cluster column '${name}' (columns: ${table.names.join(', ')})`);
  const coder = denseCodes<string | number>();
  const codes = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) codes[k] = coder.code(c.kind === 'number' ? c.values[rows[k]] : c.codes[rows[k]]);
  return { name, codes, G: coder.size() };
}

/** A pair of id columns coded on every row of their table: cities 0..G−1 in order of first appearance. */
interface FullCodes {
  i: Int32Array;
  j: Int32Array;
  G: number;
  cities: string[];
}
/** by the two column objects: every model on a table shares its coding (at county scale 8 M text lookups, ~0.2 s a model) */
const fullCodes = new WeakMap<Column, WeakMap<Column, FullCodes>>();

function codeAllRows(ci: Column, cj: Column, nrow: number): FullCodes {
  const text = (c: Column) => (r: number) => (c.kind === 'number' ? String(c.values[r]) : c.levels[c.codes[r]]);
  const ti = text(ci);
  const tj = text(cj);
  const coder = denseCodes<string>();
  const i = new Int32Array(nrow);
  const j = new Int32Array(nrow);
  for (let r = 0; r < nrow; r++) {
    i[r] = coder.code(ti(r));
    j[r] = coder.code(tj(r));
  }
  return { i, j, G: coder.size(), cities: coder.keys };
}

/**
 * The two city columns of a dyad table's used rows coded on one shared set of cities 0..G−1
 * (ids compared as text), numbered in order of first appearance among those rows. The coding
 * of all the table's rows is made once and kept; for every row in order it is the answer, for
 * a subset it is renumbered as coding the subset's text would number it.
 */
export function dyadCodes(table: Table, [ni, nj]: [string, string], rows: Int32Array) {
  const column = (name: string) => {
    const c = table.columns.get(name);
    if (!c) throw new UsageError(`unknown dyad column '${name}' (columns: ${table.names.join(', ')})`);
    return c;
  };
  const ci = column(ni);
  const cj = column(nj);
  let byJ = fullCodes.get(ci);
  if (!byJ) fullCodes.set(ci, (byJ = new WeakMap()));
  let full = byJ.get(cj);
  if (!full) byJ.set(cj, (full = codeAllRows(ci, cj, table.nrow)));
  const names: [string, string] = [ni, nj];
  const selfPair = (k: number) => new UsageError(`dyad columns ${ni}, ${nj}: row ${rows[k] + 2} pairs a city with itself`);
  let every = rows.length === table.nrow;
  for (let k = 0; k < rows.length && every; k++) every = rows[k] === k;
  if (every) {
    for (let k = 0; k < rows.length; k++) if (full.i[k] === full.j[k]) throw selfPair(k);
    return { i: full.i, j: full.j, G: full.G, names, cities: full.cities };
  }
  const renumber = new Int32Array(full.G).fill(-1);
  const cities: string[] = [];
  const code = (c: number) => (renumber[c] >= 0 ? renumber[c] : (renumber[c] = cities.push(full.cities[c]) - 1));
  const i = new Int32Array(rows.length);
  const j = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    i[k] = code(full.i[rows[k]]);
    j[k] = code(full.j[rows[k]]);
    if (i[k] === j[k]) throw selfPair(k);
  }
  return { i, j, G: cities.length, names, cities };
}

/** A variance request on the given table rows (clusters and dyads coded on them), as `fitModel` makes it. */
export function varianceRequest(table: Table, rows: Int32Array, o: Pick<VcovChoice, 'type' | 'cluster' | 'dyad'> & { ssc?: Ssc; fixPsd?: boolean }, rule: SmallSampleRule): VcovRequest {
  const req: VcovRequest = { type: o.type, ssc: o.ssc, rule, fixPsd: o.fixPsd };
  const kind = VARIANCES[o.type].needs;
  if (kind === 'cluster1' || kind === 'cluster2') req.clusters = o.cluster!.map((c) => groupingOf(table, c, rows));
  if (kind === 'dyad') req.dyad = dyadCodes(table, o.dyad!, rows);
  return req;
}

/**
 * Designs and estimates already made in one run, for models that share them: the same
 * formula on the same table (and the same id columns, which decide the rows used) has one
 * design; the same design and family one estimate (models that differ only in their
 * variance, e.g. a main model and its two-way-clustered twin). Reuse gives the very numbers
 * a refit would: every step is deterministic.
 */
export class FitCache {
  private designs = new WeakMap<Table, Map<string, Design>>();
  private estimates = new WeakMap<Design, Map<string, Estimate>>();
  /** how many more models will ask for each design, and for each design's estimate by family (each is dropped after its last use) */
  private uses = new WeakMap<Table, Map<string, number>>();
  private estimateUses = new WeakMap<Table, Map<string, number>>();
  /** the table and key each design was made from */
  private origin = new WeakMap<Design, { table: Table; key: string }>();

  static key(formula: string, weights: string | undefined, ids: string[]): string {
    return JSON.stringify([formula, weights ?? null, [...ids].sort()]);
  }

  /** Announces a model that will ask for this design and its estimate by `family` (call once per model before fitting; without a family, a use of the design alone). */
  expect(table: Table, formula: string, weights: string | undefined, ids: string[], family?: string): void {
    const key = FitCache.key(formula, weights, ids);
    count(this.uses, table, key, 1);
    if (family !== undefined) count(this.estimateUses, table, `${key}\0${family}`, 1);
  }

  design(table: Table, formula: string, weights: string | undefined, ids: string[]): Design {
    let byKey = this.designs.get(table);
    if (!byKey) this.designs.set(table, (byKey = new Map()));
    const key = FitCache.key(formula, weights, ids);
    let d = byKey.get(key) ?? this.sameRows(table, byKey, formula, weights, ids, key);
    if (!d) {
      d = buildDesign(table, formula, { weights, require: ids });
      this.origin.set(d, { table, key });
    }
    // keep it only while announced models still need it: at county scale a design is hundreds of MB
    if (count(this.uses, table, key, -1) > 0) byKey.set(key, d);
    else byKey.delete(key);
    return d;
  }

  /**
   * A design kept for the same formula and weights whose id columns include these and whose
   * other id columns have no missing value in the table: it has the same rows, so it is this
   * design (a Firth or King–Zeng column with classical SEs beside a main model with dyadic ones:
   * one design, and the ML logit both start from fitted once; at county scale 0.3 GB and 2 s).
   * The estimate uses announced for `key` then count for the design's own key.
   */
  private sameRows(table: Table, byKey: Map<string, Design>, formula: string, weights: string | undefined, ids: string[], key: string): Design | undefined {
    for (const [otherKey, d] of byKey) {
      const [f, w, otherIds] = JSON.parse(otherKey) as [string, string | null, string[]];
      if (f !== formula || w !== (weights ?? null) || !ids.every((c) => otherIds.includes(c))) continue;
      const extra = otherIds.filter((c) => !ids.includes(c));
      if (!extra.every((c) => table.columns.has(c) && !hasMissing(table.columns.get(c)!))) continue;
      const o = this.origin.get(d)!;
      const counts = this.estimateUses.get(table);
      if (counts) {
        for (const [k, n] of [...counts]) {
          if (!k.startsWith(`${key}\0`)) continue;
          const family = k.slice(key.length + 1);
          counts.set(`${o.key}\0${family}`, (counts.get(`${o.key}\0${family}`) ?? 0) + n);
          counts.delete(k);
        }
      }
      return d;
    }
    return undefined;
  }

  estimate(design: Design, family: string, make: () => Estimate): Estimate {
    let byFamily = this.estimates.get(design);
    if (!byFamily) this.estimates.set(design, (byFamily = new Map()));
    const e = byFamily.get(family) ?? make();
    // the same: an estimate's vectors (fitted values, scores) are hundreds of MB at county scale
    const o = this.origin.get(design);
    if (o && count(this.estimateUses, o.table, `${o.key}\0${family}`, -1) > 0) byFamily.set(family, e);
    else byFamily.delete(family);
    return e;
  }
}

/** Adds `by` to the count of `key` under `table` (an unannounced key counts from 1); returns the new count. */
function count(m: WeakMap<Table, Map<string, number>>, table: Table, key: string, by: number): number {
  let byKey = m.get(table);
  if (!byKey) m.set(table, (byKey = new Map()));
  const n = (byKey.get(key) ?? (by < 0 ? 1 : 0)) + by;
  byKey.set(key, n);
  return n;
}

/**
 * Fits one model. In: a table, and options (formula, family, variance type with the
 * columns it needs, small-sample preset, prior weights, confidence level). Out: the fit
 * (`result`, the JSON of docs/contract.md §5) with the design, the estimate and the
 * variance of each parameter block. Bad requests throw a UsageError before estimating.
 */
export function fitModel(table: Table, options: FitOptions, cache?: FitCache): ModelFit {
  const o = FitOptionsSchema.parse(options);
  const fam = family(o.family);
  const idColumns = checkVcovRequest({ type: o.vcov, cluster: o.cluster, dyad: o.dyad }, { name: o.family, variances: fam.variances });
  // the cache's designs have the default factor-level limit (no spec sets another): a limit it would ignore is a bug
  if (cache && o.maxLevels !== undefined) throw new Error('internal: fitModel with a FitCache takes no maxLevels');
  const design = cache ? cache.design(table, o.formula, o.weights, idColumns) : buildDesign(table, o.formula, { weights: o.weights, require: idColumns, maxLevels: o.maxLevels });
  checkResponse(o.family, fam, design);
  if (design.parts.length > 1 && fam.parts === 1) {
    const twoPart = FAMILY_NAMES.filter((f) => family(f).parts === 2).join(' and ');
    throw new UsageError(`'|' separates the count and zero parts of ${twoPart} formulas; family ${o.family} takes one part`);
  }
  const part = design.parts[0];
  if (part.p === 0) throw new UsageError(`the formula '${o.formula}' has no coefficients to estimate`);
  if (design.n <= design.parts.reduce((s, q) => s + q.p, 0)) {
    throw new UsageError(`${design.n} row${design.n > 1 ? 's are' : ' is'} used, no more than the model's coefficients: nothing is left to estimate their variance (check the subset, or missing values in the variables)`);
  }
  if (!fam.weightsAndOffsets && (design.weights || part.offset)) {
    throw new UsageError(`family ${o.family} does not take weights or offsets yet`);
  }
  const est = cache ? cache.estimate(design, o.family, () => fam.estimate(design)) : fam.estimate(design);
  const requestOn = (rows: Int32Array) => varianceRequest(table, rows, { ...o, type: o.vcov }, fam.smallSample);
  const vcovs = est.blocks.map((b) => computeVcov(b.pieces, requestOn(b.rowSubset ? Int32Array.from(b.rowSubset, (k) => design.rows[k]) : design.rows)));
  const tDf = fam.statistic === 't' ? design.n - part.p : null;
  const rowsOf = (b: EstBlock, V: Float64Array, which: EstBlock['report'][number]) => {
    const K = b.params.length;
    const idx = which.index;
    const beta = Float64Array.from(idx, (i) => b.params[i]);
    const sub = new Float64Array(idx.length * idx.length);
    idx.forEach((i, a) => idx.forEach((j, c) => (sub[a * idx.length + c] = V[i * K + j])));
    return coefficientRows(which.names, which.aliased, beta, sub, tDf, o.level);
  };
  let coefficients: CoefRow[] = [];
  const partRows: { count: CoefRow[]; zero: CoefRow[] } = { count: [], zero: [] };
  let twoParts = false;
  est.blocks.forEach((b, k) => {
    for (const which of b.report) {
      const rows = rowsOf(b, vcovs[k].V, which);
      if (which.part === null) coefficients = rows;
      else {
        twoParts = true;
        partRows[which.part] = rows;
      }
    }
  });
  const parts: FitResult['parts'] = twoParts ? partRows : null;
  // SE(θ) by the delta method from the variance of log θ, where θ is estimated jointly
  let thetaSe = est.thetaSe;
  est.blocks.forEach((b, k) => {
    if (b.logThetaIndex === null || est.theta === null) return;
    const K = b.params.length;
    thetaSe = est.theta * Math.sqrt(vcovs[k].V[b.logThetaIndex * K + b.logThetaIndex]);
  });
  const n = design.n;
  // residual df: observations minus estimated coefficients (θ not counted, as glm.nb)
  const nCoef = [...coefficients, ...(parts?.count ?? []), ...(parts?.zero ?? [])].filter((c) => c.estimate !== null).length;
  // parameters behind the log-likelihood (AIC, BIC, LR tests): coefficients and θ or σ
  const parameters = nCoef + fam.auxParams;
  const first = vcovs[0];
  const sameFactor = vcovs.every((v) => v.sscFactor === first.sscFactor);
  let clusters = first.clusters;
  if (vcovs.length > 1) {
    clusters = null;
    est.blocks.forEach((b, k) => {
      const label = b.report[0].part ?? 'model';
      for (const [name, G] of Object.entries(vcovs[k].clusters ?? {})) (clusters ??= {})[`${label}:${name}`] = G;
    });
  }
  const result: FitResult = {
    schema_version: FIT_SCHEMA_VERSION,
    family: o.family,
    link: est.link,
    formula: o.formula,
    n,
    df_residual: n - nCoef,
    converged: est.converged,
    iterations: est.iterations,
    vcov_type: first.type,
    ssc: first.ssc,
    ssc_factor: sameFactor ? first.sscFactor : null,
    clusters,
    n_dropped: design.nDropped,
    warnings: [...design.warnings, ...est.warnings, ...vcovs.flatMap((v) => v.warnings)],
    coefficients,
    loglik: est.loglik,
    aic: -2 * est.loglik + 2 * parameters,
    bic: -2 * est.loglik + Math.log(n) * parameters,
    deviance: est.deviance,
    null_deviance: est.nullDeviance,
    theta: est.theta,
    theta_se: est.theta === null ? null : thetaSe,
    alpha: est.theta === null ? null : 1 / est.theta,
    parts,
    ...binaryStats(fam.response === 'binary' && o.fitStats ? est.mu : null, design.y),
    loglik_null_constant: est.nullLoglikConstant,
  };
  if (!est.converged && est.warnings.length === 0) result.warnings.push('the estimator did not converge');
  let joint: VcovResult | null = vcovs.length === 1 ? first : null;
  const jointVcov = () => (joint ??= computeVcov(jointPieces(est.blocks, design.n), requestOn(design.rows)));
  return { result, table, design, estimate: est, parameters, vcovs, vcov: first, jointVcov };
}
