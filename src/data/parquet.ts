/**
 * Parquet in and out (hyparquet and hyparquet-writer, pure JavaScript: docs/decisions.md).
 *
 * Reading: one row group at a time into typed columns — numbers (doubles, floats, integers,
 * booleans as 0/1) into Float64Array with null as NaN, text (and dates, as ISO text)
 * dictionary-encoded; columns named in `text` (ids) become text whatever their storage
 * type, so an integer id column keeps one level per id. Anything else (nested columns,
 * binary blobs) is refused with the column's name.
 *
 * Writing: a table as a Parquet file, row group by row group (100,000 rows), Snappy
 * compressed, written by "tongban" with no timestamps, so reruns give identical bytes.
 * Numbers are DOUBLE (missing = null), text is STRING (missing = null); a column with no
 * missing value is REQUIRED.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parquetMetadata, parquetRead, parquetSchema, type FileMetaData } from 'hyparquet';
import { ByteWriter, ParquetWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer';
import { InputError, unreadableFile } from '../util/errors.ts';
import { denseCodes, makeTable, numColumn, type Column, type Table } from './table.ts';

const MAGIC = 'PAR1';
export const PARQUET_ROW_GROUP = 100_000;

export interface ParquetReadOptions {
  /** columns read as text whatever their type (ids) */
  text?: ReadonlySet<string>;
  /** read only these columns; all when absent */
  only?: ReadonlySet<string>;
}

function fileBuffer(path: string): ArrayBuffer {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw unreadableFile(path, e);
  }
  const head = buf.subarray(0, 4).toString('latin1');
  const tail = buf.subarray(Math.max(0, buf.length - 4)).toString('latin1');
  if (buf.length < 12 || head !== MAGIC || tail !== MAGIC) {
    const what = head === MAGIC ? 'it starts like one but its end is missing: the file is truncated or still being written' : 'it does not start with PAR1';
    throw new InputError([{ file: path, expected: `a Parquet file (${what})` }], `cannot read ${basename(path)}`);
  }
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/** The column names of a Parquet file. */
export function readParquetHeader(path: string): string[] {
  return parquetSchema(metadataOf(path, fileBuffer(path))).children.map((c) => c.element.name);
}

function metadataOf(path: string, file: ArrayBuffer): FileMetaData {
  try {
    return parquetMetadata(file);
  } catch (e) {
    throw new InputError([{ file: path, expected: `a Parquet file whose footer can be read (${(e as Error).message})` }], `cannot read ${basename(path)}`);
  }
}

type Builder = { kind: 'number'; values: Float64Array } | { kind: 'string'; codes: Int32Array; coder: ReturnType<typeof denseCodes<string>> };

const TEXT_TYPES = new Set(['BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY']);

