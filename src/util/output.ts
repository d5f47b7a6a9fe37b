/**
 * Writing a command's outputs so that the output folder always shows one complete run.
 *
 * For an output folder `<parent>/<name>`:
 *   1. everything is written into `<parent>/.<name>.tongban-partial-<pid>` (large files chunk
 *      by chunk, each file hashed as it is written); files of the earlier run that this run
 *      does not replace are hard-linked (or copied) into it;
 *   2. when complete it is renamed `.<name>.tongban-ready`;
 *   3. the old folder is renamed `.<name>.tongban-old`, the ready one renamed into place,
 *      and the old one removed.
 * Every rename is atomic, so at any instant the folder holds the complete old run or the
 * complete new one, or is missing with `-ready`/`-old` beside it — a state that
 * `recoverOutput` (run under the lock before anything else) turns back into one of the two.
 * A lock file `.<name>.tongban-lock` beside the folder (holding the writer's pid) refuses a
 * second concurrent writer; a lock whose process is gone is stale and taken over. SIGINT,
 * SIGTERM and SIGHUP (the terminal closed) remove the partial folder and the lock.
 * `TONGBAN_FAULT=<step>` kills the process at a named step (partial, ready, old-moved,
 * swapped; `runYear` adds models) and
 * `TONGBAN_FAULT=sigint-<step>` interrupts it there, so tests can check all this.
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.ts';

/** File name → content: text, bytes, a function giving the content in chunks, or a file staged beforehand. */
export type OutputFiles = Map<string, string | Uint8Array | (() => Iterable<string | Uint8Array>) | StagedFile>;

export interface WriteOptions {
  /** sub-folders (e.g. 'fits') whose old content is not carried over: the new files replace them whole */
  replaceDirs?: string[];
  /** files or folders of an earlier run that are not carried over (outputs this run makes stale) */
  drop?: string[];
  /** nothing of an earlier run is carried over (a folder that is wholly this command's, e.g. compare-years') */
  replaceAll?: boolean;
  /** called with the SHA-256 of every file written; its text is written as manifest.json */
  manifest?: (sha256: Map<string, string>) => string;
}

const sibling = (target: string, what: string) => join(dirname(target), `.${basename(target)}.tongban-${what}`);

/** An operating-system error while writing outputs, as a message a person can act on (exit 2). */
export function outputError(e: unknown, path: string, doing: string): UsageError {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: 'permission denied: choose a folder you can write to (--out)',
    EPERM: 'operation not permitted: choose a folder you can write to (--out)',
    ENOSPC: 'the disk is full: free some space or choose another disk (--out)',
    EFBIG: 'the file is larger than this system or disk allows (a file-size limit: see ulimit -f)',
    EDQUOT: 'the disk quota is exceeded: free some space or choose another disk (--out)',
    EROFS: 'the file system is read-only: choose another folder (--out)',
    ENOTDIR: 'a part of the path is a file, not a folder: choose another --out',
    EISDIR: 'a folder stands where a file should be written: move it away or choose another --out',
    EEXIST: 'something already exists there',
    ENAMETOOLONG: 'the path is too long',
    EMFILE: 'too many open files',
  };
  const reason = why[err?.code ?? ''] ?? err?.message ?? String(e);
  return new UsageError(`cannot ${doing} ${path}: ${reason}${err?.code ? ` (${err.code})` : ''}`);
}

/** Fault injection for tests: TONGBAN_FAULT=<step> kills the process there; sigint-<step> interrupts it as Ctrl-C does. */
export function fault(step: string): void {
  const f = process.env.TONGBAN_FAULT;
  if (f === step) process.kill(process.pid, 'SIGKILL');
  if (f === `sigint-${step}`) process.kill(process.pid, 'SIGINT');
}

/**
 * Writes all of `data` at the file's current position: writeSync may write fewer bytes than asked
 * (a file-size limit reached mid-chunk) without an error, and the rest would be lost silently.
 */
