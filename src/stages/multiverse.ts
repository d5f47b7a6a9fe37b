/**
 * A multiverse (specification curve; Simonsohn, Simmons & Nelson 2020): the spec's base model
 * with every combination of its choice dimensions, each fitted, and for each the average
 * marginal effect of a one-standard-deviation change in the variable of interest (comparable
 * across logit and probit and across measures in different units) with its delta-method SE
 * under each variance choice. Variance choices do not make new points: they change only the
 * intervals. Every combination is checked before any fit; one that makes the variable of
 * interest constant or collinear, or that fails to fit, is skipped with its reason.
 */
import type { Table } from '../data/table.ts';
import { availableParallelism } from 'node:os';
import type { FamilyName } from '../fit/families.ts';
import type { LoadedSpec } from '../specfile/load.ts';
import type { Multiverse } from '../specfile/schema.ts';
import type { Reporter } from '../util/progress.ts';
import { startWorker, threadsAllowed } from '../util/workers.ts';
import type { VcovType } from '../vcov/registry.ts';
import { curveNull } from '../inference/curve-null.ts';
import { networkOfRows } from '../inference/qap.ts';
import { UsageError } from '../util/errors.ts';
import { evaluateSpecs, type Outcome, type PlanItem } from './multiverse-fit.ts';
import type { MultiverseResult, MultiverseRow } from '../report/run-record.ts';

export type { MultiverseResult, MultiverseRow };

const SETTINGS = new Set(['sample', 'family', 'vcov']);
const altText = (a: string | string[]) => (typeof a === 'string' ? a : a.length ? a.join(' + ') : 'none');
const altTerms = (a: string | string[]) => (typeof a === 'string' ? [a] : a);

/** The product of the dimensions (vcov last, so a specification's variance choices are adjacent), minus exclusions. */
function expand(mv: Multiverse): { combos: Record<string, string | string[]>[]; excluded: number } {
  const names = Object.keys(mv.dimensions).filter((d) => d !== 'vcov');
  if (mv.dimensions.vcov) names.push('vcov');
  let combos: Record<string, string | string[]>[] = [{}];
  for (const d of names) combos = combos.flatMap((c) => mv.dimensions[d].map((a) => ({ ...c, [d]: a })));
  const matches = (c: Record<string, string | string[]>, ex: Record<string, string | string[]>) => Object.entries(ex).every(([d, a]) => altText(c[d] ?? '') === altText(a));
  const kept = combos.filter((c) => !mv.exclude.some((ex) => matches(c, ex)));
  return { combos: kept, excluded: combos.length - kept.length };
}

/** The multiverse's samples (the base one and a `sample` dimension's), for the models stage to build. */
export function multiverseSamples(mv: Multiverse): string[] {
  return [...new Set([mv.sample, ...((mv.dimensions.sample ?? []) as string[])])];
}

/** Every variable a multiverse reads (for the samples' columns). */
export function multiverseColumns(mv: Multiverse): string[] {
  const vars = [mv.outcome, ...mv.terms];
  for (const [d, alts] of Object.entries(mv.dimensions)) if (!SETTINGS.has(d)) for (const a of alts) vars.push(...altTerms(a));
  return [...new Set(vars)];
}

