/**
 * Worker thread of the Word files (table-writer.ts, WordFiles): makes each document it is sent
 * — a table's ({ id, grid, lang }, with toDocx) or the join of documents it made earlier
 * ({ id, join: their ids }, with joinDocx) — and answers { id, result } or { id, error }. The
 * documents are the same bytes as on the main thread: the same code, and no clock or machine in them.
 */
import { parentPort } from 'node:worker_threads';
import { wordDocument, type WordJob } from './docx.ts';

// the libraries load as the worker starts, ahead of the first document (see warmUpWordWorker)
void import('docx');
void import('fflate');

const made = new Map<number, Promise<Uint8Array>>();
parentPort!.on('message', (m: WordJob) => {
  const doc = wordDocument(m, made);
  doc.then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) }),
  );
});
