/**
 * Worker that encodes a table as its files (CSV, Parquet) and writes them while the main thread
 * fits models: the same function the main thread would call, so the files are the same.
 * Receives { table, targets }, answers { result: WrittenFiles } or { error }.
 */
import { parentPort } from 'node:worker_threads';
import { writeTableFiles, type FileTargets, type TableMessage } from './serialize.ts';

parentPort!.on('message', (msg: { table: TableMessage; targets: FileTargets }) => {
  try {
    parentPort!.postMessage({ result: writeTableFiles(msg.table, msg.targets) });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
