/**
 * `tongban run`: the whole job for one data set and year, into <out>/<dataset>/<year>/:
 * clean → dyads → (with a spec) derived variables, samples, every model, the report.
 * Everything is computed before anything is written, and written at once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CleaningReport } from './data/clean.ts';
import { computeDyads, dyadsStageFiles, type SampleInfo } from './data/stages.ts';
import { filterRows, numColumn, setColumn, type Table } from './data/table.ts';
import { compileRestricted } from './expr/restricted.ts';
import { fitModel, type FitResult } from './fit.ts';
import { parseFormula, type Expr } from './formula/parse.ts';
import { describe, type DescriptiveRow } from './report/descriptives.ts';
import { renderReport } from './report/render.ts';
import { loadSpec, type LoadedSpec, type ResolvedModel, type Spec } from './spec/spec.ts';
import { InputError, UsageError, type Problem } from './util/errors.ts';
import { writeOutputsAtomically } from './util/output.ts';
import { silentReporter, type Reporter } from './util/progress.ts';

export const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;

export interface RunOptions {
  data: string;
  year: number;
  out: string;
  spec?: string;
  provinces?: string[];
}

/** What the report stage needs besides the fits; saved as fits/_run.json. */
export interface RunRecord {
  dataset: string;
  year: number;
  spec: {
    file: string;
    sha256: string;
    name: string;
    title: string | undefined;
    language: Spec['language'];
    stars: Spec['stars'];
    digits: number;
    groups: Spec['groups'];
    levels: { id: string; label: Spec['levels'][number]['label']; models: string[] }[];
  };
  models: ResolvedModel[];
  descriptives: DescriptiveRow[];
  cleaning: CleaningReport & { sample: SampleInfo };
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function columnsOf(e: Expr, out: Set<string>): void {
  switch (e.type) {
    case 'var':
      out.add(e.name);
      return;
    case 'call':
      e.args.forEach((a) => columnsOf(a, out));
      return;
    case 'bin':
      columnsOf(e.left, out);
      columnsOf(e.right, out);
      return;
    case 'unary':
      columnsOf(e.arg, out);
      return;
    case 'paren':
      columnsOf(e.inner, out);
      return;
    case 'num':
      return;
  }
}

/** Column names a formula reads. */
export function formulaColumns(formula: string): string[] {
  const f = parseFormula(formula);
  const out = new Set<string>();
  f.variables.forEach((v) => columnsOf(v, out));
  f.parts.forEach((p) => p.offsets.forEach((o) => columnsOf(o, out)));
  return [...out];
}

/** An error at a field of the spec file: names its line and the field. */
function specError(loaded: LoadedSpec, path: string[], value: string, expected: string): InputError {
  return new InputError([{ file: loaded.file, row: loaded.lineOf(path), rowLabel: 'line', column: path.join('.'), value, expected }], `invalid spec ${loaded.file}`);
}

/** Runs f; a UsageError it throws becomes an error at that field of the spec. */
async function atField<T>(loaded: LoadedSpec, path: string[], value: string, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UsageError) throw specError(loaded, path, value, e.message);
    throw e;
  }
}

async function applyDerived(loaded: LoadedSpec, tables: Record<'cities' | 'dyads', Table>): Promise<void> {
  for (const which of ['cities', 'dyads'] as const) {
    for (const [name, expr] of Object.entries(loaded.spec.derived[which] ?? {})) {
      await atField(loaded, ['derived', which, name], expr, async () => {
        const c = await compileRestricted(expr, `derived variable ${name}`);
        setColumn(tables[which], name, numColumn(c.evaluate(tables[which])));
      });
    }
  }
}

/**
 * The samples the models use. Every sample's expression is checked, but a sample no model
 * uses is not built: with millions of dyads every copy counts.
 */
