/**
 * R-style model formulas: `y ~ x1 + log(x2) + factor(g) + x1:x2 - 1 | z1 + z2`.
 * A Pratt parser with R's operator precedence, a deparser that writes terms the way
 * R labels them, and the expansion of the right-hand side into terms (R's terms()).
 */
import { UsageError } from '../util/errors.ts';

export type Expr =
  | { type: 'num'; value: number; text: string }
  | { type: 'var'; name: string }
  | { type: 'call'; fn: string; args: Expr[] }
  | { type: 'bin'; op: string; left: Expr; right: Expr }
  | { type: 'unary'; op: '-' | '+' | '!'; arg: Expr }
  | { type: 'paren'; inner: Expr };

interface Token {
  kind: 'num' | 'id' | 'op' | 'end';
  text: string;
  pos: number;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '~', '+', '-', '*', '/', '^', ':', '|', '&', '(', ')', ',', '<', '>', '!'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'num', text: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    if (ch === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new UsageError(`formula: unclosed backtick at position ${i + 1} in '${src}'`);
      out.push({ kind: 'id', text: src.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const id = /^[\p{L}_.][\p{L}\p{N}_.]*/u.exec(src.slice(i));
    if (id) {
      out.push({ kind: 'id', text: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (op) {
      out.push({ kind: 'op', text: op, pos: i });
      i += op.length;
      continue;
    }
    throw new UsageError(`formula: unexpected character '${ch}' at position ${i + 1} in '${src}'`);
  }
  out.push({ kind: 'end', text: '', pos: src.length });
  return out;
}

// binding powers, R's precedence from low to high
const BINARY: Record<string, [number, number]> = {
  '~': [1, 2],
  '||': [3, 4],
  '|': [3, 4],
  '&&': [5, 6],
  '&': [5, 6],
  '==': [9, 10],
  '!=': [9, 10],
  '<': [9, 10],
  '>': [9, 10],
  '<=': [9, 10],
  '>=': [9, 10],
  '+': [11, 12],
  '-': [11, 12],
  '*': [13, 14],
  '/': [13, 14],
  ':': [15, 16],
  '^': [20, 19], // right associative, above unary minus
};
const UNARY_BP = 17;
const NOT_BP = 7;

/** Nesting deeper than this is refused (a guard against exhausting the stack). */
const MAX_DEPTH = 200;

function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  let k = 0;
  const peek = () => toks[k];
  const fail = (msg: string, t: Token = peek()): never => {
    throw new UsageError(`formula: ${msg} at position ${t.pos + 1} in '${src}'`);
  };
  let depth = 0;
  const expr = (minBp: number): Expr => {
    if (++depth > MAX_DEPTH) fail(`the formula is nested more than ${MAX_DEPTH} levels deep`);
    try {
      return exprAt(minBp);
    } finally {
      depth--;
    }
  };
  const exprAt = (minBp: number): Expr => {
    const t = toks[k++];
    let left: Expr;
    if (t.kind === 'num') left = { type: 'num', value: Number(t.text), text: t.text };
    else if (t.kind === 'id') {
      if (peek().kind === 'op' && peek().text === '(') {
        k++;
        const args: Expr[] = [];
        if (!(peek().kind === 'op' && peek().text === ')')) {
          for (;;) {
            args.push(expr(0));
            if (peek().kind === 'op' && peek().text === ',') {
              k++;
              continue;
            }
            break;
          }
        }
        if (!(peek().kind === 'op' && peek().text === ')')) fail(`expected ')' to close ${t.text}(`);
        k++;
        left = { type: 'call', fn: t.text, args };
      } else left = { type: 'var', name: t.text };
    } else if (t.kind === 'op' && t.text === '(') {
      const inner = expr(0);
      if (!(peek().kind === 'op' && peek().text === ')')) fail(`expected ')'`);
      k++;
      left = { type: 'paren', inner };
    } else if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      left = { type: 'unary', op: t.text, arg: expr(UNARY_BP) };
    } else if (t.kind === 'op' && t.text === '!') {
      left = { type: 'unary', op: '!', arg: expr(NOT_BP) };
    } else {
      return fail(t.kind === 'end' ? 'unexpected end' : `unexpected '${t.text}'`, t);
    }
    for (;;) {
      const op = peek();
      if (op.kind !== 'op') {
        if (op.kind === 'end') break;
        fail(`unexpected '${op.text}' (missing an operator?)`);
      }
      const bp = BINARY[op.text];
      if (!bp || bp[0] < minBp) break;
      k++;
      const right = expr(bp[1]);
      left = { type: 'bin', op: op.text, left, right };
    }
    return left;
  };
  const e = expr(0);
  if (peek().kind !== 'end') fail(`unexpected '${peek().text}'`);
  return e;
}

/** Writes an expression as R's deparse() does (spaces around + - * and comparisons, none around / ^ :). */
export function deparse(e: Expr): string {
  switch (e.type) {
    case 'num':
      return String(e.value);
    case 'var':
      return /^[\p{L}.][\p{L}\p{N}_.]*$/u.test(e.name) ? e.name : '`' + e.name + '`';
    case 'call':
      return `${e.fn}(${e.args.map(deparse).join(', ')})`;
    case 'paren':
      return `(${deparse(e.inner)})`;
    case 'unary':
      return `${e.op}${deparse(e.arg)}`;
    case 'bin':
      return ['/', '^', ':'].includes(e.op)
        ? `${deparse(e.left)}${e.op}${deparse(e.right)}`
        : `${deparse(e.left)} ${e.op} ${deparse(e.right)}`;
  }
}

/** A term is a set of variables (indices into Formula.variables), kept sorted. */
export type Term = number[];

export interface RhsPart {
  terms: Term[];
  intercept: boolean;
  offsets: Expr[];
}

export interface Formula {
  text: string;
  response: Expr | null;
  /** all variables in order of first appearance (R's variable order) */
  variables: Expr[];
  /** one part, or two for `count | zero` formulas */
  parts: RhsPart[];
}

const termKey = (t: Term) => t.join(',');

export function parseFormula(text: string): Formula {
  const e = parseExpr(text);
  let response: Expr | null = null;
  let rhs: Expr;
  if (e.type === 'bin' && e.op === '~') {
    response = e.left;
    rhs = e.right;
  } else throw new UsageError(`formula: expected 'response ~ terms' in '${text}'`);
  if (rhs.type === 'bin' && rhs.op === '~') throw new UsageError(`formula: more than one '~' in '${text}'`);
  const partsExpr: Expr[] = [];
  const splitBar = (x: Expr) => {
    if (x.type === 'bin' && x.op === '|') {
      splitBar(x.left);
      partsExpr.push(x.right);
    } else partsExpr.push(x);
  };
  splitBar(rhs);
  if (partsExpr.length > 2) throw new UsageError(`formula: at most two parts separated by '|' in '${text}'`);

  const variables: Expr[] = [];
  const varIndex = new Map<string, number>();
  const varOf = (x: Expr): number => {
    const key = deparse(x);
    let k = varIndex.get(key);
    if (k === undefined) {
      k = variables.length;
      variables.push(x);
      varIndex.set(key, k);
    }
    return k;
  };
  if (response) {
    // the response is R's variable 0; it is never a term
    varOf(response);
  }

  const parts = partsExpr.map((pe) => expandPart(pe, varOf, text));
  return { text, response, variables, parts };
}

interface Expansion {
  terms: Term[];
  /** set when the expansion says so explicitly (1, 0, - 1) */
  intercept?: boolean;
  offsets: Expr[];
  /** terms removed by a leading unary minus, applied by the enclosing '+' */
  remove?: Term[];
}

function union(a: Term[], b: Term[]): Term[] {
  const seen = new Set(a.map(termKey));
  const out = [...a];
  for (const t of b) {
    if (seen.has(termKey(t))) continue;
    seen.add(termKey(t));
    out.push(t);
  }
  return out;
}
const merge = (a: Term, b: Term): Term => [...new Set([...a, ...b])].sort((x, y) => x - y);

/** More terms than this in one formula part are refused (a*b*c*… doubles the terms with every factor). */
const MAX_TERMS = 2000;
function tooMany(n: number, text: string): void {
  if (n > MAX_TERMS) throw new UsageError(`formula: the interactions expand to more than ${MAX_TERMS} terms in '${text.length > 200 ? text.slice(0, 200) + '…' : text}'; write fewer interactions`);
}

function expandPart(pe: Expr, varOf: (x: Expr) => number, text: string): RhsPart {
  const go = (x: Expr): Expansion => {
    switch (x.type) {
      case 'num':
        if (x.value === 1) return { terms: [], intercept: true, offsets: [] };
        if (x.value === 0) return { terms: [], intercept: false, offsets: [] };
        throw new UsageError(`formula: a bare number ${x.text} is not a term (use I(${x.text}) or 0 / 1) in '${text}'`);
      case 'paren':
        return go(x.inner);
      case 'unary':
        if (x.op === '-') {
          const r = go(x.arg);
          return { terms: [], intercept: r.intercept === true ? false : undefined, offsets: [], remove: r.terms };
        }
        if (x.op === '+') return go(x.arg);
        break;
      case 'call':
        if (x.fn === 'offset') {
          if (x.args.length !== 1) throw new UsageError(`formula: offset() takes one argument in '${text}'`);
          return { terms: [], offsets: [x.args[0]] };
        }
        return { terms: [[varOf(x)]], offsets: [] };
      case 'var':
        if (x.name === '.') throw new UsageError(`formula: '.' (all columns) is not supported; list the terms in '${text}'`);
        return { terms: [[varOf(x)]], offsets: [] };
      case 'bin': {
        const l = () => go(x.left);
        const r = () => go(x.right);
        switch (x.op) {
          case '+': {
            const a = l();
            const b = r();
            const removed = b.remove;
            let terms = union(a.terms, b.terms);
            if (removed) terms = terms.filter((t) => !removed.some((q) => termKey(q) === termKey(t)));
            return { terms, intercept: b.intercept ?? a.intercept, offsets: [...a.offsets, ...b.offsets] };
          }
          case '-': {
            const a = l();
            const b = r();
            const drop = new Set(b.terms.map(termKey));
            let intercept = a.intercept;
            if (b.intercept === true) intercept = false;
            if (b.intercept === false) intercept = true;
            return { terms: a.terms.filter((t) => !drop.has(termKey(t))), intercept, offsets: a.offsets };
          }
          case '*': {
            const a = l();
            const b = r();
            tooMany(a.terms.length * b.terms.length, text);
            const cross = a.terms.flatMap((s) => b.terms.map((t) => merge(s, t)));
            return { terms: union(union(a.terms, b.terms), cross), intercept: b.intercept ?? a.intercept, offsets: [...a.offsets, ...b.offsets] };
          }
          case ':': {
            const a = l();
            const b = r();
            return { terms: union([], a.terms.flatMap((s) => b.terms.map((t) => merge(s, t)))), offsets: [...a.offsets, ...b.offsets] };
          }
          case '^': {
            const a = l();
            if (x.right.type !== 'num' || !Number.isInteger(x.right.value) || x.right.value < 1) {
              throw new UsageError(`formula: '^' in a formula needs a whole number, e.g. (a + b)^2, in '${text}'`);
            }
            let terms = a.terms;
            let cur = a.terms;
            for (let d = 2; d <= x.right.value; d++) {
              tooMany(cur.length * a.terms.length, text);
              cur = cur.flatMap((s) => a.terms.map((t) => merge(s, t)));
              terms = union(terms, cur);
            }
            return { terms, offsets: a.offsets };
          }
        }
        // any other operator: an arithmetic expression, which R would only accept inside I()
        throw new UsageError(`formula: operator '${x.op}' between terms; wrap arithmetic in I(), e.g. I(${deparse(x)}), in '${text}'`);
      }
    }
    throw new UsageError(`formula: cannot read '${deparse(x)}' as a term in '${text}'`);
  };
  const ex = go(pe);
  // R orders terms by degree (keep.order = FALSE), stably
  const terms = [...ex.terms].map((t, k) => ({ t, k })).sort((a, b) => a.t.length - b.t.length || a.k - b.k).map((x) => x.t);
  return { terms, intercept: ex.intercept ?? true, offsets: ex.offsets };
}

function columnsOf(e: Expr, out: Set<string>): void {
  switch (e.type) {
    case 'var':
      out.add(e.name);
      return;
    case 'call':
      e.args.forEach((a) => columnsOf(a, out));
      return;
    case 'bin':
      columnsOf(e.left, out);
      columnsOf(e.right, out);
      return;
    case 'unary':
      columnsOf(e.arg, out);
      return;
    case 'paren':
      columnsOf(e.inner, out);
      return;
    case 'num':
      return;
  }
}

/** The column names an expression reads, once each, in order of first appearance. */
export function columnsIn(e: Expr): string[] {
  const out = new Set<string>();
  columnsOf(e, out);
  return [...out];
}

/** Column names a formula reads (response, terms and offsets). */
export function formulaColumns(formula: string): string[] {
  const f = parseFormula(formula);
  const out = new Set<string>();
  f.variables.forEach((v) => columnsOf(v, out));
  f.parts.forEach((p) => p.offsets.forEach((o) => columnsOf(o, out)));
  return [...out];
}
