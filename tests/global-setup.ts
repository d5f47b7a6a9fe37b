/**
 * Every temporary folder of a test run — the tests' own (helpers.ts `tmp`) and those of the
 * commands they start, which inherit TMPDIR — lives under one folder, removed when the run ends:
 * a run makes several hundred folders, some of them 100 MB, which would otherwise stay in /tmp.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'tongban-tests-'));
  // open to other users as /tmp is (the permission tests run the command as nobody); each
  // folder inside is made 0700 by mkdtemp
  chmodSync(root, 0o755);
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
