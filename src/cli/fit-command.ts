/** `tongban fit`: any CSV, any formula, one model. */
import type { CommandModule } from 'yargs';
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

export const fitCommand: CommandModule = {
  command: 'fit',
  describe: 'fit one model to any CSV with an R-style formula',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'CSV file (e.g. outputs/demo/2021/dyads.csv)' })
      .option('formula', { type: 'string', demandOption: true, describe: 'R-style formula, e.g. "coop ~ log_flow + same_province"' })
      .option('family', { type: 'string', demandOption: true, choices: FAMILY_NAMES, describe: 'model family' })
      .option('vcov', { type: 'string', default: 'classical', choices: VCOV_TYPES, describe: 'variance type' })
      .option('cluster', { type: 'string', describe: 'cluster column(s): one for cluster, two (a,b) for cluster2' })
      .option('dyad', { type: 'string', describe: 'the two city columns for dyadic variance, e.g. i,j' })
      .option('ssc', { type: 'string', choices: SSC_PRESETS, describe: 'small-sample preset (default r; none for dyadic)' })
      .option('subset', { type: 'string', describe: 'keep rows where this expression is true, e.g. "items > 0"' })
      .option('weights', { type: 'string', describe: 'column of prior weights' })
      .option('level', { type: 'number', default: 0.95, describe: 'confidence level' })
      .option('fix-psd', { type: 'boolean', default: false, describe: 'repair a non-PSD multi-way variance (negative eigenvalues set to 0)' })
      .option('effects', { type: 'string', choices: ['exp', 'ame'], describe: 'also report exponentiated coefficients (IRR/OR) or average marginal effects' })
      .option('json', { type: 'boolean', default: false, describe: 'print the machine-readable fit (docs/contract.md §5); with --effects: {"fit": …, "effects": […]}' }),
  handler: async (args) => {
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
  },
};
