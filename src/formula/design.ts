/**
 * Formula + table → design matrix, the way R's model.frame/model.matrix build it:
 * listwise deletion of rows with a missing value in any variable the model uses,
 * treatment contrasts with the first (sorted) level as base, R's term and column
 * names and order, and aliased (perfectly collinear) columns detected and dropped.
 */
import { UsageError } from '../util/errors.ts';
import { closest } from '../util/suggest.ts';
import type { Table } from '../data/table.ts';
import { parallelCrossprod, PARALLEL_MIN_ROWS, rowVector, shared, warmUpWorker } from '../linalg/parallel.ts';
import { arityOf, logicalAnd, logicalOr, MATH_FUNCTIONS } from '../expr/functions.ts';
import { columnsIn, deparse, parseFormula, type Expr, type Formula, type RhsPart } from './parse.ts';

/** A formula variable on the used rows: numbers, or a factor's level codes (into its sorted levels). */
export type Var = { kind: 'num'; v: Float64Array } | { kind: 'factor'; codes: Int32Array; levels: string[] };

/** How a design column is made: the formula variables of its term, and for each the factor level it indicates (null: numeric). */
export interface ColumnRecipe {
  vars: number[];
  levelOf: (number | null)[];
}

/** Functions a formula term may call: the shared mathematical ones, plus R's I() and as.numeric(). */
const FUNCTIONS: Record<string, (...x: number[]) => number> = { ...MATH_FUNCTIONS, I: (x) => x, 'as.numeric': (x) => x };

function unknownColumn(name: string, t: Table, role = 'in the formula'): never {
  const hint = closest(name, t.names);
  throw new UsageError(hint ? `unknown column '${name}' ${role}: did you mean '${hint}'?` : `unknown column '${name}' ${role} (columns: ${t.names.join(', ')})`);
}

/** Evaluates an arithmetic expression over every row of the table. */
export function evalNumeric(e: Expr, t: Table): Float64Array {
  const n = t.nrow;
  switch (e.type) {
    case 'num':
      return new Float64Array(n).fill(e.value);
    case 'var': {
      const c = t.columns.get(e.name);
      if (!c) unknownColumn(e.name, t);
      if (c.kind !== 'number') {
        throw new UsageError(`column '${e.name}' holds text, so it cannot be used in arithmetic; use it as a term on its own (a factor)`);
      }
      return c.values;
    }
    case 'paren':
      return evalNumeric(e.inner, t);
    case 'unary': {
      const a = evalNumeric(e.arg, t);
      if (e.op === '-') return a.map((x) => -x);
      if (e.op === '!') return a.map((x) => (Number.isNaN(x) ? NaN : x === 0 ? 1 : 0));
      return a;
    }
    case 'call': {
      const f = Object.hasOwn(FUNCTIONS, e.fn) ? FUNCTIONS[e.fn] : undefined;
      if (!f) {
        throw new UsageError(`unknown function '${e.fn}()' in '${deparse(e)}' (available: ${Object.keys(FUNCTIONS).join(', ')}, factor)`);
      }
      const [lo, hi] = arityOf(e.fn);
      if (e.args.length < lo || e.args.length > hi) {
        throw new UsageError(`${e.fn}() takes ${lo === hi ? lo : `${lo} or ${hi}`} argument${hi > 1 ? 's' : ''} in '${deparse(e)}'`);
      }
      const a = evalNumeric(e.args[0], t);
      if (e.args.length === 2) {
        const b = evalNumeric(e.args[1], t);
        return a.map((x, r) => f(x, b[r]));
      }
      return a.map((x) => f(x));
    }
    case 'bin': {
      const a = evalNumeric(e.left, t);
      const b = evalNumeric(e.right, t);
      const out = new Float64Array(n);
      const op = e.op;
      const nanOr = (x: number, y: number, v: number) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : v);
      for (let r = 0; r < n; r++) {
        const x = a[r];
        const y = b[r];
        switch (op) {
          case '+': out[r] = x + y; break;
          case '-': out[r] = x - y; break;
          case '*': out[r] = x * y; break;
          case '/': out[r] = x / y; break;
          case '^': out[r] = Math.pow(x, y); break;
          case '==': out[r] = nanOr(x, y, x === y ? 1 : 0); break;
          case '!=': out[r] = nanOr(x, y, x !== y ? 1 : 0); break;
          case '<': out[r] = nanOr(x, y, x < y ? 1 : 0); break;
          case '>': out[r] = nanOr(x, y, x > y ? 1 : 0); break;
          case '<=': out[r] = nanOr(x, y, x <= y ? 1 : 0); break;
          case '>=': out[r] = nanOr(x, y, x >= y ? 1 : 0); break;
          case '&': case '&&': out[r] = logicalAnd(x, y); break;
          case '|': case '||': out[r] = logicalOr(x, y); break;
          default: throw new UsageError(`operator '${op}' cannot be evaluated in '${deparse(e)}'`);
        }
      }
      return out;
    }
  }
}

