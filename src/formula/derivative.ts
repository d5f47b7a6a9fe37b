/**
 * The derivative of a formula expression (a term such as `I(x^2)`, `log(x + 1)` or `x`) with
 * respect to one data column, on every row: forward-mode differentiation (each node carries
 * its value and its derivative), exact up to rounding — no finite differences. Used by the
 * average marginal effects, which differentiate the predicted mean through every term
 * containing a variable. Comparisons, logic, sign, floor, ceil and round have derivative 0
 * (almost everywhere), as R's D() and numDeriv see them.
 */
import { UsageError } from '../util/errors.ts';
import type { Table } from '../data/table.ts';
import { MATH_FUNCTIONS } from '../expr/functions.ts';
import { deparse, type Expr } from './parse.ts';

interface Dual {
  v: Float64Array;
  d: Float64Array;
}

const LN10 = Math.LN10;
const LN2 = Math.LN2;

/** d e / d column, on every row of the table (NaN where the value is missing or undefined). */
export function derivative(e: Expr, t: Table, column: string): Float64Array {
  return dual(e, t, column).d;
}

function dual(e: Expr, t: Table, column: string): Dual {
  const n = t.nrow;
  switch (e.type) {
    case 'num':
      return { v: new Float64Array(n).fill(e.value), d: new Float64Array(n) };
    case 'var': {
      const c = t.columns.get(e.name);
      if (!c || c.kind !== 'number') throw new UsageError(`cannot differentiate '${deparse(e)}': '${e.name}' is not a numeric column`);
      return { v: c.values, d: new Float64Array(n).fill(e.name === column ? 1 : 0) };
    }
    case 'paren':
      return dual(e.inner, t, column);
    case 'unary': {
      const a = dual(e.arg, t, column);
      if (e.op === '-') return { v: a.v.map((x) => -x), d: a.d.map((x) => -x) };
      if (e.op === '!') return { v: a.v.map((x) => (Number.isNaN(x) ? NaN : x === 0 ? 1 : 0)), d: new Float64Array(n) };
      return a;
    }
    case 'bin': {
      const a = dual(e.left, t, column);
      const b = dual(e.right, t, column);
      const v = new Float64Array(n);
      const d = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const x = a.v[r];
        const y = b.v[r];
        const dx = a.d[r];
        const dy = b.d[r];
        switch (e.op) {
          case '+': v[r] = x + y; d[r] = dx + dy; break;
          case '-': v[r] = x - y; d[r] = dx - dy; break;
          case '*': v[r] = x * y; d[r] = dx * y + x * dy; break;
          case '/': v[r] = x / y; d[r] = (dx * y - x * dy) / (y * y); break;
          case '^': {
            v[r] = Math.pow(x, y);
            // y·x^(y−1)·dx, plus x^y·log(x)·dy when the exponent varies
            d[r] = (dx === 0 ? 0 : y * Math.pow(x, y - 1) * dx) + (dy === 0 ? 0 : v[r] * Math.log(x) * dy);
            break;
          }
          default: {
            // comparisons and logic: piecewise constant
            const cmp: Record<string, boolean> = { '==': x === y, '!=': x !== y, '<': x < y, '>': x > y, '<=': x <= y, '>=': x >= y, '&': x !== 0 && y !== 0, '&&': x !== 0 && y !== 0, '|': x !== 0 || y !== 0, '||': x !== 0 || y !== 0 };
            if (!(e.op in cmp)) throw new UsageError(`cannot differentiate the operator '${e.op}' in '${deparse(e)}'`);
            v[r] = Number.isNaN(x) || Number.isNaN(y) ? NaN : cmp[e.op] ? 1 : 0;
            d[r] = 0;
          }
        }
      }
      return { v, d };
    }
    case 'call': {
      const args = e.args.map((a) => dual(a, t, column));
      const fn = e.fn;
      if (fn === 'I' || fn === 'as.numeric') return args[0];
      if (!Object.hasOwn(MATH_FUNCTIONS, fn)) throw new UsageError(`cannot differentiate '${fn}()' in '${deparse(e)}'`);
      const f = MATH_FUNCTIONS[fn];
      const [a, b] = args;
      const v = new Float64Array(n);
      const d = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        const x = a.v[r];
        const dx = a.d[r];
        v[r] = b ? f(x, b.v[r]) : f(x);
        switch (fn) {
          case 'log':
            // log(x, base) = ln x / ln base
            d[r] = b ? (dx / x - (v[r] * b.d[r]) / b.v[r]) / Math.log(b.v[r]) : dx / x;
            break;
          case 'log1p': d[r] = dx / (1 + x); break;
          case 'log10': d[r] = dx / (x * LN10); break;
          case 'log2': d[r] = dx / (x * LN2); break;
          case 'exp': d[r] = v[r] * dx; break;
          case 'expm1': d[r] = Math.exp(x) * dx; break;
          case 'sqrt': d[r] = dx / (2 * v[r]); break;
          case 'cbrt': d[r] = dx / (3 * v[r] * v[r]); break;
          case 'abs': d[r] = Math.sign(x) * dx; break;
          case 'sin': d[r] = Math.cos(x) * dx; break;
          case 'cos': d[r] = -Math.sin(x) * dx; break;
          case 'tan': d[r] = dx / (Math.cos(x) * Math.cos(x)); break;
          case 'pow': {
            const y = b.v[r];
            const dy = b.d[r];
            d[r] = (dx === 0 ? 0 : y * Math.pow(x, y - 1) * dx) + (dy === 0 ? 0 : v[r] * Math.log(x) * dy);
            break;
          }
          case 'min': d[r] = b ? (x <= b.v[r] ? dx : b.d[r]) : dx; break;
          case 'max': d[r] = b ? (x >= b.v[r] ? dx : b.d[r]) : dx; break;
          default: d[r] = 0; // sign, floor, ceil, round: piecewise constant
        }
      }
      return { v, d };
    }
  }
}
