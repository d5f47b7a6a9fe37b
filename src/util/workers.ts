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
 * A worker for module `name` (e.g. 'rows-worker'); `sourceUrl` is the URL of the .ts
 * module in the sources, relative to the caller (used only when running from the sources).
 */
export function startWorker(name: string, sourceUrl: URL, callerUrl: string, workerData: Record<string, unknown> = {}): Worker {
  if (callerUrl.endsWith('.ts')) {
    return new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData: { ...workerData, entry: sourceUrl.href } });
  }
  return new Worker(new URL(`./${name}.js`, callerUrl), { workerData });
}

/**
 * A worker for one job (module `name`, as startWorker), or null when threads are not allowed or
 * it cannot start: the caller then does the job itself.
 */
export function tryStartWorker(name: string, sourceUrl: URL, callerUrl: string): Worker | null {
  if (!threadsAllowed()) return null;
  try {
    return startWorker(name, sourceUrl, callerUrl);
  } catch {
    return null;
  }
}

/** The one answer of a one-job worker ({ result } or { error }); the worker is stopped once it has answered. */
export function answerOf<T>(w: Worker, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    let settled = false;
    w.once('message', (m: { result?: T; error?: string }) => {
      settled = true;
      void w.terminate();
      if (m.error === undefined) resolve(m.result as T);
      else reject(new Error(`the ${what} worker failed: ${m.error}`));
    });
    w.once('error', (e) => {
      if (settled) return;
      settled = true;
      reject(e);
    });
  });
}

/**
 * A pool of `threads` worker threads that take task numbers from a shared counter (`next`) and
 * count the tasks they finish (`done`), as the permutation engines do: each worker gets
 * `message` plus the two counters, works until the counter passes its last task, and posts once
 * when it has finished. `progress` is called with the finished count four times a second.
 * Returns how many tasks the workers finished.
 */
export async function runTaskPool(o: {
  name: string;
  sourceUrl: URL;
  callerUrl: string;
  threads: number;
  message: Record<string, unknown>;
  what: string;
  progress?: (done: number) => void;
}): Promise<number> {
  const next = new Int32Array(new SharedArrayBuffer(4));
  const done = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from({ length: o.threads }, () => startWorker(o.name, o.sourceUrl, o.callerUrl));
  const timer = o.progress ? setInterval(() => o.progress!(Atomics.load(done, 0)), 250) : null;
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('message', () => resolve());
            w.once('error', reject);
            w.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a ${o.what} worker thread stopped (exit code ${code})`))));
            w.postMessage({ ...o.message, next, done });
          }),
      ),
    );
  } finally {
    if (timer) clearInterval(timer);
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return Atomics.load(done, 0);
}