async function buildSamples(loaded: LoadedSpec, tables: Record<'cities' | 'dyads', Table>): Promise<Map<string, Table>> {
  const out = new Map<string, Table>();
  const used = new Set(loaded.models.map((m) => m.sample));
  for (const [id, s] of Object.entries(loaded.spec.samples)) {
    const path = ['samples', id];
    const expr = s.subset;
    const subset = expr ? await atField(loaded, [...path, 'subset'], expr, () => compileRestricted(expr, `sample ${id}`)) : null;
    if (!used.has(id)) continue;
    let t = tables[s.table];
    if (s.provinces) {
      const want = new Set(s.provinces);
      const cols = s.table === 'cities' ? ['province'] : ['province_i', 'province_j'];
      const known = new Set<string>();
      const keep = new Uint8Array(t.nrow).fill(1);
      for (const name of cols) {
        const c = t.columns.get(name);
        if (!c || c.kind !== 'string') throw new Error(`the ${s.table} table has no text column ${name}`);
        c.levels.forEach((l) => known.add(l));
        for (let r = 0; r < t.nrow; r++) if (!want.has(c.levels[c.codes[r]])) keep[r] = 0;
      }
      const unknown = s.provinces.filter((p) => !known.has(p));
      if (unknown.length) {
        throw specError(loaded, [...path, 'provinces'], unknown.join(', '), `provinces of the data (${[...known].join(', ')})`);
      }
      t = filterRows(t, keep);
    }
    if (subset && expr) {
      const rows = t;
      const v = await atField(loaded, [...path, 'subset'], expr, () => subset.evaluate(rows));
      t = filterRows(t, Uint8Array.from(v, (x) => (!Number.isNaN(x) && x !== 0 ? 1 : 0)));
    }
    out.set(id, t);
  }
  return out;
}

/** Every model's variables exist in its sample's table: checked before any fitting. */
function checkModels(loaded: LoadedSpec, samples: Map<string, Table>): void {
  const problems: Problem[] = [];
  for (const m of loaded.models) {
    const t = samples.get(m.sample)!;
    let cols: string[];
    try {
      cols = formulaColumns(m.formula);
    } catch (e) {
      problems.push({ file: loaded.file, row: m.line, rowLabel: 'line', column: `${m.id}.formula`, value: m.formula, expected: (e as Error).message });
      continue;
    }
    const table = loaded.spec.samples[m.sample].table;
    for (const c of [...cols, ...(m.cluster ?? []), ...(m.dyad ?? [])]) {
      if (!t.columns.has(c)) {
        problems.push({
          file: loaded.file,
          row: m.line,
          rowLabel: 'line',
          column: `${m.id}`,
          value: c,
          expected: `a variable of the ${table} table or a derived variable (unknown variable '${c}'; see docs/spec-files.md for the columns)`,
        });
      }
    }
    if (t.nrow === 0) problems.push({ file: loaded.file, row: m.line, rowLabel: 'line', column: `${m.id}.sample`, value: m.sample, expected: 'a sample with rows (this one is empty)' });
  }
  if (problems.length) throw new InputError(problems, `invalid spec ${loaded.file}`);
}

export interface YearResult {
  outDir: string;
  record?: RunRecord;
  fits?: Map<string, FitResult>;
}

