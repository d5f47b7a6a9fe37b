/**
 * A table's files (dyads.csv, dyads.parquet) encoded on the second core while the main
 * thread goes on (fitting models): `encodeInBackground` starts the work and returns a
 * promise of the bytes. Without a worker (TONGBAN_THREADS=1, or one that fails to start)
 * the main thread encodes when the promise is awaited; the bytes are the same either way.
 */
import { startWorker, threadsAllowed } from '../util/workers.ts';
import { tableCsvChunks } from './csv.ts';
import { tableParquetChunks } from './parquet.ts';
import type { Column, Table } from './table.ts';
import { makeTable } from './table.ts';

export type TableFormat = 'csv' | 'parquet';

/** A table as a structured-clone message (typed arrays are copied). */
export interface TableMessage {
  nrow: number;
  columns: [string, Column][];
}

const toMessage = (t: Table): TableMessage => ({ nrow: t.nrow, columns: t.names.map((n) => [n, t.columns.get(n)!]) });

const UTF8 = new TextEncoder();

/** The bytes of a table in each format, in chunks. */
export function encodeTable(msg: TableMessage, formats: TableFormat[]): Record<string, Uint8Array[]> {
  const t = makeTable(msg.nrow, msg.columns);
  const out: Record<string, Uint8Array[]> = {};
  for (const f of formats) {
    out[f] = f === 'csv' ? Array.from(tableCsvChunks(t), (s) => UTF8.encode(s)) : [...tableParquetChunks(t)];
  }
  return out;
}

/** Starts encoding a table in the listed formats on a worker thread; resolves to the chunks of each. */
export function encodeInBackground(t: Table, formats: TableFormat[]): Promise<Record<string, Uint8Array[]>> {
  const msg = toMessage(t);
  if (!threadsAllowed() || formats.length === 0) return Promise.resolve().then(() => encodeTable(msg, formats));
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = startWorker('serialize-worker', new URL('./serialize-worker.ts', import.meta.url), import.meta.url);
    } catch {
      resolve(encodeTable(msg, formats));
      return;
    }
    const w = worker;
    let settled = false;
    w.once('message', (m: { chunks?: Record<string, Uint8Array[]>; error?: string }) => {
      settled = true;
      void w.terminate();
      if (m.chunks) resolve(m.chunks);
      else reject(new Error(`the file-encoding worker failed: ${m.error}`));
    });
    w.once('error', (e) => {
      if (settled) return;
      settled = true;
      reject(e);
    });
    w.postMessage({ table: msg, formats });
  });
}
