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
 * missing value is REQUIRED. A table too large to hold is written part by part (ParquetPartWriter).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parquetMetadata, parquetRead, parquetSchema, type FileMetaData } from 'hyparquet';
import { ByteWriter, ParquetWriter, schemaFromColumnData, type ColumnSource } from 'hyparquet-writer';
import { InputError, unreadableFile } from '../util/errors.ts';
import { denseCodes, makeTable, numColumn, type Column, type Table } from './table.ts';
import { gatherNumbers, type ColumnKind, type PartSink, type TablePart } from './table-parts.ts';

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

/** The column sources of a table (a row group's rows): typed arrays where no value is missing, else arrays with null. */
function columnSources(t: Table, nullable: Map<string, boolean>): ColumnSource[] {
  return t.names.map((name) => {
    const c = t.columns.get(name)!;
    const isNullable = nullable.get(name)!;
    if (c.kind === 'number') {
      const part = c.values;
      if (!isNullable) return { name, data: part, type: 'DOUBLE', nullable: false, statistics: false };
      const data = new Array<number | null>(t.nrow);
      for (let r = 0; r < data.length; r++) data[r] = Number.isNaN(part[r]) ? null : part[r];
      return { name, data, type: 'DOUBLE', nullable: true, statistics: false };
    }
    const data = new Array<string | null>(t.nrow);
    for (let r = 0; r < data.length; r++) {
      const k = c.codes[r];
      data[r] = k < 0 ? null : c.levels[k];
    }
    return { name, data, type: 'STRING', nullable: isNullable, statistics: false };
  });
}

/**
 * A table handed over a row range at a time: its size and column names, which columns miss a
 * value on some row, and rows [from, to) as a table (a dyad table's deferred columns exist only so).
 */
export interface TableSlices {
  nrow: number;
  names: string[];
  nullable: Map<string, boolean>;
  slice(from: number, to: number): Table;
}

/**
 * A table as the bytes of a Parquet file, in chunks (one or more per row group of
 * PARQUET_ROW_GROUP rows); data/serialize.ts hands a table over as TableSlices.
 */
export function* tableParquetChunks(t: TableSlices): Generator<Uint8Array> {
  const writer = new ByteWriter();
  const schema = schemaFromColumnData({ columnData: columnSources(t.slice(0, Math.min(t.nrow, 1)), t.nullable) });
  const pw = new ParquetWriter({ writer, schema, codec: 'SNAPPY', createdBy: 'tongban' });
  const take = () => {
    const bytes = new Uint8Array(writer.buffer, 0, writer.index).slice();
    writer.index = 0;
    return bytes;
  };
  for (let from = 0; from < t.nrow; from += PARQUET_ROW_GROUP) {
    const to = Math.min(t.nrow, from + PARQUET_ROW_GROUP);
    pw.write({ columnData: columnSources(t.slice(from, to), t.nullable), rowGroupSize: to - from });
    yield take();
  }
  pw.finish();
  yield take();
}

/**
 * A table written as a Parquet file part by part (TablePart: a year's rows of the pair-year
 * table), in row groups of PARQUET_ROW_GROUP rows that run across parts, so that the whole table
 * is never in memory. Its parts are not known when the schema is fixed: text columns are
 * OPTIONAL (nullable), number columns REQUIRED unless named in `nullable` or missing somewhere in
 * the first part's source — a missing number in any other column stops the writer with
 * NullableColumns, and the caller writes the file again with them nullable (REQUIRED columns
 * encode about a third faster). Column statistics are not
 * written (they cost as much again).
 */
export class NullableColumns extends Error {
  constructor(readonly columns: string[]) {
    super(`internal: missing values in the REQUIRED column${columns.length > 1 ? 's' : ''} ${columns.join(', ')} of a table written part by part`);
  }
}

