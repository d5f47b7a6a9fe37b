/**
 * Wald tests of linear restrictions Rβ = r on one fitted model, with the model's own
 * variance (classical, robust, clustered or dyadic): W = (Rβ − r)' (R V R')⁻¹ (Rβ − r),
 * χ² with q degrees of freedom; for OLS with the classical variance also F = W/q with
 * (q, n − k) degrees of freedom, as R's car::linearHypothesis and Stata's `test` report.
 *
 * Restrictions are written over coefficient names, comma = joint:
 * "log_flow = 0, log_outflow_sum = 0", "a - b = 0", "2*a + b = 1"; a name with characters
 * other than letters, digits, _ and . goes in backticks: `I(x^2)`, `a:b`, `factor(g)B`.
 */
import betainc from '@stdlib/math-base-special-betainc';
import gammainc from '@stdlib/math-base-special-gammainc';
import { family } from '../fit/families.ts';
import type { ModelFit } from '../fit/types.ts';
import { cholesky, cholSolve } from '../linalg/dense.ts';
import { UsageError } from '../util/errors.ts';

export interface WaldTest {
  hypothesis: string;
  /** number of restrictions */
  df: number;
  statistic: number;
  p_value: number;
  /** OLS with the classical variance: F = W/q with (q, n − k) df */
  f: { statistic: number; df1: number; df2: number; p_value: number } | null;
  vcov_type: string;
}

interface Restriction {
  coef: Map<string, number>;
  rhs: number;
  text: string;
}

/** Parses "a = 0, b - 2*c = 1" into rows of R and entries of r. */
export function parseRestrictions(text: string): Restriction[] {
  const fail = (why: string): never => {
    throw new UsageError(`--wald "${text}": ${why}; write restrictions like "a = 0, b = 0" or "a - b = 0" (names with other characters in backticks, e.g. \`I(x^2)\`)`);
  };
  const out: Restriction[] = [];
  for (const part of splitTop(text)) {
    const sides = part.split('=');
    if (sides.length !== 2 || !sides[0].trim() || !sides[1].trim()) fail(`'${part.trim()}' is not an equation with one '='`);
    const coef = new Map<string, number>();
    let rhs = 0;
    const add = (side: string, sign: number) => {
      for (const t of linearTerms(side, fail)) {
        if (t.name === null) rhs -= sign * t.k;
        else coef.set(t.name, (coef.get(t.name) ?? 0) + sign * t.k);
      }
    };
    add(sides[0], 1);
    add(sides[1], -1);
    for (const [name, k] of coef) if (k === 0) coef.delete(name);
    if (!coef.size) fail(`'${part.trim()}' names no coefficient`);
    out.push({ coef, rhs, text: part.trim() });
  }
  if (!out.length) fail('no restriction');
  return out;
}

