/**
 * Worker thread of the Word files (table-writer.ts, WordFiles): makes the document of each job it
 * is sent ({ id, grids, lang }, with toDocx) and answers { id, result } or { id, error }. The
 * documents are the same bytes as on the main thread: the same code, and no clock or machine in them.
 */
import { parentPort } from 'node:worker_threads';
import { toDocx, type WordJob } from './docx.ts';

// the libraries load as the worker starts, ahead of the first document (see warmUpWordWorker)
void import('docx');
void import('fflate');

parentPort!.on('message', (m: WordJob) => {
  toDocx(m.grids, m.lang).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) }),
  );
});