export function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  for (let at = 0; at < bytes.length; ) {
    const n = writeSync(fd, bytes, at, bytes.length - at);
    if (n <= 0) throw Object.assign(new Error(`write returned ${n}`), { code: 'EIO', syscall: 'write' });
    at += n;
  }
}

// ---- the lock and cleanup on exit -------------------------------------------------------

const held = new Map<string, string>(); // target → lock path
const partials = new Set<string>();
let handlersInstalled = false;

/**
 * A temporary folder (e.g. a figure's trimmed fonts) removed like a partial folder if the process
 * is stopped before it is done with it; the returned function removes it now (errors ignored:
 * it is only a temporary folder).
 */
export function temporaryFolder(dir: string): () => void {
  partials.add(dir);
  return () => {
    partials.delete(dir);
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      /* left for the system's temp cleaning */
    }
  };
}

function cleanup(): void {
  for (const p of partials) {
    try {
      rmSync(p, { recursive: true, force: true });
    } catch {
      /* best effort as the process ends: the next run's recovery removes a partial folder */
    }
  }
  partials.clear();
  for (const lock of held.values()) rmSync(lock, { force: true });
  held.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', cleanup);
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(signal, () => {
      cleanup();
      process.stderr.write(`\ntongban: stopped (${signal}); the output folder is as it was before this run\n`);
      process.exit(code);
    });
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

function takeLock(target: string): void {
  if (held.has(target)) return;
  const lock = sibling(target, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, 'wx');
      writeAll(fd, `${process.pid}\n`);
      closeSync(fd);
      held.set(target, lock);
      installHandlers();
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw outputError(e, lock, 'create the lock file');
      const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      if (Number.isInteger(pid) && pid !== process.pid && alive(pid)) {
        throw new UsageError(`another tongban process (pid ${pid}) is writing ${target}; wait for it to finish, or write elsewhere with --out (lock file: ${lock})`);
      }
      rmSync(lock, { force: true }); // stale: its process is gone
    }
  }
  throw new UsageError(`cannot take the lock ${lock}`);
}

/** Releases the lock of an output folder taken by `prepareOutput` (a no-op when not held). */
export function releaseOutput(outDir: string): void {
  const target = resolve(outDir);
  const lock = held.get(target);
  if (!lock) return;
  rmSync(lock, { force: true });
  held.delete(target);
}

/**
 * Runs `work` with the output folder prepared and locked (`prepareOutput`), releasing the lock
 * however it ends; a run that fails also removes the folders above the output folder that it made
 * and that are still empty (`--out new/place` and a spec that cannot be read leave nothing behind).
 */
export async function withOutput<T>(outDir: string, work: () => T | Promise<T>): Promise<T> {
  const target = resolve(outDir);
  const mine = !held.has(target);
  const made = missingAncestors(dirname(target));
  prepareOutput(outDir);
  let done = false;
  try {
    const result = await work();
    done = true;
    return result;
  } finally {
    removeStaging(target); // the staging folder: empty once its files moved into the run, or a failed run's
    if (mine) releaseOutput(outDir);
    if (!done) removeEmpty(made);
  }
}

/** `dir` and its ancestors that do not exist yet, innermost first. */
function missingAncestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) out.push(d);
  return out;
}

/** The folders, innermost first, as long as each is empty (removing only empty folders: another process's files stay). */
function removeEmpty(dirs: string[]): void {
  for (const d of dirs) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}

/** Undoes an interrupted write of `target`: afterwards the folder holds one complete run (or is absent) and no leftovers remain. */
export function recoverOutput(target: string): void {
  const parent = dirname(target);
  const ready = sibling(target, 'ready');
  const old = sibling(target, 'old');
  if (!existsSync(target)) {
    if (existsSync(ready)) renameSync(ready, target);
    else if (existsSync(old)) renameSync(old, target);
  }
  rmSync(ready, { recursive: true, force: true });
  rmSync(old, { recursive: true, force: true });
  if (!existsSync(parent)) return;
  for (const e of readdirSync(parent)) {
    const prefix = [`.${basename(target)}.tongban-partial-`, `.${basename(target)}.tongban-staging-`].find((p) => e.startsWith(p));
    if (!prefix) continue;
    const pid = Number(e.slice(prefix.length));
    if (partials.has(join(parent, e))) continue; // this process's files staged for the run under way
    if (!(Number.isInteger(pid) && pid !== process.pid && alive(pid))) rmSync(join(parent, e), { recursive: true, force: true });
  }
}

