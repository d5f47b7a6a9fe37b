import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvColumns } from '../src/data/csv-columns.ts';
import { readParquetColumns, readParquetHeader } from '../src/data/parquet.ts';
import { tableChunks, tableMessage } from '../src/data/serialize.ts';
import type { Table } from '../src/data/table.ts';
import { InputError } from '../src/util/errors.ts';
import { cellText, tmp } from './helpers.ts';

const F = join(import.meta.dirname, 'fixtures', 'parquet');
const values = (t: Table, name: string) => {
  const c = t.columns.get(name)!;
  return Array.from({ length: t.nrow }, (_, r) => (c.kind === 'number' ? c.values[r] : c.codes[r] < 0 ? null : cellText(c, r)));
};
const expectSameTables = (a: Table, b: Table) => {
  expect(a.names).toEqual(b.names);
  expect(a.nrow).toBe(b.nrow);
  for (const name of a.names) {
    expect(a.columns.get(name)!.kind, name).toBe(b.columns.get(name)!.kind);
    expect(values(a, name), name).toEqual(values(b, name));
  }
};

describe('Parquet', () => {
  it('reads a file DuckDB wrote (integer ids as text, nulls, dates, booleans, several row groups) as DuckDB reads it', async () => {
    const ids = new Set(['i', 'j']);
    const pq = await readParquetColumns(join(F, 'duckdb_dyads.parquet'), { text: ids });
    const ref = readCsvColumns(join(F, 'duckdb_dyads_as_read_by_duckdb.csv'), { text: ids });
    expectSameTables(pq, ref);
    expect(pq.nrow).toBe(1770);
    expect(values(pq, 'log_flow').filter(Number.isNaN).length).toBe(354); // every 5th row is null
    expect(values(pq, 'province_j').filter((v) => v === null).length).toBe(252);
    expect(readParquetHeader(join(F, 'duckdb_dyads.parquet'))).toEqual(pq.names);
  });

  it('writes what it reads back exactly, and the same bytes every time', async () => {
    const t = readCsvColumns(join(F, 'duckdb_dyads_as_read_by_duckdb.csv'), { text: new Set(['i', 'j']) });
    const bytes = () => Buffer.concat([...tableChunks(tableMessage(t), 'parquet')]);
    const p = join(tmp(), 'x.parquet');
    writeFileSync(p, bytes());
    expect(bytes().equals(readFileSync(p))).toBe(true);
    expectSameTables(await readParquetColumns(p), t);
  });

  it('refuses a file that is not Parquet, or is truncated, with a clear error', async () => {
    const dir = tmp();
    const notPq = join(dir, 'a.parquet');
    writeFileSync(notPq, 'i,j\n1,2\n');
    await expect(readParquetColumns(notPq)).rejects.toThrow(/a Parquet file \(it does not start with PAR1\)/);
    const cut = join(dir, 'b.parquet');
    const whole = readFileSync(join(F, 'duckdb_dyads.parquet'));
    writeFileSync(cut, whole.subarray(0, whole.length >> 1));
    await expect(readParquetColumns(cut)).rejects.toThrow(InputError);
    await expect(readParquetColumns(cut)).rejects.toThrow(/truncated/);
  });
});

describe('encoding a table on the second core (encodeInBackground)', () => {
  it('moves the given columns to the worker, takes them out of the table, and writes the files of the whole table', async () => {
    const { encodeInBackground, tableChunks } = await import('../src/data/serialize.ts');
    const { makeTable, numColumn, strColumn } = await import('../src/data/table.ts');
    const { createHash } = await import('node:crypto');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const n = 1000;
    const big = Float64Array.from({ length: 2 * n }, (_, r) => r / 7);
    const make = () => {
      const cols: [string, ReturnType<typeof numColumn> | ReturnType<typeof strColumn>][] = [
        ['a', numColumn(Float64Array.from({ length: n }, (_, r) => r * 1.5))],
        ['view', numColumn(big.subarray(n))], // a view into a larger buffer: copied, never moved
        ['s', strColumn(Array.from({ length: n }, (_, r) => (r % 3 ? `c${r % 5}` : null)))],
        ['kept', numColumn(Float64Array.from({ length: n }, (_, r) => -r))],
      ];
      return { t: makeTable(n, cols), cols };
    };
    const whole = make();
    const expected = (f: 'parquet' | 'csv') => Buffer.concat([...tableChunks({ nrow: n, columns: whole.cols }, f)].map((c) => Buffer.from(c)));
    const dir = mkdtempSync(join(tmpdir(), 'tongban-encode-'));
    const before = process.env.TONGBAN_THREADS;
    try {
      for (const threads of ['2', '1']) {
        process.env.TONGBAN_THREADS = threads;
        const { t, cols } = make();
        const targets = { parquet: join(dir, `${threads}.parquet`), csv: join(dir, `${threads}.csv`) };
        const got = await encodeInBackground(t, targets, ['a', 'view', 's']);
        expect(t.names).toEqual(['kept']);
        expect([...t.columns.keys()]).toEqual(['kept']);
        for (const f of ['parquet', 'csv'] as const) {
          const bytes = readFileSync(targets[f]);
          expect(bytes.equals(expected(f)), f).toBe(true);
          expect(got).toMatchObject({ sha256: { [f]: createHash('sha256').update(bytes).digest('hex') } });
        }
        // the view's buffer stayed whole here; a moved column's array is gone with a worker
        expect(big.length).toBe(2 * n);
        expect((cols[0][1] as { values: Float64Array }).values.length).toBe(threads === '2' ? 0 : n);
        // a file that cannot be written: its path and the system's code, on either thread
        const failed = await encodeInBackground(make().t, { parquet: join(dir, 'no such folder', 'x.parquet') });
        expect(failed).toMatchObject({ failed: { path: join(dir, 'no such folder', 'x.parquet'), code: 'ENOENT' } });
      }
    } finally {
      if (before === undefined) delete process.env.TONGBAN_THREADS;
      else process.env.TONGBAN_THREADS = before;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
