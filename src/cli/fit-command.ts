/** `tongban fit`: any CSV, any formula, one model (options in commands.ts). */
import { z } from 'zod';
import { readCsvTable } from '../data/csv.ts';
import { filterRows, type Table } from '../data/table.ts';
import { subsetMask } from '../expr/restricted.ts';
import { fitModel } from '../fit/fit-model.ts';
import { FAMILY_NAMES } from '../fit/families.ts';
import { formatEffects, formatFit } from '../report/text.ts';
import { averageMarginalEffects, exponentiate } from '../inference/effects.ts';
import { UsageError } from '../util/errors.ts';
import { SSC_PRESETS, VCOV_TYPES } from '../vcov/registry.ts';
import { listOption, parseOptions } from './options.ts';

const schema = z.object({
  data: z.string().min(1),
  formula: z.string().min(1),
  family: z.enum(FAMILY_NAMES),
  vcov: z.enum(VCOV_TYPES).default('classical'),
  cluster: listOption,
  dyad: listOption.refine((v) => v === undefined || v.length === 2, { message: 'give two columns, e.g. --dyad i,j' }),
  ssc: z.enum(SSC_PRESETS).optional(),
  subset: z.string().optional(),
  weights: z.string().optional(),
  json: z.boolean().default(false),
  effects: z.enum(['exp', 'ame']).optional(),
  fixPsd: z.boolean().default(false),
  level: z.number().gt(0).lt(1).default(0.95),
  quiet: z.boolean().default(false),
});

/** Reads a CSV and keeps the rows where --subset holds. */
export async function readWithSubset(path: string, subset: string | undefined): Promise<Table> {
  const table = readCsvTable(path);
  if (!subset) return table;
  const kept = filterRows(table, await subsetMask(table, subset));
  if (kept.nrow === 0) throw new UsageError(`--subset "${subset}" keeps no rows`);
  return kept;
}

export async function runFit(args: unknown): Promise<void> {
    const o = parseOptions(schema, args, 'fit');
    const table = await readWithSubset(o.data, o.subset);
    const fit = fitModel(table, {
      formula: o.formula,
      family: o.family,
      vcov: o.vcov,
      cluster: o.cluster,
      dyad: o.dyad as [string, string] | undefined,
      ssc: o.ssc,
      weights: o.weights,
      fixPsd: o.fixPsd,
      level: o.level,
    });
    const effects = o.effects === 'exp' ? exponentiate(fit) : o.effects === 'ame' ? averageMarginalEffects(fit, o.level) : null;
    if (o.json) {
      process.stdout.write(JSON.stringify(effects ? { fit: fit.result, effects } : fit.result, null, 2) + '\n');
      return;
    }
    process.stdout.write(formatFit(fit.result));
    if (effects) process.stdout.write('\n' + formatEffects(effects));
}
