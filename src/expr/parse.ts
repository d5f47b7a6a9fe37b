/**
 * The parser of the restricted expression language (`--subset`, derived variables and
 * sample subsets in spec files; docs/spec-files.md). The syntax is mathjs's, cut to what
 * the language allows — numbers, "text" or 'text', column names, true/false, function
 * calls, parentheses, ^, unary - + not, * / mod %, + -, comparisons, and, xor, or,
 * cond ? a : b — with mathjs's precedence (so `not a == b` is `(not a) == b`, and
 * -2 ^ 2 is -4). Anything else (assignment, indexing, matrices, implicit multiplication,
 * chained comparisons) is refused with a message that says what. Our own parser: mathjs
 * took 0.6 s to load for a language this small.
 */
import { UsageError } from '../util/errors.ts';

export type Node =
  | { type: 'num'; value: number }
  | { type: 'str'; value: string }
  | { type: 'var'; name: string }
  | { type: 'call'; fn: string; args: Node[] }
  | { type: 'unary'; op: '-' | '+' | 'not'; arg: Node }
  | { type: 'bin'; op: BinOp; left: Node; right: Node }
  | { type: 'cond'; test: Node; then: Node; else: Node };

export type BinOp = '^' | '*' | '/' | 'mod' | '+' | '-' | '==' | '!=' | '<' | '>' | '<=' | '>=' | 'and' | 'xor' | 'or';

type Tok = { k: 'num'; v: number; at: number } | { k: 'str'; v: string; at: number } | { k: 'name'; v: string; at: number } | { k: 'op'; v: string; at: number } | { k: 'end'; at: number };

const WORD_OPS = new Set(['and', 'or', 'xor', 'not', 'mod']);
/** nesting deeper than this is refused (a guard against stack exhaustion) */
const MAX_DEPTH = 200;

function tokenize(text: string, fail: (why: string) => never): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const at = i;
    if ((c >= '0' && c <= '9') || (c === '.' && text[i + 1] >= '0' && text[i + 1] <= '9')) {
      const m = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
      if (!m) fail(`a malformed number at position ${i + 1}`);
      i += m[0].length;
      out.push({ k: 'num', v: Number(m[0]), at });
      if (i < n && /[A-Za-z_(]/.test(text[i])) fail(`'${text.slice(at, i + 1)}': implicit multiplication is not allowed; write the * sign`);
      continue;
    }
    if (/[A-Za-z_\p{L}]/u.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_\p{L}\p{N}]/u.test(text[j])) j++;
      const w = text.slice(i, j);
      out.push(WORD_OPS.has(w) ? { k: 'op', v: w, at } : { k: 'name', v: w, at });
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < n && text[j] !== c) {
        if (text[j] === '\\' && j + 1 < n) {
          const e = text[j + 1];
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else s += text[j++];
      }
      if (j >= n) fail(`the text starting at position ${i + 1} has no closing ${c}`);
      out.push({ k: 'str', v: s, at });
      i = j + 1;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['==', '!=', '<=', '>=', '&&', '||'].includes(two)) {
      out.push({ k: 'op', v: two, at });
      i += 2;
      continue;
    }
    if ('+-*/^%<>()?:,=[]{}!&|;.'.includes(c)) {
      out.push({ k: 'op', v: c, at });
      i++;
      continue;
    }
    fail(`unexpected character '${c}' at position ${i + 1}`);
  }
  out.push({ k: 'end', at: n });
  return out;
}

