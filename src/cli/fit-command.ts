/** `tongban fit`: any CSV or Parquet file, any formula, one model (options in commands.ts). */
import { z } from 'zod';
import { readCsvColumnsOnTwoThreads, readCsvHeader, type Encoding, type Source } from '../data/csv-columns.ts';
import { xlsxAsCsv } from '../data/xlsx.ts';
import { formulaColumns } from '../formula/parse.ts';
import { readParquetColumns, readParquetHeader } from '../data/parquet.ts';
import { filterRows, type Table } from '../data/table.ts';
import { compileRestricted, subsetRows } from '../expr/restricted.ts';
import { fitModel } from '../fit/fit-model.ts';
import { FAMILY_NAMES } from '../fit/families.ts';
import { formatClassification, formatEffects, formatFit, formatPredictions, formatWald } from '../report/text.ts';
import { binaryFitStats } from '../inference/fit-stats.ts';
import { waldTest } from '../inference/wald-test.ts';
import { averageMarginalEffects, exponentiate, predictionsAt } from '../inference/effects.ts';
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
  maxLevels: z.number().int().positive().optional(),
  wald: z.array(z.string().min(1)).optional(),
  binary: listOption,
  threshold: z.number().gt(0).lt(1).default(0.5),
  atmeans: z.boolean().default(false),
  predict: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined) return undefined;
      const m = /^\s*([^=\s]+)\s*=\s*(.+)$/.exec(s);
      const values = m ? m[2].split(',').map((x) => Number(x.trim())) : [];
      if (!m || !values.length || values.some((x) => !Number.isFinite(x))) {
        ctx.addIssue({ code: 'custom', message: 'a variable and its values, e.g. --predict "log_flow=0,2,4,6"' });
        return undefined;
      }
      return { variable: m[1], values };
    }),
  encoding: z.enum(['utf8', 'gbk']).default('utf8'),
  sheet: z.string().optional(),
  quiet: z.boolean().default(false),
});

/** Columns read as text whatever they hold: city ids (tongban's i, j, city_id) and the id columns a variance names. */
const ID_COLUMNS = ['i', 'j', 'city_id'];

export interface TableRequest {
  /** the formulas to be fitted: only the columns they (and the options below) read are parsed */
  formulas: string[];
  subset?: string;
  /** columns used as ids (read as text) */
  ids?: string[];
  weights?: string;
  /** the character set of a CSV file */
  encoding?: Encoding;
  /** the sheet of an .xlsx file */
  sheet?: string;
}

/**
 * Reads a data file for `fit`/`compare` and keeps the rows where --subset holds. Only the
 * columns the models use are parsed; when one of them is not in the file, every column is
 * read so that the error can list them.
 */
export async function readForModels(path: string, req: TableRequest): Promise<Table> {
  const subset = req.subset ? await compileRestricted(req.subset, '--subset') : null;
  const isParquet = /\.parquet$/i.test(path);
  // a spreadsheet's sheet becomes CSV bytes and goes through the CSV scanner
  const source: Source = /\.xlsx$/i.test(path) ? { memory: await xlsxAsCsv(path, req.sheet) } : { encoding: req.encoding };
  let only: Set<string> | undefined;
  try {
    only = new Set([...req.formulas.flatMap(formulaColumns), ...(req.ids ?? []), ...(req.weights ? [req.weights] : []), ...(subset?.symbols ?? [])]);
    const header = new Set(isParquet ? readParquetHeader(path) : readCsvHeader(path, source));
    if ([...only].some((c) => !header.has(c))) only = undefined;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    only = undefined; // a formula that does not parse: fitModel says why
  }
  const text = new Set([...ID_COLUMNS, ...(req.ids ?? [])]);
  const table = isParquet ? await readParquetColumns(path, { text, only }) : await readCsvColumnsOnTwoThreads(path, { text, only, ...source });
  if (!subset) return table;
  const kept = filterRows(table, subsetRows(subset.evaluate(table)));
  if (kept.nrow === 0) throw new UsageError(`--subset "${req.subset}" keeps no rows`);
  return kept;
}

export async function runFit(args: unknown): Promise<void> {
    const o = parseOptions(schema, args, 'fit');
    // tongban's pair tables name their cities i and j: the dyadic variance's default
    if (o.atmeans && !o.predict) throw new UsageError('--atmeans goes with --predict (the predictions it changes), e.g. --predict "log_flow=0,2,4" --atmeans');
    const dyad = (o.dyad ?? (o.vcov === 'dyadic' ? ['i', 'j'] : undefined)) as [string, string] | undefined;
    const table = await readForModels(o.data, { formulas: [o.formula], subset: o.subset, ids: [...(o.cluster ?? []), ...(dyad ?? [])], weights: o.weights, encoding: o.encoding, sheet: o.sheet });
    if (dyad && !o.dyad && !(table.columns.has('i') && table.columns.has('j'))) {
      throw new UsageError(`--vcov dyadic needs the two city columns: --dyad <col_i>,<col_j> (the default, i,j, is not in ${o.data})`);
    }
    const fit = fitModel(table, {
      formula: o.formula,
      family: o.family,
      vcov: o.vcov,
      cluster: o.cluster,
      dyad,
      ssc: o.ssc,
      weights: o.weights,
      fixPsd: o.fixPsd,
      level: o.level,
      maxLevels: o.maxLevels,
    });
    const effects = o.effects === 'exp' ? exponentiate(fit) : o.effects === 'ame' ? averageMarginalEffects(fit, { level: o.level, binary: o.binary }) : null;
    const wald = (o.wald ?? []).map((h) => waldTest(fit, h));
    const predictions = o.predict ? predictionsAt(fit, o.predict.variable, o.predict.values, { level: o.level, atmeans: o.atmeans }) : null;
    if (o.json) {
      // the contract's §5 object alone, or wrapped with what was asked for besides
      const extra = { ...(effects ? { effects } : {}), ...(wald.length ? { wald } : {}), ...(predictions ? { predictions } : {}) };
      process.stdout.write(JSON.stringify(Object.keys(extra).length ? { fit: fit.result, ...extra } : fit.result, null, 2) + '\n');
      return;
    }
    process.stdout.write(formatFit(fit.result, o.level));
    if (effects) process.stdout.write('\n' + formatEffects(effects, o.level));
    if (fit.result.auc !== null && fit.estimate.mu) process.stdout.write('\n' + formatClassification(binaryFitStats(fit.design.y, fit.estimate.mu, o.threshold).classification));
    if (wald.length) process.stdout.write('\n' + formatWald(wald));
    if (predictions) process.stdout.write('\n' + formatPredictions(predictions, o.level, o.atmeans));
}