/**
 * A computed term that is not a number where every column it reads is present (log or sqrt
 * of a negative number, 0/0) loses those rows like missing values, as R does; say so.
 */
function undefinedValues(e: Expr, v: Float64Array, t: Table, warnings: string[]): void {
  if (e.type === 'var') return;
  const inputs = columnsIn(e).map((name) => t.columns.get(name)!);
  const rows: number[] = [];
  for (let r = 0; r < v.length; r++) {
    if (!Number.isNaN(v[r])) continue;
    if (inputs.every((c) => (c.kind === 'number' ? !Number.isNaN(c.values[r]) : c.codes[r] >= 0))) rows.push(r);
  }
  if (rows.length) {
    warnings.push(
      `'${deparse(e)}' is not a number on ${rows.length} row${rows.length > 1 ? 's' : ''} where its inputs are present (data rows ${rows.slice(0, 5).map((r) => r + 2).join(', ')}${rows.length > 5 ? ', …' : ''}; e.g. the log of a negative number): ${rows.length > 1 ? 'they are' : 'it is'} left out like missing values`,
    );
  }
}

/** A text column as a factor with its levels sorted (code-point order, R's C locale). */
function textFactor(codes: Int32Array, levels: string[]): Var {
  const order = levels.map((l, k) => ({ l, k })).sort((a, b) => (a.l < b.l ? -1 : a.l > b.l ? 1 : 0));
  const map = new Int32Array(levels.length);
  order.forEach(({ k }, newCode) => (map[k] = newCode));
  return { kind: 'factor', codes: codes.map((c) => (c < 0 ? -1 : map[c])), levels: order.map((o) => o.l) };
}

function evalVar(e: Expr, t: Table): Var {
  if (e.type === 'var') {
    const c = t.columns.get(e.name);
    if (!c) unknownColumn(e.name, t);
    if (c.kind === 'string') return textFactor(c.codes, c.levels);
    return { kind: 'num', v: c.values };
  }
  if (e.type === 'call' && (e.fn === 'factor' || e.fn === 'as.factor')) {
    if (e.args.length !== 1) throw new UsageError(`${e.fn}() takes one argument in '${deparse(e)}'`);
    const inner = e.args[0];
    if (inner.type === 'var') {
      const c = t.columns.get(inner.name);
      if (!c) unknownColumn(inner.name, t);
      if (c.kind === 'string') return textFactor(c.codes, c.levels);
    }
    const v = evalNumeric(inner, t);
    // codes by first appearance (runs of one value, as a year column has, skip the lookup), then renumbered in sorted order
    const seen = new Map<number, number>();
    const first = new Int32Array(v.length);
    let last = NaN;
    let lastCode = -1;
    for (let r = 0; r < v.length; r++) {
      const x = v[r];
      if (x === last) {
        first[r] = lastCode;
        continue;
      }
      if (Number.isNaN(x)) {
        first[r] = -1;
        continue;
      }
      let c = seen.get(x);
      if (c === undefined) seen.set(x, (c = seen.size));
      first[r] = c;
      last = x;
      lastCode = c;
    }
    const distinct = [...seen.keys()].sort((a, b) => a - b);
    const sorted = new Int32Array(seen.size);
    distinct.forEach((x, k) => (sorted[seen.get(x)!] = k));
    for (let r = 0; r < first.length; r++) if (first[r] >= 0) first[r] = sorted[first[r]];
    return { kind: 'factor', codes: first, levels: distinct.map((x) => String(x)) };
  }
  return { kind: 'num', v: evalNumeric(e, t) };
}

