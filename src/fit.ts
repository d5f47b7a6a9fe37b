/**
 * Fitting one model: table + formula + family + variance request → the machine-readable
 * fit of SPEC §5. This is the one place that ties the formula layer, the estimators,
 * the variance layer and inference together.
 */
import { z } from 'zod';
import { UsageError } from './util/errors.ts';
import type { Table } from './data/table.ts';
import { buildDesign, type Design, type DesignPart } from './formula/design.ts';
import { binomial, links, negbin as negbinFamily, poisson } from './models/family.ts';
import { fitGlm, nullGlm, type GlmInput } from './models/glm.ts';
import { fitNegbin } from './models/negbin.ts';
import { fitOls } from './models/ols.ts';
import { cholesky, cholInverse, scale } from './linalg/dense.ts';
import {
  computeVcov,
  scalarTimesX,
  SSC_PRESETS,
  VCOV_TYPES,
  type Grouping,
  type VariancePieces,
  type VcovType,
  type VcovRequest,
  type VcovResult,
} from './vcov/vcov.ts';
import { coefficientRows, type CoefRow } from './inference/wald.ts';
import { fitFirth, fitRelogit } from './models/binary.ts';
import { fitZinb, fitZtnb } from './models/counts.ts';
import type { MleFit } from './models/mle.ts';

export const FAMILIES = [
  'poisson',
  'negbin',
  'logit',
  'probit',
  'cloglog',
  'firth-logit',
  'relogit',
  'ztnb',
  'hurdle-negbin',
  'zinb',
  'ols',
] as const;
export type FamilyName = (typeof FAMILIES)[number];

export const FitOptionsSchema = z.object({
  formula: z.string().min(1),
  family: z.enum(FAMILIES),
  vcov: z.enum(VCOV_TYPES).default('classical'),
  cluster: z.array(z.string().min(1)).optional(),
  dyad: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
  ssc: z.enum(SSC_PRESETS).optional(),
  weights: z.string().optional(),
  fixPsd: z.boolean().default(false),
  level: z.number().gt(0).lt(1).default(0.95),
});
export type FitOptions = z.input<typeof FitOptionsSchema>;

export interface FitResult {
  family: FamilyName;
  link: string;
  formula: string;
  n: number;
  df_residual: number;
  converged: boolean;
  iterations: number;
  vcov_type: string;
  ssc: string | null;
  ssc_factor: number | null;
  clusters: Record<string, number> | null;
  n_dropped: number;
  warnings: string[];
  coefficients: CoefRow[];
  loglik: number;
  aic: number;
  bic: number;
  deviance: number | null;
  null_deviance: number | null;
  theta: number | null;
  theta_se: number | null;
  alpha: number | null;
  parts: { count: CoefRow[]; zero: CoefRow[] } | null;
}

/**
 * One block of parameters with its own variance: the whole model for single-part
 * models, each part of a hurdle model (they are separable), or the joint ZINB.
 */
export interface EstBlock {
  /** parameter vector of this block (may include log θ) */
  params: Float64Array;
  pieces: VariancePieces;
  /** rows of the design (0..n-1) whose scores these are; null = all rows */
  rowSubset: Int32Array | null;
  /** which parameters are reported under which column names */
  report: { part: 'count' | 'zero' | null; names: string[]; aliased: boolean[]; index: number[] }[];
  /** index of log θ in params, when the block estimates it jointly */
  logThetaIndex: number | null;
  /** variance types that make sense for this estimator */
  allowed: readonly VcovType[];
}

/** What an estimator hands back to the fit layer. */
export interface Estimate {
  link: string;
  blocks: EstBlock[];
  converged: boolean;
  iterations: number;
  loglik: number;
  /** per-row log-likelihood (Vuong tests); null where not kept */
  rowLoglik: Float64Array | null;
  /** parameters counted in AIC/BIC (θ and σ included) */
  df: number;
  deviance: number | null;
  nullDeviance: number | null;
  theta: number | null;
  /** SE(θ) when θ is not part of a block's variance (glm.nb's convention) */
  thetaSe: number | null;
  /** t statistics with this many df (OLS); null for z */
  tDf: number | null;
  /** fitted means of the (single-part) model, for marginal effects */
  mu: Float64Array | null;
  warnings: string[];
}

