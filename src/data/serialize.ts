/**
 * A table's files (dyads.csv, dyads.parquet) encoded on the second core while the main
 * thread goes on (fitting models): `encodeInBackground` starts the work and returns a
 * promise of the bytes. Without a worker (TONGBAN_THREADS=1, or one that fails to start)
 * the main thread encodes when the promise is awaited; the bytes are the same either way.
 */
import type { Worker } from 'node:worker_threads';
import { answerOf, tryStartWorker } from '../util/workers.ts';
import { tableCsvChunks } from './csv.ts';
import { tableParquetChunks } from './parquet.ts';
import type { Column, Table } from './table.ts';
import { dropColumns, makeTable } from './table.ts';

export type TableFormat = 'csv' | 'parquet';

/** A table as a structured-clone message (typed arrays are copied). */
export interface TableMessage {
  nrow: number;
  columns: [string, Column][];
}

const toMessage = (t: Table): TableMessage => ({ nrow: t.nrow, columns: t.names.map((n) => [n, t.columns.get(n)!]) });

const UTF8 = new TextEncoder();

/**
 * The buffers of the named columns that can move to a worker: each must be a whole,
 * unshared ArrayBuffer used by no other column (a view into a larger buffer would take the
 * rest of it along; such a column is copied like the others).
 */
function movable(msg: TableMessage, names: Set<string>): ArrayBuffer[] {
  const arrays = msg.columns.map(([, c]) => (c.kind === 'number' ? c.values : c.codes));
  const uses = new Map<ArrayBufferLike, number>();
  for (const a of arrays) uses.set(a.buffer, (uses.get(a.buffer) ?? 0) + 1);
  const out: ArrayBuffer[] = [];
  msg.columns.forEach(([name], k) => {
    const a = arrays[k];
    if (names.has(name) && a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && uses.get(a.buffer) === 1) out.push(a.buffer);
  });
  return out;
}

/** The bytes of a table in each format, in chunks. */
export function encodeTable(msg: TableMessage, formats: TableFormat[]): Record<string, Uint8Array[]> {
  const t = makeTable(msg.nrow, msg.columns);
  const out: Record<string, Uint8Array[]> = {};
  for (const f of formats) {
    out[f] = f === 'csv' ? Array.from(tableCsvChunks(t), (s) => UTF8.encode(s)) : [...tableParquetChunks(t)];
  }
  return out;
}

/**
 * Starts encoding a table in the listed formats on a worker thread; resolves to the chunks of each.
 * The columns named in `give` leave the table (whether or not a worker runs): their arrays move
 * to the worker instead of being copied, so the caller keeps only the columns it still reads.
 */
export function encodeInBackground(t: Table, formats: TableFormat[], give: Iterable<string> = []): Promise<Record<string, Uint8Array[]>> {
  const names = [...give];
  const w = formats.length > 0 ? tryStartWorker('serialize-worker', new URL('./serialize-worker.ts', import.meta.url), import.meta.url) : null;
  if (!w) {
    const msg = toMessage(t);
    dropColumns(t, names);
    return Promise.resolve().then(() => encodeTable(msg, formats));
  }
  post(w, t, formats, names);
  return answerOf(w, 'file-encoding');
}

/**
 * Sends the table to the worker. The message lives only in this call: a closure that waits for
 * the worker's answer must not hold it, or the columns given away would stay in memory here
 * until the encoding ends (seen in a heap snapshot at county scale).
 */
function post(w: Worker, t: Table, formats: TableFormat[], give: string[]): void {
  const msg = toMessage(t);
  const transfer = movable(msg, new Set(give));
  dropColumns(t, give);
  w.postMessage({ table: msg, formats }, transfer);
}
