import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanYear, citiesCleanTable } from '../src/data/clean.ts';
import { buildDyads, haversineKm, EARTH_RADIUS_KM, pairRow } from '../src/data/dyads.ts';
import { readCsvTable } from '../src/data/csv.ts';
import { runClean } from '../src/stages/clean.ts';
import { runDyads } from '../src/stages/dyads.ts';
import { getNum, getStr } from '../src/data/table.ts';
import { cellText, TINY, tinyWith, tmp } from './helpers.ts';

const cityRow = (t: ReturnType<typeof citiesCleanTable>, id: string) => {
  const ids = getStr(t, 'city_id');
  const r = Array.from(ids.codes).findIndex((c) => ids.levels[c] === id);
  expect(r).toBeGreaterThanOrEqual(0);
  return (name: string) => getNum(t, name)[r];
};

describe('clean stage', () => {
  const data = cleanYear(TINY);
  const t = citiesCleanTable(data);

  it('reads BOM, CRLF, quoted fields, Chinese text, leading zeros and extra columns', () => {
    const ids = getStr(t, 'city_id');
    expect(ids.levels).toEqual(['010100', '010200', '020100', '020200']);
    expect(cellText(t.columns.get('city_name')!, 0)).toBe('Alpha, 甲市');
    expect(cellText(t.columns.get('city_name')!, 1)).toBe('乙市');
    expect(cellText(t.columns.get('note')!, 0)).toBe('quoted "x"');
  });

  it('derives covariates as hand-computed', () => {
    const a = cityRow(t, '010100');
    expect(a('log_population')).toBeCloseTo(4.605170185988092, 14);
    expect(a('log_outflow')).toBeCloseTo(Math.log(21), 14);
    expect(a('outflow_rate')).toBeCloseTo(20 / 120, 15);
    expect(a('log_gdp')).toBeCloseTo(6.214608098422191, 14);
    expect(a('gdp_per_capita')).toBe(5);
    expect(a('log_gdp_per_capita')).toBeCloseTo(1.6094379124341003, 14);
    expect(a('fiscal_ratio')).toBe(0.5);
    expect(a('log_budget_revenue')).toBeCloseTo(3.6888794541139363, 14);
    expect(a('degree')).toBe(2);
    expect(a('items_total')).toBe(15);
    const b = cityRow(t, '010200');
    expect(b('log_outflow')).toBe(0);
    expect(Number.isNaN(b('outflow_rate'))).toBe(true); // registered population missing
    const d = cityRow(t, '020200');
    expect(Number.isNaN(d('log_budget_revenue'))).toBe(true); // revenue 0
    expect(Number.isNaN(d('gov_index'))).toBe(true);
    expect(data.report.warnings.some((w) => w.includes('budget_revenue = 0'))).toBe(true);
  });

  it('merges batches and reversed pairs: items summed, earliest date kept, empty when undated', () => {
    expect(data.agreements.map((m) => [data.ids[m.a], data.ids[m.b], m.items, m.firstSigned, m.rows])).toEqual([
      ['010100', '010200', 8, '2019-12-31', [2, 3]],
      ['010100', '020100', 7, '', [4]],
      ['010200', '020200', 2, '2021-01-05', [5]],
    ]);
    expect(data.report.reversed_rows).toBe(2);
    expect(data.report.batches_merged).toEqual([
      { city_a: '010100', city_b: '010200', rows: [2, 3], items: 8, first_signed: '2019-12-31' },
    ]);
  });

  it('writes cities_clean.csv and both reports', async () => {
    const out = tmp();
    await runClean(TINY, out);
    const back = readCsvTable(join(out, 'cities_clean.csv'));
    expect(back.nrow).toBe(4);
    expect(back.names).toContain('degree');
    expect(JSON.parse(readFileSync(join(out, 'cleaning_report.json'), 'utf8')).agreement_pairs).toBe(3);
    expect(readFileSync(join(out, 'cleaning_report.md'), 'utf8')).toContain('| 010100 Alpha, 甲市 | 010200 乙市 | 2, 3 | 8 | 2019-12-31 |');
  });
});

describe('haversine', () => {
  it('matches known distances', () => {
    // one degree of longitude on the equator = 2πR/360
    expect(haversineKm(0, 0, 0, 1)).toBeCloseTo((2 * Math.PI * EARTH_RADIUS_KM) / 360, 9);
    // pole to equator = πR/2, antipodes = πR
    expect(haversineKm(90, 0, 0, 0)).toBeCloseTo((Math.PI * EARTH_RADIUS_KM) / 2, 8);
    expect(haversineKm(0, 0, 0, 180)).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 8);
    // Beijing – Shanghai: about 1,067 km great-circle
    expect(Math.abs(haversineKm(39.9042, 116.4074, 31.2304, 121.4737) - 1067)).toBeLessThan(3);
    // London – Paris: about 343.5 km
    expect(Math.abs(haversineKm(51.5074, -0.1278, 48.8566, 2.3522) - 343.5)).toBeLessThan(1);
  });
});