/** A fitted model: the JSON result plus what effects and comparisons need. */
export interface ModelFit {
  result: FitResult;
  design: Design;
  estimate: Estimate;
  /** one per estimate block */
  vcovs: VcovResult[];
  /** the first block's variance (single-part models: the model's) */
  vcov: VcovResult;
}

const BINARY: FamilyName[] = ['logit', 'probit', 'cloglog', 'firth-logit', 'relogit'];
const COUNT: FamilyName[] = ['poisson', 'negbin', 'ztnb', 'hurdle-negbin', 'zinb'];

function glmInput(d: Design, part: DesignPart): GlmInput {
  return { X: part.X, n: d.n, p: part.p, y: d.y, offset: part.offset, weights: d.weights };
}

function checkResponse(family: FamilyName, d: Design): void {
  const bad: number[] = [];
  const isBinary = BINARY.includes(family);
  const isCount = COUNT.includes(family);
  if (!isBinary && !isCount) return;
  for (let r = 0; r < d.n; r++) {
    const y = d.y[r];
    const ok = isBinary ? y === 0 || y === 1 : y >= 0 && Number.isInteger(y);
    if (!ok) bad.push(r);
  }
  if (bad.length) {
    const shown = bad.slice(0, 10).map((r) => `row ${d.rows[r] + 2}: ${d.y[r]}`).join('; ');
    throw new UsageError(
      `family ${family} needs ${isBinary ? 'a 0/1 outcome' : 'a count outcome (integers >= 0)'}, but '${d.responseName}' has ${bad.length} other value${bad.length > 1 ? 's' : ''} (${shown}${bad.length > 10 ? '; …' : ''})`,
    );
  }
  const ones = d.y.reduce((s, y) => s + (y > 0 ? 1 : 0), 0);
  if (isBinary && (ones === 0 || ones === d.n)) {
    throw new UsageError(`'${d.responseName}' is ${ones === 0 ? 0 : 1} on every one of the ${d.n} rows used; a binary model needs both 0s and 1s`);
  }
  if (isCount && ones === 0) {
    throw new UsageError(`'${d.responseName}' is 0 on every one of the ${d.n} rows used; a count model needs some positive counts`);
  }
}

function groupingOf(table: Table, name: string, rows: Int32Array): Grouping {
  const c = table.columns.get(name);
  if (!c) throw new UsageError(`unknown cluster column '${name}' (columns: ${table.names.join(', ')})`);
  const map = new Map<string | number, number>();
  const codes = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const key = c.kind === 'number' ? c.values[rows[k]] : c.codes[rows[k]];
    let g = map.get(key);
    if (g === undefined) {
      g = map.size;
      map.set(key, g);
    }
    codes[k] = g;
  }
  return { name, codes, G: map.size };
}

function dyadCodes(table: Table, [ni, nj]: [string, string], rows: Int32Array) {
  const text = (name: string) => {
    const c = table.columns.get(name);
    if (!c) throw new UsageError(`unknown dyad column '${name}' (columns: ${table.names.join(', ')})`);
    return (r: number) => (c.kind === 'number' ? String(c.values[r]) : c.levels[c.codes[r]]);
  };
  const ti = text(ni);
  const tj = text(nj);
  const map = new Map<string, number>();
  const code = (s: string) => {
    let g = map.get(s);
    if (g === undefined) {
      g = map.size;
      map.set(s, g);
    }
    return g;
  };
  const i = new Int32Array(rows.length);
  const j = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    i[k] = code(ti(rows[k]));
    j[k] = code(tj(rows[k]));
    if (i[k] === j[k]) throw new UsageError(`dyad columns ${ni}, ${nj}: row ${rows[k] + 2} pairs a city with itself`);
  }
  return { i, j, G: map.size, names: [ni, nj] as [string, string] };
}

