/**
 * Starting a worker thread from the sources or from the build: from dist/ a worker is its
 * own bundle beside the chunk that starts it (`<name>.js`); from the TypeScript sources
 * (tests, tsx) it starts through worker-boot.mjs, which registers tsx and then loads the
 * `.ts` module. `TONGBAN_THREADS=1` keeps everything on the main thread (callers then do
 * the work themselves, with the same results).
 */
import { Worker } from 'node:worker_threads';

export const threadsAllowed = (): boolean => process.env.TONGBAN_THREADS !== '1';

/**
 * A worker for module `name` (e.g. 'crossprod-worker'); `sourceUrl` is the URL of the .ts
 * module in the sources, relative to the caller (used only when running from the sources).
 */
export function startWorker(name: string, sourceUrl: URL, callerUrl: string, workerData: Record<string, unknown> = {}): Worker {
  if (callerUrl.endsWith('.ts')) {
    return new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { ...workerData, entry: sourceUrl.href } });
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), { workerData });
}