/** A Parquet file as a table of typed columns. */
export async function readParquetColumns(path: string, opts: ParquetReadOptions = {}): Promise<Table> {
  const file = fileBuffer(path);
  const metadata = metadataOf(path, file);
  const n = Number(metadata.num_rows);
  const leaves = parquetSchema(metadata).children;
  const builders = new Map<string, Builder>();
  const names: string[] = [];
  for (const leaf of leaves) {
    const e = leaf.element;
    if (opts.only && !opts.only.has(e.name)) continue;
    if (leaf.children.length) throw new InputError([{ file: path, column: e.name, expected: 'flat columns (this one is nested: a list or struct)' }], `cannot read ${basename(path)}`);
    const asText = opts.text?.has(e.name) || (e.type !== undefined && TEXT_TYPES.has(e.type) && e.converted_type !== 'DECIMAL') || e.converted_type === 'DATE' || e.logical_type?.type === 'DATE';
    names.push(e.name);
    builders.set(e.name, asText ? { kind: 'string', codes: new Int32Array(n), coder: denseCodes<string>() } : { kind: 'number', values: new Float64Array(n) });
  }
  const bad = new Set<string>();
  let start = 0;
  for (const g of metadata.row_groups) {
    const rows = Number(g.num_rows);
    try {
      await parquetRead({
        file,
        metadata,
        columns: names,
        rowStart: start,
        rowEnd: start + rows,
        onChunk({ columnName, columnData, rowStart, rowEnd }) {
          const b = builders.get(columnName);
          if (!b) return;
          const m = rowEnd - rowStart;
          if (b.kind === 'number') {
            const v = b.values;
            for (let i = 0; i < m; i++) {
              const x = columnData[i] as unknown;
              if (x === null || x === undefined) v[rowStart + i] = NaN;
              else if (typeof x === 'number') v[rowStart + i] = x;
              else if (typeof x === 'bigint' || typeof x === 'boolean') v[rowStart + i] = Number(x);
              else {
                bad.add(columnName);
                return;
              }
            }
          } else {
            for (let i = 0; i < m; i++) {
              const x = columnData[i] as unknown;
              b.codes[rowStart + i] = x === null || x === undefined || x === '' ? -1 : b.coder.code(textOf(x));
            }
          }
        },
      });
    } catch (e) {
      throw new InputError([{ file: path, expected: `a readable row group at records ${start + 1}–${start + rows} (${(e as Error).message})` }], `cannot read ${basename(path)}`);
    }
    start += rows;
  }
  if (bad.size) throw new InputError([...bad].map((c) => ({ file: path, column: c, expected: 'numbers, text, dates or booleans (this column holds another kind of value)' })), `cannot read ${basename(path)}`);
  const cols: [string, Column][] = names.map((name) => {
    const b = builders.get(name)!;
    return [name, b.kind === 'number' ? numColumn(b.values) : { kind: 'string', codes: b.codes, levels: b.coder.keys }];
  });
  return makeTable(n, cols);
}

/** A Parquet value as the text of a cell: dates as YYYY-MM-DD, numbers as JavaScript prints them. */
function textOf(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Date) return x.toISOString().slice(0, 10);
  if (x instanceof Uint8Array) return Buffer.from(x).toString('utf8');
  return String(x);
}

/** The column sources of rows [from, to) of a table: typed arrays where no value is missing, else arrays with null. */
function columnSources(t: Table, nullable: Map<string, boolean>, from: number, to: number): ColumnSource[] {
  return t.names.map((name) => {
    const c = t.columns.get(name)!;
    const isNullable = nullable.get(name)!;
    if (c.kind === 'number') {
      const part = c.values.subarray(from, to);
      if (!isNullable) return { name, data: part, type: 'DOUBLE', nullable: false };
      const data = new Array<number | null>(to - from);
      for (let r = 0; r < data.length; r++) data[r] = Number.isNaN(part[r]) ? null : part[r];
      return { name, data, type: 'DOUBLE', nullable: true };
    }
    const data = new Array<string | null>(to - from);
    for (let r = 0; r < data.length; r++) {
      const k = c.codes[from + r];
      data[r] = k < 0 ? null : c.levels[k];
    }
    return { name, data, type: 'STRING', nullable: isNullable };
  });
}

/** A table as the bytes of a Parquet file, in chunks (one or more per row group). */
export function* tableParquetChunks(t: Table): Generator<Uint8Array> {
  const nullable = new Map<string, boolean>();
  for (const name of t.names) {
    const c = t.columns.get(name)!;
    let missing = false;
    if (c.kind === 'number') {
      for (let r = 0; r < t.nrow && !missing; r++) missing = Number.isNaN(c.values[r]);
    } else for (let r = 0; r < t.nrow && !missing; r++) missing = c.codes[r] < 0;
    nullable.set(name, missing);
  }
  const writer = new ByteWriter();
  const schema = schemaFromColumnData({ columnData: columnSources(t, nullable, 0, Math.min(t.nrow, 1)) });
  const pw = new ParquetWriter({ writer, schema, codec: 'SNAPPY', createdBy: 'tongban' });
  const take = () => {
    const bytes = new Uint8Array(writer.buffer, 0, writer.index).slice();
    writer.index = 0;
    return bytes;
  };
  for (let from = 0; from < t.nrow; from += PARQUET_ROW_GROUP) {
    const to = Math.min(t.nrow, from + PARQUET_ROW_GROUP);
    pw.write({ columnData: columnSources(t, nullable, from, to), rowGroupSize: to - from });
    yield take();
  }
  pw.finish();
  yield take();
}
