import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulate, DGP } from '../src/data/simulate.ts';
import { cleanYear } from '../src/data/clean.ts';
import { buildDyads } from '../src/data/dyads.ts';
import { getNum } from '../src/data/table.ts';

const DEMO = join(import.meta.dirname, '..', 'data', 'demo');

describe('embedded demo data', () => {
  for (const year of [2019, 2020, 2021, 2022]) {
    it(`data/demo/${year} is exactly what the simulator writes (seed 20211231)`, () => {
      const sim = simulate({ cities: 333, seed: 20211231, year });
      for (const [name, text] of sim.files) {
        expect(readFileSync(join(DEMO, String(year), name), 'utf8') === text, `${year}/${name} differs`).toBe(true);
      }
    });
  }

  it('is shaped like the national sample', () => {
    const data = cleanYear(join(DEMO, '2021'));
    expect(data.ids.length).toBe(333);
    const { dyads } = buildDyads(data);
    expect(dyads.nrow).toBe(55278);
    const coop = getNum(dyads, 'coop').reduce((a, b) => a + b, 0);
    expect(Math.abs(coop / 55278 - DGP.coopRate)).toBeLessThan(0.004);
    expect(data.report.batches_merged.length).toBeGreaterThan(100);
    expect(data.report.reversed_rows).toBeGreaterThan(100);
    const pop = getNum(data.cities, 'population');
    expect(Math.min(...pop)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...pop)).toBeLessThanOrEqual(3500);
  });

  it('2019 and 2020 hold the 2021 agreements dated by the end of that year, and covariates of their own', () => {
    const rows = (y: number) => readFileSync(join(DEMO, String(y), 'agreements.csv'), 'utf8').trim().split('\n');
    const base = rows(2021);
    for (const y of [2019, 2020]) {
      const want = base.filter((l, k) => k === 0 || (l.split(',')[3] !== '' && l.split(',')[3] <= `${y}-12-31`));
      expect(rows(y)).toEqual(want);
      expect(readFileSync(join(DEMO, String(y), 'cities.csv'), 'utf8')).not.toBe(readFileSync(join(DEMO, '2021', 'cities.csv'), 'utf8'));
    }
    expect(rows(2019).length).toBeLessThan(rows(2020).length);
    expect(() => simulate({ cities: 333, seed: 1, year: 2018 })).toThrow(/start in 2019/);
  });

  it('2022 keeps every 2021 agreement and adds new ones', () => {
    const a = readFileSync(join(DEMO, '2021', 'agreements.csv'), 'utf8').trim().split('\n');
    const b = readFileSync(join(DEMO, '2022', 'agreements.csv'), 'utf8').trim().split('\n');
    expect(b.slice(0, a.length)).toEqual(a);
    expect(b.length).toBeGreaterThan(a.length);
  });
});
