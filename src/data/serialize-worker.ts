/**
 * Worker that turns a table into the bytes of its files (CSV, Parquet) while the main
 * thread fits models: the same functions the main thread would call, so the bytes are the
 * same. Receives { table, formats }, answers { result: Record<format, Uint8Array[]> } or { error }.
 */
import { parentPort } from 'node:worker_threads';
import { encodeTable, type TableFormat, type TableMessage } from './serialize.ts';

parentPort!.on('message', (msg: { table: TableMessage; formats: TableFormat[] }) => {
  try {
    const chunks = encodeTable(msg.table, msg.formats);
    const transfer = Object.values(chunks).flatMap((list) => list.map((c) => c.buffer as ArrayBuffer));
    parentPort!.postMessage({ result: chunks }, transfer);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
