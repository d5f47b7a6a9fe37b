/**
 * Stage 3, models: the spec's derived variables, its samples, and every model fitted on
 * its sample, with the descriptive statistics of the variables the models use. Every
 * model is checked against its sample's columns before the first fit.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Table } from '../data/table.ts';
import { dropColumns, filterRows, numColumn, selectColumns, setColumn } from '../data/table.ts';
import { compileRestricted, subsetRows } from '../expr/restricted.ts';
import { FitCache, fitModel } from '../fit/fit-model.ts';
import { averageMarginalEffects, predictionsAt, type EffectRow, type Prediction } from '../inference/effects.ts';
import { waldTest, type WaldTest } from '../inference/wald-test.ts';
import { qap, type QapResult } from '../inference/qap.ts';
import { correlations, vifs, type Correlations, type VifRow } from '../inference/collinearity.ts';
import type { Design } from '../formula/design.ts';
import { multiverseColumns, multiverseSamples } from './multiverse.ts';
import type { ModelFit } from '../fit/types.ts';
import type { Label } from '../specfile/schema.ts';
import type { FitResult } from '../fit/types.ts';
import { formulaColumns } from '../formula/parse.ts';
import { describe, type DescriptiveRow } from '../report/descriptives.ts';
import type { LoadedSpec, ResolvedModel } from '../specfile/load.ts';
import { varianceIds } from '../vcov/registry.ts';
import { InputError, UsageError, type Problem } from '../util/errors.ts';
import { didYouMean } from '../util/suggest.ts';
import { collectAfter, GC_MIN_ROWS } from '../util/gc.ts';
import { dropIdleShared } from '../linalg/parallel.ts';
import type { Reporter } from '../util/progress.ts';

/** The tables a spec's samples draw on: a year's cities and dyads, or (tongban panel --spec) the panel's tables. */
export type StageTables = Partial<Record<'cities' | 'dyads' | 'pair_years' | 'pair_years_stacked', Table>>;
const PAIR_TABLES = ['dyads', 'pair_years', 'pair_years_stacked'] as const;

/** Adds the spec's derived variables to the city and dyad tables (in place). */
async function applyDerived(loaded: LoadedSpec, tables: StageTables): Promise<void> {
  // derived dyad variables apply to every pair table there is (a year's dyads, the panel's tables)
  const targets: [string, 'cities' | 'dyads', Table][] = [];
  if (tables.cities) targets.push(['cities', 'cities', tables.cities]);
  for (const k of PAIR_TABLES) if (tables[k]) targets.push([k, 'dyads', tables[k]!]);
  for (const [label, which, table] of targets) {
    for (const [name, expr] of Object.entries(loaded.spec.derived[which] ?? {})) {
      if (table.columns.has(name)) {
        throw loaded.error(['derived', which, name], name, `a new name: '${name}' is already a column of the ${label} table, which a derived variable may not replace (choose another name)`);
      }
      await loaded.atField(['derived', which, name], expr, async () => {
        const c = await compileRestricted(expr, `derived variable ${name}`);
        setColumn(table, name, numColumn(c.evaluate(table)));
      });
    }
  }
}

/**
 * The columns each sample's models read once the samples exist (by sample id): formulas,
 * cluster and dyad columns, and the variables of their levels' other models (a variable a model
 * leaves out because it is constant in its sample is noted under the table); a multiverse's
 * variables and the city columns of its variances; i and j for QAP. A subset copies only these.
 */
function sampleColumns(loaded: LoadedSpec): Map<string, Set<string>> {
  const mv = loaded.spec.multiverse;
  const needed = new Map<string, Set<string>>();
  const columnsOf = (formula: string) => {
    try {
      return formulaColumns(formula);
    } catch {
      return []; // checkModels reports the formula
    }
  };
  for (const m of loaded.models) {
    const cols = needed.get(m.sample) ?? new Set<string>();
    const level = loaded.models.filter((x) => x.level === m.level).flatMap((x) => columnsOf(x.formula));
    for (const c of [...columnsOf(m.formula), ...level, ...(m.cluster ?? []), ...(m.dyad ?? []), ...(m.qap ? ['i', 'j'] : [])]) cols.add(c);
    needed.set(m.sample, cols);
  }
  if (mv) {
    for (const s of multiverseSamples(mv)) {
      const cols = needed.get(s) ?? new Set<string>();
      for (const c of [...multiverseColumns(mv).flatMap((v) => safeColumns(mv.outcome, v)), 'i', 'j']) cols.add(c);
      needed.set(s, cols);
    }
  }
  return needed;
}

