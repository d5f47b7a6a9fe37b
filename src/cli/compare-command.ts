/** `tongban compare`: several models on the same data, side by side, with the tests that apply (options in commands.ts). */
import { z } from 'zod';
import { fitModel } from '../fit/fit-model.ts';
import { FAMILY_NAMES, isFamilyName, type FamilyName } from '../fit/families.ts';
import { compareModels } from '../inference/model-tests.ts';
import { UsageError } from '../util/errors.ts';
import { parseOptions } from './options.ts';
import { readForModels } from './fit-command.ts';

const schema = z.object({
  data: z.string().min(1),
  model: z.array(z.string()).min(2, { message: 'give at least two --model "family: formula"' }),
  subset: z.string().optional(),
  encoding: z.enum(['utf8', 'gbk']).default('utf8'),
  sheet: z.string().optional(),
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

export async function runCompare(args: unknown): Promise<void> {
    const o = parseOptions(schema, args, 'compare');
    const specs = o.model.map((spec, k) => parseModel(spec, k));
    const table = await readForModels(o.data, { formulas: specs.map((m) => m.formula), subset: o.subset, encoding: o.encoding, sheet: o.sheet });
    const models = specs.map((m) => ({ name: m.name, fit: fitModel(table, { formula: m.formula, family: m.family }) }));
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
    if (c.tests.length) lines.push('', 'Note: LR and Vuong tests assume independent observations; with dyadic data (pairs sharing a city), test joint hypotheses with tongban fit --wald on a dyadic variance.');
    process.stdout.write(lines.join('\n') + '\n');
}
