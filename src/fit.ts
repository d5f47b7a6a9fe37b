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
  type VcovRequest,
  type VcovResult,
} from './vcov/vcov.ts';
import { coefficientRows, type CoefRow } from './inference/wald.ts';

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

/** What an estimator hands back to the fit layer. */
export interface Estimate {
  link: string;
  beta: Float64Array;
  pieces: VariancePieces;
  converged: boolean;
  iterations: number;
  loglik: number;
  /** parameters counted in AIC/BIC (θ and σ included) */
  df: number;
  deviance: number | null;
  nullDeviance: number | null;
  theta: number | null;
  thetaSe: number | null;
  /** t statistics with this many df (OLS); null for z */
  tDf: number | null;
  warnings: string[];
}

/** A fitted model: the JSON result plus what effects and comparisons need. */
export interface ModelFit {
  result: FitResult;
  design: Design;
  estimate: Estimate;
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

function glmEstimate(inp: GlmInput, family: 'logit' | 'probit' | 'cloglog' | 'poisson', intercept: boolean): Estimate {
  const fam = family === 'poisson' ? poisson() : binomial(links[family]);
  const f = fitGlm(inp, fam);
  const nul = nullGlm(inp, fam, intercept);
  const oimL = cholesky(f.observedInfo, inp.p);
  return {
    link: fam.link.name,
    beta: f.beta,
    pieces: {
      k: inp.p,
      n: inp.n,
      bread: f.bread,
      classical: f.bread,
      oim: oimL ? cholInverse(oimL, inp.p) : null,
      scores: scalarTimesX(inp.X, inp.p, f.s),
      ols: false,
    },
    converged: f.converged,
    iterations: f.iterations,
    loglik: f.loglik,
    df: inp.p,
    deviance: f.deviance,
    nullDeviance: nul.deviance,
    theta: null,
    thetaSe: null,
    tDf: null,
    warnings: f.warnings,
  };
}

function negbinEstimate(inp: GlmInput, intercept: boolean): Estimate {
  const f = fitNegbin(inp);
  const nul = nullGlm(inp, negbinFamily(f.theta), intercept);
  const p = inp.p;
  let oim: Float64Array | null = null;
  if (f.jointObservedInv) {
    oim = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) oim[a * p + b] = f.jointObservedInv[a * (p + 1) + b];
  }
  return {
    link: 'log',
    beta: f.beta,
    pieces: { k: p, n: inp.n, bread: f.bread, classical: f.bread, oim, scores: scalarTimesX(inp.X, p, f.s), ols: false },
    converged: f.converged && !f.boundary,
    iterations: f.iterations,
    loglik: f.loglik,
    df: p + 1,
    deviance: f.deviance,
    nullDeviance: nul.deviance,
    theta: f.theta,
    thetaSe: f.thetaSe,
    tDf: null,
    warnings: f.warnings,
  };
}

function olsEstimate(inp: GlmInput, intercept: boolean): Estimate {
  const f = fitOls(inp, intercept);
  const p = inp.p;
  const s = Float64Array.from(f.resid, (e, r) => e * (inp.weights ? inp.weights[r] : 1));
  const classical = scale(f.bread, f.sigma2);
  return {
    link: 'identity',
    beta: f.beta,
    pieces: { k: p, n: inp.n, bread: f.bread, classical, oim: classical, scores: scalarTimesX(inp.X, p, s), ols: true },
    converged: true,
    iterations: 0,
    loglik: f.loglik,
    df: p + 1,
    deviance: f.rss,
    nullDeviance: f.nullRss,
    theta: null,
    thetaSe: null,
    tDf: inp.n - p,
    warnings: f.warnings,
  };
}

export type Estimator = (d: Design, table: Table, o: z.output<typeof FitOptionsSchema>) => Estimate;

/** Estimators beyond the core register here (see src/models/extensions.ts). */
export const extraEstimators: Partial<Record<FamilyName, Estimator>> = {};

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
  let est: Estimate;
  switch (o.family) {
    case 'logit':
    case 'probit':
    case 'cloglog':
    case 'poisson':
      est = glmEstimate(inp, o.family, part.intercept);
      break;
    case 'negbin':
      est = negbinEstimate(inp, part.intercept);
      break;
    case 'ols':
      est = olsEstimate(inp, part.intercept);
      break;
    default: {
      const f = extraEstimators[o.family];
      if (!f) throw new UsageError(`family ${o.family} is not available`);
      est = f(design, table, o);
    }
  }
  const req: VcovRequest = { type: o.vcov, ssc: o.ssc, fixPsd: o.fixPsd };
  if (o.vcov === 'cluster' || o.vcov === 'cluster2') req.clusters = o.cluster!.map((c) => groupingOf(table, c, design.rows));
  if (o.vcov === 'dyadic') req.dyad = dyadCodes(table, o.dyad!, design.rows);
  const vcov = computeVcov(est.pieces, req);
  const coefficients = coefficientRows(part.names, part.aliased, est.beta, vcov.V, est.tDf, o.level);
  const n = design.n;
  const result: FitResult = {
    family: o.family,
    link: est.link,
    formula: o.formula,
    n,
    df_residual: n - part.p,
    converged: est.converged,
    iterations: est.iterations,
    vcov_type: vcov.type,
    ssc: vcov.ssc,
    ssc_factor: vcov.sscFactor,
    clusters: vcov.clusters,
    n_dropped: design.nDropped,
    warnings: [...design.warnings, ...est.warnings, ...vcov.warnings],
    coefficients,
    loglik: est.loglik,
    aic: -2 * est.loglik + 2 * est.df,
    bic: -2 * est.loglik + Math.log(n) * est.df,
    deviance: est.deviance,
    null_deviance: est.nullDeviance,
    theta: est.theta,
    theta_se: est.thetaSe,
    alpha: est.theta === null ? null : 1 / est.theta,
    parts: null,
  };
  if (!est.converged && est.warnings.length === 0) result.warnings.push('the estimator did not converge');
  return { result, design, estimate: est, vcov };
}