/** Fits every specification of the spec's multiverse on its samples. */
export async function fitMultiverse(loaded: LoadedSpec, samples: Map<string, Table>, rep: Reporter): Promise<MultiverseResult> {
  const mv = loaded.spec.multiverse!;
  const { combos, excluded } = expand(mv);
  const points = new Set(combos.map((c) => JSON.stringify(Object.entries(c).filter(([d]) => d !== 'vcov')))).size;
  if (points > mv.limit) {
    throw loaded.error(['multiverse', 'limit'], String(mv.limit), `at least the ${points} specifications the dimensions make (raise limit: on purpose; each is a fit, times the variance choices)`);
  }
  if (!combos.length) throw loaded.error(['multiverse', 'exclude'], `${excluded} excluded`, 'exclusions that leave at least one specification');
  // every variable of every alternative exists in the samples it is used with: checked before any fit
  for (const sid of multiverseSamples(mv)) {
    const t = samples.get(sid)!;
    if (t.nrow === 0) throw loaded.error(['samples', sid], sid, 'a sample with rows (this one is empty, and the multiverse uses it)');
    for (const [d, alts] of Object.entries(mv.dimensions)) {
      if (SETTINGS.has(d)) continue;
      alts.forEach((a, k) => {
        for (const v of altTerms(a)) {
          if (!isKnownTerm(v, t)) throw loaded.error(['multiverse', 'dimensions', d, String(k)], v, `a variable of sample ${sid} (or a formula term of its columns)`);
        }
      });
    }
    for (const v of [mv.outcome, ...mv.terms]) if (!isKnownTerm(v, t)) throw loaded.error(['multiverse'], v, `a variable of sample ${sid}`);
  }
  // the variable of interest is a column: its effect is the AME of a one-SD change of that variable
  const interests = Object.hasOwn(mv.dimensions, mv.interest) ? (mv.dimensions[mv.interest] as (string | string[])[]) : [mv.interest];
  interests.forEach((a, k) => {
    const v = typeof a === 'string' ? a : a.join(' + ');
    const at = Object.hasOwn(mv.dimensions, mv.interest) ? ['multiverse', 'dimensions', mv.interest, String(k)] : ['multiverse', 'interest'];
    for (const sid of multiverseSamples(mv)) {
      if (typeof a !== 'string' || !samples.get(sid)!.columns.has(a)) {
        throw loaded.error(at, v, `a column of sample ${sid}: the curve shows the AME of a one-SD change in the variable of interest, so it must be a variable, not an expression (make it one under derived:, e.g. derived: { dyads: { log_flow1: log(flow + 1) } })`);
      }
    }
  });
  // the permutation test needs logit or probit specifications on a complete network: checked before any fit
  if (mv.curve_null) checkPermutable(loaded, mv, samples);
  const dims = Object.keys(mv.dimensions);
  const interestDim = Object.hasOwn(mv.dimensions, mv.interest) ? mv.interest : null;
  // the specifications: a model and a variance each
  const planned = combos.map((c, index) => {
    const sample = (c.sample as string | undefined) ?? mv.sample;
    const family = ((c.family as string | undefined) ?? mv.family) as FamilyName;
    const vcov = ((c.vcov as string | undefined) ?? mv.vcov) as VcovType;
    const interest = interestDim ? (c[interestDim] as string) : mv.interest;
    const terms = [interest];
    for (const d of dims) if (!SETTINGS.has(d) && d !== interestDim) for (const v of altTerms(c[d])) if (!terms.includes(v)) terms.push(v);
    for (const v of mv.terms) if (!terms.includes(v)) terms.push(v);
    return { index, sample, family, vcov, interest, formula: `${mv.outcome} ~ ${terms.join(' + ')}` };
  });
  const bar = rep.bar('multiverse', combos.length);
  let outcomes: Outcome[];
  try {
    outcomes = await evaluateInParallel(samples, planned, () => bar.tick());
  } finally {
    bar.stop();
  }
  const rows: MultiverseRow[] = [];
  let spec = 0;
  let last = '';
  planned.forEach((p, k) => {
    const key = `${p.sample}\t${p.family}\t${p.formula}`;
    if (key !== last) spec++;
    last = key;
    const { index: _index, ...numbers } = outcomes[k];
    void _index;
    rows.push({ spec, choices: Object.fromEntries(dims.map((d) => [d, altText(combos[k][d])])), sample: p.sample, family: p.family, vcov: p.vcov, formula: p.formula, interest: p.interest, ...numbers });
  });
  const result: MultiverseResult = { dimensions: dims, rows, excluded };
  if (mv.curve_null) {
    const { reps, seed, alpha } = mv.curve_null;
    const nullBar = rep.bar('curve null', reps);
    let last = 0;
    try {
      result.null = await curveNull(samples, rows, {
        reps,
        seed,
        alpha,
        reference: mv.sample,
        progress: (done) => {
          for (; last < done; last++) nullBar.tick();
        },
      });
    } finally {
      nullBar.stop();
    }
  }
  return result;
}

