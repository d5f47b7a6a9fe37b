/**
 * Writing a stage's outputs so that a failure never leaves half-written files:
 * everything goes to a temporary folder beside the target, and only when all files
 * are written are they renamed into place (rename is atomic on one file system).
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export type OutputFiles = Map<string, string | Uint8Array>;

/**
 * `replaceDirs`: sub-folders (e.g. 'fits') whose old content is removed at the moment the
 * new files arrive, so that no stale file of an earlier run survives in them.
 */
export function writeOutputsAtomically(outDir: string, files: OutputFiles, replaceDirs: string[] = []): string[] {
  const target = resolve(outDir);
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, '.tongban-tmp-'));
  try {
    for (const [name, content] of files) {
      const p = join(tmp, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
    mkdirSync(target, { recursive: true });
    for (const d of replaceDirs) rmSync(join(target, d), { recursive: true, force: true });
    const written: string[] = [];
    for (const name of files.keys()) {
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
