/**
 * `npm run bench`: performance goals, measured (never asserted in unit tests).
 * Each case runs in its own process so that peak memory is its own.
 * Options: --only dyads|fit, --cities N (dyads; default 2846), --fit-cities a,b (default 1000,2846).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../src/data/simulate.ts';

const arg = (name: string, dflt: string) => {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : dflt;
};
const only = arg('only', 'all');
const HERE = import.meta.dirname;

function child(script: string, args: string[]): Record<string, number | string> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=8000', join(HERE, script), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status})`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

function simulatedYear(cities: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tongban-bench-'));
  process.stderr.write(`bench: simulating ${cities} cities (not timed) …\n`);
  const sim = simulate({ cities, seed: 7, year: 2021 });
  for (const [name, text] of sim.files) writeFileSync(join(dir, name), text);
  return dir;
}

const results: Record<string, number | string>[] = [];
if (only === 'all' || only === 'dyads') {
  const cities = Number(arg('cities', '2846'));
  const dir = simulatedYear(cities);
  try {
    results.push(child('dyads.ts', [dir]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (only === 'all' || only === 'fit') {
  for (const cities of (arg('fit-cities', '1000,2846')).split(',').map(Number)) {
    const dir = simulatedYear(cities);
    try {
      results.push(child('fit.ts', [dir]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
for (const r of results) console.log(JSON.stringify(r));
