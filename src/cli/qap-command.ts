/** `tongban qap`: QAP / MRQAP permutation p-values for one model of a complete pair table (options in commands.ts). */
import { z } from 'zod';
import { fitModel } from '../fit/fit-model.ts';
import { qap, QAP_FAMILIES } from '../inference/qap.ts';
import { formatFit, formatQap } from '../report/text.ts';
import { makeReporter } from '../util/progress.ts';
import { SSC_PRESETS, VCOV_TYPES } from '../vcov/registry.ts';
import { readForModels } from './fit-command.ts';
import { listOption, parseOptions } from './options.ts';

const schema = z.object({
  data: z.string().min(1),
  formula: z.string().min(1),
  family: z.enum(QAP_FAMILIES),
  null: z.enum(['y', 'dsp']).default('dsp'),
  statistic: z.enum(['z', 'coef']).default('z'),
  reps: z.number().int().positive().default(1000),
  seed: z.number().int().default(1),
  threads: z.number().int().positive().optional(),
  dyad: listOption.refine((v) => v === undefined || v.length === 2, { message: 'give two columns, e.g. --dyad i,j' }),
  vcov: z.enum(VCOV_TYPES).default('classical'),
  cluster: listOption,
  ssc: z.enum(SSC_PRESETS).optional(),
  subset: z.string().optional(),
  level: z.number().gt(0).lt(1).default(0.95),
  encoding: z.enum(['utf8', 'gbk']).default('utf8'),
  sheet: z.string().optional(),
  json: z.boolean().default(false),
  quiet: z.boolean().default(false),
});

export async function runQap(args: unknown): Promise<void> {
  const o = parseOptions(schema, args, 'qap');
  const dyad = (o.dyad ?? ['i', 'j']) as [string, string];
  const rep = makeReporter(o.quiet);
  const table = await readForModels(o.data, { formulas: [o.formula], subset: o.subset, ids: [...dyad, ...(o.cluster ?? [])], encoding: o.encoding, sheet: o.sheet });
  const fit = fitModel(table, { formula: o.formula, family: o.family, vcov: o.vcov, cluster: o.cluster, dyad: o.vcov === 'dyadic' ? dyad : undefined, ssc: o.ssc, level: o.level });
  // ten steps: a line per tenth when stderr is not a terminal
  const bar = rep.bar(`QAP (${o.null === 'dsp' ? 'DSP' : 'Y permutation'}, ${o.reps} permutations)`, 10);
  const t0 = performance.now();
  let shown = 0;
  const result = await qap(fit, {
    null: o.null,
    statistic: o.statistic,
    reps: o.reps,
    seed: o.seed,
    dyad,
    threads: o.threads,
    progress: (done, total) => {
      // one tick per tenth, with the time still to go
      const tenth = Math.floor((10 * done) / total);
      while (shown < tenth) {
        shown++;
        const s = (performance.now() - t0) / 1000;
        bar.tick(`(${done} done, ${s.toFixed(0)} s, about ${done ? ((s * (total - done)) / done).toFixed(0) : '?'} s to go)`);
      }
    },
  });
  bar.stop();
  if (o.json) {
    process.stdout.write(JSON.stringify({ fit: fit.result, qap: result }, null, 2) + '\n');
    return;
  }
  process.stdout.write(formatFit(fit.result, o.level) + '\n' + formatQap(result));
}