/**
 * The outcomes of the planned specifications on both cores: specifications that share a design
 * (sample and formula) go to the same thread so that they share it; results come back in plan
 * order and equal what one thread gives (TONGBAN_THREADS=1 runs them here).
 */
async function evaluateInParallel(samples: Map<string, Table>, planned: PlanItem[], tick: () => void): Promise<Outcome[]> {
  const threads = threadsAllowed() ? Math.min(2, availableParallelism()) : 1;
  if (threads <= 1 || planned.length < 8) return evaluateSpecs(samples, planned, tick);
  // whole designs to the thread with fewer specifications so far
  const groups = new Map<string, PlanItem[]>();
  for (const p of planned) {
    const key = `${p.sample}\t${p.formula}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const shares: PlanItem[][] = Array.from({ length: threads }, () => []);
  for (const g of groups.values()) shares.reduce((a, b) => (b.length < a.length ? b : a)).push(...g);
  const used = [...new Set(planned.map((p) => p.sample))].map((id) => [id, samples.get(id)!] as [string, Table]);
  const results = await Promise.all(
    shares.map(
      (items) =>
        new Promise<Outcome[]>((resolve, reject) => {
          const w = startWorker('multiverse-worker', new URL('./multiverse-worker.ts', import.meta.url), import.meta.url);
          w.on('message', (m: { tick?: boolean; outcomes?: Outcome[] }) => {
            if (m.tick) tick();
            if (m.outcomes) {
              resolve(m.outcomes);
              void w.terminate();
            }
          });
          w.once('error', reject);
          w.once('exit', (code) => code !== 0 && code !== 1 && reject(new Error(`a multiverse worker thread stopped (exit code ${code})`)));
          w.postMessage({ samples: used, items });
        }),
    ),
  );
  const byIndex = new Map(results.flat().map((o) => [o.index, o]));
  return planned.map((p) => byIndex.get(p.index)!);
}

/**
 * Refuses a `curve_null:` that could test nothing — no logit or probit family, or no sample that is
 * every pair of its cities — before the specifications are fitted.
 */
function checkPermutable(loaded: LoadedSpec, mv: Multiverse, samples: Map<string, Table>): void {
  const families = (mv.dimensions.family as string[] | undefined) ?? [mv.family];
  const fail = (why: string) => loaded.error(['multiverse', 'curve_null'], 'curve_null', `a multiverse the permutation test can permute: ${why}`);
  if (!families.some((f) => f === 'logit' || f === 'probit')) throw fail(`it refits logit and probit specifications, and this multiverse has ${families.join(', ')}`);
  const complete = multiverseSamples(mv).filter((sid) => isCompleteNetwork(samples.get(sid)!));
  if (!complete.length) {
    throw fail(`no sample of the multiverse (${multiverseSamples(mv).join(', ')}) is every pair of its cities; samples chosen by a pair attribute (cross-province pairs, cooperating pairs) cannot be permuted — add a sample of all pairs, or all pairs among a set of provinces`);
  }
}

/** Whether a pair table holds each pair of its cities exactly once (the permutation engines' own test). */
function isCompleteNetwork(t: Table): boolean {
  try {
    networkOfRows(t, ['i', 'j'], Int32Array.from({ length: t.nrow }, (_, r) => r));
    return true;
  } catch (e) {
    if (e instanceof UsageError) return false;
    throw e;
  }
}

/** A term the formula layer can read from the table: a column, or an expression of columns (checked when fitted). */
function isKnownTerm(v: string, t: Table): boolean {
  return t.columns.has(v) || /[()^*:+-]/.test(v);
}
