/**
 * Hostile corpus, expressions: what a careless or hostile user types into `tongban fit
 * --subset`, a spec's derived variables and a spec's sample subsets. The restricted
 * expression language (docs/spec-files.md) must refuse each with exit code 2 and a message
 * naming the option (or the spec's line and field), never run it, never crash; a refused
 * spec leaves an earlier output folder byte-identical.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, snapshot, tmp } from '../helpers.ts';
import { expectRefused, lineOf, put, tinyDataset } from './common.ts';

const dir = tmp('tongban-hostile-expr-');
const data = put(
  dir,
  'd.csv',
  'y,x,a,coop,name\n' + Array.from({ length: 12 }, (_, k) => `${(k * 1.7) % 5},${k % 4}.5,${k},${k % 2},n${k}`).join('\n') + '\n',
);
const subset = (expr: string) => runCli(['fit', '--data', data, '--formula', 'y ~ x', '--family', 'ols', '--subset', expr, '--quiet']);
const ALLOWED = /only arithmetic, comparisons, logic/;

describe('--subset of tongban fit', () => {
  it('a quoted expression "\'coop == 1\'" is text, not a condition', () => {
    expectRefused(subset("'coop == 1'"), "--subset ''coop == 1''", /gives text .*quoted by mistake/);
  });

  it('a text column alone is not a condition', () => {
    expectRefused(subset('name'), "--subset 'name'", /gives text \(a text column\)/);
  });

  it('constructor(x) is not a function of the language', () => {
    expectRefused(subset('constructor(x)'), "--subset 'constructor(x)'", "function 'constructor()' is not allowed", ALLOWED);
  });

  it('__proto__(x) is not a function of the language', () => {
    expectRefused(subset('__proto__(x)'), "--subset '__proto__(x)'", "function '__proto__()' is not allowed", ALLOWED);
  });

  it('hasOwnProperty(x) is not a function of the language', () => {
    expectRefused(subset('hasOwnProperty(x)'), "--subset 'hasOwnProperty(x)'", "function 'hasOwnProperty()' is not allowed");
  });

  it('valueOf(x) is not a function of the language', () => {
    expectRefused(subset('valueOf(x)'), "--subset 'valueOf(x)'", "function 'valueOf()' is not allowed");
  });

  it('import("fs") is refused, not run', () => {
    expectRefused(subset('import("fs")'), '--subset \'import("fs")\'', "function 'import()' is not allowed");
  });

  it('assignment a = 1 is refused with a hint to use ==', () => {
    expectRefused(subset('a = 1'), "--subset 'a = 1'", /assignment .*not allowed .*==/);
  });

  it('indexing a[1] is refused', () => {
    expectRefused(subset('a[1]'), "--subset 'a[1]'", /indexing .*not allowed/);
  });

  it('implicit multiplication 2a is refused', () => {
    expectRefused(subset('2a > 1'), "--subset '2a > 1'", /implicit multiplication is not allowed; write the \* sign/);
  });

  it('a chained comparison 1 < a < 3 is refused with the and-form', () => {
    expectRefused(subset('1 < a < 3'), "--subset '1 < a < 3'", /chained comparisons .*not allowed; write a < b and b < c/);
  });

  it('an unclosed string is refused with its position', () => {
    expectRefused(subset('name == "n1'), `--subset 'name == "n1'`, /position \d+ has no closing "/);
  });

  it('300 nested parentheses are refused (no stack overflow)', () => {
    const deep = '('.repeat(300) + 'a' + ')'.repeat(300) + ' > 1';
    expectRefused(subset(deep), '--subset', /nested more than \d+ levels deep/);
  });

  it('log() with no argument is refused', () => {
    expectRefused(subset('log() > 0'), "--subset 'log() > 0'", /log\(\) takes 1 or 2 arguments/);
  });

  // Every other --subset message starts with "--subset '<expr>'"; this one says only
  // "'zz > 1': unknown column 'zz'", and `--formula "y ~ zz"`, `--cluster zz` and `--weights zz`
  // print the very same "unknown column 'zz'", so the option is not named (product bug).
  it('an unknown column names the option, the column and the columns there are', () => {
    expectRefused(subset('zz > 1'), "unknown column 'zz'", 'columns: y, x, a, coop, name', '--subset');
  });
});

describe('expressions in spec files (derived variables, sample subsets)', () => {
  const { data: dataDir } = tinyDataset('expr');
  const out = join(tmp('tongban-hostile-expr-out-'), 'out');
  let before: Record<string, string>;
  const model = `levels:
  - id: partner
    models:
      - id: m1
        family: ols
        sample: s
        formula: "coop ~ log_flow"
`;
  const runSpec = (text: string) => {
    const f = put(tmp('tongban-hostile-spec-'), 'bad.yaml', text);
    return runCli(['run', '--data', dataDir, '--year', '2021', '--spec', f, '--out', out, '--quiet']);
  };
  beforeAll(() => {
    const good = runSpec(`name: good\nsamples:\n  s: { table: dyads, subset: coop == 1 or coop == 0 }\n${model}`);
    expect(good.code, good.stderr).toBe(0);
    before = snapshot(out);
  });

  it('a derived variable with implicit multiplication names its line and field', () => {
    const text = `name: bad\nderived:\n  dyads: { twice: 2coop }\nsamples:\n  s: { table: dyads }\n${model}`;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'twice')}, field 'derived.dyads.twice'`, /implicit multiplication/);
    expect(snapshot(out)).toEqual(before);
  });

  it('a derived variable calling constructor() names its line and field', () => {
    const text = `name: bad\nderived:\n  cities: { c2: constructor(degree) }\nsamples:\n  s: { table: dyads }\n${model}`;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'c2:')}, field 'derived.cities.c2'`, "function 'constructor()' is not allowed");
    expect(snapshot(out)).toEqual(before);
  });

  it('a quoted sample subset names its line and field', () => {
    const text = `name: bad\nsamples:\n  s: { table: dyads, subset: "'coop == 1'" }\n${model}`;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'subset:')}, field 'samples.s.subset'`, /gives text .*quoted by mistake/);
    expect(snapshot(out)).toEqual(before);
  });

  it('a sample subset with __proto__() names its line and field', () => {
    const text = `name: bad\nsamples:\n  s: { table: dyads, subset: "__proto__(coop) == 1" }\n${model}`;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'subset:')}, field 'samples.s.subset'`, "function '__proto__()' is not allowed");
    expect(snapshot(out)).toEqual(before);
  });

  it('a sample subset with an unknown column names its line, field and column', () => {
    const text = `name: bad\nsamples:\n  s: { table: dyads, subset: same_regon == 1 }\n${model}`;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'subset:')}, field 'samples.s.subset'`, "unknown column 'same_regon'");
    expect(snapshot(out)).toEqual(before);
  });

  // Since commit 0d72dd6 a sample copies only the columns its models read, and the list of
  // columns in this message is that copy: "(columns: province_i, province_j, coop, log_flow)",
  // so the misspelt 'same_region' is not among the columns offered (product bug).
  it('the unknown-column message of a sample subset suggests the dyads column meant, or lists them', () => {
    const text = `name: bad\nsamples:\n  s: { table: dyads, subset: same_regon == 1 }\n${model}`;
    expectRefused(runSpec(text), "unknown column 'same_regon'", /did you mean 'same_region'\?/);
    const far = `name: bad\nsamples:\n  s: { table: dyads, subset: qqqqqqqqqq == 1 }\n${model}`;
    expectRefused(runSpec(far), "unknown column 'qqqqqqqqqq'", /columns: [^)]*\bsame_region\b/);
  });

  it('a derived variable with a chained comparison names its line and field', () => {
    const text = `name: bad\nderived:\n  dyads: { mid: 1 < log_flow < 3 }\nsamples:\n  s: { table: dyads }\n${model}`;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'mid:')}, field 'derived.dyads.mid'`, /chained comparisons/);
    expect(snapshot(out)).toEqual(before);
  });
});