export async function runYear(o: RunOptions, rep: Reporter = silentReporter): Promise<YearResult> {
  const startedAt = new Date().toISOString();
  const dataset = basename(resolve(o.data));
  const input = join(o.data, String(o.year));
  const outDir = join(o.out, dataset, String(o.year));
  const loaded = o.spec ? loadSpec(o.spec) : null;
  const stage = computeDyads(input, { provinces: o.provinces, monadic: loaded?.spec.monadic }, rep);
  const { data, dyads, sample, cities } = stage;
  const files = dyadsStageFiles(stage);
  const cleaning = { ...data.report, sample };
  if (!loaded) {
    writeOutputsAtomically(outDir, files);
    rep.step(`run: ${sample.cities} cities, ${sample.dyads} dyads -> ${outDir}`);
    return { outDir };
  }

  const tables = { cities, dyads: dyads.dyads };
  await applyDerived(loaded, tables);
  const samples = await buildSamples(loaded, tables);
  checkModels(loaded, samples);

  const fits = new Map<string, FitResult>();
  const bar = rep.bar('fit', loaded.models.length);
  try {
    for (const m of loaded.models) {
      const t0 = performance.now();
      let fit;
      try {
        fit = fitModel(samples.get(m.sample)!, { formula: m.formula, family: m.family, vcov: m.vcov, cluster: m.cluster, dyad: m.dyad, ssc: m.ssc, fixPsd: m.fixPsd });
      } catch (e) {
        if (e instanceof UsageError) throw new UsageError(`${m.where} (model ${m.id}): ${e.message}`);
        throw e;
      }
      fits.set(m.id, fit.result);
      files.set(`fits/${m.id}.json`, JSON.stringify(fit.result, null, 2) + '\n');
      bar.tick(`${m.id} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    bar.stop();
  }

  // descriptive statistics of every variable each sample's models use
  const descriptives: DescriptiveRow[] = [];
  for (const sid of Object.keys(loaded.spec.samples)) {
    const ms = loaded.models.filter((m) => m.sample === sid);
    if (!ms.length) continue;
    const vars = [...new Set(ms.flatMap((m) => formulaColumns(m.formula)))];
    descriptives.push(...describe(sid, samples.get(sid)!, vars));
  }
  const spec = loaded.spec;
  const record: RunRecord = {
    dataset,
    year: o.year,
    spec: {
      file: basename(loaded.file),
      sha256: sha256(loaded.text),
      name: spec.name,
      title: spec.title,
      language: spec.language,
      stars: spec.stars,
      digits: spec.digits,
      groups: spec.groups,
      levels: spec.levels.map((l) => ({ id: l.id, label: l.label, models: l.models.map((m) => m.id) })),
    },
    models: loaded.models.map((m) => ({ ...m, where: `${basename(loaded.file)}:${m.line}` })),
    descriptives,
    cleaning,
  };
  files.set('fits/_run.json', JSON.stringify(record, null, 2) + '\n');
  rep.step('report: tables, plots, report.html');
  for (const [name, content] of await renderReport(record, fits)) files.set(name, content);

  // manifest: inputs and outputs by SHA-256 (hashed as they are written), versions, times
  const inputs = ['cities.csv', 'agreements.csv', 'flows.csv', 'regions.csv']
    .map((f) => join(input, f))
    .filter(existsSync)
    .map((p) => ({ file: p, sha256: sha256(readFileSync(p)) }));
  const manifest = (hashes: Map<string, string>) =>
    JSON.stringify(
      {
        tongban_version: VERSION,
        node_version: process.version,
        dataset,
        year: o.year,
        data_dir: o.data,
        spec: { file: o.spec, sha256: record.spec.sha256 },
        provinces: o.provinces ?? null,
        inputs,
        outputs: [...hashes].map(([file, h]) => ({ file, sha256: h })),
        seeds: {
          glm_warm_start_subsample: '0x2545f491 (xorshift32; fixed, so fits are deterministic)',
          demo_data: dataset === 'demo' ? 20211231 : null,
        },
        started_at: startedAt,
        finished_at: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n';
  writeOutputsAtomically(outDir, files, { replaceDirs: ['fits', 'tables', 'plots'], manifest });
  rep.step(`run: ${fits.size} models, report -> ${join(outDir, 'report.html')}`);
  return { outDir, record, fits };
}

/** Reads the fits and run record that `tongban run` saved in a fits folder. */
export function readFits(dir: string): { record: RunRecord; fits: Map<string, FitResult> } {
  const recordPath = join(dir, '_run.json');
  if (!existsSync(recordPath)) throw new UsageError(`${dir} holds no _run.json: point --fits at the fits/ folder that tongban run wrote`);
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord;
  const fits = new Map<string, FitResult>();
  const present = new Set(readdirSync(dir));
  for (const m of record.models) {
    if (!present.has(`${m.id}.json`)) throw new UsageError(`${dir}: the fit of model ${m.id} (${m.id}.json) is missing`);
    fits.set(m.id, JSON.parse(readFileSync(join(dir, `${m.id}.json`), 'utf8')) as FitResult);
  }
  return { record, fits };
}
