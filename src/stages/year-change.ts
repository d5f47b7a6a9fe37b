/**
 * Change between years, for `tongban compare-years`: each main model on a pair sample refitted on
 * the stacked yearly cross-sections (every pair in every year, each year's covariates and
 * cumulative `coop`; stages/panel.ts) with every term interacted with the year, and the
 * cross-year dyadic variance — cities are the units in all years, so a pair's two rows and all
 * pairs sharing a city are dependent (vcov.ts, dyadicVcov). The interaction coefficients are the
 * differences from the first year, with their SEs and p-values; a Wald test asks whether every
 * slope is the same in all years (the intercept may shift).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Table } from '../data/table.ts';
import { family } from '../fit/families.ts';
import { fitModel } from '../fit/fit-model.ts';
import type { FitResult } from '../fit/types.ts';
import { waldTest, type WaldTest } from '../inference/wald-test.ts';
import type { LoadedSpec, ResolvedModel } from '../specfile/load.ts';
import { UsageError } from '../util/errors.ts';
import type { Reporter } from '../util/progress.ts';
import { prepareModels } from './models.ts';
import { buildPairYears, specColumns } from './panel.ts';
import { TableCollector } from '../data/table-parts.ts';

export interface YearDifference {
  term: string;
  /** the later year (the difference is from the first year) */
  year: number;
  difference: number | null;
  std_error: number | null;
  p_value: number | null;
}

export interface YearChange {
  model: string;
  /** the formula fitted on the stacked years */
  formula: string;
  n: number | null;
  differences: YearDifference[];
  /** every slope is the same in all years (the intercept may shift) */
  wald: WaldTest | null;
  /** why the model has no test (a city-level sample, a two-part family, a variable the stacked table lacks) */
  skipped: { zh: string; en: string } | null;
  warnings: string[];
}

/** The stacked formula: every term of the model interacted with the year. */
export function yearInteracted(formula: string): string {
  const at = formula.indexOf('~');
  if (at < 0 || formula.includes('|')) throw new UsageError(`'${formula}': a one-part formula y ~ terms is needed`);
  return `${formula.slice(0, at).trim()} ~ (${formula.slice(at + 1).trim()}) * factor(year)`;
}

/** The year differences of the spec's main models, from the data's year folders. */
export async function yearChanges(o: { data: string; years: number[]; loaded: LoadedSpec; mains: ResolvedModel[] }, rep: Reporter): Promise<YearChange[]> {
  const { loaded } = o;
  const years = [...o.years].sort((a, b) => a - b);
  const reasons = new Map<string, { zh: string; en: string }>();
  const eligible: ResolvedModel[] = [];
  for (const m of o.mains) {
    const table = loaded.spec.samples[m.sample]?.table;
    if (table !== 'dyads') reasons.set(m.id, { zh: `样本 ${m.sample} 为城市层面样本，年份间变化只对城市对样本检验`, en: `its sample '${m.sample}' is a ${table} sample; year differences are tested on pair samples` });
    else if (family(m.family).parts !== 1 || m.formula.includes('|')) reasons.set(m.id, { zh: `${m.family} 为两部分模型，年份间变化只对单部分模型检验`, en: `${m.family} has two parts; year differences are tested for one-part models` });
    else if (!family(m.family).variances.includes('dyadic')) reasons.set(m.id, { zh: `${m.family} 没有二元组稳健方差`, en: `${m.family} has no dyadic variance` });
    else eligible.push(m);
  }
  const out = new Map<string, YearChange>();
  if (eligible.length) {
    rep.step(`compare-years: stacking ${years.join(', ')} for the tests of change`);
    const named = specColumns(loaded);
    const collector = new TableCollector((c) => c === 'year' || named(c)); // the interactions add factor(year)
    await buildPairYears({ data: o.data, years, lag: 0, monadic: loaded.spec.monadic }, rep, { pair_years_stacked: [collector] });
    const stacked = collector.table();
    const models = eligible.map((m) => ({ ...m, formula: yearInteracted(m.formula), vcov: 'dyadic' as const, dyad: ['i', 'j'] as [string, string], cluster: undefined, effects: undefined, tests: undefined, predict: undefined, qap: undefined }));
    let samples: Map<string, Table> | null = null;
    try {
      samples = await prepareModels({ ...loaded, spec: { ...loaded.spec, multiverse: undefined }, models }, { dyads: stacked });
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      for (const m of eligible) reasons.set(m.id, { zh: `叠加年份数据无法构建其样本或变量：${e.message}`, en: `the stacked years cannot take its sample or variables: ${e.message}` });
    }
    if (samples) {
      // one model, synchronously: its design is unreachable once this returns (a frame suspended
      // at the await below would keep it alive)
      const changeOne = (m: (typeof models)[number], table: Table): void => {
        try {
          const fit = fitModel(table, { formula: m.formula, family: m.family, vcov: 'dyadic', dyad: ['i', 'j'], ssc: m.ssc, fixPsd: m.fixPsd });
          out.set(m.id, changeOf(m.id, fit.result, (h) => waldTest(fit, h)));
        } catch (e) {
          if (!(e instanceof UsageError)) throw e;
          reasons.set(m.id, { zh: `无法估计：${e.message}`, en: e.message });
        }
      };
      for (const m of models) {
        changeOne(m, samples.get(m.sample)!);
        await nextTurn(); // a Ctrl-C stops here, between models (as in fitModels)
      }
    }
  }
  return o.mains.map((m) => out.get(m.id) ?? { model: m.id, formula: yearInteracted(m.formula.includes('|') ? m.formula.split('|')[0] : m.formula), n: null, differences: [], wald: null, skipped: reasons.get(m.id) ?? { zh: '未检验', en: 'not tested' }, warnings: [] });
}

/** The differences (interaction coefficients) of a stacked fit, and their joint Wald test. */
function changeOf(model: string, r: FitResult, wald: (hypothesis: string) => WaldTest): YearChange {
  const differences: YearDifference[] = [];
  const names: string[] = [];
  for (const c of r.coefficients) {
    // the year's own term shifts the intercept; the interactions change the slopes
    const shift = /^factor\(year\)(\d+)$/.exec(c.term);
    const slope = /^(.*):factor\(year\)(\d+)$/.exec(c.term);
    if (shift) differences.push({ term: '(Intercept)', year: Number(shift[1]), difference: c.estimate, std_error: c.std_error, p_value: c.p_value });
    if (!slope) continue;
    differences.push({ term: slope[1], year: Number(slope[2]), difference: c.estimate, std_error: c.std_error, p_value: c.p_value });
    if (c.estimate !== null) names.push(c.term);
  }
  const warnings = [...r.warnings];
  let test: WaldTest | null = null;
  try {
    test = names.length ? wald(names.map((t) => `\`${t}\` = 0`).join(', ')) : null;
  } catch (e) {
    // the differences stand; the joint test needs an invertible variance of them
    if (!(e instanceof UsageError)) throw e;
    warnings.push(`no joint test: ${e.message.replace(/^--wald "[^"]*": /, '')}`);
  }
  return { model, formula: r.formula, n: r.n, differences, wald: test, skipped: null, warnings };
}