/** An Estimate with the fields most estimators leave empty set to null. */
function estimate(e: Pick<Estimate, 'link' | 'blocks' | 'converged' | 'iterations' | 'loglik' | 'df' | 'warnings'> & Partial<Estimate>): Estimate {
  return { rowLoglik: null, deviance: null, nullDeviance: null, theta: null, thetaSe: null, tDf: null, mu: null, ...e };
}

const ALL_VCOV = VCOV_TYPES;
const MODEL_BASED: readonly VcovType[] = ['classical', 'oim'];

function singleBlock(part: DesignPart, params: Float64Array, pieces: VariancePieces, allowed: readonly VcovType[] = ALL_VCOV): EstBlock[] {
  const index = Array.from({ length: part.p }, (_, k) => k);
  return [{ params, pieces, rowSubset: null, report: [{ part: null, names: part.names, aliased: part.aliased, index }], logThetaIndex: null, allowed }];
}

function glmPieces(inp: GlmInput, bread: Float64Array, observedInfo: Float64Array, s: Float64Array): VariancePieces {
  const oimL = cholesky(observedInfo, inp.p);
  return { k: inp.p, n: inp.n, bread, classical: bread, oim: oimL ? cholInverse(oimL, inp.p) : null, scores: scalarTimesX(inp.X, inp.p, s), ols: false };
}

function glmEstimate(inp: GlmInput, part: DesignPart, family: 'logit' | 'probit' | 'cloglog' | 'poisson'): Estimate {
  const fam = family === 'poisson' ? poisson() : binomial(links[family]);
  const f = fitGlm(inp, fam);
  const nul = nullGlm(inp, fam, part.intercept);
  return estimate({
    link: fam.link.name,
    blocks: singleBlock(part, f.beta, glmPieces(inp, f.bread, f.observedInfo, f.s)),
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    df: inp.p,
    deviance: f.deviance,
    nullDeviance: nul.deviance,
    mu: f.mu,
    warnings: f.warnings,
  });
}

function negbinEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitNegbin(inp);
  const nul = nullGlm(inp, negbinFamily(f.theta), part.intercept);
  const p = inp.p;
  let oim: Float64Array | null = null;
  if (f.jointObservedInv) {
    oim = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) oim[a * p + b] = f.jointObservedInv[a * (p + 1) + b];
  }
  const pieces: VariancePieces = { k: p, n: inp.n, bread: f.bread, classical: f.bread, oim, scores: scalarTimesX(inp.X, p, f.s), ols: false };
  return estimate({
    link: 'log',
    blocks: singleBlock(part, f.beta, pieces),
    converged: f.converged && !f.boundary,
    iterations: f.iterations,
    loglik: f.loglik,
    df: p + 1,
    deviance: f.deviance,
    nullDeviance: nul.deviance,
    theta: f.theta,
    thetaSe: f.thetaSe,
    mu: f.mu,
    warnings: f.warnings,
  });
}

function olsEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitOls(inp, part.intercept);
  const p = inp.p;
  const s = Float64Array.from(f.resid, (e, r) => e * (inp.weights ? inp.weights[r] : 1));
  const classical = scale(f.bread, f.sigma2);
  const pieces: VariancePieces = { k: p, n: inp.n, bread: f.bread, classical, oim: classical, scores: scalarTimesX(inp.X, p, s), ols: true };
  return estimate({
    link: 'identity',
    blocks: singleBlock(part, f.beta, pieces),
    converged: true,
    iterations: 0,
    loglik: f.loglik,
    df: p + 1,
    deviance: f.rss,
    nullDeviance: f.nullRss,
    tDf: inp.n - p,
    warnings: f.warnings,
  });
}

