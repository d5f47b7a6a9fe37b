import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCli, tmp } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');

/** A one-model spec on the demo data; `digits` tells two runs apart (their spec hashes differ). */
const spec = (digits: number) => `name: killtest
language: en
digits: ${digits}
samples:
  all_dyads: { table: dyads }
levels:
  - id: partner
    models:
      - { id: m1, family: logit, sample: all_dyads, formula: "coop ~ log_flow + same_province", vcov: dyadic }
`;

function run(out: string, specFile: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tongban.js'), 'run', '--data', 'data/demo', '--year', '2021', '--spec', specFile, '--out', out, '--quiet'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, signal: r.signal, stderr: r.stderr };
}

/** The run in the folder, checked complete: every file the manifest lists has its hash, and nothing else is there. */
function completeRun(dir: string): string {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const listed = new Set<string>(manifest.outputs.map((o: { file: string }) => o.file));
  for (const o of manifest.outputs as { file: string; sha256: string }[]) {
    expect(createHash('sha256').update(readFileSync(join(dir, o.file))).digest('hex'), o.file).toBe(o.sha256);
  }
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else files.push(r);
    }
  };
  walk('');
  expect(files.filter((f) => f !== 'manifest.json').sort()).toEqual([...listed].sort());
  return manifest.spec.sha256 as string;
}

const leftovers = (parent: string) => readdirSync(parent).filter((f) => f.includes('.tongban-'));

describe('crash-safe outputs', () => {
  it('a run killed at any step of the swap leaves the complete old or the complete new run, and the next run cleans up', () => {
    const base = tmp();
    const specA = join(base, 'a.yaml');
    const specB = join(base, 'b.yaml');
    writeFileSync(specA, spec(3));
    writeFileSync(specB, spec(4));
    const sha = (f: string) => createHash('sha256').update(readFileSync(f, 'utf8')).digest('hex');
    for (const step of ['partial', 'ready', 'old-moved', 'swapped']) {
      const out = join(base, step);
      expect(run(out, specA).code).toBe(0);
      const dir = join(out, 'demo', '2021');
      expect(completeRun(dir)).toBe(sha(specA));
      const killed = run(out, specB, { TONGBAN_FAULT: step });
      expect(killed.signal, step).toBe('SIGKILL');
      // what a reader finds right after the kill: the old run, the new run, or (mid-swap) a recoverable state
      if (existsSync(dir)) expect([sha(specA), sha(specB)]).toContain(completeRun(dir));
      else expect(step).toBe('old-moved');
      // the next run recovers first, then writes; nothing is left beside the folder
      expect(run(out, specA).code).toBe(0);
      expect(completeRun(dir)).toBe(sha(specA));
      expect(leftovers(join(out, 'demo')), step).toEqual([]);
    }
  }, 120_000);

  it('Ctrl-C during a run stops it with exit 130, keeps the earlier run and leaves no lock or temporary folder', () => {
    const base = tmp();
    const specA = join(base, 'a.yaml');
    const specB = join(base, 'b.yaml');
    writeFileSync(specA, spec(3));
    writeFileSync(specB, spec(4));
    const out = join(base, 'out');
    expect(run(out, specA).code).toBe(0);
    const dir = join(out, 'demo', '2021');
    const before = completeRun(dir);
    const r = run(out, specB, { TONGBAN_FAULT: 'sigint-models' });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/stopped \(SIGINT\); the output folder is as it was before this run/);
    expect(completeRun(dir)).toBe(before);
    expect(leftovers(join(out, 'demo'))).toEqual([]);
  }, 60_000);

  it('Ctrl-C while the panel builds its years stops it (exit 130) and keeps the earlier panel', () => {
    const out = join(tmp(), 'out');
    const panel = (env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'tongban.js'), 'panel', '--data', join(ROOT, 'data', 'demo'), '--years', '2021:2022', '--out', out, '--quiet'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
    expect(panel().status).toBe(0);
    const dir = join(out, 'demo', 'panel');
    const before = readFileSync(join(dir, 'pair_years_report.json'), 'utf8');
    // the interrupt arrives while a year is built: synchronous work would let it wait to the end
    const r = panel({ TONGBAN_FAULT: 'sigint-panel-year' });
    expect(r.status, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/stopped \(SIGINT\); the output folder is as it was before this run/);
    expect(readFileSync(join(dir, 'pair_years_report.json'), 'utf8')).toBe(before);
    expect(leftovers(join(out, 'demo'))).toEqual([]);
  }, 60_000);

  it('a run that fails removes the folders it made for its output (a new --out, the dataset folder) and keeps those that were there', () => {
    const base = tmp();
    const missing = join(base, 'no', 'such', 'spec.yaml');
    const fresh = join(base, 'new', 'place');
    expect(run(fresh, missing).code).toBe(2);
    expect(readdirSync(base)).toEqual([]); // new/place/demo and the lock: all gone
    const existing = join(base, 'kept');
    mkdirSync(existing);
    writeFileSync(join(existing, 'notes.txt'), 'mine');
    expect(run(existing, missing).code).toBe(2);
    expect(readdirSync(existing)).toEqual(['notes.txt']); // its demo/ folder gone, the user's file kept
  });

  it('refuses a second writer while the first holds the lock, and takes over a stale lock', () => {
    const base = tmp();
    const specA = join(base, 'a.yaml');
    writeFileSync(specA, spec(3));
    const parent = join(base, 'out', 'demo');
    mkdirSync(parent, { recursive: true });
    const lock = join(parent, '.2021.tongban-lock');
    writeFileSync(lock, `${process.pid}\n`); // a live process holds it
    const r = run(join(base, 'out'), specA);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`another tongban process \\(pid ${process.pid}\\) is writing`));
    expect(existsSync(join(parent, '2021'))).toBe(false);
    writeFileSync(lock, '999999999\n'); // a process that is gone
    expect(run(join(base, 'out'), specA).code).toBe(0);
    expect(leftovers(parent)).toEqual([]);
  }, 60_000);
});

