/**
 * What the stage commands do once their options are parsed (the options themselves are
 * declared in commands.ts): clean, dyads, simulate, run, report, compare-years, panel.
 */
import { z } from 'zod';
import { FIRST_YEAR, simulate } from '../data/simulate.ts';
import { readFits } from '../report/run-record.ts';
import { renderReport } from '../report/render.ts';
import { runClean } from '../stages/clean.ts';
import { compareYears } from '../stages/compare-years.ts';
import { runPanel } from '../stages/panel.ts';
import { runDyads } from '../stages/dyads.ts';
import { runYear } from '../stages/run-year.ts';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { withOutput, writeOutputsAtomically } from '../util/output.ts';
import { UsageError } from '../util/errors.ts';
import { makeReporter } from '../util/progress.ts';
import { listOption, parseOptions, yearsOption } from './options.ts';

const common = { quiet: z.boolean().default(false) };
const encoding = { encoding: z.enum(['utf8', 'gbk']).default('utf8') };

export async function runCleanCommand(args: unknown): Promise<void> {
  const o = parseOptions(z.object({ input: z.string().min(1), out: z.string().min(1), ...encoding, ...common }), args, 'clean');
  await runClean(o.input, o.out, makeReporter(o.quiet), o.encoding);
}

export async function runDyadsCommand(args: unknown): Promise<void> {
  const o = parseOptions(z.object({ input: z.string().min(1), out: z.string().min(1), provinces: listOption, monadic: listOption, dyadsCsv: z.boolean().default(false), ...encoding, ...common }), args, 'dyads');
  await runDyads(o.input, o.out, { provinces: o.provinces, monadic: o.monadic, csv: o.dyadsCsv, encoding: o.encoding }, makeReporter(o.quiet));
}

export async function runSimulateCommand(args: unknown): Promise<void> {
  const o = parseOptions(
    z.object({
      cities: z.number().int().min(2).max(20000),
      seed: z.number().int().min(0).max(4294967295),
      year: z.number().int().min(FIRST_YEAR).max(2100),
      out: z.string().min(1),
      force: z.boolean().default(false),
      ...common,
    }),
    args,
    'simulate',
  );
  // a user's real data must not be overwritten by synthetic files by mistake
  const present = existsSync(o.out) && statSync(o.out).isDirectory() ? readdirSync(o.out) : [];
  if (present.length && !o.force) {
    throw new UsageError(`${o.out} already holds files (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}); simulate would replace them: choose an empty --out, or add --force`);
  }
  const rep = makeReporter(o.quiet);
  await withOutput(o.out, () => {
    rep.step(`simulate: ${o.cities} cities, seed ${o.seed}, year ${o.year}`);
    const sim = simulate(o);
    writeOutputsAtomically(o.out, sim.files);
    rep.step(`simulate: ${sim.summary.coop_pairs} cooperating pairs of ${sim.summary.dyads} -> ${o.out}`);
  });
}

export async function runRunCommand(args: unknown): Promise<void> {
  const o = parseOptions(
    z.object({ data: z.string().min(1), year: z.number().int(), spec: z.string().optional(), out: z.string().min(1), provinces: listOption, dyadsCsv: z.boolean().default(false), ...encoding, ...common }),
    args,
    'run',
  );
  await runYear(o, makeReporter(o.quiet));
}

export async function runReportCommand(args: unknown): Promise<void> {
  const o = parseOptions(z.object({ fits: z.string().min(1), out: z.string().min(1), ...common }), args, 'report');
  const rep = makeReporter(o.quiet);
  const n = await withOutput(o.out, async () => {
    const { record, fits } = readFits(o.fits);
    writeOutputsAtomically(o.out, await renderReport(record, fits, (w) => rep.warn(w)), { replaceDirs: ['tables', 'plots'] });
    return fits.size;
  });
  rep.step(`report: ${n} models -> ${o.out}`);
}

export async function runCompareYearsCommand(args: unknown): Promise<void> {
  const o = parseOptions(
    z.object({
      data: z.string().min(1),
      years: yearsOption,
      spec: z.string().min(1),
      out: z.string().min(1),
      ...common,
    }),
    args,
    'compare-years',
  );
  await compareYears(o, makeReporter(o.quiet));
}

export async function runPanelCommand(args: unknown): Promise<void> {
  const o = parseOptions(
    z.object({
      data: z.string().min(1),
      years: yearsOption,
      lag: z.union([z.literal(0), z.literal(1)]).default(0),
      origin: z.number().int().optional(),
      out: z.string().min(1),
      spec: z.string().optional(),
      stacked: z.boolean().default(false),
      provinces: listOption,
      monadic: listOption,
      ...encoding,
      ...common,
    }),
    args,
    'panel',
  );
  await runPanel(o, makeReporter(o.quiet));
}