function firthEstimate(inp: GlmInput, part: DesignPart): Estimate {
  // the Firth estimate is within O(1/n) of the ML one: start there unless ML separates
  const ml = inp.n >= 10_000 ? fitGlm(inp, binomial(links.logit)) : null;
  const start = ml && ml.converged && ml.warnings.length === 0 ? ml.beta : undefined;
  const f = fitFirth(inp, { start });
  const nul = part.intercept ? fitFirth({ ...inp, X: new Float64Array(inp.n).fill(1), p: 1 }) : null;
  const pieces: VariancePieces = { k: inp.p, n: inp.n, bread: f.bread, classical: f.bread, oim: f.bread, scores: null, ols: false };
  return estimate({
    link: 'logit',
    blocks: singleBlock(part, f.beta, pieces, MODEL_BASED),
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    df: inp.p,
    deviance: -2 * f.loglik,
    nullDeviance: nul ? -2 * nul.loglik : null,
    mu: f.mu,
    warnings: f.warnings,
  });
}

function relogitEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitRelogit(inp);
  const pieces: VariancePieces = { k: inp.p, n: inp.n, bread: f.vcov, classical: f.vcov, oim: f.vcov, scores: null, ols: false };
  // the corrected estimate's fitted values and log-likelihood
  const mu = new Float64Array(inp.n);
  let ll = 0;
  for (let r = 0; r < inp.n; r++) {
    let e = inp.offset ? inp.offset[r] : 0;
    for (let a = 0; a < inp.p; a++) e += inp.X[r * inp.p + a] * f.beta[a];
    const m = 1 / (1 + Math.exp(-e));
    mu[r] = m;
    const pw = inp.weights ? inp.weights[r] : 1;
    ll += pw * (inp.y[r] === 1 ? Math.log(m) : Math.log1p(-m));
  }
  return estimate({
    link: 'logit',
    blocks: singleBlock(part, f.beta, pieces, MODEL_BASED),
    converged: f.ml.converged,
    iterations: f.ml.iterations,
    loglik: ll,
    df: inp.p,
    deviance: -2 * ll,
    mu,
    warnings: f.ml.warnings,
  });
}

/** The block of a fit over (β, log θ) from the ML engine; theta's own row is not reported. */
function countBlock(part: DesignPart, fit: MleFit, rowSubset: Int32Array | null, p: number, label: 'count' | null, nRows: number): EstBlock {
  const K = p + 1;
  const V = fit.vcov ?? new Float64Array(K * K).fill(NaN);
  return {
    params: fit.beta,
    pieces: { k: K, n: nRows, bread: V, classical: V, oim: V, scores: fit.scores, ols: false },
    rowSubset,
    report: [{ part: label, names: part.names, aliased: part.aliased, index: Array.from({ length: p }, (_, k) => k) }],
    logThetaIndex: p,
    allowed: ALL_VCOV,
  };
}

function ztnbEstimate(inp: GlmInput, part: DesignPart): Estimate {
  const f = fitZtnb(inp);
  return estimate({
    link: 'log',
    blocks: [countBlock(part, f.fit, null, inp.p, null, inp.n)],
    converged: f.fit.converged,
    iterations: f.fit.iterations,
    loglik: f.fit.loglik,
    rowLoglik: f.fit.rowLoglik,
    df: inp.p + 1,
    theta: f.theta,
    warnings: f.fit.warnings,
  });
}

