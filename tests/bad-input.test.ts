/**
 * The bad-input corpus: each case breaks one thing in a copy of the tiny fixture and
 * checks that the error names file, row and column (and the value where there is one),
 * that the CLI exits non-zero, and that an earlier output folder is left as it was.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { runDyads } from '../src/stages/dyads.ts';
import { InputError, MAX_LISTED_PROBLEMS } from '../src/util/errors.ts';
import { TINY, runCli, snapshot, tinyWith, tmp } from './helpers.ts';

const citiesText = readFileSync(join(TINY, 'cities.csv'), 'utf8');
const HEADER =
  'city_id,city_name,province,population,registered_population,outflow,gdp,budget_revenue,budget_expenditure,gov_index,lon,lat\n';
const CITY = (id: string, extra: Partial<Record<string, string>> = {}) => {
  const v = {
    city_id: id, city_name: 'x', province: 'P1', population: '10', registered_population: '11', outflow: '1',
    gdp: '100', budget_revenue: '5', budget_expenditure: '10', gov_index: '0', lon: '110', lat: '30', ...extra,
  };
  return Object.values(v).join(',') + '\n';
};
const CITIES3 = HEADER + CITY('A') + CITY('B') + CITY('C');
const AGR_HEADER = 'city_a,city_b,items,signed\n';

interface Case {
  name: string;
  files: Record<string, string | null>;
  file: string;
  row?: number;
  column?: string;
  value?: string;
  /** more than one offending row must all be listed */
  rows?: number[];
}

const cases: Case[] = [
  { name: 'duplicate city id', files: { 'cities.csv': HEADER + CITY('A') + CITY('B') + CITY('A') }, file: 'cities.csv', row: 4, column: 'city_id', value: 'A' },
  { name: 'non-numeric population', files: { 'cities.csv': HEADER + CITY('A') + CITY('B', { population: 'abc' }) + CITY('C') }, file: 'cities.csv', row: 3, column: 'population', value: 'abc' },
  { name: 'zero population', files: { 'cities.csv': HEADER + CITY('A', { population: '0' }) + CITY('B') }, file: 'cities.csv', row: 2, column: 'population', value: '0' },
  { name: 'negative outflow', files: { 'cities.csv': HEADER + CITY('A') + CITY('B', { outflow: '-3' }) }, file: 'cities.csv', row: 3, column: 'outflow', value: '-3' },
  { name: 'negative gdp on several rows (all listed)', files: { 'cities.csv': HEADER + CITY('A', { gdp: '-1' }) + CITY('B') + CITY('C', { gdp: '-2' }) }, file: 'cities.csv', column: 'gdp', rows: [2, 4] },
  { name: 'latitude out of range', files: { 'cities.csv': HEADER + CITY('A', { lat: '95' }) + CITY('B') }, file: 'cities.csv', row: 2, column: 'lat', value: '95' },
  { name: 'missing required column', files: { 'cities.csv': citiesText.replace('budget_expenditure', 'budget_spending') }, file: 'cities.csv', row: 1, column: 'budget_expenditure' },
  { name: 'header-only cities file', files: { 'cities.csv': HEADER }, file: 'cities.csv', row: 2 },
  { name: 'empty cities file', files: { 'cities.csv': '' }, file: 'cities.csv', row: 1 },
  { name: 'row with too many cells', files: { 'cities.csv': CITIES3 + 'D,x,P1,10,11,1,100,5,10,0,110,30,extra\n' }, file: 'cities.csv', row: 5, column: '#13' },
  { name: 'row with too few cells', files: { 'cities.csv': CITIES3 + 'D,x,P1\n' }, file: 'cities.csv', row: 5, column: 'population' },
  { name: 'self-pair agreement', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER + 'A,B,3,\nC,C,2,\n' }, file: 'agreements.csv', row: 3, column: 'city_b', value: 'C' },
  { name: 'unknown city in agreements', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER + 'A,Z9,3,\n' }, file: 'agreements.csv', row: 2, column: 'city_b', value: 'Z9' },
  { name: 'items zero', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER + 'A,B,0,\n' }, file: 'agreements.csv', row: 2, column: 'items', value: '0' },
  { name: 'items fractional', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER + 'A,B,2.5,\n' }, file: 'agreements.csv', row: 2, column: 'items', value: '2.5' },
  { name: 'bad date (no 30 February)', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER + 'A,B,2,2021-02-30\n' }, file: 'agreements.csv', row: 2, column: 'signed', value: '2021-02-30' },
  { name: 'bad date format', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER + 'A,B,2,2021/03/01\n' }, file: 'agreements.csv', row: 2, column: 'signed', value: '2021/03/01' },
  { name: 'missing agreements column', files: { 'cities.csv': CITIES3, 'agreements.csv': 'city_a,city_b,signed\nA,B,\n' }, file: 'agreements.csv', row: 1, column: 'items' },
  { name: 'negative flow', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER, 'flows.csv': 'origin,destination,flow\nA,B,5\nB,A,-5\n' }, file: 'flows.csv', row: 3, column: 'flow', value: '-5' },
  { name: 'unknown city in flows', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER, 'flows.csv': 'origin,destination,flow\nQ,B,5\n' }, file: 'flows.csv', row: 2, column: 'origin', value: 'Q' },
  { name: 'duplicate flow row', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER, 'flows.csv': 'origin,destination,flow\nA,B,5\nA,B,6\n' }, file: 'flows.csv', row: 3, column: 'origin' },
  { name: 'unknown city in regions', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER, 'regions.csv': 'city_id,region\nA,R\nX1,R\n' }, file: 'regions.csv', row: 3, column: 'city_id', value: 'X1' },
  { name: 'empty region name', files: { 'cities.csv': CITIES3, 'agreements.csv': AGR_HEADER, 'regions.csv': 'city_id,region\nA,\n' }, file: 'regions.csv', row: 2, column: 'region' },
  { name: 'missing agreements file', files: { 'agreements.csv': null }, file: 'agreements.csv' },
];

