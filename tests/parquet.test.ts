import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCsvColumns } from '../src/data/csv-columns.ts';
import { readParquetColumns, readParquetHeader, tableParquetChunks } from '../src/data/parquet.ts';
import { cellText, type Table } from '../src/data/table.ts';
import { InputError } from '../src/util/errors.ts';
import { tmp } from './helpers.ts';

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
    const bytes = () => Buffer.concat([...tableParquetChunks(t)]);
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
