/**
 * Shared pieces of the hostile-input corpus (tests/hostile/*.test.ts): the assertion every
 * refused command must meet, small files written into temp folders, and a copy of the tiny
 * fixture laid out as a data set (`<root>/<dataset>/2021/`) for `tongban run`.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { TINY, runCli, tmp } from '../helpers.ts';

export type CliResult = ReturnType<typeof runCli>;

/** What a user sees, printed when an assertion fails. */
export const shown = (r: CliResult): string => `exit code ${r.code}\n--- stderr ---\n${r.stderr}\n--- stdout ---\n${r.stdout.slice(0, 2000)}`;

/** No crash: never the "internal error" exit (1) and never a stack trace. */
export function expectNoCrash(r: CliResult): void {
  expect(r.stderr, shown(r)).not.toContain('internal error');
  expect(r.stderr, shown(r)).not.toContain('    at ');
  expect(r.code, shown(r)).not.toBe(1);
}

/**
 * A refused command: exit code 2, one `tongban: error:` message, no crash, and the message
 * contains every needle (file, row, column, line, field or option named).
 */
export function expectRefused(r: CliResult, ...needles: (string | RegExp)[]): void {
  expectNoCrash(r);
  expect(r.code, shown(r)).toBe(2);
  expect(r.stderr, shown(r)).toMatch(/^tongban: error: /);
  for (const n of needles) {
    if (typeof n === 'string') expect(r.stderr, shown(r)).toContain(n);
    else expect(r.stderr, shown(r)).toMatch(n);
  }
}

/** A successful command, without crash output. */
export function expectOk(r: CliResult): void {
  expectNoCrash(r);
  expect(r.code, shown(r)).toBe(0);
}

/** Writes a file (text or bytes) into a folder and returns its path. */
export function put(dir: string, name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/**
 * A data set folder `<tmp>/<dataset>/2021` holding a copy of the tiny fixture, for
 * `tongban run --data <data> --year 2021`; its outputs go to `<out>/<dataset>/2021`.
 */
export function tinyDataset(dataset = 'ds'): { data: string; year: string } {
  const data = join(tmp('tongban-hostile-'), dataset);
  const year = join(data, '2021');
  mkdirSync(data, { recursive: true });
  cpSync(TINY, year, { recursive: true });
  return { data, year };
}

/** 1-based number of the first line of `text` that contains `needle` (to name spec lines). */
export function lineOf(text: string, needle: string): number {
  const k = text.split('\n').findIndex((l) => l.includes(needle));
  if (k < 0) throw new Error(`'${needle}' is not in the text`);
  return k + 1;
}

/** A minimal RFC 4180 reader, enough for the small CSVs tongban writes under tables/. */
export function csvCells(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    if (quoted) {
      if (ch === '"' && text[k + 1] === '"') {
        cell += '"';
        k++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[k + 1] === '\n') k++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length) rows.push([...row, cell]);
  return rows;
}

/** Every entry (file or folder) under a folder, relative and sorted: also shows new empty folders. */
export function entriesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

export const read = (p: string): string => readFileSync(p, 'utf8');

/** uid/gid of the unprivileged user the permission cases run as when the tests run as root (CI does). */
const NOBODY = 65534;

/**
 * Runs the CLI as a user whom file permissions bind: under root, as nobody (root reads and
 * writes whatever the modes say, so a permission case would prove nothing); otherwise as
 * ourselves.
 */
export function runCliAs(args: string[]) {
  const root = process.getuid?.() === 0;
  const repo = join(import.meta.dirname, '..', '..');
  let bin = join(repo, 'bin', 'tongban.js');
  if (root) {
    // the clone may sit in a folder nobody cannot enter (CI's, root's home): run a copy of the
    // built command (bin/ and dist/ are all it needs) from a folder open to everyone
    const copy = tmp('tongban-hostile-as-');
    cpSync(join(repo, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(repo, 'dist'), join(copy, 'dist'), { recursive: true });
    openTo(copy, 0o755);
    bin = join(copy, 'bin', 'tongban.js');
  }
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root ? tmpdir() : repo,
    encoding: 'utf8',
    ...(root ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Opens a folder and the folders above it (up to the system's temp folder) to other users: mkdtemp makes them 0700. */
export function openTo(dir: string, mode: number): void {
  chmodSync(dir, mode);
  for (let d = dirname(dir); d.startsWith(tmpdir()) && d !== tmpdir(); d = dirname(d)) chmodSync(d, 0o755);
}
