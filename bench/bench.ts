/**
 * `npm run bench`: the speed goals (docs/decisions.md; README "Scale"), measured as a user
 * runs tongban — whole processes of the built command (`node bin/tongban.js …`), wall seconds
 * and peak memory (GNU time when present) — never asserted in unit tests. Prints one JSON
 * line per case and a table at the end.
 *
 *   npm run bench                 every case, county scale included (several minutes)
 *   npm run bench -- --quick      without the county-scale and QAP cases
 *   npm run bench -- --only qap   the QAP cases (about 3 minutes)
 *   npm run bench -- --only null  the specification curve's permutation null (about 4 minutes)
 *   npm run bench -- --only fit   cases whose name contains "fit"
 *   npm run bench -- --only county  the county-scale cases (the book run, fits, the 2019–2022 panel)
 *
 * Data: the demo data set, and simulated data sets of 1,000 cities (499,500 dyads) and 2,846
 * cities (4,048,435 dyads) made with `tongban simulate` (not timed).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'tongban.js');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : '';
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const COVARIATES = 'log_flow + same_province + log_distance + same_region + log_outflow_sum + fiscal_ratio_min + log_gdp_sum';
/** the covariates of the book's main partner-choice model */
const BOOK_PARTNER = 'log_distance + log_gdp_sum + log_population_absdiff + log_flow + log_outflow_sum + same_region + same_province + gov_index_sum + fiscal_ratio_min';
const FIT = ['fit', '--formula', `coop ~ ${COVARIATES}`, '--family', 'logit', '--vcov', 'dyadic', '--dyad', 'i,j'];

interface Timing {
  seconds: number;
  peak_mb: number | null;
}