describe('bad input', () => {
  let earlier: string;
  let before: Record<string, string>;
  beforeAll(async () => {
    earlier = join(tmp(), 'out');
    await runDyads(TINY, earlier);
    before = snapshot(earlier);
  });

  it(`has a corpus of at least 15 cases`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  for (const c of cases) {
    it(c.name, async () => {
      const dir = tinyWith(c.files);
      let err: unknown;
      try {
        await runDyads(dir, earlier);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      const e = err as InputError;
      const hits = e.problems.filter((p) => p.file.endsWith(c.file));
      expect(hits.length, e.message).toBeGreaterThan(0);
      if (c.rows) expect(hits.map((p) => p.row)).toEqual(c.rows);
      const p = c.row !== undefined ? hits.find((h) => h.row === c.row) : hits[0];
      expect(p, e.message).toBeDefined();
      if (c.column !== undefined) expect(p!.column).toBe(c.column);
      if (c.value !== undefined) expect(p!.value).toBe(c.value);
      // the message a person reads names the file, the row and the column
      expect(e.message).toContain(c.file);
      if (c.row !== undefined) expect(e.message).toContain(`row ${c.row}`);
      if (c.column !== undefined) expect(e.message).toContain(`'${c.column}'`);
      expect(e.message).toMatch(/expected /);
      // the earlier output folder is untouched
      expect(snapshot(earlier)).toEqual(before);
    });
  }

  it('a file that is not UTF-8 (GBK from Excel) is named with its line', async () => {
    const dir = tinyWith({});
    // "广州" in GBK bytes on row 3
    const gbk = Buffer.concat([Buffer.from(HEADER + CITY('A')), Buffer.from('B,'), Buffer.from([0xb9, 0xe3, 0xd6, 0xdd]), Buffer.from(',P1,10,11,1,100,5,10,0,110,30\n')]);
    writeFileSync(join(dir, 'cities.csv'), gbk);
    await expect(runDyads(dir, earlier)).rejects.toThrow(/cities\.csv, row 3: expected UTF-8 text .*GBK/);
    expect(snapshot(earlier)).toEqual(before);
  });

  it('caps the listed problems and says how many more', async () => {
    const rows = Array.from({ length: 30 }, (_, k) => CITY(`C${k}`, { gdp: 'x' })).join('');
    const dir = tinyWith({ 'cities.csv': HEADER + rows, 'agreements.csv': AGR_HEADER, 'flows.csv': null, 'regions.csv': null });
    await expect(runDyads(dir, earlier)).rejects.toThrow(new RegExp(`and ${30 - MAX_LISTED_PROBLEMS} more problems`));
  });

  it('the CLI exits 2 with the message on stderr and leaves the output folder as it was', () => {
    const dir = tinyWith({ 'cities.csv': HEADER + CITY('A') + CITY('B', { population: '-5' }) });
    const r = runCli(['dyads', '--input', dir, '--out', earlier, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cities.csv, row 3, column 'population': value \"-5\": expected a number > 0");
    expect(snapshot(earlier)).toEqual(before);
  });
});
