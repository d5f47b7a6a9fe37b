/**
 * Fitting one model: table + formula + family + variance request → the machine-readable
 * fit of SPEC §5. This is the one place that ties the formula layer, the estimators,
 * the variance layer and inference together.
 */
import { z } from 'zod';
import { UsageError } from './util/errors.ts';
import type { Table } from './data/table.ts';
import { buildDesign, type Design } from './formula/design.ts';
import { computeVcov, SSC_PRESETS, VCOV_TYPES, type Grouping, type VcovRequest, type VcovResult } from './vcov/vcov.ts';
import { coefficientRows, type CoefRow } from './inference/wald.ts';
import {
  firthEstimate,
  glmEstimate,
  glmInput,
  hurdleEstimate,
  negbinEstimate,
  olsEstimate,
  relogitEstimate,
  zinbEstimate,
  ztnbEstimate,
  type EstBlock,
  type Estimate,
} from './models/estimates.ts';

export type { EstBlock, Estimate };

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
