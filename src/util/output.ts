/**
 * Writing a stage's outputs so that a failure never leaves half-written files:
 * everything goes to a temporary folder beside the target, and only when all files
 * are written are they renamed into place (rename is atomic on one file system).
 * Large files (a dyad table of millions of rows) are written chunk by chunk.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** File name → content: text, bytes, or a function giving the content in chunks. */
export type OutputFiles = Map<string, string | Uint8Array | (() => Iterable<string | Uint8Array>)>;

export interface WriteOptions {
  /** sub-folders (e.g. 'fits') whose old content is removed when the new files arrive */
  replaceDirs?: string[];
  /** called with the SHA-256 of every file written; its text is written as manifest.json */
  manifest?: (sha256: Map<string, string>) => string;
}

export function writeOutputsAtomically(outDir: string, files: OutputFiles, opts: WriteOptions = {}): string[] {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, '.tongban-tmp-'));
  try {
    const hashes = new Map<string, string>();
    const names = [...files.keys()].sort();
    for (const name of names) {
      const content = files.get(name)!;
      const p = join(tmp, name);
      mkdirSync(dirname(p), { recursive: true });
      const hash = createHash('sha256');
      if (typeof content === 'function') {
        const fd = openSync(p, 'w');
        try {
          for (const chunk of content()) {
            hash.update(chunk);
            if (typeof chunk === 'string') writeSync(fd, chunk);
            else writeSync(fd, chunk);
          }
        } finally {
          closeSync(fd);
        }
      } else {
        hash.update(content);
        writeFileSync(p, content);
      }
      hashes.set(name, hash.digest('hex'));
    }
    if (opts.manifest) {
      writeFileSync(join(tmp, 'manifest.json'), opts.manifest(hashes));
      names.push('manifest.json');
    }
    mkdirSync(target, { recursive: true });
    for (const d of opts.replaceDirs ?? []) rmSync(join(target, d), { recursive: true, force: true });
    const written: string[] = [];
    for (const name of names) {
      const dest = join(target, name);
      mkdirSync(dirname(dest), { recursive: true });
      renameSync(join(tmp, name), dest);
      written.push(dest);
    }
    return written;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