export class ParquetPartWriter implements PartSink {
  private readonly writer = new ByteWriter();
  private pw: ParquetWriter | null = null;
  private cols: [string, ColumnKind][] = [];
  /** parts not yet written, and how many of the first one's rows are */
  private queue: TablePart[] = [];
  private done = 0;
  private queued = 0;

  private nullable: Set<string>;

  constructor(
    private readonly out: (bytes: Uint8Array) => void,
    private readonly nullableColumns: Iterable<string> | 'all' = [],
  ) {
    this.nullable = new Set(nullableColumns === 'all' ? [] : nullableColumns);
  }

  start(columns: [string, ColumnKind][], missing: ReadonlySet<string> = new Set()): void {
    this.cols = columns;
    for (const c of missing) this.nullable.add(c);
    if (this.nullableColumns === 'all') for (const [c] of columns) this.nullable.add(c);
    const columnData: ColumnSource[] = columns.map(([name, kind]) => ({ name, data: [], type: kind === 'number' ? 'DOUBLE' : 'STRING', nullable: kind !== 'number' || this.nullable.has(name) }));
    this.pw = new ParquetWriter({ writer: this.writer, schema: schemaFromColumnData({ columnData }), codec: 'SNAPPY', createdBy: 'tongban' });
  }

  push(part: TablePart): void {
    if (part.columns.length !== this.cols.length || part.columns.some((c, k) => c.name !== this.cols[k][0] || c.col.kind !== this.cols[k][1])) {
      throw new Error('internal: a table part whose columns differ from the table its writer started');
    }
    if (part.n === 0) return;
    this.queue.push(part);
    this.queued += part.n;
    while (this.queued - this.done >= PARQUET_ROW_GROUP) this.group(PARQUET_ROW_GROUP);
  }

  finish(): void {
    if (!this.pw) throw new Error('internal: a Parquet writer finished before it started');
    if (this.queued > this.done) this.group(this.queued - this.done);
    this.pw.finish();
    this.flush();
  }

  /** Writes the next `size` queued rows as one row group. */
  private group(size: number): void {
    const segments: { part: TablePart; from: number; to: number }[] = [];
    for (let left = size; left > 0; ) {
      const part = this.queue[0];
      const take = Math.min(left, part.n - this.done);
      segments.push({ part, from: this.done, to: this.done + take });
      left -= take;
      this.done += take;
      if (this.done === part.n) {
        this.queue.shift();
        this.queued -= part.n;
        this.done = 0;
      }
    }
    const needNulls: string[] = [];
    const columnData: ColumnSource[] = this.cols.map(([name, kind], k) => {
      if (kind === 'number') {
        const v = new Float64Array(size);
        let o = 0;
        for (const s of segments) {
          gatherNumbers(s.part.columns[k], s.from, s.to, v, o);
          o += s.to - s.from;
        }
        let missing = false;
        for (let r = 0; r < size && !missing; r++) missing = Number.isNaN(v[r]);
        if (missing && !this.nullable.has(name)) needNulls.push(name);
        return { name, data: missing ? Array.from(v, (x) => (Number.isNaN(x) ? null : x)) : v, type: 'DOUBLE', nullable: this.nullable.has(name), statistics: false };
      }
      const data = new Array<string | null>(size);
      let o = 0;
      for (const s of segments) {
        const c = s.part.columns[k];
        const src = c.col as { codes: Int32Array; levels: string[] };
        for (let r = s.from; r < s.to; r++) {
          const code = src.codes[c.rows ? c.rows[r] : r];
          data[o++] = code < 0 ? null : src.levels[code];
        }
      }
      return { name, data, type: 'STRING', nullable: true, statistics: false };
    });
    if (needNulls.length) throw new NullableColumns(needNulls);
    this.pw!.write({ columnData, rowGroupSize: size });
    this.flush();
  }

  private flush(): void {
    if (this.writer.index === 0) return;
    this.out(new Uint8Array(this.writer.buffer, 0, this.writer.index).slice());
    this.writer.index = 0;
  }
}
