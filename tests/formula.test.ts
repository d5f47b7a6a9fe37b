import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { parseFormula, deparse } from '../src/formula/parse.ts';
import { buildDesign } from '../src/formula/design.ts';
import { readCsvTable } from '../src/data/csv.ts';
import { makeTable, numColumn, strColumn } from '../src/data/table.ts';
import { compileRestricted } from '../src/expr/restricted.ts';

const q = readCsvTable(join(import.meta.dirname, 'fixtures', 'reference', 'quine.csv'));
const names = (f: string) => buildDesign(q, f).parts[0].names;

describe('formula parsing', () => {
  it('expands R operators into terms, ordered by degree', () => {
    const labels = (f: string) => {
      const p = parseFormula(f);
      return p.parts[0].terms.map((t) => t.map((v) => deparse(p.variables[v])).join(':'));
    };
    expect(labels('y ~ a*b')).toEqual(['a', 'b', 'a:b']);
    expect(labels('y ~ a:b + c')).toEqual(['c', 'a:b']);
    expect(labels('y ~ b + a + a:b')).toEqual(['b', 'a', 'b:a']); // R orders by first appearance
    expect(labels('y ~ (a + b + c)^2')).toEqual(['a', 'b', 'c', 'a:b', 'a:c', 'b:c']);
    expect(labels('y ~ a*b - a:b')).toEqual(['a', 'b']);
    expect(parseFormula('y ~ a - 1').parts[0].intercept).toBe(false);
    expect(parseFormula('y ~ 0 + a').parts[0].intercept).toBe(false);
    expect(parseFormula('y ~ a').parts[0].intercept).toBe(true);
    expect(parseFormula('y ~ a + offset(log(e))').parts[0].offsets.map(deparse)).toEqual(['log(e)']);
    expect(parseFormula('y ~ a + b | c').parts.length).toBe(2);
  });

  it('writes term labels as R deparses them', () => {
    const p = parseFormula('y ~ log(x + 1) + I(x^2) + I(x/2) + sqrt(x)');
    expect(p.parts[0].terms.map((t) => deparse(p.variables[t[0]]))).toEqual(['log(x + 1)', 'I(x^2)', 'I(x/2)', 'sqrt(x)']);
  });

  it('rejects what is not a formula, with the position', () => {
    expect(() => parseFormula('y ~ a +')).toThrow(/unexpected end/);
    expect(() => parseFormula('a + b')).toThrow(/response ~ terms/);
    expect(() => parseFormula('y ~ a $ b')).toThrow(/unexpected character '\$' at position 7/);
    expect(() => parseFormula('y ~ x/2')).toThrow(/wrap arithmetic in I\(\)/);
  });
});

