/**
 * Benchmark child: clean a simulated year folder and build the dyad table in memory
 * (all columns of docs/contract.md §3). Prints one JSON line with seconds and peak memory.
 */
import { cleanYear } from '../src/data/clean.ts';
import { buildDyads } from '../src/data/dyads.ts';

const dir = process.argv[2];
const t0 = performance.now();
const data = cleanYear(dir);
const t1 = performance.now();
const { dyads } = buildDyads(data);
const t2 = performance.now();
console.log(
  JSON.stringify({
    bench: 'dyads',
    cities: data.ids.length,
    dyads: dyads.nrow,
    columns: dyads.names.length,
    clean_s: (t1 - t0) / 1000,
    build_s: (t2 - t1) / 1000,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }),
);
