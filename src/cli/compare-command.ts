/** `tongban compare`: several models on the same data, side by side, with the tests that apply. */
import type { CommandModule } from 'yargs';
import { z } from 'zod';
import { fitModel } from '../fit/fit-model.ts';
import { FAMILY_NAMES, family, isFamilyName, type FamilyName } from '../fit/families.ts';
import type { ModelFit } from '../fit/types.ts';
import { alphaTest, criteria, lrTest, vuong, type LrTest, type VuongTest } from '../inference/model-tests.ts';
import { UsageError } from '../util/errors.ts';
import { parseOptions } from './options.ts';
import { readWithSubset } from './fit-command.ts';

const schema = z.object({
  data: z.string().min(1),
  model: z.array(z.string()).min(2, { message: 'give at least two --model "family: formula"' }),
  subset: z.string().optional(),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

function parseModel(spec: string, k: number): { name: string; family: FamilyName; formula: string } {
  const m = /^\s*(?:([\p{L}\p{N}_.-]+)=)?\s*([a-z-]+)\s*:\s*(.+)$/u.exec(spec);
  if (!m || !isFamilyName(m[2])) {
    throw new UsageError(`--model "${spec}": expected "family: formula" or "name=family: formula" with a family among ${FAMILY_NAMES.join(', ')}`);
  }
  return { name: m[1] ?? `m${k + 1}`, family: m[2], formula: m[3] };
}

export interface Comparison {
  criteria: ReturnType<typeof criteria>;
  tests: (LrTest | (VuongTest & { test: string }))[];
  skipped: string[];
}

/**
 * Every pair gets the test the family registry gives it: LR (same family, nested), the
 * boundary LR test (a family nesting the other at a boundary: NB and Poisson at α = 0),
 * Vuong (non-nested pairs the registry lists, e.g. ZINB against NB).
 */
function compareModels(models: { name: string; fit: ModelFit }[]): Comparison {
  const tests: Comparison['tests'] = [];
  const skipped: string[] = [];
  for (let a = 0; a < models.length; a++) {
    for (let b = a + 1; b < models.length; b++) {
      const [x, y] = [models[a], models[b]];
      const fx = x.fit.result.family;
      const fy = y.fit.result.family;
      try {
        if (fx === fy) {
          const [small, big] = x.fit.estimate.df <= y.fit.estimate.df ? [x, y] : [y, x];
          tests.push(lrTest(small, big));
        } else if (family(fy).nestsAtBoundary === fx || family(fx).nestsAtBoundary === fy) {
          tests.push(family(fy).nestsAtBoundary === fx ? alphaTest(x, y) : alphaTest(y, x));
        } else if (family(fx).vuongAgainst.includes(fy) || family(fy).vuongAgainst.includes(fx)) {
          tests.push({ test: 'Vuong', ...(family(fx).vuongAgainst.includes(fy) ? vuong(x, y) : vuong(y, x)) });
        } else skipped.push(`${x.name} vs ${y.name}: no test for ${fx} against ${fy}`);
      } catch (e) {
        if (e instanceof UsageError) skipped.push(`${x.name} vs ${y.name}: ${e.message}`);
        else throw e;
      }
    }
  }
  return { criteria: criteria(models), tests, skipped };
}

export const compareCommand: CommandModule = {
  command: 'compare',
  describe: 'fit several models on one data set and compare them (AIC, BIC, LR, alpha = 0, Vuong)',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'CSV file' })
      .option('model', { type: 'string', array: true, demandOption: true, describe: 'a model as "family: formula" (or "name=family: formula"); repeat' })
      .option('subset', { type: 'string', describe: 'keep rows where this expression is true' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' }),
  handler: async (args) => {
    const o = parseOptions(schema, args, 'compare');
    const table = await readWithSubset(o.data, o.subset);
    const models = o.model.map((spec, k) => {
      const m = parseModel(spec, k);
      return { name: m.name, fit: fitModel(table, { formula: m.formula, family: m.family }) };
    });
    const c = compareModels(models);
    if (o.json) {
      process.stdout.write(JSON.stringify(c, null, 2) + '\n');
      return;
    }
    const f = (x: number, d = 3) => x.toFixed(d);
    const lines = ['model  family  n  df  loglik  AIC  BIC'];
    for (const r of c.criteria) lines.push(`${r.model}  ${r.family}  ${r.n}  ${r.df}  ${f(r.loglik)}  ${f(r.aic)}  ${f(r.bic)}`);
    lines.push('');
    for (const t of c.tests) {
      if ('restricted' in t) lines.push(`${t.test}: ${t.restricted} in ${t.full}: statistic ${f(t.statistic)}, df ${t.df}, p = ${t.p_value.toPrecision(4)} (${t.note})`);
      else {
        const names = ['raw', 'AIC-corrected', 'BIC-corrected'];
        t.statistic.forEach((s, k) => lines.push(`Vuong ${names[k]}: ${t.model1} vs ${t.model2}: z = ${f(s)}, p = ${t.p_value[k].toPrecision(4)}, favours ${t.favours[k]}`));
      }
    }
    for (const s of c.skipped) lines.push(`not tested: ${s}`);
    process.stdout.write(lines.join('\n') + '\n');
  },
};
