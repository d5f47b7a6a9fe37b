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
import { weightedCrossprod } from '../linalg/crossprod.ts';
import { cholesky, cholInverse } from '../linalg/dense.ts';
import { pValue } from './wald.ts';

export interface VifRow {
  term: string;
  vif: number | null;
}

const CHUNK = 4096;

/**
 * Correlation matrix (NaN where a variable is constant) and row count of k variables whose rows
 * come chunk by chunk: `fill(c, B)` writes the rows of chunk c (0 … chunks − 1) row-major into B
 * (up to CHUNK rows) and returns how many it wrote. Two passes — the means, then the centred
 * cross-products through the cross-product kernel — with no copy of the data: 16 million
 * pair-years take a second, not a gigabyte.
 */
function correlationMatrix(k: number, chunks: number, fill: (c: number, B: Float64Array) => number): { R: Float64Array; n: number } {
  const B = new Float64Array(CHUNK * k);
  const mean = new Float64Array(k);
  let n = 0;
  for (let c = 0; c < chunks; c++) {
    const m = fill(c, B);
    n += m;
    for (let r = 0; r < m; r++) for (let a = 0; a < k; a++) mean[a] += B[r * k + a];
  }
  for (let a = 0; a < k; a++) mean[a] /= n;
  const C = new Float64Array(k * k);
  for (let c = 0; c < chunks; c++) {
    const m = fill(c, B);
    for (let r = 0; r < m; r++) for (let a = 0; a < k; a++) B[r * k + a] -= mean[a];
    const part = weightedCrossprod(B, m, k, null);
    for (let x = 0; x < k * k; x++) C[x] += part[x];
  }
  const R = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      const r = C[a * k + b] / Math.sqrt(C[a * k + a] * C[b * k + b]);
      R[a * k + b] = r;
      R[b * k + a] = r;
    }
  }
  return { R, n };
}

/**
 * VIFs of a fitted design part's columns (the intercept has none). Null for every column when
 * the covariates' correlation matrix is singular or there are fewer than two covariates' worth of
 * information (a model with one covariate has VIF 1).
 */
export function vifs(part: DesignPart, n: number): VifRow[] {
  // models that share a design (the book's logit, probit, Firth, King–Zeng and two-way columns)
  // share its VIFs: each is a pass over the design, 0.2 s at county scale
  let v = vifsOf.get(part);
  if (!v) vifsOf.set(part, (v = computeVifs(part, n)));
  return v;
}
const vifsOf = new WeakMap<DesignPart, VifRow[]>();

function computeVifs(part: DesignPart, n: number): VifRow[] {
  const names = part.names.filter((_, c) => !part.aliased[c]);
  const cols = names.map((_, c) => c).filter((c) => !(part.intercept && c === 0));
  if (!cols.length) return [];
  const k = cols.length;
  const { R } = correlationMatrix(k, Math.ceil(n / CHUNK), (c, B) => {
    const from = c * CHUNK;
    const to = Math.min(n, from + CHUNK);
    for (let r = from, o = 0; r < to; r++) for (let a = 0; a < k; a++) B[o++] = part.X[r * part.p + cols[a]];
    return to - from;
  });
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
  // the rows where every variable is present
  const { R, n } = correlationMatrix(k, Math.ceil(rows.length / CHUNK), (c, B) => {
    const to = Math.min(rows.length, (c + 1) * CHUNK);
    let o = 0;
    for (let q = c * CHUNK; q < to; q++) {
      const r = rows[q];
      let a = 0;
      for (; a < k; a++) {
        const x = values[a][r];
        if (!Number.isFinite(x)) break;
        B[o * k + a] = x;
      }
      if (a === k) o++;
    }
    return o;
  });
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
