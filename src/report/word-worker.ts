/**
 * Worker thread of the Word files (table-writer.ts, WordFiles): makes each document it is sent
 * ({ id, grids, lang }) with toDocx and answers { id, result } or { id, error }. The documents
 * are the same bytes as on the main thread: the same code, and no clock or machine in them.
 */
import { parentPort } from 'node:worker_threads';
import { toDocx } from './docx.ts';
import type { Grid } from './formats.ts';

parentPort!.on('message', (m: { id: number; grids: Grid[]; lang: 'zh' | 'en' }) => {
  toDocx(m.grids, m.lang).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (e: unknown) => parentPort!.postMessage({ id: m.id, error: (e as Error).stack ?? String(e) }),
  );
});
