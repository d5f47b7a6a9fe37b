import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { formatNumber, type Column } from '../src/data/table.ts';

export const TINY = join(import.meta.dirname, 'fixtures', 'tiny', '2021');

export function tmp(prefix = 'tongban-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A copy of the tiny fixture year folder with some files replaced (null = removed). */
export function tinyWith(replace: Record<string, string | null> = {}): string {
  const dir = join(tmp(), '2021');
  cpSync(TINY, dir, { recursive: true });
  for (const [name, text] of Object.entries(replace)) {
    if (text === null) rmSync(join(dir, name));
    else writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Every file in a folder with its content, to show that a failed run changed nothing. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      out[f] = readFileSync(join(dir, f), 'utf8');
    } catch {
      /* a folder */
    }
  }
  return out;
}

const ROOT = join(import.meta.dirname, '..');

/** Runs the CLI the way a user does in a clone: `npm run -s tongban -- <args>`. */
export function runCliNpm(args: string[]) {
  const r = spawnSync('npm', ['run', '-s', 'tongban', '--', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs the installed entry point directly (`node bin/tongban.js`, faster than npm for many
 * calls). It runs dist/, which `npm test` rebuilds from the sources first (pretest).
 */
export function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tongban.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** |actual − expected| ≤ max(rtol·|expected|, atol), with a message naming the quantity. */
export function expectClose(actual: number | null, expected: number, rtol: number, atol = 0, what = '') {
  expect(actual, what).not.toBeNull();
  const err = Math.abs((actual as number) - expected);
  expect(err, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(Math.max(rtol * Math.abs(expected), atol));
}


/** The text of one entry of a zip archive (a .docx), read through its central directory. */
export function zipEntry(buf: Uint8Array, name: string): string {
  const b = Buffer.from(buf);
  let eocd = b.length - 22;
  while (eocd >= 0 && b.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip archive');
  const entries = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  for (let k = 0; k < entries; k++) {
    if (b.readUInt32LE(p) !== 0x02014b50) throw new Error('bad zip central directory');
    const method = b.readUInt16LE(p + 10);
    const size = b.readUInt32LE(p + 20);
    const nameLen = b.readUInt16LE(p + 28);
    const extraLen = b.readUInt16LE(p + 30);
    const commentLen = b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    if (b.toString('utf8', p + 46, p + 46 + nameLen) === name) {
      const start = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
      const data = b.subarray(start, start + size);
      return (method === 0 ? data : inflateRawSync(data)).toString('utf8');
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`no ${name} in the archive`);
}

/** A cell as text: a number's shortest text ('' for missing), a text column's level ('' for missing). */
export function cellText(c: Column, r: number): string {
  if (c.kind === 'number') return formatNumber(c.values[r]);
  const code = c.codes[r];
  return code < 0 ? '' : c.levels[code];
}
