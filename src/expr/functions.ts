/** The mathematical functions and the logic allowed in formulas, derived variables and subsets (one definition for all). */
export const MATH_FUNCTIONS: Record<string, (...x: number[]) => number> = {
  log: (x, base) => (base === undefined ? Math.log(x) : Math.log(x) / Math.log(base)),
  log1p: Math.log1p,
  log10: Math.log10,
  log2: Math.log2,
  exp: Math.exp,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  cbrt: Math.cbrt,
  abs: Math.abs,
  sign: Math.sign,
  floor: Math.floor,
  ceil: Math.ceil,
  round: Math.round,
  min: Math.min,
  max: Math.max,
  pow: Math.pow,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
};

/** How many arguments each function takes ([min, max]); one when not listed. */
export const ARITY: Record<string, [number, number]> = { log: [1, 2], min: [1, 2], max: [1, 2], pow: [2, 2] };

/** The [min, max] argument count of a function. */
export const arityOf = (fn: string): [number, number] => (Object.hasOwn(ARITY, fn) ? ARITY[fn] : [1, 1]);

/** R's three-valued AND on 0/1/NaN (NaN = NA): FALSE & NA is FALSE, TRUE & NA is NA. */
export function logicalAnd(x: number, y: number): number {
  if (x === 0 || y === 0) return 0;
  return Number.isNaN(x) || Number.isNaN(y) ? NaN : 1;
}

/** R's three-valued OR on 0/1/NaN (NaN = NA): TRUE | NA is TRUE, FALSE | NA is NA. */
export function logicalOr(x: number, y: number): number {
  if ((x !== 0 && !Number.isNaN(x)) || (y !== 0 && !Number.isNaN(y))) return 1;
  return Number.isNaN(x) || Number.isNaN(y) ? NaN : 0;
}
