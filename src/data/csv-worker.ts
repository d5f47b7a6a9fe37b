/**
 * Worker thread of a CSV read on two threads (csv-columns.ts, readCsvColumnsOnTwoThreads):
 * reads the records of one byte range into columns and answers { result } (the arrays
 * transferred) or { error }.
 */
import { parentPort } from 'node:worker_threads';
import { readRangeColumns } from './csv-columns.ts';

parentPort!.once('message', (m: Parameters<typeof readRangeColumns>[1] & { path: string }) => {
  try {
    if (process.env.TONGBAN_FAULT === 'csv-worker') throw new Error('TONGBAN_FAULT=csv-worker'); // tests: a worker that fails
    const result = readRangeColumns(m.path, m);
    const transfer = [...result.nums.flatMap((a) => (a ? [a.buffer] : [])), ...result.texts.flatMap((t) => (t ? [t.codes.buffer] : []))];
    parentPort!.postMessage({ result }, transfer as ArrayBuffer[]);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
