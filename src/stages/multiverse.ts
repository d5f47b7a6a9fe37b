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
import { FitCache, fitModel } from '../fit/fit-model.ts';
import type { FamilyName } from '../fit/families.ts';
import { averageMarginalEffects } from '../inference/effects.ts';
import type { LoadedSpec } from '../specfile/load.ts';
import type { Multiverse } from '../specfile/schema.ts';
import { UsageError } from '../util/errors.ts';
import type { Reporter } from '../util/progress.ts';
import { dyadTableDefaults, type VcovType } from '../vcov/registry.ts';
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
export function fitMultiverse(loaded: LoadedSpec, samples: Map<string, Table>, rep: Reporter): MultiverseResult {
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
  const dims = Object.keys(mv.dimensions);
  const interestDim = Object.hasOwn(mv.dimensions, mv.interest) ? mv.interest : null;
  const cache = new FitCache();
  const rows: MultiverseRow[] = [];
  // the specifications, then announce each design's uses so that variance and family choices share it
  const planned = combos.map((c) => {
    const sample = (c.sample as string | undefined) ?? mv.sample;
    const family = ((c.family as string | undefined) ?? mv.family) as FamilyName;
    const vcov = ((c.vcov as string | undefined) ?? mv.vcov) as VcovType;
    const interest = interestDim ? (c[interestDim] as string) : mv.interest;
    const terms = [interest];
    for (const d of dims) if (!SETTINGS.has(d) && d !== interestDim) for (const v of altTerms(c[d])) if (!terms.includes(v)) terms.push(v);
    for (const v of mv.terms) if (!terms.includes(v)) terms.push(v);
    const ids = Object.values(dyadTableDefaults(vcov)).flat() as string[];
    return { c, sample, family, vcov, interest, formula: `${mv.outcome} ~ ${terms.join(' + ')}`, ids };
  });
  for (const p of planned) cache.expect(samples.get(p.sample)!, p.formula, undefined, p.ids);
  const bar = rep.bar('multiverse', combos.length);
  let spec = 0;
  let last = '';
  try {
    for (const { c, sample, family, vcov, interest, formula } of planned) {
      const key = `${sample}\t${family}\t${formula}`;
      if (key !== last) spec++;
      last = key;
      const choices = Object.fromEntries(dims.map((d) => [d, altText(c[d])]));
      const base = { spec, choices, sample, family, vcov, formula, interest };
      const empty = { estimate: null, std_error: null, conf_low: null, conf_high: null, p_value: null, sd: null, n: null, aic: null, converged: null };
      const t = samples.get(sample)!;
      try {
        const fit = fitModel(t, { formula, family, vcov, ...dyadTableDefaults(vcov) }, cache);
        // a term made constant or collinear by the sample (same_province among cross-province pairs): skipped, with the reason
        const part = fit.design.parts[0];
        const dropped = part.names.filter((_, k) => part.aliased[k]);
        if (dropped.length) {
          rows.push({ ...base, ...empty, skipped: `${dropped.map((t) => `'${t}'`).join(', ')} constant or collinear with the other terms in sample ${sample}` });
          continue;
        }
        const sd = sdOf(fit.design.vars, fit.design.formula.variables.findIndex((v) => v.type === 'var' && v.name === interest));
        if (!(sd > 0)) {
          rows.push({ ...base, ...empty, skipped: `'${interest}' is constant in sample ${sample}` });
          continue;
        }
        const ame = averageMarginalEffects(fit, { only: [interest] }).find((e) => e.term === interest && e.part === null);
        if (!ame) throw new UsageError(`no marginal effect of '${interest}' in this model`);
        rows.push({
          ...base,
          estimate: ame.estimate! * sd,
          std_error: ame.std_error! * sd,
          conf_low: ame.conf_low! * sd,
          conf_high: ame.conf_high! * sd,
          p_value: ame.p_value,
          sd,
          n: fit.result.n,
          aic: fit.result.aic,
          converged: fit.result.converged,
          skipped: null,
        });
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        rows.push({ ...base, ...empty, skipped: e.message });
      } finally {
        bar.tick();
      }
    }
  } finally {
    bar.stop();
  }
  return { dimensions: dims, rows, excluded };
}

/** A term the formula layer can read from the table: a column, or an expression of columns (checked when fitted). */
function isKnownTerm(v: string, t: Table): boolean {
  return t.columns.has(v) || /[()^*:+-]/.test(v);
}

/** Sample SD (n − 1) of a formula variable on the fitted rows; NaN when it is not numeric. */
function sdOf(vars: { kind: string; v?: Float64Array }[], k: number): number {
  const v = k >= 0 ? vars[k] : undefined;
  if (!v || v.kind !== 'num' || !v.v) return NaN;
  const x = v.v;
  let m = 0;
  for (let r = 0; r < x.length; r++) m += x[r];
  m /= x.length;
  let s = 0;
  for (let r = 0; r < x.length; r++) s += (x[r] - m) ** 2;
  return Math.sqrt(s / (x.length - 1));
}