/** Every folder below `dir` (not following links). */
function subfolders(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    out.push(p, ...subfolders(p));
  }
  return out;
}

/**
 * Before any computing: the output folder can be written (its parent is created; a file in
 * its place is an error), the lock is taken, and an interrupted earlier write is undone.
 * The lock is released by `releaseOutput` (`withOutput` does both), or when the process ends.
 */
export function prepareOutput(outDir: string): string {
  const target = resolve(outDir);
  const parent = dirname(target);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw outputError(e, parent, 'create the output folder');
  }
  try {
    accessSync(parent, constants.W_OK);
  } catch (e) {
    throw outputError(e, parent, 'write into');
  }
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new UsageError(`cannot write outputs into ${target}: it is a file, not a folder; choose another --out`);
  }
  // the earlier run's folders must be ours to empty: the new run takes the folder's place and the
  // old one is removed, which a read-only folder (or subfolder) refuses only after the swap
  if (existsSync(target)) {
    for (const dir of [target, ...subfolders(target)]) {
      try {
        accessSync(dir, constants.W_OK | constants.X_OK);
      } catch (e) {
        throw outputError(e, dir, 'replace the earlier outputs in');
      }
    }
  }
  takeLock(target);
  try {
    recoverOutput(target);
  } catch (e) {
    throw outputError(e, target, 'recover the earlier outputs in');
  }
  return target;
}

// ---- writing ------------------------------------------------------------------------------

function removeStaging(target: string): void {
  const dir = sibling(target, `staging-${process.pid}`);
  if (!partials.has(dir)) return;
  try {
    rmSync(dir, { recursive: true, force: true });
    partials.delete(dir);
  } catch {
    // a worker still writing there as a failed run ends (a file open on Windows, say): the
    // folder goes at exit, or with the next run's recovery; the run's own error is what counts
  }
}

/**
 * A large output written while it is computed (a table streamed year by year) rather than held
 * in memory: its bytes go into `<parent>/.<name>.tongban-staging-<pid>/`, hashed as they are
 * written, and `writeOutputsAtomically` moves the file into the run. The staging folder is
 * removed with the partial folder when the process is stopped or the run fails, and by
 * `recoverOutput` when the process that made it is gone.
 */
export class StagedFile {
  private fd: number | null = null;
  private readonly hash = createHash('sha256');
  private digest: string | null = null;
  private readonly shownAs: string;

  /**
   * Opens `path` for writing (errors name the file as `shownAs`, its place in the output); or,
   * given `sha256`, stands for a file already written there and closed (by a worker).
   */
  constructor(
    readonly path: string,
    o: { sha256?: string; shownAs?: string } = {},
  ) {
    this.shownAs = o.shownAs ?? path;
    if (o.sha256 !== undefined) this.digest = o.sha256;
    else this.fd = openSync(path, 'w'); // its folder made by stagedPath
  }

  write(chunk: Uint8Array): void {
    if (this.fd === null) throw new Error(`internal: ${this.path} written after it was closed`);
    this.hash.update(chunk);
    try {
      writeAll(this.fd, chunk);
    } catch (e) {
      closeSync(this.fd);
      this.fd = null;
      throw outputError(e, this.shownAs, 'write'); // a full disk, say: a message, exit 2
    }
  }

  /** Closes the file; returns its SHA-256. */
  close(): string {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
      this.digest = this.hash.digest('hex');
    }
    return this.digest!;
  }
}

/** A file of the output folder `outDir` to be written before the run's other outputs (see StagedFile). */
export function stageFile(outDir: string, name: string): StagedFile {
  const shownAs = join(resolve(outDir), name);
  const path = stagedPath(outDir, name); // a usage error of its own when the folder cannot be made
  try {
    return new StagedFile(path, { shownAs });
  } catch (e) {
    throw outputError(e, shownAs, 'write');
  }
}