/** Parses an expression; `what` names it in errors (e.g. "--subset", "derived variable x"). */
export function parseRestricted(text: string, what: string): Node {
  const fail = (why: string): never => {
    throw new UsageError(`${what} '${text}': ${why}`);
  };
  const toks = tokenize(text, fail);
  let p = 0;
  let depth = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => {
    const t = toks[p];
    return t.k === 'op' && t.v === v;
  };
  const expect = (v: string) => {
    if (!isOp(v)) fail(`expected '${v}' at position ${toks[p].at + 1}`);
    p++;
  };
  const enter = () => {
    if (++depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
  };
  const refuseAfter = () => {
    const t = peek();
    if (t.k === 'op' && t.v === '=') fail('assignment expressions are not allowed (compare with ==)');
    if (t.k === 'op' && t.v === '[') fail('indexing expressions are not allowed');
    if (t.k === 'op' && t.v === '.') fail('property access is not allowed');
  };

  const conditional = (): Node => {
    enter();
    const test = or();
    let node = test;
    if (isOp('?')) {
      p++;
      const a = conditional();
      expect(':');
      const b = conditional();
      node = { type: 'cond', test, then: a, else: b };
    }
    depth--;
    return node;
  };
  const binary = (ops: string[], next: () => Node, map: (v: string) => BinOp = (v) => v as BinOp) => (): Node => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.k !== 'op' || !ops.includes(t.v)) return left;
      p++;
      left = { type: 'bin', op: map(t.v), left, right: next() };
    }
  };
  const comparison = (): Node => {
    const left = additive();
    const t = peek();
    if (t.k !== 'op' || !['==', '!=', '<', '>', '<=', '>='].includes(t.v)) return left;
    p++;
    const node: Node = { type: 'bin', op: t.v as BinOp, left, right: additive() };
    const u = peek();
    if (u.k === 'op' && ['==', '!=', '<', '>', '<=', '>='].includes(u.v)) fail('chained comparisons (a < b < c) are not allowed; write a < b and b < c');
    return node;
  };
  const unary = (): Node => {
    const t = peek();
    if (t.k === 'op' && (t.v === '-' || t.v === '+' || t.v === 'not')) {
      p++;
      enter();
      const arg = unary();
      depth--;
      return { type: 'unary', op: t.v, arg };
    }
    if (t.k === 'op' && t.v === '!') fail("'!' is not allowed; write not");
    return power();
  };
  const power = (): Node => {
    const base = primary();
    if (isOp('^')) {
      p++;
      enter();
      const exponent = unary(); // right-associative, and 2 ^ -1 is allowed
      depth--;
      return { type: 'bin', op: '^', left: base, right: exponent };
    }
    return base;
  };
  const primary = (): Node => {
    const t = peek();
    let node: Node;
    if (t.k === 'num') {
      p++;
      node = { type: 'num', value: t.v };
    } else if (t.k === 'str') {
      p++;
      node = { type: 'str', value: t.v };
    } else if (t.k === 'name') {
      p++;
      if (isOp('(')) {
        p++;
        const args: Node[] = [];
        if (!isOp(')')) {
          for (;;) {
            args.push(conditional());
            if (isOp(',')) p++;
            else break;
          }
        }
        expect(')');
        if (isOp('=')) fail('function definitions are not allowed');
        node = { type: 'call', fn: t.v, args };
      } else if (t.v === 'true' || t.v === 'false') node = { type: 'num', value: t.v === 'true' ? 1 : 0 };
      else node = { type: 'var', name: t.v };
    } else if (t.k === 'op' && t.v === '(') {
      p++;
      node = conditional();
      expect(')');
    } else if (t.k === 'op' && t.v === '[') fail('array expressions are not allowed');
    else if (t.k === 'op' && t.v === '{') fail('object expressions are not allowed');
    else if (t.k === 'end') fail('the expression ends too early');
    else fail(`unexpected '${(t as { v: string }).v}' at position ${t.at + 1}`);
    refuseAfter();
    return node!;
  };
  const multiplicative = binary(['*', '/', 'mod', '%'], unary, (v) => (v === '%' ? 'mod' : (v as BinOp)));
  const additive = binary(['+', '-'], multiplicative);
  const and = binary(['and', '&&'], comparison, () => 'and');
  const xor = binary(['xor'], and);
  const or = binary(['or', '||'], xor, () => 'or');

  const root = conditional();
  const t = peek();
  if (t.k !== 'end') {
    if (t.k === 'op' && t.v === '=') fail('assignment expressions are not allowed (compare with ==)');
    if (t.k === 'op' && (t.v === ';' || t.v === ',')) fail('one expression only');
    fail(`unexpected '${(t as { v: string }).v ?? ''}' at position ${t.at + 1}`);
  }
  return root;
}