describe('dyads stage', () => {
  it('builds every pair i < j with joined agreements, flows and regions', () => {
    const { dyads } = buildDyads(cleanYear(TINY));
    expect(dyads.nrow).toBe(6);
    const col = (n: string) => Array.from(getNum(dyads, n));
    const i = getStr(dyads, 'i');
    const j = getStr(dyads, 'j');
    expect(Array.from(i.codes, (c) => i.levels[c])).toEqual(['010100', '010100', '010100', '010200', '010200', '020100']);
    expect(Array.from(j.codes, (c) => j.levels[c])).toEqual(['010200', '020100', '020200', '020100', '020200', '020200']);
    expect(col('coop')).toEqual([1, 1, 0, 0, 1, 0]);
    expect(col('items')).toEqual([8, 7, 0, 0, 2, 0]);
    const fs = dyads.columns.get('first_signed')!;
    expect([0, 1, 2, 3, 4, 5].map((r) => cellText(fs, r))).toEqual(['2019-12-31', '', '', '', '2021-01-05', '']);
    expect(col('same_province')).toEqual([1, 0, 0, 0, 0, 1]);
    expect(col('flow')).toEqual([150, 0, 0, 0, 0, 10]);
    expect(col('log_flow')[0]).toBeCloseTo(Math.log(151), 14);
    expect(col('same_region')).toEqual([0, 1, 0, 0, 0, 0]);
    expect(col('distance_km')[0]).toBeCloseTo(haversineKm(39.9042, 116.4074, 31.2304, 121.4737), 9);
    expect(col('log_distance')[0]).toBeCloseTo(Math.log(col('distance_km')[0]), 14);
    // dyadic forms: (010100, 010200): log_population 4.605…, 3.912…
    const [a, b] = [Math.log(100), Math.log(50)];
    expect(col('log_population_sum')[0]).toBeCloseTo(a + b, 13);
    expect(col('log_population_absdiff')[0]).toBeCloseTo(a - b, 13);
    expect(col('log_population_min')[0]).toBe(b);
    expect(col('log_population_max')[0]).toBe(a);
    // gov_index missing for 020200: its dyadic forms are missing
    expect(Number.isNaN(col('gov_index_sum')[2])).toBe(true);
    expect(col('gov_index_min')[0]).toBe(-1);
  });

  it('pairRow indexes rows in (0,1),(0,2),…,(n-2,n-1) order', () => {
    const n = 7;
    let r = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) expect(pairRow(p, q, n)).toBe(r++);
  });

  it('filters the sample by provinces and counts degree inside it', async () => {
    const out = tmp();
    const res = await runDyads(TINY, out, { provinces: ['P1'] });
    expect(res.dyads.dyads.nrow).toBe(1);
    expect(res.sample.agreements_outside_sample).toBe(2);
    const cities = readCsvTable(join(out, 'cities_clean.csv'));
    expect(cities.nrow).toBe(2);
    expect(Array.from(getNum(cities, 'degree'))).toEqual([1, 1]);
    expect(Array.from(getNum(cities, 'items_total'))).toEqual([8, 8]);
    const dy = readCsvTable(join(out, 'dyads.csv'));
    expect(dy.nrow).toBe(1);
    expect(getNum(dy, 'items')[0]).toBe(8);
  });

  it('rejects an unknown province with the list of known ones', () => {
    expect(() => buildDyads(cleanYear(TINY), { provinces: ['P9'] })).toThrow(/unknown province 'P9'.*P1, P2/);
  });

  it('works without the optional files: flow 0, same_region 0, distances empty without lon/lat', () => {
    const dir = tinyWith({
      'flows.csv': null,
      'regions.csv': null,
      'cities.csv':
        'city_id,city_name,province,population,outflow,gdp,budget_revenue,budget_expenditure\n' +
        'A,a,P1,10,1,100,5,10\nB,b,P1,20,2,200,6,12\nC,c,P2,30,0,300,7,14\n',
      'agreements.csv': 'city_a,city_b,items\nA,C,4\n',
    });
    const data = cleanYear(dir);
    expect(data.report.warnings).toEqual(
      expect.arrayContaining([
        'cities.csv has no lon/lat: distance columns will be empty',
        'no flows.csv: flow = 0 for every dyad',
        'no regions.csv: same_region = 0 for every dyad',
      ]),
    );
    const { dyads } = buildDyads(data);
    expect(Array.from(getNum(dyads, 'flow'))).toEqual([0, 0, 0]);
    expect(Array.from(getNum(dyads, 'same_region'))).toEqual([0, 0, 0]);
    expect(Array.from(getNum(dyads, 'distance_km')).every(Number.isNaN)).toBe(true);
    expect(Array.from(getNum(dyads, 'coop'))).toEqual([0, 1, 0]);
    expect(dyads.names).not.toContain('gov_index_sum');
    expect(dyads.names).not.toContain('outflow_rate');
  });

  it('accepts an agreements file that holds only a header', () => {
    const dir = tinyWith({ 'agreements.csv': 'city_a,city_b,items,signed\n' });
    const { dyads } = buildDyads(cleanYear(dir));
    expect(Array.from(getNum(dyads, 'coop'))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