/**
 * The columns of a stage table (`dyads`, `cities`, …) that the models and the multiverse read
 * after `prepareModels`, through any sample drawn from it: the others may be let go (at county
 * scale the dyad table has 40 columns of 32 MB, of which the book's models read 15).
 */
export function columnsRead(loaded: LoadedSpec, table: string): Set<string> {
  const out = new Set<string>();
  for (const [id, cols] of sampleColumns(loaded)) if (loaded.spec.samples[id]?.table === table) for (const c of cols) out.add(c);
  return out;
}

/**
 * Every column of a stage table (`dyads`, …) that the models stage reads: columnsRead's, the
 * inputs of the samples' subsets and of the derived variables, and the derived variables' own
 * names (a name already taken is an error, judged on the table). Null when an expression does
 * not compile: the stage reports it when it runs. The dyads stage builds in memory only these
 * of the pair columns it can defer (data/pairwise.ts).
 */
export async function columnsUsed(loaded: LoadedSpec, table: string): Promise<Set<string> | null> {
  const out = columnsRead(loaded, table);
  const expressions = Object.values(loaded.spec.samples)
    .filter((s) => s.table === table && s.subset)
    .map((s) => s.subset!);
  const derivedOn = table === 'cities' ? 'cities' : PAIR_TABLES.includes(table as (typeof PAIR_TABLES)[number]) ? 'dyads' : null;
  if (derivedOn) {
    for (const [name, expr] of Object.entries(loaded.spec.derived[derivedOn] ?? {})) {
      out.add(name);
      expressions.push(expr);
    }
  }
  try {
    for (const e of expressions) for (const c of (await compileRestricted(e)).symbols) out.add(c);
  } catch (e) {
    if (e instanceof UsageError) return null;
    throw e;
  }
  return out;
}

/**
 * The samples the models use. Every sample's expression is checked, but a sample no model
 * uses is not built: with millions of dyads every copy counts.
 */
async function buildSamples(loaded: LoadedSpec, tables: StageTables): Promise<Map<string, Table>> {
  const out = new Map<string, Table>();
  const used = new Set(loaded.models.map((m) => m.sample));
  const mv = loaded.spec.multiverse;
  if (mv) for (const s of multiverseSamples(mv)) used.add(s);
  const needed = sampleColumns(loaded);
  for (const [id, s] of Object.entries(loaded.spec.samples)) {
    const path = ['samples', id];
    const expr = s.subset;
    const subset = expr ? await loaded.atField([...path, 'subset'], expr, () => compileRestricted(expr, `sample ${id}`)) : null;
    if (!used.has(id)) continue;
    const full = tables[s.table];
    if (!full) {
      throw loaded.error(
        [...path, 'table'],
        s.table,
        s.table.startsWith('pair_years') ? 'cities or dyads: the pair-year tables exist in `tongban panel --spec` runs only' : 'pair_years or pair_years_stacked: a `tongban panel --spec` run has the panel tables only',
      );
    }
    // rows kept by the provinces filter and the subset, both judged on the full table
    let keep: Uint8Array | null = null;
    if (s.provinces) {
      const want = new Set(s.provinces);
      const cols = s.table === 'cities' ? ['province'] : ['province_i', 'province_j'];
      const known = new Set<string>();
      keep = new Uint8Array(full.nrow).fill(1);
      for (const name of cols) {
        const c = full.columns.get(name);
        if (!c || c.kind !== 'string') throw new Error(`the ${s.table} table has no text column ${name}`);
        c.levels.forEach((l) => known.add(l));
        for (let r = 0; r < full.nrow; r++) if (!want.has(c.levels[c.codes[r]])) keep[r] = 0;
      }
      const unknown = s.provinces.filter((p) => !known.has(p));
      if (unknown.length) throw loaded.error([...path, 'provinces'], unknown.join(', '), `provinces of the data (${[...known].join(', ')})`);
    }
    if (subset && expr) {
      const rows = await loaded.atField([...path, 'subset'], expr, () => subsetRows(subset.evaluate(full)));
      if (keep) for (let r = 0; r < full.nrow; r++) keep[r] &= rows[r];
      else keep = rows;
    }
    // a subset copies only the columns the sample's models read
    const t = keep ? filterRows(selectColumns(full, needed.get(id) ?? []), keep) : full;
    out.set(id, t);
  }
  return out;
}

