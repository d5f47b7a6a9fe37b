/**
 * Hostile corpus, spec files given to `tongban run --spec`: derived variables that would
 * replace built-in columns, a YAML alias bomb, unknown fields, bad family names, a cluster
 * variance without clusters, unknown samples and variables, cycles of `like:`, YAML that
 * is not a spec. Each is refused with exit code 2, a message naming the spec file's line
 * and field, and the output folder of an earlier good run byte-identical afterwards.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, snapshot, tmp } from '../helpers.ts';
import { expectOk, expectRefused, lineOf, put, tinyDataset } from './common.ts';

const { data } = tinyDataset('spec');
const out = join(tmp('tongban-hostile-spec-out-'), 'out');
let before: Record<string, string>;

const HEAD = `name: hostile
language: en
samples:
  all_dyads: { table: dyads }
  cities: { table: cities }
`;
const M1 = `levels:
  - id: partner
    models:
      - id: m1
        family: ols
        sample: all_dyads
        formula: "coop ~ log_flow"
`;

/** Runs a spec text (written as bad.yaml) into the shared output folder. */
function runSpec(text: string) {
  const f = put(tmp('tongban-hostile-spec-'), 'bad.yaml', text);
  return runCli(['run', '--data', data, '--year', '2021', '--spec', f, '--out', out, '--quiet']);
}
/** Refused with the line of `needle` and the field named, and the earlier run untouched. */
function expectSpecError(text: string, needle: string, field: string, ...more: (string | RegExp)[]) {
  expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, needle)}, field '${field}'`, ...more);
  expect(snapshot(out)).toEqual(before);
}

beforeAll(() => {
  expectOk(runSpec(HEAD + M1));
  before = snapshot(out);
  expect(Object.keys(before)).toContain(join('spec', '2021', 'fits', 'm1.json'));
});

describe('derived variables named like built-in columns', () => {
  it("a derived dyads variable named 'i' is refused", () => {
    const text = `name: hostile\nderived:\n  dyads: { i: coop + 1 }\n${HEAD.slice('name: hostile\n'.length)}${M1}`;
    expectSpecError(text, '{ i: coop', 'derived.dyads.i', /'i' is already a column of the dyads table/);
  });

  it("a derived dyads variable named 'same_province' is refused", () => {
    const text = `name: hostile\nderived:\n  dyads: { same_province: 1 - coop }\n${HEAD.slice('name: hostile\n'.length)}${M1}`;
    expectSpecError(text, 'same_province:', 'derived.dyads.same_province', /'same_province' is already a column of the dyads table/);
  });

  it("a derived cities variable named 'degree' is refused", () => {
    const text = `name: hostile\nderived:\n  cities: { degree: n_regions + 1 }\n${HEAD.slice('name: hostile\n'.length)}${M1}`;
    expectSpecError(text, 'degree:', 'derived.cities.degree', /'degree' is already a column of the cities table/);
  });
});

describe('YAML', () => {
  it('a billion-laughs alias bomb (10 levels of 10 aliases) is refused quickly', () => {
    const lines = ['a0: &a0 [' + Array(10).fill('lol').join(',') + ']'];
    for (let k = 1; k < 10; k++) lines.push(`a${k}: &a${k} [` + Array(10).fill(`*a${k - 1}`).join(',') + ']');
    const t0 = Date.now();
    const r = runSpec(lines.join('\n') + '\n' + HEAD + M1);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expectRefused(r, 'bad.yaml', /alias/);
    expect(snapshot(out)).toEqual(before);
  });

  it('a repeated key names its line', () => {
    const text = HEAD + 'name: again\n' + M1;
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, 'name: again')}`, /unique/);
    expect(snapshot(out)).toEqual(before);
  });

  it('a list instead of a mapping names the top level', () => {
    expectRefused(runSpec('- a\n- b\n'), 'bad.yaml, line 1', /top level/);
    expect(snapshot(out)).toEqual(before);
  });
});

describe('fields', () => {
  it('an unknown field in a model is named', () => {
    const text = HEAD + M1 + '        colour: red\n';
    expectRefused(runSpec(text), /bad\.yaml, line \d+, field 'levels\.0\.models\.0'/, /no unknown fields \(colour\)/);
    expect(snapshot(out)).toEqual(before);
  });

  it('an unknown top-level field (a typo) is named', () => {
    const text = HEAD + 'langauge: zh\n' + M1;
    expectRefused(runSpec(text), /bad\.yaml, line \d+/, /no unknown fields \(langauge\)/);
    expect(snapshot(out)).toEqual(before);
  });

  it('a bad family name lists the families', () => {
    expectSpecError(HEAD + M1.replace('family: ols', 'family: tobit'), 'family: tobit', 'levels.0.models.0.family', 'value "tobit"', '"negbin"');
  });

  it('vcov cluster without cluster: is refused', () => {
    expectSpecError(HEAD + M1.replace('family: ols', 'family: ols\n        vcov: cluster'), 'vcov: cluster', 'levels.0.models.0.vcov', /cluster: field/);
  });

  it('a model referring to an unknown sample lists the samples', () => {
    expectSpecError(HEAD + M1.replace('sample: all_dyads', 'sample: nowhere'), 'sample: nowhere', 'levels.0.models.0.sample', 'value "nowhere"', 'all_dyads, cities');
  });

  it('a model with an unknown variable names the model and its line', () => {
    const text = HEAD + M1.replace('coop ~ log_flow', 'coop ~ log_flow + zz');
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, '- id: m1')}`, "'m1'", "unknown variable 'zz'");
    expect(snapshot(out)).toEqual(before);
  });

  it('a city variable in a dyads model is refused', () => {
    const text = HEAD + M1.replace('coop ~ log_flow', 'coop ~ log_population');
    expectRefused(runSpec(text), `bad.yaml, line ${lineOf(text, '- id: m1')}`, "unknown variable 'log_population'");
    expect(snapshot(out)).toEqual(before);
  });
});

describe('like:', () => {
  const cycle = HEAD + M1 + '      - { id: m2, like: m3 }\n      - { id: m3, like: m2 }\n';

  it('a cycle of like: (m2 -> m3 -> m2) is refused at its line', () => {
    expectSpecError(cycle, 'id: m2', 'levels.0.models.1.like', /no cycle of like:/);
  });

  it('a model like itself is refused', () => {
    expectSpecError(HEAD + M1 + '      - { id: m2, like: m2 }\n', 'id: m2', 'levels.0.models.1.like', 'no cycle of like: (m2 -> m2)');
  });

  it('like: an unknown model lists the known ones', () => {
    expectSpecError(HEAD + M1 + '      - { id: m2, like: m9 }\n', 'id: m2', 'levels.0.models.1.like', 'value "m9"', 'known: m1, m2');
  });

  // The cycle is printed as "(m2 -> m2 -> m2)" and "(m3 -> m3 -> m3)": src/specfile/load.ts
  // recurses with `resolve(e.m.like, [...seen, mid])`, adding the current id again instead
  // of the next one, so the message never shows the other model of the cycle (product bug).
  it('the cycle message shows the models of the cycle', () => {
    expectRefused(runSpec(cycle), /m2 -> m3 -> m2|m3 -> m2 -> m3/);
  });
});
