/**
 * The restricted expression language of `--subset` and of derived variables and sample
 * subsets in spec files: parsed by our own parser (parse.ts: arithmetic, comparisons,
 * logic, conditionals, parentheses, text constants), checked against one list of
 * functions (functions.ts), and evaluated vectorised over table columns with R's rules for
 * missing values (NA propagates; FALSE & NA is FALSE, TRUE | NA is TRUE).
 */
import { UsageError } from '../util/errors.ts';
import { closest } from '../util/suggest.ts';
import type { Table } from '../data/table.ts';
import { arityOf, logicalAnd, logicalOr, MATH_FUNCTIONS } from './functions.ts';
import { parseRestricted, type BinOp, type Node } from './parse.ts';
import { calendarOf, dayNumber } from '../util/dates.ts';

const ARITHMETIC: Partial<Record<BinOp, (a: number, b: number) => number>> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => Math.pow(a, b),
  mod: (a, b) => a - b * Math.floor(a / b),
  '>': (a, b) => +(a > b),
  '<': (a, b) => +(a < b),
  '>=': (a, b) => +(a >= b),
  '<=': (a, b) => +(a <= b),
  '==': (a, b) => +(a === b),
  '!=': (a, b) => +(a !== b),
  xor: (a, b) => +((a !== 0) !== (b !== 0)),
};

export interface Compiled {
  text: string;
  /** column names the expression reads */
  symbols: string[];
  /** the expression's value on every row (numbers; 0/1 for conditions; NaN = missing) */
  evaluate(t: Table): Float64Array;
}

/** Parses and checks an expression; the result evaluates over any table with the named columns. */
export async function compileRestricted(text: string, what = 'expression'): Promise<Compiled> {
  const root = parseRestricted(text, what);
  const symbols = new Set<string>();
  const forbid = (why: string): never => {
    throw new UsageError(`${what} '${text}': ${why}; only arithmetic, comparisons, logic (and, or, not) and the functions ${[...Object.keys(MATH_FUNCTIONS), ...DATE_FUNCTIONS].join(', ')} are allowed`);
  };
  const check = (n: Node): void => {
    switch (n.type) {
      case 'var':
        symbols.add(n.name);
        return;
      case 'call':
        if (DATE_FUNCTIONS.includes(n.fn)) {
          if (n.args.length !== 1) throw new UsageError(`${what} '${text}': ${n.fn}() takes 1 argument`);
          n.args.forEach(check);
          return;
        }
        if (!Object.hasOwn(MATH_FUNCTIONS, n.fn)) forbid(`function '${n.fn}()' is not allowed`);
        {
          const [lo, hi] = arityOf(n.fn);
          if (n.args.length < lo || n.args.length > hi) throw new UsageError(`${what} '${text}': ${n.fn}() takes ${lo === hi ? lo : `${lo} or ${hi}`} argument${hi > 1 ? 's' : ''}`);
        }
        n.args.forEach(check);
        return;
      case 'unary':
        return check(n.arg);
      case 'bin':
        check(n.left);
        return check(n.right);
      case 'cond':
        check(n.test);
        check(n.then);
        return check(n.else);
      case 'num':
      case 'str':
        return;
    }
  };
  check(root);
  return {
    text,
    symbols: [...symbols],
    evaluate: (t: Table) => {
      let v = evalNode(root, t, `${what} '${text}'`);
      if (v instanceof Dates) v = v.days; // a date as its day number
      if (typeof v === 'number') return new Float64Array(t.nrow).fill(v);
      if (!(v instanceof Float64Array)) {
        throw new UsageError(`${what} '${text}' gives text (${typeof v === 'string' ? `"${v}"` : 'a text column'}), not a number or a condition; is it quoted by mistake?`);
      }
      return v;
    },
  };
}

/** A date or a column of dates, as day numbers since 1970-01-01 (NaN: missing). */
class Dates {
  constructor(readonly days: Float64Array | number) {}
}
type Val = number | string | Float64Array | (string | null)[] | Dates;

/**
 * Functions on dates: `date("2022-01-01")` is a date; `year()`, `month()`, `day()` of a date or
 * of a text column of ISO dates. A text column compared with a date (`first_signed >=
 * date("2022-01-01")`) is read as dates; an empty cell is missing.
 */
const DATE_FUNCTIONS = ['date', 'year', 'month', 'day'];

/** Text read as ISO dates: day numbers, NaN where missing; anything else is an error naming the row and the value. */
function asDates(v: Val, rows: number, text: string, column: string | null): Dates {
  if (v instanceof Dates) return v;
  if (typeof v === 'string') {
    const d = dayNumber(v.trim());
    if (d === null) throw new UsageError(`${text}: "${v}" is not a date; write dates as YYYY-MM-DD, e.g. date("2022-01-01")`);
    return new Dates(d);
  }
  if (Array.isArray(v)) {
    const out = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      const s = v[r]?.trim() ?? '';
      if (s === '') {
        out[r] = NaN;
        continue;
      }
      const d = dayNumber(s);
      if (d === null) throw new UsageError(`${text}: ${column ? `column '${column}', ` : ''}row ${r + 2}: "${v[r]}" is not a date YYYY-MM-DD`);
      out[r] = d;
    }
    return new Dates(out);
  }
  throw new UsageError(`${text}: a number is used where a date is needed; dates are text YYYY-MM-DD or date("YYYY-MM-DD")`);
}