/** The columns a term reads (an unparsable term reads none here: the fit says why). */
function safeColumns(outcome: string, term: string): string[] {
  try {
    return formulaColumns(`${outcome} ~ ${term}`);
  } catch {
    return [];
  }
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
          expected: `a variable of the ${table} table or a derived variable (unknown variable '${c}'${didYouMean(c, t.names).replace(/^ \((.*)\)$/, '; $1')}; the tables' columns are listed in docs/contract.md §3)`,
        });
      }
    }
    if (t.nrow === 0) problems.push({ file: loaded.file, row: m.line, rowLabel: 'line', column: `${m.id}.sample`, value: m.sample, expected: 'a sample with rows (this one is empty)' });
  }
  if (problems.length) throw new InputError(problems, `invalid spec ${loaded.file}`);
}

export interface ModelsStageResult {
  /** by model id, in spec order */
  fits: Map<string, FitResult>;
  /** average marginal effects of the models that ask for them (effects: [ame]), by model id */
  effects: Map<string, EffectRow[]>;
  /** the spec's named Wald tests, by model id */
  tests: Map<string, (WaldTest & { label: Label })[]>;
  /** predicted outcomes at values of a variable, by model id */
  predictions: Map<string, Prediction[]>;
  /** QAP p-values of the models that ask for them (qap:), by model id */
  qap: Map<string, QapResult>;
  /** VIFs of each one-part model's covariates, by model id */
  vif: Map<string, VifRow[]>;
  /** the correlations of each level's main model's variables on its fitted rows, by level id */
  correlations: Map<string, Correlations & { model: string }>;
  /** variables of its level a model leaves out that take one value in its sample (the value), by model id: the tables say why their cells are blank */
  constantOmitted: Map<string, Record<string, number>>;
  descriptives: DescriptiveRow[];
}

/**
 * The models stage's preparation: the spec's derived variables are added to the stage
 * tables (in place), the samples the models use are built, and every model is checked
 * against its sample. Returns the samples.
 */
export async function prepareModels(loaded: LoadedSpec, tables: StageTables): Promise<Map<string, Table>> {
  await applyDerived(loaded, tables);
  const samples = await buildSamples(loaded, tables);
  checkModels(loaded, samples);
  return samples;
}