describe('the installed entry point on Linux (bin/tongban.js)', () => {
  const envWithout = () => {
    const env = { ...process.env };
    delete env.MALLOC_MMAP_THRESHOLD_;
    return env;
  };
  // the process's child processes once the run prints `when`, and what stopping it then with `sig` gave
  const stoppedAt = async (when: RegExp, args: string[], sig: 'SIGTERM' | 'SIGHUP') => {
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, [join(ROOT, 'bin/tongban.js'), ...args], { cwd: ROOT, env: envWithout() });
    let stderr = '';
    let children: string[] = [];
    let childEnv = '';
    const ended = new Promise<[number | null, string | null]>((resolve) => p.on('exit', (code, signal) => resolve([code, signal])));
    await new Promise<void>((resolve) =>
      p.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
        if (!children.length && !childEnv && when.test(stderr)) {
          children = readFileSync(`/proc/${p.pid}/task/${p.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
          if (children.length) childEnv = readFileSync(`/proc/${children[0]}/environ`, 'utf8');
          p.kill(sig);
          resolve();
        }
      }),
    );
    const [code] = await ended;
    return { children, childEnv, code, stderr };
  };

  let simulated = '';
  const thousandCities = () => {
    if (!simulated) {
      simulated = tmp();
      expect(runCli(['simulate', '--cities', '1000', '--seed', '7', '--year', '2021', '--out', join(simulated, '2021'), '--quiet']).code).toBe(0);
    }
    return simulated;
  };

  it.runIf(process.platform === 'linux').each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('runs a staged command (run) on 1,000 cities in a second process with a fixed malloc mmap threshold, and passes %s on to it', async (sig, exitCode) => {
    const data = thousandCities();
    const out = tmp();
    const r = await stoppedAt(/dyads: building pairs/, ['run', '--data', data, '--year', '2021', '--spec', 'bench/book-14.yaml', '--out', out], sig);
    expect(r.childEnv.split('\0')).toContain(`MALLOC_MMAP_THRESHOLD_=${4 << 20}`);
    expect(r.code).toBe(exitCode);
    expect(r.stderr).toMatch(new RegExp(`stopped \\(${sig}\\); the output folder is as it was before this run`));
    expect(r.stderr).not.toMatch(/report:/); // stopped as the first models are fitted, not at the end
    expect(existsSync(join(out, basename(data), '2021'))).toBe(false);
    expect(leftovers(join(out, basename(data)))).toEqual([]);
  }, 60_000);

  it.runIf(process.platform === 'linux')('runs a staged command on the national demo (334 cities) in its own process', async () => {
    const out = tmp();
    const r = await stoppedAt(/fit 1\//, ['run', '--data', 'data/demo', '--year', '2021', '--spec', 'bench/book-14.yaml', '--out', out], 'SIGTERM');
    expect(r.children).toEqual([]);
    expect(r.code).toBe(143);
    // stopped between models, not once all 14 are fitted and the report is made
    expect(r.stderr).not.toMatch(/fit 14\/14|report:/);
    expect(existsSync(join(out, 'demo', '2021'))).toBe(false);
  }, 60_000);
});

// /dev/full answers every write with ENOSPC (Linux): a full disk, without filling one
describe.runIf(existsSync('/dev/full'))('a full disk while a large output is written', () => {
  it('a staged file says which output could not be written and why, as a usage error (exit 2), not an internal one', async () => {
    const { StagedFile } = await import('../src/util/output.ts');
    const { UsageError } = await import('../src/util/errors.ts');
    const file = new StagedFile('/dev/full', { shownAs: '/study/out/panel/pair_years.parquet' });
    let err: unknown = null;
    try {
      file.write(new Uint8Array(1 << 16));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe('cannot write /study/out/panel/pair_years.parquet: the disk is full: free some space or choose another disk (--out) (ENOSPC)');
  });
  it('the encoding worker gives back the file and the code (the run turns them into the same message)', async () => {
    const { encodeInBackground } = await import('../src/data/serialize.ts');
    const { makeTable, numColumn } = await import('../src/data/table.ts');
    const t = makeTable(50_000, [['x', numColumn(Float64Array.from({ length: 50_000 }, (_, r) => r / 3))]]);
    expect(await encodeInBackground(t, { csv: '/dev/full' })).toMatchObject({ failed: { path: '/dev/full', code: 'ENOSPC' } });
  });
});

// a file-size limit (ulimit -f) makes a write stop short without an error: the rest of the file
// was lost silently (exit 0, a truncated dyads.csv, a manifest hash of the bytes meant)
describe.runIf(existsSync('/bin/bash') && process.platform === 'linux')('a file-size limit reached while writing', () => {
  it('is a usage error naming the file (exit 2), and nothing is written', () => {
    const out = join(tmp(), 'out');
    const r = spawnSync('/bin/bash', ['-c', `ulimit -f 20000; exec "${process.execPath}" bin/tongban.js dyads --input data/demo/2021 --out "${out}" --quiet`], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(`cannot write ${out}/dyads.csv: the file is larger than this system or disk allows`);
    expect(existsSync(out)).toBe(false);
  });
});