/**
 * Where file `name` of `outDir` is staged (see StagedFile), its folder made and marked for
 * removal like a partial folder; for a file another thread writes (`new StagedFile(path, { sha256 })`
 * once it is done).
 */
export function stagedPath(outDir: string, name: string): string {
  const dir = sibling(resolve(outDir), `staging-${process.pid}`);
  partials.add(dir);
  const path = join(dir, name);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw outputError(e, join(resolve(outDir), name), 'write');
  }
  return path;
}

function writeFile(p: string, content: string | Uint8Array | (() => Iterable<string | Uint8Array>) | StagedFile): string {
  mkdirSync(dirname(p), { recursive: true });
  if (content instanceof StagedFile) {
    const digest = content.close();
    renameSync(content.path, p);
    return digest;
  }
  const hash = createHash('sha256');
  if (typeof content === 'function') {
    const fd = openSync(p, 'w');
    try {
      for (const chunk of content()) {
        hash.update(chunk);
        writeAll(fd, chunk);
      }
    } finally {
      closeSync(fd);
    }
  } else {
    hash.update(content);
    writeFileSync(p, content);
  }
  return hash.digest('hex');
}

/** Hard-links (or copies) every file of `from` into `to` that the new run neither writes nor drops. */
function carryOver(from: string, to: string, rel: string, keep: (rel: string) => boolean): void {
  for (const e of readdirSync(join(from, rel))) {
    const r = rel ? `${rel}/${e}` : e;
    if (!keep(r)) continue;
    const src = join(from, r);
    const dst = join(to, r);
    const st = lstatSync(src);
    if (st.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      carryOver(from, to, r, keep);
    } else if (!existsSync(dst)) {
      mkdirSync(dirname(dst), { recursive: true });
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
}

/**
 * Writes `files` into `outDir` as one complete run (see the file's comment); files of an
 * earlier run there are kept unless this run writes, replaces (`replaceDirs`) or drops them.
 * Returns the paths written.
 */
export function writeOutputsAtomically(outDir: string, files: OutputFiles, opts: WriteOptions = {}): string[] {
  const mine = !held.has(resolve(outDir));
  const target = prepareOutput(outDir);
  const partial = sibling(target, `partial-${process.pid}`);
  const ready = sibling(target, 'ready');
  const old = sibling(target, 'old');
  partials.add(partial);
  try {
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const hashes = new Map<string, string>();
    const names = [...files.keys()].sort();
    for (const name of names) {
      const p = join(partial, name);
      try {
        hashes.set(name, writeFile(p, files.get(name)!));
      } catch (e) {
        throw outputError(e, join(target, name), 'write');
      }
    }
    if (opts.manifest) {
      writeFileSync(join(partial, 'manifest.json'), opts.manifest(hashes));
      names.push('manifest.json');
    }
    if (existsSync(target) && !opts.replaceAll) {
      const written = new Set(names);
      const gone = [...(opts.replaceDirs ?? []), ...(opts.drop ?? [])];
      const keep = (rel: string) => !written.has(rel) && !gone.some((d) => rel === d || rel.startsWith(`${d}/`));
      carryOver(target, partial, '', keep);
    }
    fault('partial');
    renameSync(partial, ready);
    partials.delete(partial);
    fault('ready');
    if (existsSync(target)) renameSync(target, old);
    fault('old-moved');
    renameSync(ready, target);
    fault('swapped');
    // the new run is in place: an old folder that cannot be removed now (a file held open on
    // Windows) is removed by the next run's recovery, and must not turn this run into a failure
    try {
      rmSync(old, { recursive: true, force: true });
    } catch {
      /* left for recoverOutput */
    }
    return names.map((n) => join(target, n));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw outputError(e, target, 'write outputs into');
  } finally {
    if (partials.has(partial)) {
      rmSync(partial, { recursive: true, force: true });
      partials.delete(partial);
    }
    if (mine) releaseOutput(target);
  }
}