function hurdleEstimate(d: Design, count: DesignPart, zero: DesignPart): Estimate {
  const n = d.n;
  const positives = Int32Array.from({ length: n }, (_, r) => r).filter((r) => d.y[r] > 0);
  if (positives.length === n) throw new UsageError(`hurdle-negbin needs zeros in '${d.responseName}', but every one of the ${n} rows is positive; use ztnb or negbin`);
  const any = d.y.map((v) => +(v > 0));
  const zInp: GlmInput = { X: zero.X, n, p: zero.p, y: any, offset: zero.offset, weights: null };
  const zf = fitGlm(zInp, binomial(links.logit));
  const Xc = new Float64Array(positives.length * count.p);
  positives.forEach((r, k) => Xc.set(count.X.subarray(r * count.p, (r + 1) * count.p), k * count.p));
  const cInp: GlmInput = { X: Xc, n: positives.length, p: count.p, y: Float64Array.from(positives, (r) => d.y[r]), offset: null, weights: null };
  const cf = fitZtnb(cInp);
  const zeroBlock: EstBlock = {
    params: zf.beta,
    pieces: glmPieces(zInp, zf.bread, zf.observedInfo, zf.s),
    rowSubset: null,
    report: [{ part: 'zero', names: zero.names, aliased: zero.aliased, index: Array.from({ length: zero.p }, (_, k) => k) }],
    logThetaIndex: null,
    allowed: ALL_VCOV,
  };
  const rowLoglik = new Float64Array(n);
  for (let r = 0; r < n; r++) rowLoglik[r] = any[r] ? Math.log(zf.mu[r]) : Math.log1p(-zf.mu[r]);
  positives.forEach((r, k) => (rowLoglik[r] += cf.fit.rowLoglik[k]));
  return estimate({
    link: 'log',
    blocks: [countBlock(count, cf.fit, positives, count.p, 'count', positives.length), zeroBlock],
    converged: zf.converged && cf.fit.converged,
    iterations: zf.iterations + cf.fit.iterations,
    loglik: zf.loglik + cf.fit.loglik,
    rowLoglik,
    df: count.p + 1 + zero.p,
    theta: cf.theta,
    warnings: [...zf.warnings.map((w) => `zero part: ${w}`), ...cf.fit.warnings.map((w) => `count part: ${w}`)],
  });
}

function zinbEstimate(d: Design, count: DesignPart, zero: DesignPart): Estimate {
  const n = d.n;
  if (d.y.every((v) => v > 0)) throw new UsageError(`zinb needs zeros in '${d.responseName}', but every one of the ${n} rows is positive; use ztnb or negbin`);
  const f = fitZinb({ X: count.X, n, p: count.p, y: d.y, offset: count.offset, weights: null }, zero.X, zero.p);
  const K = count.p + 1 + zero.p;
  const V = f.vcov ?? new Float64Array(K * K).fill(NaN);
  const block: EstBlock = {
    params: f.fit!.beta,
    pieces: { k: K, n, bread: V, classical: V, oim: V, scores: f.fit!.scores, ols: false },
    rowSubset: null,
    report: [
      { part: 'count', names: count.names, aliased: count.aliased, index: Array.from({ length: count.p }, (_, k) => k) },
      { part: 'zero', names: zero.names, aliased: zero.aliased, index: Array.from({ length: zero.p }, (_, k) => count.p + 1 + k) },
    ],
    logThetaIndex: count.p,
    allowed: ALL_VCOV,
  };
  return estimate({
    link: 'log',
    blocks: [block],
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    rowLoglik: f.rowLoglik,
    df: K,
    theta: f.theta,
    warnings: f.warnings,
  });
}