/** `work()`, a spec error in it worded as model m's (and of its `part`: predict, tests, effects). */
function inModel<T>(m: ResolvedModel, part: string | null, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${m.where} (model ${m.id}${part ? `, ${part}` : ''}): ${e.message}`);
    throw e;
  }
}

/**
 * In: the loaded spec and the samples of `prepareModels`. Out: every model's fit and the
 * descriptives of the variables each sample's models use.
 */
export async function fitModels(loaded: LoadedSpec, samples: Map<string, Table>, rep: Reporter, o: { releaseColumns?: boolean } = {}): Promise<ModelsStageResult> {
  // what the tables' columns are needed for besides the fits, computed first: with
  // releaseColumns a table loses its number columns once its last model has its design
  const descriptives: DescriptiveRow[] = [];
  for (const sid of Object.keys(loaded.spec.samples)) {
    const ms = loaded.models.filter((m) => m.sample === sid);
    if (!ms.length) continue;
    const vars = [...new Set(ms.flatMap((m) => formulaColumns(m.formula)))];
    descriptives.push(...describe(sid, samples.get(sid)!, vars));
  }
  const constantOmitted = constantsLeftOut(loaded, samples);
  // each level's main model (else its first): the correlations of its variables on its fitted rows
  const correlationModels = new Map<string, string>();
  for (const level of loaded.spec.levels) {
    const m = loaded.models.find((x) => x.level === level.id && x.main) ?? loaded.models.find((x) => x.level === level.id);
    if (m && !m.formula.includes('|')) correlationModels.set(m.id, level.id);
  }
  const correlationsOf = new Map<string, Correlations & { model: string }>();
  const correlate = (m: ResolvedModel, rows: Int32Array) => correlationsOf.set(m.id, { model: m.id, ...correlations(samples.get(m.sample)!, rows, formulaColumns(m.formula)) });
  // the model after whose design a table's number columns can go: the last fitted on it, when
  // neither it (effects, predictions) nor a QAP model (permutations after the loop) reads the table after its fit
  const lastOn = new Map<Table, number>();
  loaded.models.forEach((m, k) => lastOn.set(samples.get(m.sample)!, k));
  for (const m of loaded.models) if (m.qap) lastOn.delete(samples.get(m.sample)!);
  const releaseAt = (m: ResolvedModel, k: number) => o.releaseColumns === true && lastOn.get(samples.get(m.sample)!) === k && !m.effects?.length && !m.predict?.length;

  const fits = new Map<string, FitResult>();
  const effects = new Map<string, EffectRow[]>();
  const tests = new Map<string, (WaldTest & { label: Label })[]>();
  const predictions = new Map<string, Prediction[]>();
  const qapResults = new Map<string, QapResult>();
  const forQap: [ResolvedModel, ModelFit][] = [];
  const vif = new Map<string, VifRow[]>();
  const cache = new FitCache();
  // each model under the id columns its variance reads: the ones fitModel asks its design for
  const idsOf = (m: ResolvedModel) => varianceIds({ type: m.vcov, cluster: m.cluster, dyad: m.dyad });
  for (const m of loaded.models) cache.expect(samples.get(m.sample)!, m.formula, undefined, idsOf(m), m.family);
  const bar = rep.bar('fit', loaded.models.length);
  let lastRows = 0;
  // one model, synchronously: its design and vectors are unreachable once it returns (a frame
  // suspended at the await below would keep the last ones alive: +0.36 GB at county scale)
  const fitOne = (k: number, m: ResolvedModel): void => {
    const t0 = performance.now();
    // After a county-scale model: its scratch vectors, and its design unless a later model
    // shares it, are collected before the next model allocates its own. They live in shared
    // memory, which V8 does not count towards starting a collection (linalg/parallel.ts);
    // without this the county book run peaked at 2.0 GB instead of 1.7 (~50 ms a collection).
    if (lastRows >= GC_MIN_ROWS) {
      dropIdleShared();
      collectAfter(lastRows);
    }
    const table = samples.get(m.sample)!;
    const fit = inModel(m, null, () => {
      if (releaseAt(m, k)) {
        // the design built here, one more announced use, so that fitModel finds it in the cache
        const ids = idsOf(m);
        cache.expect(table, m.formula, undefined, ids);
        const design = cache.design(table, m.formula, undefined, ids);
        if (correlationModels.has(m.id)) correlate(m, design.rows);
        releaseNumberColumns(table, ids, design);
      }
      return fitModel(table, { formula: m.formula, family: m.family, vcov: m.vcov, cluster: m.cluster, dyad: m.dyad, ssc: m.ssc, fixPsd: m.fixPsd }, cache);
    });
    fits.set(m.id, fit.result);
    lastRows = fit.design.n;
    if (correlationModels.has(m.id) && !correlationsOf.has(m.id)) correlate(m, fit.design.rows);
    if (fit.design.parts.length === 1) vif.set(m.id, vifs(fit.design.parts[0], fit.design.n));
    if (m.predict?.length) predictions.set(m.id, inModel(m, 'predict', () => m.predict!.flatMap((q) => predictionsAt(fit, q.variable, q.values, { atmeans: q.atmeans }))));
    if (m.tests?.length) tests.set(m.id, inModel(m, 'tests', () => m.tests!.map((t) => ({ ...waldTest(fit, t.hypothesis), label: t.label }))));
    if (m.effects?.includes('ame')) {
      effects.set(
        m.id,
        inModel(m, 'effects', () => {
          // a binary variable the model does not use (a sample without it) has no effect to report
          const used = new Set(formulaColumns(m.formula));
          return averageMarginalEffects(fit, { binary: m.binary?.filter((b) => used.has(b)) });
        }),
      );
    }
    if (m.qap) forQap.push([m, fit]);
    bar.tick(`${m.id} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  };
  try {
    for (const [k, m] of loaded.models.entries()) {
      fitOne(k, m);
      // the event loop gets a turn between models: a Ctrl-C (or SIGTERM) stops the run after the
      // model being fitted, not after the last one (the signal handlers run only there)
      await nextTurn();
    }
  } finally {
    bar.stop();
  }
  // each model's warnings also on stderr (after the bar, which a line would break): they are in
  // the tables' notes and the fit files, but a run from a shell should say so where it runs
  for (const [id, fit] of fits) for (const w of fit.warnings) rep.warn(`model ${id}: ${w}`);
  // permutation inference after the fits (it takes longest), one progress bar per model
  for (const [m, fit] of forQap) {
    const q = m.qap!;
    const qbar = rep.bar(`QAP ${m.id} (${q.null === 'dsp' ? 'DSP' : 'Y'}, ${q.reps} permutations)`, 10);
    let shown = 0;
    try {
      qapResults.set(
        m.id,
        await qap(fit, {
          ...q,
          dyad: m.dyad ?? ['i', 'j'],
          progress: (done, total) => {
            for (; shown < Math.floor((10 * done) / total); shown++) qbar.tick(`${done}/${total}`);
          },
        }),
      );
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`${m.where} (model ${m.id}, qap): ${e.message}`);
      throw e;
    } finally {
      qbar.stop();
    }
  }

  // in level order
  const correlationsByLevel = new Map<string, Correlations & { model: string }>();
  for (const [id, level] of correlationModels) correlationsByLevel.set(level, correlationsOf.get(id)!);
  return { fits, effects, tests, predictions, qap: qapResults, vif, correlations: correlationsByLevel, descriptives, constantOmitted };
}