/** Splits at commas outside backticks. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let tick = false;
  for (const c of text) {
    if (c === '`') tick = !tick;
    if (c === ',' && !tick) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts.filter((p) => p.trim() !== '');
}

/** The terms of one side: ±[number *] name, ±name [* number], or ±number. */
function linearTerms(side: string, fail: (why: string) => never): { k: number; name: string | null }[] {
  const re = /\s*([+-]?)\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+)\s*(\*)?\s*)?(`[^`]+`|[A-Za-z_.(][A-Za-z0-9_.()]*)?\s*(?:\*\s*(\d+\.?\d*(?:[eE][+-]?\d+)?))?/y;
  const out: { k: number; name: string | null }[] = [];
  let pos = 0;
  const s = side.trim();
  let first = true;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m || m[0].trim() === '') fail(`cannot read '${s.slice(pos)}'`);
    const [, sign, num, star, name, post] = m!;
    if (!first && !sign) fail(`a + or - is missing before '${m![0].trim()}'`);
    if (star && !name) fail(`'${m![0].trim()}' multiplies nothing`);
    if (!num && !name) fail(`cannot read '${s.slice(pos)}'`);
    let k = (sign === '-' ? -1 : 1) * (num ? Number(num) : 1) * (post ? Number(post) : 1);
    if (num && name && !star) fail(`write '${num}*${name}' with a * sign`);
    if (!name) k = (sign === '-' ? -1 : 1) * Number(num);
    out.push({ k, name: name ? name.replace(/^`|`$/g, '') : null });
    pos = re.lastIndex;
    first = false;
  }
  return out;
}

/** The Wald test of `hypothesis` on a single-part fitted model, with its own variance. */
export function waldTest(fit: ModelFit, hypothesis: string): WaldTest {
  const r = fit.result;
  if (r.parts) throw new UsageError(`--wald: tests on the parts of a ${r.family} model are not supported yet; test a single-part model`);
  const names = r.coefficients.filter((c) => c.estimate !== null).map((c) => c.term);
  const beta = Float64Array.from(r.coefficients.filter((c) => c.estimate !== null), (c) => c.estimate!);
  const aliased = new Set(r.coefficients.filter((c) => c.estimate === null).map((c) => c.term));
  const rows = parseRestrictions(hypothesis);
  const k = names.length;
  const q = rows.length;
  const R = new Float64Array(q * k);
  const rhs = new Float64Array(q);
  rows.forEach((row, a) => {
    for (const [name, c] of row.coef) {
      const j = names.indexOf(name);
      if (j < 0) {
        const why = aliased.has(name) ? `'${name}' was dropped as collinear (no estimate)` : `'${name}' is not a coefficient of the model`;
        throw new UsageError(`--wald "${hypothesis}": ${why}; the coefficients are ${names.map((n) => (/^[A-Za-z_.][A-Za-z0-9_.]*$/.test(n) ? n : `\`${n}\``)).join(', ')}`);
      }
      R[a * k + j] = c;
    }
    rhs[a] = row.rhs;
  });
  const V = fit.vcov.V;
  // d = Rβ − r; A = R V R'
  const d = new Float64Array(q);
  for (let a = 0; a < q; a++) {
    let s = -rhs[a];
    for (let j = 0; j < k; j++) s += R[a * k + j] * beta[j];
    d[a] = s;
  }
  const RV = new Float64Array(q * k);
  for (let a = 0; a < q; a++) for (let j = 0; j < k; j++) {
    let s = 0;
    for (let m = 0; m < k; m++) s += R[a * k + m] * V[m * k + j];
    RV[a * k + j] = s;
  }
  const A = new Float64Array(q * q);
  for (let a = 0; a < q; a++) for (let b = 0; b < q; b++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += RV[a * k + j] * R[b * k + j];
    A[a * q + b] = s;
  }
  const L = cholesky(A, q);
  if (!L) {
    const notPsd = r.warnings.some((w) => w.includes('not positive semi-definite'));
    throw new UsageError(
      notPsd
        ? `--wald "${hypothesis}": the model's ${r.vcov_type} variance matrix is not positive semi-definite (see its warning), so the test is undefined; repair it (--fix-psd, or fix_psd: true in a spec) or use another variance`
        : `--wald "${hypothesis}": the restrictions are not independent (one follows from the others, or a variance is 0); drop the redundant one`,
    );
  }
  const x = cholSolve(L, q, d);
  let W = 0;
  for (let a = 0; a < q; a++) W += d[a] * x[a];
  const fam = family(r.family);
  const df2 = r.n - k;
  const f =
    fam.statistic === 't' && r.vcov_type === 'classical'
      ? { statistic: W / q, df1: q, df2, p_value: fUpper(W / q, q, df2) }
      : null;
  return { hypothesis, df: q, statistic: W, p_value: chisqUpper(W, q), f, vcov_type: r.vcov_type };
}

/** P(χ²_df > x), accurate in the far tail (the regularized upper incomplete gamma function). */
export const chisqUpper = (x: number, df: number): number => (x <= 0 ? 1 : gammainc(x / 2, df / 2, true, true));

/** P(F_{d1,d2} > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2). */
export const fUpper = (f: number, d1: number, d2: number): number => (f <= 0 ? 1 : betainc(d2 / (d2 + d1 * f), d2 / 2, d1 / 2, true, false));