/** The values of the used rows (the array itself when every row is used: no copy). */
function gather(v: Float64Array, rows: Int32Array): Float64Array {
  if (rows.length === v.length) return v;
  const out = rowVector(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = v[rows[k]];
  return out;
}

export interface DesignPart {
  /** every column R would name, aliased ones included */
  names: string[];
  aliased: boolean[];
  /** row-major n × p matrix of the non-aliased columns */
  X: Float64Array;
  p: number;
  offset: Float64Array | null;
  intercept: boolean;
  /** term label of each column (for tables), e.g. 'factor(g)' for 'factor(g)B' */
  termOf: string[];
  /** how each column (aliased ones included) is made from the formula's variables (for marginal effects) */
  recipes: ColumnRecipe[];
}

export interface Design {
  formula: Formula;
  responseName: string;
  y: Float64Array;
  n: number;
  /** indices of the used rows in the input table */
  rows: Int32Array;
  nDropped: number;
  parts: DesignPart[];
  weights: Float64Array | null;
  warnings: string[];
  /** the formula's variables on the used rows (index as formula.variables) */
  vars: Var[];
}

export interface DesignOptions {
  /** a numeric column of prior weights */
  weights?: string;
  /** columns that must be present in a used row (cluster/dyad ids) */
  require?: string[];
  /** tolerance on the squared residual-norm ratio for aliasing (R's QR: 1e-7 on the ratio) */
  aliasTol?: number;
  /** most levels a factor may have (each is a column) */
  maxLevels?: number;
}

/** Default limit on a factor's levels: beyond it a design has thousands of columns, and a text column used as a factor is more likely an id or a typo. */
export const MAX_LEVELS = 1000;

/**
 * In: a table and an R-style formula (options: prior weights, columns a used row must
 * have). Out: the response, the design matrix of each formula part (R's column names,
 * treatment contrasts, aliased columns dropped), the rows used and the warnings.
 */
export function buildDesign(table: Table, formulaText: string, opts: DesignOptions = {}): Design {
  const formula = parseFormula(formulaText);
  if (table.nrow >= PARALLEL_MIN_ROWS) warmUpWorker();
  if (!formula.response) throw new UsageError(`formula '${formulaText}' has no response (left of ~)`);
  const warnings: string[] = [];
  const n0 = table.nrow;
  const vars = formula.variables.map((v) => evalVar(v, table));
  const responseVar = vars[0];
  const responseName = deparse(formula.response);
  if (responseVar.kind !== 'num') {
    throw new UsageError(`the response '${responseName}' holds text; it must be numeric (0/1 for binary models, counts for count models)`);
  }
  const offsets = formula.parts.map((p) => p.offsets.map((o) => evalNumeric(o, table)));
  if (opts.weights && !table.columns.has(opts.weights)) unknownColumn(opts.weights, table, 'named by --weights');
  const weights = opts.weights ? evalNumeric({ type: 'var', name: opts.weights }, table) : null;

  // listwise deletion; infinite values are an error, as in R
  const keep = new Uint8Array(n0).fill(1);
  const checkNum = (v: Float64Array, label: string) => {
    const bad: number[] = [];
    for (let r = 0; r < n0; r++) {
      const x = v[r];
      if (Number.isNaN(x)) keep[r] = 0;
      else if (!Number.isFinite(x)) bad.push(r);
    }
    if (bad.length) {
      throw new UsageError(
        `'${label}' is infinite on ${bad.length} row${bad.length > 1 ? 's' : ''} (data rows ${bad.slice(0, 10).map((r) => r + 2).join(', ')}${bad.length > 10 ? ', …' : ''}; e.g. log of 0); drop those rows with --subset or transform differently`,
      );
    }
  };
  vars.forEach((v, k) => {
    if (v.kind === 'num') {
      checkNum(v.v, deparse(formula.variables[k]));
      undefinedValues(formula.variables[k], v.v, table, warnings);
    } else for (let r = 0; r < n0; r++) if (v.codes[r] < 0) keep[r] = 0;
  });
  formula.parts.forEach((p, k) => p.offsets.forEach((o, m) => checkNum(offsets[k][m], `offset(${deparse(o)})`)));
  if (weights) checkNum(weights, opts.weights!);
  for (const name of opts.require ?? []) {
    const c = table.columns.get(name);
    if (!c) unknownColumn(name, table, 'named for the variance (--cluster or --dyad; cluster: or dyad: in a spec)');
    for (let r = 0; r < n0; r++) {
      if (c.kind === 'number' ? Number.isNaN(c.values[r]) : c.codes[r] < 0) keep[r] = 0;
    }
  }
  let n = 0;
  for (let r = 0; r < n0; r++) n += keep[r];
  const rows = new Int32Array(n);
  for (let r = 0, k = 0; r < n0; r++) if (keep[r]) rows[k++] = r;
  if (n === 0) {
    throw new UsageError(`no rows left: every one of the ${n0} rows has a missing value in a variable of '${formulaText}'`);
  }
  const y = gather(responseVar.v, rows);
  const w = weights ? gather(weights, rows) : null;
  if (w && w.some((x) => x < 0)) throw new UsageError(`weights '${opts.weights}' must be >= 0`);

  // factors: levels present in the used rows, sorted (R: drop.unused.levels = TRUE)
  const maxLevels = opts.maxLevels ?? MAX_LEVELS;
  const used: Var[] = vars.map((v, k) => {
    if (v.kind === 'num') return { kind: 'num', v: gather(v.v, rows) };
    const present = new Uint8Array(v.levels.length);
    for (const r of rows) present[v.codes[r]] = 1;
    // v.levels are in the order of the factor (sorted); keep those present
    const oldToNew = new Int32Array(v.levels.length).fill(-1);
    const levels: string[] = [];
    v.levels.forEach((l, k) => {
      if (present[k]) oldToNew[k] = levels.push(l) - 1;
    });
    const codes = new Int32Array(n);
    for (let k = 0; k < n; k++) codes[k] = oldToNew[v.codes[rows[k]]];
    if (levels.length > maxLevels) {
      throw new UsageError(`'${deparse(formula.variables[k])}' enters as a factor with ${levels.length} levels (more than ${maxLevels}); is it an id or a text column by mistake? Raise the limit with --max-levels if it is meant`);
    }
    // as R: contrasts need two levels; silently dropping the term would change the model
    if (k > 0 && levels.length === 1) {
      throw new UsageError(`'${deparse(formula.variables[k])}' takes one value ('${levels[0]}') in the ${n} rows used: a factor needs at least two levels (leave it out of this sample's model)`);
    }
    return { kind: 'factor', codes, levels };
  });

  const parts = formula.parts.map((part, k) => {
    let off: Float64Array | null = null;
    for (const o of offsets[k]) {
      const g = gather(o, rows);
      if (off) for (let r = 0; r < n; r++) off[r] += g[r];
      else {
        off = rowVector(n);
        off.set(g); // a copy: gather() may return the column itself
      }
    }
    return buildPart(formula, part, used, n, off, opts.aliasTol ?? 1e-14, warnings);
  });
  return { formula, responseName, y, n, rows, nDropped: n0 - n, parts, weights: w, warnings, vars: used };
}

interface ColSpec {
  name: string;
  term: string;
  /** per variable of the term: null for numeric, else the level code this column indicates */
  levelOf: (number | null)[];
  vars: number[];
}

function buildPart(
  formula: Formula,
  part: RhsPart,
  used: Var[],
  n: number,
  offset: Float64Array | null,
  aliasTol: number,
  warnings: string[],
): DesignPart {
  const labels = formula.variables.map(deparse);
  const termKeys = new Set(part.terms.map((t) => t.join(',')));
  const specs: ColSpec[] = [];
  if (part.intercept) specs.push({ name: '(Intercept)', term: '(Intercept)', levelOf: [], vars: [] });
  let dummyUsed = part.intercept;
  for (const term of part.terms) {
    if (term.includes(0)) throw new UsageError(`the response '${labels[0]}' also appears on the right of ~`);
    const termLabel = term.map((v) => labels[v]).join(':');
    // for each variable: the list of (level code | null) it contributes, and name suffixes
    const choices: { code: number | null; suffix: string }[][] = term.map((v) => {
      const x = used[v];
      if (x.kind === 'num') return [{ code: null, suffix: labels[v] }];
      const margin = term.filter((u) => u !== v).join(',');
      let contrasts = margin === '' ? dummyUsed : termKeys.has(margin);
      if (margin === '' && !dummyUsed) {
        dummyUsed = true;
        contrasts = false;
      }
      const levels = contrasts ? x.levels.slice(1) : x.levels;
      const offsetCode = contrasts ? 1 : 0;
      return levels.map((l, k) => ({ code: k + offsetCode, suffix: labels[v] + l }));
    });
    // the first variable varies fastest: later variables are the outer loops
    const ordered: { code: number | null; suffix: string }[][] = [];
    const rec = (depth: number, acc: { code: number | null; suffix: string }[]) => {
      if (depth < 0) {
        ordered.push([...acc]);
        return;
      }
      for (const c of choices[depth]) {
        acc[depth] = c;
        rec(depth - 1, acc);
      }
    };
    rec(term.length - 1, new Array(term.length));
    for (const combo of ordered) {
      specs.push({ name: combo.map((c) => c.suffix).join(':'), term: termLabel, levelOf: combo.map((c) => c.code), vars: term });
    }
  }

  const pAll = specs.length;
  // large designs live in shared memory so that both cores can read them
  let X = n >= PARALLEL_MIN_ROWS ? shared(n * pAll) : new Float64Array(n * pAll);
  // numeric factors of a column multiply; factor variables select their level
  const columns = specs.map((s) => {
    const nums: Float64Array[] = [];
    const facs: { codes: Int32Array; level: number }[] = [];
    s.vars.forEach((v, m) => {
      const x = used[v];
      if (x.kind === 'num') nums.push(x.v);
      else facs.push({ codes: x.codes, level: s.levelOf[m]! });
    });
    return { nums, facs };
  });
  // filled a block of rows at a time: column by column over the whole matrix would touch every
  // cache line of it once per column (at county scale 2.5 s of a run, against a few tenths)
  const BLOCK = 2048;
  for (let r0 = 0; r0 < n; r0 += BLOCK) {
    const r1 = Math.min(n, r0 + BLOCK);
    for (let c = 0; c < pAll; c++) {
      const { nums, facs } = columns[c];
      if (nums.length === 0 && facs.length === 0) {
        for (let r = r0; r < r1; r++) X[r * pAll + c] = 1;
      } else if (nums.length === 1 && facs.length === 0) {
        const v = nums[0];
        for (let r = r0; r < r1; r++) X[r * pAll + c] = v[r];
      } else {
        for (let r = r0; r < r1; r++) {
          let v = 1;
          for (let m = 0; m < facs.length; m++) {
            if (facs[m].codes[r] !== facs[m].level) {
              v = 0;
              break;
            }
          }
          if (v !== 0) for (let m = 0; m < nums.length; m++) v *= nums[m][r];
          X[r * pAll + c] = v;
        }
      }
    }
  }

  // aliasing: sequential Cholesky of X'X scaled to unit diagonal, in column order
  const xtx = parallelCrossprod(X, n, pAll, null);
  const huge = specs.filter((_, c) => !Number.isFinite(xtx[c * pAll + c])).map((s) => s.name);
  if (huge.length) {
    throw new UsageError(`the values of ${huge.map((h) => `'${h}'`).join(', ')} are too large: their sum of squares overflows a double; rescale (e.g. divide by 1e6, or take logs)`);
  }
  const aliased = findAliased(xtx, pAll, aliasTol);
  const names = specs.map((s) => s.name);
  const droppedNames = names.filter((_, k) => aliased[k]);
  if (droppedNames.length) {
    warnings.push(
      `perfectly collinear column${droppedNames.length > 1 ? 's' : ''} dropped (estimate null, as R reports NA): ${droppedNames.join(', ')}`,
    );
  }
  const p = pAll - droppedNames.length;
  if (p < pAll) {
    const keepCols = names.map((_, k) => k).filter((k) => !aliased[k]);
    for (let r = 0; r < n; r++) for (let c = 0; c < p; c++) X[r * p + c] = X[r * pAll + keepCols[c]];
    X = X.subarray(0, n * p); // compacted in place; stays shared
  }
  return { names, aliased, X, p, offset, intercept: part.intercept, termOf: specs.map((s) => s.term), recipes: specs.map((s) => ({ vars: s.vars, levelOf: s.levelOf })) };
}

/** Columns whose residual, after projecting on the earlier kept columns, is (numerically) zero. */
function findAliased(xtxUpper: Float64Array, p: number, tol: number): boolean[] {
  const aliased = new Array<boolean>(p).fill(false);
  const d = Float64Array.from({ length: p }, (_, k) => xtxUpper[k * p + k]);
  const a = (i: number, j: number) => (i <= j ? xtxUpper[i * p + j] : xtxUpper[j * p + i]) / Math.sqrt(d[i] * d[j]);
  // L for kept columns only, on the scaled matrix
  const l = new Float64Array(p * p);
  const kept: number[] = [];
  for (let j = 0; j < p; j++) {
    if (!(d[j] > 0)) {
      aliased[j] = true;
      continue;
    }
    const row = new Float64Array(p);
    let s = 1;
    for (const m of kept) {
      let v = a(j, m);
      for (const q of kept) {
        if (q >= m) break;
        v -= row[q] * l[m * p + q];
      }
      row[m] = v / l[m * p + m];
      s -= row[m] * row[m];
    }
    if (s < tol) {
      aliased[j] = true;
      continue;
    }
    for (const m of kept) l[j * p + m] = row[m];
    l[j * p + j] = Math.sqrt(s);
    kept.push(j);
  }
  return aliased;
}