function evalNode(n: Node, t: Table, text: string): Val {
  const rows = t.nrow;
  switch (n.type) {
    case 'num':
    case 'str':
      return n.value;
    case 'var': {
      const c = t.columns.get(n.name);
      if (!c) {
        const hint = closest(n.name, t.names);
        throw new UsageError(hint ? `${text}: unknown column '${n.name}': did you mean '${hint}'?` : `${text}: unknown column '${n.name}' (columns: ${t.names.join(', ')})`);
      }
      if (c.kind === 'number') return c.values;
      return Array.from(c.codes, (k) => (k < 0 ? null : c.levels[k]));
    }
    case 'cond': {
      const c = toNum(evalNode(n.test, t, text), rows, text);
      const a = toNum(evalNode(n.then, t, text), rows, text);
      const b = toNum(evalNode(n.else, t, text), rows, text);
      return c.map((x, r) => (Number.isNaN(x) ? NaN : x !== 0 ? a[r] : b[r]));
    }
    case 'unary': {
      const x = toNum(evalNode(n.arg, t, text), rows, text);
      if (n.op === '-') return x.map((v) => -v);
      if (n.op === '+') return x;
      return x.map((v) => (Number.isNaN(v) ? NaN : +(v === 0)));
    }
    case 'bin': {
      let a = evalNode(n.left, t, text);
      let b = evalNode(n.right, t, text);
      // a text column compared with a date is read as dates
      if (a instanceof Dates || b instanceof Dates) {
        a = asDates(a, rows, text, n.left.type === 'var' ? n.left.name : null);
        b = asDates(b, rows, text, n.right.type === 'var' ? n.right.name : null);
      }
      if ((n.op === '==' || n.op === '!=') && (isText(a) || isText(b))) {
        const sa = toText(a, rows);
        const sb = toText(b, rows);
        const out = new Float64Array(rows);
        for (let r = 0; r < rows; r++) out[r] = sa[r] === null || sb[r] === null ? NaN : +((sa[r] === sb[r]) === (n.op === '=='));
        return out;
      }
      const x = toNum(a, rows, text);
      const y = toNum(b, rows, text);
      const out = new Float64Array(rows);
      if (n.op === 'and' || n.op === 'or') {
        const op = n.op === 'and' ? logicalAnd : logicalOr;
        for (let r = 0; r < rows; r++) out[r] = op(x[r], y[r]);
        return out;
      }
      const f = ARITHMETIC[n.op]!;
      for (let r = 0; r < rows; r++) out[r] = Number.isNaN(x[r]) || Number.isNaN(y[r]) ? NaN : f(x[r], y[r]);
      return out;
    }
    case 'call': {
      if (DATE_FUNCTIONS.includes(n.fn)) {
        const arg = n.args[0];
        if (n.fn === 'date' && arg.type !== 'str' && arg.type !== 'var') throw new UsageError(`${text}: date() takes a text such as "2022-01-01" or a text column`);
        const d = asDates(evalNode(arg, t, text), rows, text, arg.type === 'var' ? arg.name : null);
        if (n.fn === 'date') return d;
        const part = n.fn as 'year' | 'month' | 'day';
        const one = (x: number) => (Number.isNaN(x) ? NaN : calendarOf(x)[part]);
        return typeof d.days === 'number' ? one(d.days) : d.days.map(one);
      }
      const f = MATH_FUNCTIONS[n.fn];
      const args = n.args.map((a) => toNum(evalNode(a, t, text), rows, text));
      const out = new Float64Array(rows);
      const xs = new Array<number>(args.length);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < args.length; k++) xs[k] = args[k][r];
        out[r] = f(...xs);
      }
      return out;
    }
  }
}

const isText = (v: Val) => typeof v === 'string' || Array.isArray(v);
function toText(v: Val, rows: number): (string | null)[] {
  if (typeof v === 'string') return new Array(rows).fill(v);
  if (Array.isArray(v)) return v;
  if (typeof v === 'number') return new Array(rows).fill(String(v));
  return Array.from(toNum(v, rows, ''), (x) => (Number.isNaN(x) ? null : String(x)));
}
function toNum(v: Val, rows: number, text: string): Float64Array {
  if (typeof v === 'number') return new Float64Array(rows).fill(v);
  if (v instanceof Float64Array) return v;
  if (v instanceof Dates) return typeof v.days === 'number' ? new Float64Array(rows).fill(v.days) : v.days;
  throw new UsageError(
    `${text}: a text column or string is used where a number is needed (text can only be compared with == or !=; a date column compares with a date: first_signed >= date("2022-01-01"), year(first_signed) == 2022)`,
  );
}

/** Rows where an expression's value is true (non-zero); missing counts as false. */
export function subsetRows(v: Float64Array): Uint8Array {
  const keep = new Uint8Array(v.length);
  for (let r = 0; r < v.length; r++) keep[r] = !Number.isNaN(v[r]) && v[r] !== 0 ? 1 : 0;
  return keep;
}
