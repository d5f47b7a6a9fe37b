/**
 * The restricted expression language of `--subset` and of derived variables in spec
 * files: mathjs parses, then only arithmetic, comparisons, logic, parentheses,
 * conditionals and a list of mathematical functions are accepted; anything else
 * (assignment, function definition, matrices, indexing, unknown functions) is an error.
 * Evaluation is ours, vectorised over table columns (missing values propagate).
 */
import { UsageError } from '../util/errors.ts';
import type { Table } from '../data/table.ts';
import { logicalAnd, logicalOr, MATH_FUNCTIONS } from './functions.ts';

type MathNode = {
  type: string;
  op?: string;
  fn?: string | MathNode;
  name?: string;
  value?: unknown;
  args?: MathNode[];
  content?: MathNode;
  condition?: MathNode;
  trueExpr?: MathNode;
  falseExpr?: MathNode;
};


const OPERATORS: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  pow: (a, b) => Math.pow(a, b),
  mod: (a, b) => a - b * Math.floor(a / b),
  larger: (a, b) => +(a > b),
  smaller: (a, b) => +(a < b),
  largerEq: (a, b) => +(a >= b),
  smallerEq: (a, b) => +(a <= b),
  equal: (a, b) => +(a === b),
  unequal: (a, b) => +(a !== b),
  xor: (a, b) => +((a !== 0) !== (b !== 0)),
};

export interface Compiled {
  text: string;
  /** column names the expression reads */
  symbols: string[];
  evaluate(t: Table): Float64Array;
}

let parser: ((s: string) => MathNode) | null = null;
async function mathParse(text: string): Promise<MathNode> {
  if (!parser) {
    const mathjs = await import('mathjs');
    parser = mathjs.parse as unknown as (s: string) => MathNode;
  }
  return parser(text);
}

/** Parses and checks an expression; the result evaluates over any table with the named columns. */
export async function compileRestricted(text: string, what = 'expression'): Promise<Compiled> {
  let root: MathNode;
  try {
    root = await mathParse(text);
  } catch (e) {
    throw new UsageError(`${what} '${text}' cannot be parsed: ${(e as Error).message}`);
  }
  const symbols = new Set<string>();
  const forbid = (why: string): never => {
    throw new UsageError(`${what} '${text}': ${why}; only arithmetic, comparisons, logic (and, or, not) and the functions ${Object.keys(MATH_FUNCTIONS).join(', ')} are allowed`);
  };
  const check = (n: MathNode): void => {
    switch (n.type) {
      case 'ConstantNode':
        if (typeof n.value !== 'number' && typeof n.value !== 'string' && typeof n.value !== 'boolean') forbid('unsupported constant');
        return;
      case 'SymbolNode':
        symbols.add(n.name!);
        return;
      case 'ParenthesisNode':
        return check(n.content!);
      case 'ConditionalNode':
        check(n.condition!);
        check(n.trueExpr!);
        return check(n.falseExpr!);
      case 'OperatorNode': {
        const fn = n.fn as string;
        if (!(fn in OPERATORS) && !['unaryMinus', 'unaryPlus', 'not', 'and', 'or'].includes(fn)) forbid(`operator '${n.op}' is not allowed`);
        n.args!.forEach(check);
        return;
      }
      case 'FunctionNode': {
        const fn = n.fn as MathNode;
        const name = fn.type === 'SymbolNode' ? fn.name! : '?';
        if (!(name in MATH_FUNCTIONS)) forbid(`function '${name}()' is not allowed`);
        n.args!.forEach(check);
        return;
      }
      default:
        forbid(`${n.type.replace(/Node$/, '').toLowerCase()} expressions are not allowed`);
    }
  };
  check(root);
  return {
    text,
    symbols: [...symbols],
    evaluate: (t: Table) => {
      const v = evalNode(root, t, text);
      if (typeof v === 'number') return new Float64Array(t.nrow).fill(v);
      if (Array.isArray(v)) throw new UsageError(`${what} '${text}' gives text, not a number`);
      return v as Float64Array;
    },
  };
}

type Val = number | string | Float64Array | (string | null)[];

