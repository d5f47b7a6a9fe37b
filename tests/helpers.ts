import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

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