/**
 * Drops a table's number columns other than `keep` (in place), and the design's own view of its
 * variables (the same arrays when no row was dropped; marginal effects read them, so a model
 * with effects or predictions never gets here): the design matrix is then the only copy.
 */
function releaseNumberColumns(t: Table, keep: string[], design: Design): void {
  dropColumns(
    t,
    t.names.filter((name) => t.columns.get(name)!.kind === 'number' && !keep.includes(name)),
  );
  Object.defineProperty(design, 'vars', {
    get() {
      throw new Error("internal: the design's variables were released after its table's last model (fitModels' releaseColumns)");
    },
  });
}

/** Variables of its level a model leaves out that take one value in its sample (the value), by model id: the tables say why their cells are blank. */
function constantsLeftOut(loaded: LoadedSpec, samples: Map<string, Table>): Map<string, Record<string, number>> {
  const constantOmitted = new Map<string, Record<string, number>>();
  for (const level of loaded.spec.levels) {
    const ms = loaded.models.filter((x) => x.level === level.id);
    const used = ms.map((m) => new Set(formulaColumns(m.formula)));
    const all = new Set(used.flatMap((u) => [...u]));
    ms.forEach((m, k) => {
      const t = samples.get(m.sample)!;
      const found: Record<string, number> = {};
      for (const v of all) {
        const c = t.columns.get(v);
        if (used[k].has(v) || !c || c.kind !== 'number' || t.nrow === 0) continue;
        const x = c.values;
        let value = NaN;
        let constant = true;
        for (let r = 0; r < t.nrow && constant; r++) {
          if (Number.isNaN(x[r])) continue;
          if (Number.isNaN(value)) value = x[r];
          else constant = x[r] === value;
        }
        if (constant && !Number.isNaN(value)) found[v] = value;
      }
      if (Object.keys(found).length) constantOmitted.set(m.id, found);
    });
  }
  return constantOmitted;
}