describe('design matrix', () => {
  it('names factor columns as R (treatment contrasts, sorted levels, first is base)', () => {
    expect(names('Days ~ Eth + Sex + Age + Lrn')).toEqual(['(Intercept)', 'EthN', 'SexM', 'AgeF1', 'AgeF2', 'AgeF3', 'LrnSL']);
    expect(names('Days ~ Eth*Sex')).toEqual(['(Intercept)', 'EthN', 'SexM', 'EthN:SexM']);
    expect(names('Days ~ Eth + Sex - 1')).toEqual(['EthA', 'EthN', 'SexM']);
    expect(names('Days ~ factor(Eth)')).toEqual(['(Intercept)', 'factor(Eth)N']);
  });

  it('codes a factor without its margin by indicators, first variable fastest', () => {
    const d = buildDesign(q, 'Days ~ Eth:Sex');
    expect(d.parts[0].names).toEqual(['(Intercept)', 'EthA:SexF', 'EthN:SexF', 'EthA:SexM', 'EthN:SexM']);
    // the last indicator is collinear with the intercept: dropped with a warning, as R gives NA
    expect(d.parts[0].aliased).toEqual([false, false, false, false, true]);
    expect(d.warnings[0]).toMatch(/collinear.*EthN:SexM/);
    expect(d.parts[0].p).toBe(4);
  });

  it("uses R's three-valued logic with missing values, as --subset does", async () => {
    // row 1: a missing, b > 2 false -> FALSE & NA is FALSE: the row is kept with value 0
    // row 2: a missing, b > 2 true  -> TRUE & NA is NA: the row is dropped
    const t = makeTable(4, [
      ['y', numColumn(Float64Array.from([1, 2, 3, 4]))],
      ['a', numColumn(Float64Array.from([NaN, NaN, 2, 0]))],
      ['b', numColumn(Float64Array.from([1, 3, 3, 3]))],
    ]);
    const d = buildDesign(t, 'y ~ I(a > 1 & b > 2)');
    expect(Array.from(d.rows)).toEqual([0, 2, 3]);
    expect(Array.from(d.parts[0].X)).toEqual([1, 0, 1, 1, 1, 0]);
    // TRUE | NA is TRUE (row 2 kept), FALSE | NA is NA (row 1 dropped)
    expect(Array.from(buildDesign(t, 'y ~ I(a > 1 | b > 2)').rows)).toEqual([1, 2, 3]);
    // the subset language gives the same answers: FALSE, NA, TRUE, FALSE
    const and = (await compileRestricted('a > 1 and b > 2')).evaluate(t);
    expect(Array.from(and)).toEqual([0, NaN, 1, 0]);
    const or = (await compileRestricted('a > 1 or b > 2')).evaluate(t);
    expect(Array.from(or)).toEqual([NaN, 1, 1, 1]);
  });

  it('evaluates arithmetic terms and numeric interactions', () => {
    const t = makeTable(5, [
      ['y', numColumn(Float64Array.of(1, 2, 3, 5, 4))],
      ['x', numColumn(Float64Array.of(1, 2, 4, 3, 7))],
      ['z', numColumn(Float64Array.of(3, 0, 1, 2, 9))],
    ]);
    const d = buildDesign(t, 'y ~ log(x) + x:z + I(x^2)');
    expect(d.parts[0].names).toEqual(['(Intercept)', 'log(x)', 'I(x^2)', 'x:z']);
    expect(Array.from(d.parts[0].X.subarray(8, 12))).toEqual([1, Math.log(4), 16, 4]);
  });

  it('factor() of a number sorts levels numerically', () => {
    const t = makeTable(4, [
      ['y', numColumn(Float64Array.of(1, 2, 3, 4))],
      ['g', numColumn(Float64Array.of(10, 2, 2, 10))],
    ]);
    expect(buildDesign(t, 'y ~ factor(g)').parts[0].names).toEqual(['(Intercept)', 'factor(g)10']);
  });

  it('drops rows with a missing value in any model variable, and counts them', () => {
    const t = makeTable(5, [
      ['y', numColumn(Float64Array.of(1, 0, NaN, 1, 0))],
      ['x', numColumn(Float64Array.of(1, NaN, 3, 4, 5))],
      ['g', strColumn(['a', 'b', 'a', null, 'b'])],
      ['unused', numColumn(Float64Array.of(NaN, NaN, NaN, NaN, NaN))],
    ]);
    const d = buildDesign(t, 'y ~ x + g');
    expect(d.n).toBe(2);
    expect(d.nDropped).toBe(3);
    expect(Array.from(d.rows)).toEqual([0, 4]);
  });

  it('drops unused factor levels after deleting rows (R: drop.unused.levels)', () => {
    const t = makeTable(4, [
      ['y', numColumn(Float64Array.of(1, 0, NaN, 1))],
      ['g', strColumn(['b', 'c', 'a', 'c'])],
    ]);
    expect(buildDesign(t, 'y ~ g').parts[0].names).toEqual(['(Intercept)', 'gc']);
  });

  it('gives clear errors', () => {
    expect(() => buildDesign(q, 'Days ~ nothere')).toThrow(/unknown column 'nothere' in the formula \(columns: Eth, Sex, Age, Lrn, Days\)/);
    expect(() => buildDesign(q, 'Days ~ foo(Eth)')).toThrow(/unknown function 'foo\(\)'/);
    expect(() => buildDesign(q, 'Days ~ log(Days - Days)')).toThrow(/infinite on 146 rows/);
    const t = makeTable(2, [
      ['y', numColumn(Float64Array.of(NaN, 1))],
      ['x', numColumn(Float64Array.of(1, NaN))],
    ]);
    expect(() => buildDesign(t, 'y ~ x')).toThrow(/no rows left/);
  });
});