export function fitModel(table: Table, options: FitOptions): ModelFit {
  const o = FitOptionsSchema.parse(options);
  const needs: string[] = [];
  if (o.vcov === 'cluster' || o.vcov === 'cluster2') {
    if (!o.cluster?.length) throw new UsageError(`--vcov ${o.vcov} needs --cluster <col>${o.vcov === 'cluster2' ? ',<col>' : ''}`);
    if (o.vcov === 'cluster' && o.cluster.length !== 1) throw new UsageError('--vcov cluster takes one --cluster column (use cluster2 for two)');
    if (o.vcov === 'cluster2' && o.cluster.length !== 2) throw new UsageError('--vcov cluster2 takes two --cluster columns, e.g. --cluster i,j');
    needs.push(...o.cluster);
  }
  if (o.vcov === 'dyadic') {
    if (!o.dyad) throw new UsageError('--vcov dyadic needs --dyad <col_i>,<col_j>');
    needs.push(...o.dyad);
  }
  const design = buildDesign(table, o.formula, { weights: o.weights, require: needs });
  checkResponse(o.family, design);
  const twoPart = o.family === 'hurdle-negbin' || o.family === 'zinb';
  if (design.parts.length > 1 && !twoPart) {
    throw new UsageError(`'|' separates the count and zero parts of hurdle-negbin and zinb formulas; family ${o.family} takes one part`);
  }
  const part = design.parts[0];
  if (part.p === 0) throw new UsageError(`the formula '${o.formula}' has no coefficients to estimate`);
  const inp = glmInput(design, part);
  if ((o.family === 'ztnb' || twoPart) && (design.weights || part.offset)) {
    throw new UsageError(`family ${o.family} does not take weights or offsets yet`);
  }
  let est: Estimate;
  switch (o.family) {
    case 'logit':
    case 'probit':
    case 'cloglog':
    case 'poisson':
      est = glmEstimate(inp, part, o.family);
      break;
    case 'negbin':
      est = negbinEstimate(inp, part);
      break;
    case 'ols':
      est = olsEstimate(inp, part);
      break;
    case 'firth-logit':
      est = firthEstimate(inp, part);
      break;
    case 'relogit':
      est = relogitEstimate(inp, part);
      break;
    case 'ztnb':
      if (design.y.some((v) => v < 1)) {
        throw new UsageError(`ztnb models counts >= 1, but '${design.responseName}' has zeros; select the positive rows (--subset "${design.responseName} > 0") or use hurdle-negbin`);
      }
      est = ztnbEstimate(inp, part);
      break;
    case 'hurdle-negbin':
      est = hurdleEstimate(design, part, design.parts[1] ?? part);
      break;
    case 'zinb':
      est = zinbEstimate(design, part, design.parts[1] ?? part);
      break;
  }
  for (const b of est.blocks) {
    if (!b.allowed.includes(o.vcov)) {
      throw new UsageError(`--vcov ${o.vcov} is not available for ${o.family}; use ${b.allowed.join(' or ')}`);
    }
  }
  const vcovs = est.blocks.map((b) => {
    const rows = b.rowSubset ? Int32Array.from(b.rowSubset, (k) => design.rows[k]) : design.rows;
    const req: VcovRequest = { type: o.vcov, ssc: o.ssc, fixPsd: o.fixPsd };
    if (o.vcov === 'cluster' || o.vcov === 'cluster2') req.clusters = o.cluster!.map((c) => groupingOf(table, c, rows));
    if (o.vcov === 'dyadic') req.dyad = dyadCodes(table, o.dyad!, rows);
    return computeVcov(b.pieces, req);
  });
  const rowsOf = (b: EstBlock, V: Float64Array, which: EstBlock['report'][number]) => {
    const K = b.params.length;
    const idx = which.index;
    const beta = Float64Array.from(idx, (i) => b.params[i]);
    const sub = new Float64Array(idx.length * idx.length);
    idx.forEach((i, a) => idx.forEach((j, c) => (sub[a * idx.length + c] = V[i * K + j])));
    return coefficientRows(which.names, which.aliased, beta, sub, est.tDf, o.level);
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
    aic: -2 * est.loglik + 2 * est.df,
    bic: -2 * est.loglik + Math.log(n) * est.df,
    deviance: est.deviance,
    null_deviance: est.nullDeviance,
    theta: est.theta,
    theta_se: est.theta === null ? null : thetaSe,
    alpha: est.theta === null ? null : 1 / est.theta,
    parts,
  };
  if (!est.converged && est.warnings.length === 0) result.warnings.push('the estimator did not converge');
  return { result, design, estimate: est, vcovs, vcov: first };
}
