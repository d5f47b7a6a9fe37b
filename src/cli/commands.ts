/** The yargs command modules. */
import type { CommandModule } from 'yargs';
import { z } from 'zod';
import { runClean } from '../stages/clean.ts';
import { runDyads } from '../stages/dyads.ts';
import { simulate } from '../data/simulate.ts';
import { readFits } from '../report/run-record.ts';
import { runYear } from '../stages/run-year.ts';
import { compareYears } from '../stages/compare-years.ts';
import { renderReport } from '../report/render.ts';
import { writeOutputsAtomically } from '../util/output.ts';
import { makeReporter } from '../util/progress.ts';
import { listOption, parseOptions } from './options.ts';
import { fitCommand } from './fit-command.ts';
import { compareCommand } from './compare-command.ts';

const common = { quiet: z.boolean().default(false) };

const cleanCmd: CommandModule = {
  command: 'clean',
  describe: 'validate a year folder and write cities_clean.csv and the cleaning report',
  builder: (y) =>
    y
      .option('input', { type: 'string', demandOption: true, describe: 'year folder, e.g. data/demo/2021' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' }),
  handler: (args) => {
    const o = parseOptions(z.object({ input: z.string().min(1), out: z.string().min(1), ...common }), args, 'clean');
    runClean(o.input, o.out, makeReporter(o.quiet));
  },
};

const dyadOptions = {
  provinces: listOption,
  monadic: listOption,
};

const dyadsCmd: CommandModule = {
  command: 'dyads',
  describe: 'clean a year folder and build every unordered city pair (dyads.csv)',
  builder: (y) =>
    y
      .option('input', { type: 'string', demandOption: true, describe: 'year folder, e.g. data/demo/2021' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('provinces', { type: 'string', describe: 'keep only cities of these provinces (comma separated)' })
      .option('monadic', { type: 'string', describe: 'covariates to turn into _sum/_absdiff/_min/_max (comma separated)' }),
  handler: (args) => {
    const o = parseOptions(z.object({ input: z.string().min(1), out: z.string().min(1), ...dyadOptions, ...common }), args, 'dyads');
    runDyads(o.input, o.out, { provinces: o.provinces, monadic: o.monadic }, makeReporter(o.quiet));
  },
};

const simulateCmd: CommandModule = {
  command: 'simulate',
  describe: 'write a synthetic year folder from the documented data-generating process',
  builder: (y) =>
    y
      .option('cities', { type: 'number', default: 333, describe: 'number of cities' })
      .option('seed', { type: 'number', default: 20211231, describe: 'random seed' })
      .option('year', { type: 'number', default: 2021, describe: 'year (2021 = base year; later years drift from it)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (the year folder itself)' }),
  handler: (args) => {
    const o = parseOptions(
      z.object({
        cities: z.number().int().min(2).max(20000),
        seed: z.number().int().min(0).max(4294967295),
        year: z.number().int().min(2021).max(2100),
        out: z.string().min(1),
        ...common,
      }),
      args,
      'simulate',
    );
    const rep = makeReporter(o.quiet);
    rep.step(`simulate: ${o.cities} cities, seed ${o.seed}, year ${o.year}`);
    const sim = simulate(o);
    writeOutputsAtomically(o.out, sim.files);
    rep.step(`simulate: ${sim.summary.coop_pairs} cooperating pairs of ${sim.summary.dyads} -> ${o.out}`);
  },
};

const runCmd: CommandModule = {
  command: 'run',
  describe: 'run the pipeline for one data set and year into <out>/<dataset>/<year>/ (with --spec: models, tables, plots, report.html)',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'data set folder holding year folders, e.g. data/demo' })
      .option('year', { type: 'number', demandOption: true, describe: 'year, e.g. 2021' })
      .option('spec', { type: 'string', describe: 'model specification file, e.g. specs/book.yaml' })
      .option('out', { type: 'string', default: 'outputs', describe: 'outputs root' })
      .option('provinces', { type: 'string', describe: 'keep only cities of these provinces (comma separated)' }),
  handler: async (args) => {
    const o = parseOptions(
      z.object({ data: z.string().min(1), year: z.number().int(), spec: z.string().optional(), out: z.string().min(1), provinces: listOption, ...common }),
      args,
      'run',
    );
    await runYear(o, makeReporter(o.quiet));
  },
};

const reportCmd: CommandModule = {
  command: 'report',
  describe: 're-render tables, plots and report.html from the fits a run saved',
  builder: (y) =>
    y
      .option('fits', { type: 'string', demandOption: true, describe: 'the fits/ folder of a run, e.g. outputs/demo/2021/fits' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' }),
  handler: async (args) => {
    const o = parseOptions(z.object({ fits: z.string().min(1), out: z.string().min(1), ...common }), args, 'report');
    const { record, fits } = readFits(o.fits);
    writeOutputsAtomically(o.out, await renderReport(record, fits), { replaceDirs: ['tables', 'plots'] });
    makeReporter(o.quiet).step(`report: ${fits.size} models -> ${o.out}`);
  },
};

const compareYearsCmd: CommandModule = {
  command: 'compare-years',
  describe: "the main models' coefficients side by side by year (runs missing years first)",
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'data set folder, e.g. data/demo' })
      .option('years', { type: 'string', demandOption: true, describe: 'years, e.g. 2021,2022' })
      .option('spec', { type: 'string', demandOption: true, describe: 'model specification file' })
      .option('out', { type: 'string', default: 'outputs', describe: 'outputs root' }),
  handler: async (args) => {
    const o = parseOptions(
      z.object({
        data: z.string().min(1),
        years: z.string().transform((s, ctx) => {
          const ys = s.split(',').map((x) => Number(x.trim()));
          if (ys.some((y) => !Number.isInteger(y))) ctx.addIssue({ code: 'custom', message: 'years as integers, e.g. 2021,2022' });
          return ys;
        }),
        spec: z.string().min(1),
        out: z.string().min(1),
        ...common,
      }),
      args,
      'compare-years',
    );
    await compareYears(o, makeReporter(o.quiet));
  },
};

export const commands: CommandModule[] = [cleanCmd, dyadsCmd, simulateCmd, runCmd, reportCmd, compareYearsCmd, fitCommand, compareCommand];
