/**
 * The two tables every such paper has besides the regressions: variance inflation factors of a
 * model's covariates and the correlation matrix of its variables.
 *
 *  - VIF of design column k = 1 / (1 − R²_k), R²_k of column k on the model's other columns with
 *    an intercept, unweighted, on the fitted rows — the diagonal of the inverse of the covariates'
 *    correlation matrix (Stata's `estat vif` after `regress`; R's car::vif for one-column terms;
 *    a factor's indicators get one VIF each, as Stata's, not car's generalised VIF per term).
 *  - Pearson correlations over the rows where every variable is present, with the two-sided
 *    p-value of t = r √((n − 2)/(1 − r²)) on n − 2 df (R's cor.test, Stata's pwcorr, sig) — a
 *    test that treats the rows as independent, which pairs sharing a city are not (the tables say so).
 */
import type { Table } from '../data/table.ts';
import type { DesignPart } from '../formula/design.ts';
import { cholesky, cholInverse } from '../linalg/dense.ts';
import { pValue } from './wald.ts';

export interface VifRow {
  term: string;
  vif: number | null;
}

/** The correlation matrix of columns `cols` of a row-major matrix with `stride` columns (NaN where a column is constant). */
function correlationMatrix(X: Float64Array, n: number, cols: number[], stride: number): Float64Array {
  const k = cols.length;
  const mean = new Float64Array(k);
  for (let r = 0; r < n; r++) for (let a = 0; a < k; a++) mean[a] += X[r * stride + cols[a]];
  for (let a = 0; a < k; a++) mean[a] /= n;
  const C = new Float64Array(k * k);
  for (let r = 0; r < n; r++) {
    for (let a = 0; a < k; a++) {
      const da = X[r * stride + cols[a]] - mean[a];
      for (let b = a; b < k; b++) C[a * k + b] += da * (X[r * stride + cols[b]] - mean[b]);
    }
  }
  const R = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      const r = C[a * k + b] / Math.sqrt(C[a * k + a] * C[b * k + b]);
      R[a * k + b] = r;
      R[b * k + a] = r;
    }
  }
  return R;
}

/**
 * VIFs of a fitted design part's columns (the intercept has none). Null for every column when
 * the covariates' correlation matrix is singular or there are fewer than two covariates' worth of
 * information (a model with one covariate has VIF 1).
 */
export function vifs(part: DesignPart, n: number): VifRow[] {
  const names = part.names.filter((_, c) => !part.aliased[c]);
  const cols = names.map((_, c) => c).filter((c) => !(part.intercept && c === 0));
  if (!cols.length) return [];
  const R = correlationMatrix(part.X, n, cols, part.p);
  const k = cols.length;
  if (R.some((x) => !Number.isFinite(x))) return cols.map((c) => ({ term: names[c], vif: null }));
  const l = cholesky(R, k);
  if (!l) return cols.map((c) => ({ term: names[c], vif: null }));
  const inv = cholInverse(l, k);
  return cols.map((c, a) => ({ term: names[c], vif: inv[a * k + a] }));
}

export interface Correlations {
  variables: string[];
  /** rows where every variable is present */
  n: number;
  /** row-major, variables × variables */
  r: number[][];
  /** two-sided p-values (null on the diagonal) */
  p: (number | null)[][];
}

/** Pearson correlations of numeric columns of a table over the given rows where all are present. */
export function correlations(t: Table, rows: Int32Array, variables: string[]): Correlations {
  const vars = variables.filter((v) => t.columns.get(v)?.kind === 'number');
  const k = vars.length;
  const values = vars.map((v) => (t.columns.get(v) as { values: Float64Array }).values);
  const keep: number[] = [];
  for (const r of rows) if (values.every((x) => Number.isFinite(x[r]))) keep.push(r);
  const n = keep.length;
  const X = new Float64Array(n * k);
  keep.forEach((r, m) => values.forEach((x, a) => (X[m * k + a] = x[r])));
  const R = correlationMatrix(X, n, vars.map((_, a) => a), k);
  const r: number[][] = vars.map((_, a) => vars.map((__, b) => (a === b ? 1 : R[a * k + b])));
  const p = r.map((row, a) =>
    row.map((x, b) => {
      if (a === b || !Number.isFinite(x) || n < 3) return null;
      if (Math.abs(x) >= 1) return 0;
      return pValue(x * Math.sqrt((n - 2) / (1 - x * x)), n - 2);
    }),
  );
  return { variables: vars, n, r, p };
}
