#!/usr/bin/env node
// Installed entry point: runs the compiled CLI in dist/ (built from src/ by `npm ci`, through
// the package's prepare script, or by `npm run build`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('tongban: dist/ is missing: run `npm ci` (or `npm run build`) in the tongban folder first\n');
  process.exit(2);
}

// glibc's malloc keeps a freed block below its mmap threshold in the process's heap, and it
// raises that threshold (up to 32 MB) as large blocks are freed: at county scale, where a column
// is 32 MB, the freed columns of one year stayed resident under the next, and a panel run held
// 1.4 GB more than it used (docs/decisions.md §47). A fixed 4 MB threshold gives every larger
// array back to the system when it is freed. glibc reads it only as the process starts, so the
// commands that run stage after stage on a data set start tongban once more with it set (Linux;
// a user's own value is kept) when the data are large: a year folder with 1,000 cities or more,
// or data this cannot look at. On smaller data the second start (~0.08 s) and the mapping of
// every 4 MB array (~0.1 s of page faults on the national demo) would buy nothing.
// One-model commands (fit, compare, qap) and --help start at once.
const STAGED = new Set(['run', 'panel', 'dyads', 'clean', 'compare-years']);
const args = process.argv.slice(2);
const command = args.find((a) => !a.startsWith('-')); // after global options such as --quiet

/** The values of option `name` (`--name value` or `--name=value`). */
function optionValues(name) {
  const out = [];
  args.forEach((a, k) => {
    if (a === name && k + 1 < args.length) out.push(args[k + 1]);
    else if (a.startsWith(`${name}=`)) out.push(a.slice(name.length + 1));
  });
  return out;
}

/** Whether a year folder has a cities.csv of 1,000 records or more (true when it cannot tell). */
function manyCities(yearFolder) {
  const file = join(yearFolder, 'cities.csv');
  try {
    if (!existsSync(file)) return false;
    if (statSync(file).size > 1 << 20) return true;
    let lines = 0;
    for (const b of readFileSync(file)) if (b === 0x0a) lines++;
    return lines > 1000; // the header line and 1,000 records
  } catch {
    return true;
  }
}

/** Whether the command's data are large (see above): its --input year folder or --data's year folders. */
function largeData() {
  const inputs = optionValues('--input');
  const data = optionValues('--data');
  if (!inputs.length && !data.length) return true;
  try {
    return inputs.some(manyCities) || data.some((d) => readdirSync(d).some((year) => manyCities(join(d, year))));
  } catch {
    return true;
  }
}

if (process.platform === 'linux' && process.env.MALLOC_MMAP_THRESHOLD_ === undefined && STAGED.has(command) && largeData()) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_MMAP_THRESHOLD_: String(4 << 20) },
  });
  // a signal for this process is the command's: the command cleans up and exits with its code
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // a second process that cannot start: run here, with glibc's own threshold
  child.on('error', () => void import(main.href));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  await import(main.href);
}
