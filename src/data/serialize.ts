/**
 * A table's files (dyads.csv, dyads.parquet) encoded and written on the second core while the
 * main thread goes on (fitting models): `encodeInBackground` starts the work and returns a
 * promise of each file's SHA-256. The bytes go to disk chunk by chunk as they are made, so no
 * file is ever whole in memory (at county scale dyads.parquet is 0.6 GB). Without a worker
 * (TONGBAN_THREADS=1, or one that fails to start) the main thread does the same when the
 * promise is awaited; the files are the same either way.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { writeAll } from '../util/output.ts';
import type { Worker } from 'node:worker_threads';
import { answerOf, tryStartWorker } from '../util/workers.ts';
import { csvHeader, tableCsvBytes } from './csv.ts';
import { PARQUET_ROW_GROUP, tableParquetChunks, type TableSlices } from './parquet.ts';
import type { Column, Table } from './table.ts';
import { dropColumns, hasMissing, makeTable, numColumn, sliceColumn } from './table.ts';
import { pairwiseHasMissing, pairwiseValues, type PairwiseColumn } from './pairwise.ts';

export type TableFormat = 'csv' | 'parquet';

/**
 * A table as a structured-clone message (typed arrays are copied, shared ones shared): its
 * columns, some of which may be pairwise columns computed as the files are written.
 */
export interface TableMessage {
  nrow: number;
  columns: [string, Column | PairwiseColumn][];
}

/**
 * The message of a table whose files have the columns `order`: each a column of the table or a
 * pairwise column of `deferred`.
 */
export function tableMessage(t: Table, order: string[] = t.names, deferred: ReadonlyMap<string, PairwiseColumn> = new Map()): TableMessage {
  return {
    nrow: t.nrow,
    columns: order.map((n) => {
      const c = t.columns.get(n) ?? deferred.get(n);
      if (!c) throw new Error(`internal: no column '${n}' to write`);
      return [n, c];
    }),
  };
}

/** The message's table a row range at a time, pairwise columns computed range by range. */
function messageSlices(msg: TableMessage): TableSlices {
  const nullable = new Map<string, boolean>();
  for (const [n, c] of msg.columns) nullable.set(n, c.kind === 'pairwise' ? pairwiseHasMissing(c.op, c.x) : hasMissing(c, msg.nrow));
  return {
    nrow: msg.nrow,
    names: msg.columns.map(([n]) => n),
    nullable,
    slice: (from, to) => makeTable(to - from, msg.columns.map(([n, c]) => [n, c.kind === 'pairwise' ? numColumn(pairwiseValues(c, from, to)) : sliceColumn(c, from, to)])),
  };
}

const UTF8 = new TextEncoder();

/**
 * The buffers of the named columns that can move to a worker: each must be a whole,
 * unshared ArrayBuffer used by no other column (a view into a larger buffer would take the
 * rest of it along; such a column is copied like the others).
 */
function movable(msg: TableMessage, names: Set<string>): ArrayBuffer[] {
  const arrays = msg.columns.map(([, c]) => (c.kind === 'number' ? c.values : c.kind === 'string' ? c.codes : null));
  const uses = new Map<ArrayBufferLike, number>();
  for (const a of arrays) if (a) uses.set(a.buffer, (uses.get(a.buffer) ?? 0) + 1);
  const out: ArrayBuffer[] = [];
  msg.columns.forEach(([name], k) => {
    const a = arrays[k];
    if (a && names.has(name) && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && uses.get(a.buffer) === 1) out.push(a.buffer);
  });
  return out;
}

/** The bytes of a table in a format, in chunks (a row group, or for CSV 10,000 rows, at a time). */
export function* tableChunks(msg: TableMessage, format: TableFormat): Generator<Uint8Array> {
  const t = messageSlices(msg);
  if (format === 'parquet') {
    yield* tableParquetChunks(t);
    return;
  }
  yield UTF8.encode(csvHeader(t.names));
  for (let from = 0; from < t.nrow; from += PARQUET_ROW_GROUP) {
    yield* tableCsvBytes(t.slice(from, Math.min(t.nrow, from + PARQUET_ROW_GROUP)));
  }
}

/** Where each format's file goes (a staged path, see stagedPath in util/output.ts). */
export type FileTargets = Partial<Record<TableFormat, string>>;

/** What writing a table's files gave: the SHA-256 of each, or the error of the file that failed (its code kept). */
export type WrittenFiles = { sha256: Partial<Record<TableFormat, string>> } | { failed: { path: string; code?: string; message: string } };

/** Encodes the table in each format of `targets` and writes it there, chunk by chunk. */
export function writeTableFiles(msg: TableMessage, targets: FileTargets): WrittenFiles {
  const sha256: Partial<Record<TableFormat, string>> = {};
  for (const [format, path] of Object.entries(targets) as [TableFormat, string][]) {
    const hash = createHash('sha256');
    try {
      const fd = openSync(path, 'w');
      try {
        for (const chunk of tableChunks(msg, format)) {
          hash.update(chunk);
          writeAll(fd, chunk);
        }
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (!err.syscall) throw e; // not the file system's (e.g. Node's ERR_… codes): a bug, reported as such
      return { failed: { path, code: err.code, message: err.message } };
    }
    sha256[format] = hash.digest('hex');
  }
  return { sha256 };
}

/** The files' columns in order (default: the table's), some of them pairwise columns computed as they are written. */
export interface FileLayout {
  order?: string[];
  deferred?: ReadonlyMap<string, PairwiseColumn>;
}

/**
 * Starts encoding a table in the formats of `targets` on a worker thread, each written to its
 * path; resolves to what writing gave. The columns named in `give` leave the table (whether or
 * not a worker runs): their arrays move to the worker instead of being copied, so the caller
 * keeps only the columns it still reads.
 */
export function encodeInBackground(t: Table, targets: FileTargets, give: Iterable<string> = [], layout: FileLayout = {}): Promise<WrittenFiles> {
  const names = [...give];
  const w = Object.keys(targets).length > 0 ? tryStartWorker('serialize-worker', new URL('./serialize-worker.ts', import.meta.url), import.meta.url) : null;
  if (!w) {
    const msg = tableMessage(t, layout.order, layout.deferred);
    dropColumns(t, names);
    return Promise.resolve().then(() => writeTableFiles(msg, targets));
  }
  try {
    post(w, t, targets, names, layout);
  } catch (e) {
    void w.terminate();
    throw e;
  }
  return answerOf(w, 'file-encoding');
}

/**
 * Sends the table to the worker. The message lives only in this call: a closure that waits for
 * the worker's answer must not hold it, or the columns given away would stay in memory here
 * until the encoding ends (seen in a heap snapshot at county scale).
 */
function post(w: Worker, t: Table, targets: FileTargets, give: string[], layout: FileLayout): void {
  const msg = tableMessage(t, layout.order, layout.deferred);
  const transfer = movable(msg, new Set(give));
  dropColumns(t, give);
  w.postMessage({ table: msg, targets }, transfer);
}
