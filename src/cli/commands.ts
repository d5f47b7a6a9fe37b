/** The yargs command modules. */
import type { CommandModule } from 'yargs';
import { z } from 'zod';
import { runClean, runDyads } from '../data/stages.ts';
import { simulate } from '../data/simulate.ts';
import { runYear } from '../run.ts';
import { writeOutputsAtomically } from '../util/output.ts';
import { makeReporter } from '../util/progress.ts';
import { listOption, parseOptions } from './options.ts';
import { fitCommand } from './fit.ts';
import { compareCommand } from './compare.ts';

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
  describe: 'run the pipeline for one data set and year: clean + dyads into <out>/<dataset>/<year>/',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'data set folder holding year folders, e.g. data/demo' })
      .option('year', { type: 'number', demandOption: true, describe: 'year, e.g. 2021' })
      .option('out', { type: 'string', default: 'outputs', describe: 'outputs root' })
      .option('provinces', { type: 'string', describe: 'keep only cities of these provinces (comma separated)' }),
  handler: (args) => {
    const o = parseOptions(
      z.object({ data: z.string().min(1), year: z.number().int(), out: z.string().min(1), provinces: listOption, ...common }),
      args,
      'run',
    );
    runYear(o, makeReporter(o.quiet));
  },
};

export const commands: CommandModule[] = [cleanCmd, dyadsCmd, simulateCmd, runCmd, fitCommand, compareCommand];
