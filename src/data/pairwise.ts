/**
 * The dyadic forms of a monadic covariate (`<v>_sum`, `_absdiff`, `_min`, `_max`): one value per
 * pair, made from the covariate's value at each end. The dyads stage builds in memory only the
 * ones a spec reads; the others are computed a row group at a time while the dyad files are
 * written (data/serialize.ts), with this same arithmetic, so the files are the same either way
 * (at county scale 19 of the book's 24 such columns, 0.6 GB, are never held whole).
 */
export const PAIRWISE_OPS = ['sum', 'absdiff', 'min', 'max'] as const;
export type PairwiseOp = (typeof PAIRWISE_OPS)[number];

/** A pair-table column described, not held: `op` of x at the pair's two ends (`i`, `j`: positions in x, one per row). */
export interface PairwiseColumn {
  kind: 'pairwise';
  op: PairwiseOp;
  x: Float64Array;
  i: Int32Array;
  j: Int32Array;
}

/** The column's values on rows [from, to), into `out`. Min and max propagate NaN (Math.min and Math.max do). */
export function pairwiseValues<T extends Float64Array<ArrayBufferLike> = Float64Array<ArrayBuffer>>(c: PairwiseColumn, from: number, to: number, out: T = new Float64Array(to - from) as T): T {
  const { x, i, j } = c;
  switch (c.op) {
    case 'sum':
      for (let r = from; r < to; r++) out[r - from] = x[i[r]] + x[j[r]];
      break;
    case 'absdiff':
      for (let r = from; r < to; r++) out[r - from] = Math.abs(x[i[r]] - x[j[r]]);
      break;
    case 'min':
      for (let r = from; r < to; r++) out[r - from] = Math.min(x[i[r]], x[j[r]]);
      break;
    case 'max':
      for (let r = from; r < to; r++) out[r - from] = Math.max(x[i[r]], x[j[r]]);
      break;
  }
  return out;
}

/**
 * Whether the column has a missing value (NaN) on some row, when its rows are every pair of
 * two or more positions of x (as a dyad table's are): without a pass over the pairs. A NaN at
 * any position reaches some pair; otherwise x + y is NaN only for +∞ and −∞ at two positions,
 * |x − y| only for the same infinity at two positions, and min and max never.
 */
export function pairwiseHasMissing(op: PairwiseOp, x: Float64Array): boolean {
  let plus = 0;
  let minus = 0;
  for (const v of x) {
    if (Number.isNaN(v)) return true;
    if (v === Infinity) plus++;
    else if (v === -Infinity) minus++;
  }
  if (op === 'sum') return plus > 0 && minus > 0;
  if (op === 'absdiff') return plus > 1 || minus > 1;
  return false;
}
