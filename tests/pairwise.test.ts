/**
 * The monadic covariates' pair columns computed as the dyad files are written (data/pairwise.ts):
 * the same files as with every column in memory, missing values and infinities included.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanYear } from '../src/data/clean.ts';
import { buildDyads, type DyadResult } from '../src/data/dyads.ts';
import { PAIRWISE_OPS, pairwiseHasMissing, pairwiseValues } from '../src/data/pairwise.ts';
import { PARQUET_ROW_GROUP } from '../src/data/parquet.ts';
import { tableChunks, tableMessage } from '../src/data/serialize.ts';
import { simulate } from '../src/data/simulate.ts';
import { Rng } from '../src/util/random.ts';

describe('pairwiseHasMissing', () => {
  it('agrees with a scan of every pair, for NaN and infinities at any positions', () => {
    const pool = [1.5, -2, 0, NaN, Infinity, -Infinity];
    const rng = new Rng(11);
    let missing = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const n = 2 + Math.floor(rng.uniform() * 5);
      const x = Float64Array.from({ length: n }, () => pool[Math.floor(rng.uniform() * pool.length)]);
      const i: number[] = [];
      const j: number[] = [];
      for (let p = 0; p < n; p++) {
        for (let q = p + 1; q < n; q++) {
          i.push(p);
          j.push(q);
        }
      }
      for (const op of PAIRWISE_OPS) {
        const values = pairwiseValues({ kind: 'pairwise', op, x, i: Int32Array.from(i), j: Int32Array.from(j) }, 0, i.length);
        const scanned = values.some(Number.isNaN);
        expect(pairwiseHasMissing(op, x), `${op} of [${x.join(', ')}]`).toBe(scanned);
        if (scanned) missing++;
      }
    }
    expect(missing).toBeGreaterThan(100); // the draws did reach the missing cases
  });
});

describe('dyad files with deferred pair columns', () => {
  it('are byte for byte the files of the table held whole, across row groups, with missing and infinite city values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-pairwise-'));
    try {
      const year = join(dir, '2021');
      mkdirSync(year);
      // 460 cities: 105,570 pairs, two row groups
      for (const [name, text] of simulate({ cities: 460, seed: 5, year: 2021 }).files) writeFileSync(join(year, name), text);
      const data = cleanYear(year);
      const monadic = ['log_gdp', 'log_population', 'gov_index'];
      const poke = (column: string, values: number[]) => {
        const c = data.cities.columns.get(column);
        if (c?.kind !== 'number') throw new Error(`no number column ${column}`);
        values.forEach((v, k) => (c.values[7 + 31 * k] = v));
      };
      poke('log_gdp', [NaN]);
      poke('log_population', [Infinity, -Infinity]); // sum NaN, absdiff not
      poke('gov_index', [-Infinity, -Infinity]); // absdiff NaN, sum not
      const whole = buildDyads(data, { monadic });
      const inMemory = new Set(['log_gdp_max', 'gov_index_sum']);
      const deferred = buildDyads(data, { monadic, inMemory });
      expect(whole.dyads.nrow).toBeGreaterThan(PARQUET_ROW_GROUP);
      expect(deferred.deferred.size).toBe(monadic.length * 4 - 2);
      expect(deferred.dyads.names.filter((n) => !whole.dyads.columns.has(n))).toEqual([]);
      expect(deferred.dyads.columns.has('log_gdp_max') && deferred.dyads.columns.has('gov_index_sum') && !deferred.dyads.columns.has('log_gdp_sum')).toBe(true);
      // the files' columns that matter here (every column costs encoding time): i, j and the pair columns
      const columns = whole.columnOrder.filter((n) => n === 'i' || n === 'j' || /_(sum|absdiff|min|max)$/.test(n));
      const bytes = (d: DyadResult, format: 'csv' | 'parquet') => Buffer.concat([...tableChunks(tableMessage(d.dyads, columns, d.deferred), format)]);
      for (const format of ['csv', 'parquet'] as const) {
        const a = bytes(whole, format);
        expect(a.equals(bytes(deferred, format)), format).toBe(true);
      }
      // the pokes reached the files: a missing sum, a missing absdiff
      const csv = bytes(whole, 'csv').toString('utf8').split('\n');
      const header = csv[0].split(',');
      const cells = (name: string) => csv.slice(1, -1).map((l) => l.split(',')[header.indexOf(name)]);
      expect(cells('log_population_sum')).toContain('');
      expect(cells('gov_index_absdiff')).toContain('');
      expect(cells('log_population_absdiff')).toContain('Infinity');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
