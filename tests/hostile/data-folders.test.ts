/**
 * Hostile corpus, year folders read by `tongban dyads` and `tongban run`: overflowing and
 * absurdly long numbers, symbolic links to nothing or to themselves, a folder where a file
 * should be, an unreadable file, control characters in names, and names a spreadsheet would
 * run as formulas. Bad input exits with code 2 and names the file, row and column, and the
 * output folder of an earlier good run stays byte-identical.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TINY, runCli, snapshot, tinyWith, tmp } from '../helpers.ts';
import { csvCells, expectOk, expectRefused, openTo, put, read, runCliAs, tinyDataset } from './common.ts';

const citiesText = readFileSync(join(TINY, 'cities.csv'), 'utf8');

describe('tongban dyads on a broken year folder', () => {
  let earlier: string;
  let before: Record<string, string>;
  beforeAll(() => {
    earlier = join(tmp('tongban-hostile-data-'), 'out');
    expectOk(runCli(['dyads', '--input', TINY, '--out', earlier, '--quiet']));
    before = snapshot(earlier);
  });
  const dyads = (dir: string) => runCli(['dyads', '--input', dir, '--out', earlier, '--quiet']);

  it('1e309 in cities.csv names the row, column and value', () => {
    const dir = tinyWith({ 'cities.csv': citiesText.replace('010200,乙市,P1,50,', '010200,乙市,P1,1e309,') });
    expectRefused(dyads(dir), `cities.csv, row 3, column 'population': value "1e309"`, /range of a double/);
    expect(snapshot(earlier)).toEqual(before);
  });

  it('items "1" followed by 400 zeros names the row and column, with the value cut short', () => {
    const dir = tinyWith({ 'agreements.csv': `city_a,city_b,items,signed\n010100,010200,1${'0'.repeat(400)},\n` });
    const r = dyads(dir);
    expectRefused(r, `agreements.csv, row 2, column 'items': value "1000`, /401 characters/, /expected an integer from 1 to/);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(snapshot(earlier)).toEqual(before);
  });

  it('a dangling symbolic link as flows.csv is named', () => {
    const dir = tinyWith({ 'flows.csv': null });
    symlinkSync(join(dir, 'nowhere', 'flows.csv'), join(dir, 'flows.csv'));
    expectRefused(dyads(dir), join(dir, 'flows.csv'), /symbolic link/);
    expect(snapshot(earlier)).toEqual(before);
  });

  it('a loop of symbolic links as regions.csv is named', () => {
    const dir = tinyWith({ 'regions.csv': null });
    symlinkSync('loop.csv', join(dir, 'regions.csv'));
    symlinkSync('regions.csv', join(dir, 'loop.csv'));
    expectRefused(dyads(dir), join(dir, 'regions.csv'), /loop of links/);
    expect(snapshot(earlier)).toEqual(before);
  });

  it('a folder named flows.csv is named as a folder', () => {
    const dir = tinyWith({ 'flows.csv': null });
    mkdirSync(join(dir, 'flows.csv'));
    expectRefused(dyads(dir), join(dir, 'flows.csv'), /regular file \(this is a folder\)/);
    expect(snapshot(earlier)).toEqual(before);
  });

  // Root reads a file of mode 000 anyway, so under root (CI) the command runs as the
  // unprivileged user nobody, in folders opened to it.
  it('an unreadable flows.csv (chmod 000) is named', () => {
    const dir = tinyWith({});
    const out = join(tmp('tongban-hostile-perm-'), 'out');
    openTo(dirname(out), 0o777);
    openTo(dir, 0o755);
    chmodSync(join(dir, 'flows.csv'), 0o000);
    try {
      expectRefused(runCliAs(['dyads', '--input', dir, '--out', out, '--quiet']), join(dir, 'flows.csv'), /readable/);
      expect(existsSync(out)).toBe(false);
    } finally {
      chmodSync(join(dir, 'flows.csv'), 0o644);
    }
  });

  // Province and ids are checked for control characters ("expected a text without control
  // characters (NUL, tab, line breaks)", src/data/schemas.ts: "names and ids are single-line
  // text"), but city_name uses the optionalText rule without that check: a NUL byte in a city
  // name is accepted (exit 0) and copied into cities_clean.csv (product bug).
  it('a NUL byte in a city name names the row and the column', () => {
    // its own earlier folder: while the bug lasts the run succeeds and replaces it
    const own = join(tmp('tongban-hostile-data-'), 'out');
    expectOk(runCli(['dyads', '--input', TINY, '--out', own, '--quiet']));
    const ownBefore = snapshot(own);
    const dir = tinyWith({ 'cities.csv': citiesText.replace('010200,乙市', '010200,乙\u0000市') });
    expectRefused(runCli(['dyads', '--input', dir, '--out', own, '--quiet']), `cities.csv, row 3, column 'city_name'`, /control characters/);
    expect(snapshot(own)).toEqual(ownBefore);
  });

  it('a NUL byte in a province names the row and the column', () => {
    const dir = tinyWith({ 'cities.csv': citiesText.replace('010200,乙市,P1', '010200,乙市,P\u00001') });
    expectRefused(dyads(dir), `cities.csv, row 3, column 'province'`, /control characters \(NUL/);
    expect(snapshot(earlier)).toEqual(before);
  });
});

describe('tongban run on a broken year folder', () => {
  it('1e309 in cities.csv leaves the earlier run folder as it was', () => {
    const { data, year } = tinyDataset('ds');
    const out = join(tmp('tongban-hostile-run-'), 'out');
    expectOk(runCli(['run', '--data', data, '--year', '2021', '--out', out, '--quiet']));
    const before = snapshot(out);
    writeFileSync(join(year, 'cities.csv'), citiesText.replace('020200,丁市,P2,80,', '020200,丁市,P2,1e309,'));
    expectRefused(runCli(['run', '--data', data, '--year', '2021', '--out', out, '--quiet']), `cities.csv, row 5, column 'population': value "1e309"`);
    expect(snapshot(out)).toEqual(before);
  });

  it('a city name starting with "=" runs, the cleaning report warns, and table CSVs neutralise "=" and "+" labels', () => {
    const { data, year } = tinyDataset('ds');
    writeFileSync(join(year, 'cities.csv'), citiesText.replace('010200,乙市', '010200,=1+2'));
    const spec = put(
      tmp('tongban-hostile-spec-'),
      'labels.yaml',
      `name: labels
language: en
samples:
  all_dyads: { table: dyads }
levels:
  - id: partner
    label: { en: "@level", zh: "@level" }
    models:
      - { id: m1, label: { en: "=SUM(A1)", zh: "=SUM(A1)" }, family: ols, sample: all_dyads, formula: "coop ~ log_flow" }
      - { id: m2, label: { en: "+controls", zh: "+controls" }, family: ols, sample: all_dyads, formula: "coop ~ log_flow + same_province" }
`,
    );
    const out = join(tmp('tongban-hostile-run-'), 'out');
    expectOk(runCli(['run', '--data', data, '--year', '2021', '--spec', spec, '--out', out, '--quiet']));
    const dir = join(out, 'ds', '2021');
    expect(read(join(dir, 'cleaning_report.md'))).toMatch(/cities\.csv city_name: 1 value starts with = \+ - @ \(e\.g\. row 3: "=1\+2"\)/);
    // the data files keep the name exactly
    expect(read(join(dir, 'cities_clean.csv'))).toContain(',=1+2,');
    const partner = csvCells(read(join(dir, 'tables', 'partner.csv'))).flat();
    expect(partner).toContain("'=SUM(A1)");
    expect(partner).toContain("'+controls");
    // no cell of any table CSV starts a formula, except numbers such as -0.123 or (+1.2)***
    const tables = readdirSync(join(dir, 'tables')).filter((f) => f.endsWith('.csv'));
    expect(tables.length).toBeGreaterThan(0);
    for (const f of tables) {
      for (const cell of csvCells(read(join(dir, 'tables', f))).flat()) {
        if (/^[=+\-@\t\r]/.test(cell)) expect(cell, `${f}: ${cell}`).toMatch(/^\(?[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\)?\**$/);
      }
    }
  });

  it('an output folder that is a missing data set is not created by a refused run', () => {
    const { data, year } = tinyDataset('fresh');
    rmSync(join(year, 'agreements.csv'));
    const out = join(tmp('tongban-hostile-run-'), 'out');
    expectRefused(runCli(['run', '--data', data, '--year', '2021', '--out', out, '--quiet']), 'agreements.csv');
    expect(existsSync(join(out, 'fresh', '2021'))).toBe(false);
  });
});