/** Runs a command once: wall seconds and peak resident memory. */
function timeOnce(cmd: string[], cwd = ROOT): Timing {
  const full = GNU_TIME ? [GNU_TIME, '-f', '%M', ...cmd] : cmd;
  const t0 = performance.now();
  const r = spawnSync(full[0], full.slice(1), { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed (exit ${r.status}):\n${r.stderr.slice(-2000)}`);
  const kb = GNU_TIME ? Number(r.stderr.trim().split('\n').pop()) : NaN;
  return { seconds, peak_mb: Number.isFinite(kb) ? Math.round(kb / 1024) : null };
}

/** The median run of `times` (by seconds). */
function median(cmd: string[], times: number, cwd = ROOT): Timing {
  const runs = Array.from({ length: times }, () => timeOnce(cmd, cwd)).sort((a, b) => a.seconds - b.seconds);
  return runs[times >> 1];
}

const tongban = (...a: string[]) => [process.execPath, BIN, ...a, ...(a[0] === '--help' ? [] : ['--quiet'])];
const results: ({ case: string; goal: string } & Timing)[] = [];
function bench(name: string, goal: string, run: () => Timing): void {
  if (only && !name.includes(only)) return;
  process.stderr.write(`bench: ${name} …\n`);
  const r = { case: name, goal, ...run() };
  results.push(r);
  console.log(JSON.stringify(r));
}

const work = mkdtempSync(join(tmpdir(), 'tongban-bench-'));
/** A simulated data set of `cities` cities with its dyad files (made once, not timed). */
function simulated(cities: number): string {
  const data = join(work, `sim${cities}`);
  if (!existsSync(join(work, `out${cities}`))) {
    process.stderr.write(`bench: simulating ${cities} cities and writing their dyads (not timed) …\n`);
    timeOnce(tongban('simulate', '--cities', String(cities), '--seed', '7', '--year', '2021', '--out', join(data, '2021')));
    timeOnce(tongban('run', '--data', data, '--year', '2021', '--out', join(work, `out${cities}`), '--dyads-csv'));
  }
  return join(work, `out${cities}`, `sim${cities}`, '2021');
}

try {
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ is missing: run npm run build first');
  bench('help', '<= 0.3 s', () => median(tongban('--help'), 5));
  const demoOut = join(work, 'demo');
  timeOnce(tongban('run', '--data', 'data/demo', '--year', '2021', '--out', demoOut));
  const demo = join(demoOut, 'demo', '2021');
  bench('fit national dyads.csv (55,278 dyads, logit, dyadic SEs, 7 covariates)', '<= 0.6 s', () => median(tongban(...FIT, '--data', join(demo, 'dyads.csv')), 5));
  bench('fit national dyads.parquet', '', () => median(tongban(...FIT, '--data', join(demo, 'dyads.parquet')), 5));
  bench('book run national (bench/book-14.yaml: clean, dyads, 14 models, all outputs)', '<= 2 s', () =>
    median(tongban('run', '--data', 'data/demo', '--year', '2021', '--spec', 'bench/book-14.yaml', '--out', join(work, 'book')), 3),
  );
  // the pipeline as it was when issue 9 set its goal (`npm run pipeline` was then one process:
  // both years with the 14-model book spec, the year comparison and the measures spec), and the
  // same steps as four commands one after the other
  bench('pipeline of issue 9 in one process (npm run pipeline -- --steps years,compare,measures --book-spec bench/book-14.yaml)', '<= 6 s', () => {
    const out = join(work, 'pipeline9-one');
    const cmd = [process.execPath, join(ROOT, 'dist', 'pipeline.js'), '--quiet', '--steps', 'years,compare,measures', '--book-spec', 'bench/book-14.yaml', '--out', out];
    const runs = Array.from({ length: 3 }, () => {
      rmSync(out, { recursive: true, force: true });
      return timeOnce(cmd);
    });
    return runs.sort((a, b) => a.seconds - b.seconds)[1];
  });
  bench('the same as 4 commands (2021 and 2022 runs of bench/book-14.yaml, compare-years, specs/measures.yaml)', '', () => {
    const out = join(work, 'pipeline9');
    const steps = [
      tongban('run', '--data', 'data/demo', '--year', '2021', '--spec', 'bench/book-14.yaml', '--out', out),
      tongban('run', '--data', 'data/demo', '--year', '2022', '--spec', 'bench/book-14.yaml', '--out', out),
      tongban('compare-years', '--data', 'data/demo', '--years', '2021,2022', '--spec', 'bench/book-14.yaml', '--out', out),
      tongban('run', '--data', 'data/demo', '--year', '2021', '--spec', 'specs/measures.yaml', '--out', join(out, 'measures')),
    ];
    const runs = Array.from({ length: 3 }, () => {
      rmSync(out, { recursive: true, force: true });
      const each = steps.map((cmd) => timeOnce(cmd));
      return { seconds: each.reduce((a, t) => a + t.seconds, 0), peak_mb: each.every((t) => t.peak_mb !== null) ? Math.max(...each.map((t) => t.peak_mb!)) : null };
    });
    return runs.sort((a, b) => a.seconds - b.seconds)[1];
  });
  bench('pipeline (npm run pipeline: 2021 and 2022 book runs with 200 DSP permutations each, compare-years, measures)', '<= 6 s + the permutations', () =>
    median([process.execPath, join(ROOT, 'dist', 'pipeline.js'), '--quiet'], 3),
  );
  // specs/multiverse.yaml with its permutation test left out, or with 200 draws
  const mvSpec = readFileSync(join(ROOT, 'specs', 'multiverse.yaml'), 'utf8');
  if (!/^ {2}curve_null: .*$/m.test(mvSpec)) throw new Error('specs/multiverse.yaml: no curve_null line to vary');
  const mvVariant = (name: string, line: string) => {
    const f = join(work, name);
    writeFileSync(f, mvSpec.replace(/^ {2}curve_null: .*$/m, line));
    return f;
  };
  bench('multiverse national (specs/multiverse.yaml without its permutation test: 108 specifications × 2 variances, with clean, dyads and report)', '108 with dyadic SEs <= 10 s', () =>
    median(tongban('run', '--data', 'data/demo', '--year', '2021', '--spec', mvVariant('mv.yaml', ''), '--out', join(work, 'multiverse')), 1),
  );
  bench('multiverse national, 256 specifications in 6 dimensions (bench/multiverse-256.yaml, dyadic SEs)', '<= 20 s', () =>
    median(tongban('run', '--data', 'data/demo', '--year', '2021', '--spec', 'bench/multiverse-256.yaml', '--out', join(work, 'multiverse256')), 1),
  );
  if (!quick || only.includes('null')) {
    bench('multiverse national with its permutation null, 200 draws (specs/multiverse.yaml: 108 specifications, 54 permutable, × 2 variances)', '<= 5 min', () =>
      timeOnce(tongban('run', '--data', 'data/demo', '--year', '2021', '--spec', mvVariant('mv-null.yaml', '  curve_null: { reps: 200, seed: 2021 }'), '--out', join(work, 'multiverse-null'))),
    );
  }
  bench('panel national (tongban panel --spec specs/panel.yaml: 106,512 pair-years, 3 models, report)', '', () =>
    median(tongban('panel', '--data', 'data/demo', '--years', '2021:2022', '--spec', 'specs/panel.yaml', '--out', join(work, 'panel')), 1),
  );
  if (!quick || only.includes('qap')) {
    const QAP = ['qap', '--data', join(demo, 'dyads.parquet'), '--formula', `coop ~ ${BOOK_PARTNER}`, '--family', 'logit', '--reps', '1000', '--seed', '1'];
    bench('qap national, Y permutation, 1,000 permutations (55,278 dyads, logit, 9 covariates)', '<= 30 s', () => timeOnce(tongban(...QAP, '--null', 'y')));
    bench('qap national, DSP, 1,000 permutations (55,278 dyads, logit, 9 covariates)', '<= 180 s', () => timeOnce(tongban(...QAP, '--null', 'dsp')));
  }
  if (!only || only.includes('fit') || only.includes('1000')) {
    const d = simulated(1000);
    const mb = (f: string) => `${Math.round(statSync(join(d, f)).size / 1e6)} MB`;
    bench(`fit 499,500 dyads from CSV (${mb('dyads.csv')})`, '<= 1.7 s, <= 400 MB', () => median(tongban(...FIT, '--data', join(d, 'dyads.csv')), 3));
    bench(`fit 499,500 dyads from Parquet (${mb('dyads.parquet')})`, 'faster than CSV', () => median(tongban(...FIT, '--data', join(d, 'dyads.parquet')), 3));
  }
  if (!quick && (!only || only.includes('county'))) {
    const county = join(work, 'county');
    bench('county book run end to end (2,846 cities, 4,048,435 dyads; simulate not timed)', '<= 45 s, <= 2 GB', () => {
      simulated(2846);
      return timeOnce(tongban('run', '--data', join(work, 'sim2846'), '--year', '2021', '--spec', 'bench/book-14.yaml', '--out', county));
    });
    // the county dyad files are made only for a case that runs (not for --only "panel county")
    bench('fit county dyads.parquet (4,048,435 dyads)', 'works', () => timeOnce(tongban(...FIT, '--data', join(simulated(2846), 'dyads.parquet'))));
    bench('fit county dyads.csv (4,048,435 dyads, ~2 GB)', 'works', () => timeOnce(tongban(...FIT, '--data', join(simulated(2846), 'dyads.csv'))));
  }
  if (!quick && (!only || 'panel county'.includes(only))) {
    bench('panel county (2,846 cities, 2019–2022: 15.8 M pair-years written as Parquet, cloglog hazard with dyadic SEs; bench/panel-county.yaml; simulate not timed)', '<= 2 min, <= 4 GB', () => {
      const data = join(work, 'sim2846');
      for (const y of ['2019', '2020', '2021', '2022']) {
        if (!existsSync(join(data, y))) timeOnce(tongban('simulate', '--cities', '2846', '--seed', '7', '--year', y, '--out', join(data, y)));
      }
      return timeOnce(tongban('panel', '--data', data, '--years', '2019:2022', '--spec', 'bench/panel-county.yaml', '--out', join(work, 'panel-county')));
    });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log('\n| case | seconds | peak MB | goal |\n|---|---|---|---|');
for (const r of results) console.log(`| ${r.case} | ${r.seconds.toFixed(2)} | ${r.peak_mb ?? ''} | ${r.goal} |`);
