#!/usr/bin/env node
// Compares two output trees (e.g. the demo outputs of main before and after a change) file by
// file and prints every difference; exit 1 if any. For "no number changes" checks:
//   node scripts/compare-outputs.mjs /tmp/outputs-before outputs
// manifest.json: run times and output hashes are not compared (they follow the files, which are).
// Fit JSON fields listed with --ignore-field (repeatable) are dropped before comparing,
// for fields a change adds on purpose (say so in CHANGELOG).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
const ignore = new Set();
const dirs = [];
for (let k = 0; k < args.length; k++) {
  if (args[k] === '--ignore-field') ignore.add(args[++k]);
  else dirs.push(args[k]);
}
if (dirs.length !== 2) {
  console.error('usage: compare-outputs.mjs <before> <after> [--ignore-field name]...');
  process.exit(2);
}
const list = (d) => {
  const out = [];
  const walk = (p) => {
    for (const e of readdirSync(p)) {
      const q = join(p, e);
      if (statSync(q).isDirectory()) walk(q);
      else out.push(relative(d, q));
    }
  };
  walk(d);
  return out.filter((f) => !f.endsWith('test-results.json')).sort();
};
const [a, b] = dirs;
const fa = list(a);
const fb = new Set(list(b));
let diffs = 0;
const say = (m) => {
  diffs++;
  console.log(m);
};
for (const f of fa) if (!fb.has(f)) say(`only in ${a}: ${f}`);
for (const f of fb) if (!fa.includes(f)) say(`only in ${b}: ${f}`);
const normalise = (f, text) => {
  if (f.endsWith('manifest.json')) {
    const m = JSON.parse(text);
    delete m.started_at;
    delete m.finished_at;
    m.outputs = m.outputs.map((o) => o.file);
    return JSON.stringify(m);
  }
  if (ignore.size && f.includes('fits/') && f.endsWith('.json')) {
    const j = JSON.parse(text);
    for (const k of ignore) delete j[k];
    return JSON.stringify(j);
  }
  return text;
};
for (const f of fa) {
  if (!fb.has(f)) continue;
  // JSON is compared as text (normalised); other files byte for byte, as buffers (a county
  // dyads.csv is longer than the longest string V8 allows)
  const json = f.endsWith('.json');
  const same = json
    ? normalise(f, readFileSync(join(a, f), 'utf8')) === normalise(f, readFileSync(join(b, f), 'utf8'))
    : readFileSync(join(a, f)).equals(readFileSync(join(b, f)));
  if (!same) say(`differs: ${f}`);
}
console.log(diffs ? `${diffs} difference(s)` : `identical: ${fa.length} files`);
process.exit(diffs ? 1 : 0);