function evalNode(n: MathNode, t: Table, text: string): Val {
  const rows = t.nrow;
  switch (n.type) {
    case 'ConstantNode':
      return typeof n.value === 'boolean' ? +n.value : (n.value as number | string);
    case 'SymbolNode': {
      const c = t.columns.get(n.name!);
      if (!c) throw new UsageError(`'${text}': unknown column '${n.name}' (columns: ${t.names.join(', ')})`);
      if (c.kind === 'number') return c.values;
      return Array.from(c.codes, (k) => (k < 0 ? null : c.levels[k]));
    }
    case 'ParenthesisNode':
      return evalNode(n.content!, t, text);
    case 'ConditionalNode': {
      const c = toNum(evalNode(n.condition!, t, text), rows, text);
      const a = toNum(evalNode(n.trueExpr!, t, text), rows, text);
      const b = toNum(evalNode(n.falseExpr!, t, text), rows, text);
      return c.map((x, r) => (Number.isNaN(x) ? NaN : x !== 0 ? a[r] : b[r]));
    }
    case 'OperatorNode': {
      const fn = n.fn as string;
      const args = n.args!.map((a) => evalNode(a, t, text));
      if (fn === 'unaryMinus') return toNum(args[0], rows, text).map((x) => -x);
      if (fn === 'unaryPlus') return toNum(args[0], rows, text);
      if (fn === 'not') return toNum(args[0], rows, text).map((x) => (Number.isNaN(x) ? NaN : +(x === 0)));
      const [a, b] = args;
      if ((fn === 'equal' || fn === 'unequal') && (isText(a) || isText(b))) {
        const sa = toText(a, rows);
        const sb = toText(b, rows);
        const out = new Float64Array(rows);
        for (let r = 0; r < rows; r++) {
          out[r] = sa[r] === null || sb[r] === null ? NaN : +((sa[r] === sb[r]) === (fn === 'equal'));
        }
        return out;
      }
      const x0 = toNum(a, rows, text);
      const y0 = toNum(b, rows, text);
      if (fn === 'and' || fn === 'or') {
        // three-valued logic as in R: TRUE | NA is TRUE, FALSE & NA is FALSE
        const op = fn === 'and' ? logicalAnd : logicalOr;
        const out = new Float64Array(rows);
        for (let r = 0; r < rows; r++) out[r] = op(x0[r], y0[r]);
        return out;
      }
      const f = OPERATORS[fn];
      const x = x0;
      const y = y0;
      const out = new Float64Array(rows);
      for (let r = 0; r < rows; r++) out[r] = Number.isNaN(x[r]) || Number.isNaN(y[r]) ? NaN : f(x[r], y[r]);
      return out;
    }
    case 'FunctionNode': {
      const f = MATH_FUNCTIONS[(n.fn as MathNode).name!];
      const args = n.args!.map((a) => toNum(evalNode(a, t, text), rows, text));
      const out = new Float64Array(rows);
      const xs = new Array<number>(args.length);
      for (let r = 0; r < rows; r++) {
        for (let k = 0; k < args.length; k++) xs[k] = args[k][r];
        out[r] = f(...xs);
      }
      return out;
    }
  }
  throw new UsageError(`'${text}': cannot evaluate ${n.type}`);
}

const isText = (v: Val) => typeof v === 'string' || Array.isArray(v);
function toText(v: Val, rows: number): (string | null)[] {
  if (typeof v === 'string') return new Array(rows).fill(v);
  if (Array.isArray(v)) return v;
  if (typeof v === 'number') return new Array(rows).fill(String(v));
  return Array.from(v, (x) => (Number.isNaN(x) ? null : String(x)));
}
function toNum(v: Val, rows: number, text: string): Float64Array {
  if (typeof v === 'number') return new Float64Array(rows).fill(v);
  if (v instanceof Float64Array) return v;
  throw new UsageError(`'${text}': a text column or string is used where a number is needed (text can only be compared with == or !=)`);
}

/** Rows where an expression's value is true (non-zero); missing counts as false. */
export function subsetRows(v: Float64Array): Uint8Array {
  return Uint8Array.from(v, (x) => (!Number.isNaN(x) && x !== 0 ? 1 : 0));
}
