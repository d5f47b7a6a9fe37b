/** `tongban network`: the cooperation network's own statistics from a pair table (options in commands.ts). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { toCsv } from '../data/csv.ts';
import { networkFromTable } from '../inference/network-stats.ts';
import { formatNetwork } from '../report/text.ts';
import { outputError } from '../util/output.ts';
import { UsageError } from '../util/errors.ts';
import { didYouMean } from '../util/suggest.ts';
import { readForModels } from './fit-command.ts';
import { listOption, parseOptions } from './options.ts';

const schema = z.object({
  data: z.string().min(1),
  tie: z.string().min(1).default('coop'),
  /** default: items, when the file has it */
  weight: z.string().min(1).optional(),
  dyad: listOption.refine((v) => v === undefined || v.length === 2, { message: 'give two columns, e.g. --dyad i,j' }),
  subset: z.string().optional(),
  top: z.number().int().nonnegative().default(10),
  out: z.string().optional(),
  json: z.boolean().default(false),
  encoding: z.enum(['utf8', 'gbk']).default('utf8'),
  sheet: z.string().optional(),
});

/** The columns of the per-city file (network.csv). */
export const CITY_COLUMNS = ['city', 'degree', 'strength', 'betweenness', 'betweenness_normalized', 'eigenvector', 'closeness', 'component'] as const;

export async function runNetwork(args: unknown): Promise<void> {
  const o = parseOptions(schema, args, 'network');
  const dyad = (o.dyad ?? ['i', 'j']) as [string, string];
  // the weight column is optional: a table without `items` gives strength = number of ties
  const table = await readForModels(o.data, { formulas: [`${o.tie} ~ ${o.weight ?? 'items'}`], subset: o.subset, ids: dyad, encoding: o.encoding, sheet: o.sheet });
  if (o.weight && !table.columns.has(o.weight)) throw new UsageError(`--weight ${o.weight}: no such column in ${o.data}${didYouMean(o.weight, table.names)}`);
  const weight = o.weight ?? (table.columns.has('items') ? 'items' : null);
  const net = networkFromTable(table, { dyad, tie: o.tie, weight });
  if (o.out) {
    const text = toCsv([...CITY_COLUMNS], net.cities.map((c) => CITY_COLUMNS.map((k) => (c[k] === null ? '' : String(c[k])))));
    try {
      mkdirSync(dirname(o.out), { recursive: true });
      writeFileSync(o.out, text);
    } catch (e) {
      throw outputError(e, o.out, 'write the per-city statistics to');
    }
  }
  if (o.json) {
    process.stdout.write(JSON.stringify({ summary: net.summary, cities: net.cities, strength_of: weight ?? 'ties' }, null, 2) + '\n');
    return;
  }
  process.stdout.write(formatNetwork(net.summary, net.cities, o.top, weight));
}
