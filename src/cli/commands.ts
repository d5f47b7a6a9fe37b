/**
 * The commands and their options (yargs). Only the option declarations live here, so
 * that `tongban --help` loads nothing else; each handler imports what its command needs
 * when it runs (stage-commands.ts, fit-command.ts, compare-command.ts, qap-command.ts).
 */
import type { CommandModule } from 'yargs';
import { FAMILY_NAMES } from '../fit/families.ts';
import { QAP_FAMILIES } from '../inference/qap-families.ts';
import { SSC_PRESETS, VCOV_TYPES } from '../vcov/registry.ts';

const cleanCmd: CommandModule = {
  command: 'clean',
  describe: 'validate a year folder and write cities_clean.csv and the cleaning report',
  builder: (y) =>
    y
      .option('input', { type: 'string', demandOption: true, describe: 'year folder, e.g. data/demo/2021' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of the CSV files (gbk: Excel on a Chinese Windows)' })
      .example('$0 clean --input data/demo/2021 --out outputs/check', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runCleanCommand(args),
};

const dyadsCmd: CommandModule = {
  command: 'dyads',
  describe: 'clean a year folder and build every unordered city pair (dyads.csv)',
  builder: (y) =>
    y
      .option('input', { type: 'string', demandOption: true, describe: 'year folder, e.g. data/demo/2021' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .option('provinces', { type: 'string', describe: 'keep only cities of these provinces (comma separated)' })
      .option('monadic', { type: 'string', describe: 'covariates to turn into _sum/_absdiff/_min/_max (comma separated)' })
      .option('dyads-csv', { type: 'boolean', default: false, describe: 'also write dyads.csv above 1,000,000 dyads (dyads.parquet is always written)' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of the CSV files (gbk: Excel on a Chinese Windows)' })
      .example('$0 dyads --input data/demo/2021 --out outputs/pairs --provinces 江苏,浙江', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runDyadsCommand(args),
};

const simulateCmd: CommandModule = {
  command: 'simulate',
  describe: 'write a synthetic year folder from the documented data-generating process',
  builder: (y) =>
    y
      .option('cities', { type: 'number', default: 333, describe: 'number of cities' })
      .option('seed', { type: 'number', default: 20211231, describe: 'random seed' })
      .option('year', { type: 'number', default: 2021, describe: 'year (2021 = base year; later years drift forward from it, 2019 and 2020 back, with the agreements signed by then)' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder (the year folder itself)' })
      .option('force', { type: 'boolean', default: false, describe: 'replace the files of a folder that is not empty' })
      .example('$0 simulate --cities 100 --seed 1 --year 2021 --out data/sim/2021', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runSimulateCommand(args),
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
      .option('provinces', { type: 'string', describe: 'keep only cities of these provinces (comma separated)' })
      .option('dyads-csv', { type: 'boolean', default: false, describe: 'also write dyads.csv above 1,000,000 dyads (dyads.parquet is always written)' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of the CSV files (gbk: Excel on a Chinese Windows)' })
      .example('$0 run --data data/demo --year 2021 --spec specs/book.yaml --out outputs', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runRunCommand(args),
};

const reportCmd: CommandModule = {
  command: 'report',
  describe: 're-render tables, plots and report.html from the fits a run saved',
  builder: (y) =>
    y
      .option('fits', { type: 'string', demandOption: true, describe: 'the fits/ folder of a run, e.g. outputs/demo/2021/fits' })
      .option('out', { type: 'string', demandOption: true, describe: 'output folder' })
      .example('$0 report --fits outputs/demo/2021/fits --out outputs/rerendered', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runReportCommand(args),
};

const compareYearsCmd: CommandModule = {
  command: 'compare-years',
  describe: "the main models side by side by year (runs missing years first), with tests of change between years and a coefficient-by-year plot",
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'data set folder, e.g. data/demo' })
      .option('years', { type: 'string', demandOption: true, describe: 'years, e.g. 2021,2022 or 2019:2022' })
      .option('spec', { type: 'string', demandOption: true, describe: 'model specification file' })
      .option('out', { type: 'string', default: 'outputs', describe: 'outputs root' })
      .example('$0 compare-years --data data/demo --years 2021:2022 --spec specs/book.yaml', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runCompareYearsCommand(args),
};

const panelCmd: CommandModule = {
  command: 'panel',
  describe: 'the pair-year table of first agreements (discrete-time event history) from several year folders',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'data set folder with one folder per year, e.g. data/demo' })
      .option('years', { type: 'string', demandOption: true, describe: 'panel years, e.g. 2019:2022 or 2021,2022' })
      .option('lag', { type: 'number', choices: [0, 1], default: 0, describe: 'covariates of the same year (0) or of the year before (1; needs that folder)' })
      .option('origin', { type: 'number', describe: 't = year − origin (default: the first panel year)' })
      .option('out', { type: 'string', default: 'outputs', describe: 'outputs root: writes <out>/<dataset>/panel/pair_years.parquet and its report' })
      .option('spec', { type: 'string', describe: 'a spec whose samples use table: pair_years or pair_years_stacked (e.g. specs/panel.yaml): fits, tables and report.html beside the table' })
      .option('stacked', { type: 'boolean', default: false, describe: 'also write pair_years_stacked.parquet: every pair in every panel year with that year\'s cumulative coop and new (1 = first signed that year), for tests of change between years (written anyway when the spec uses it)' })
      .option('provinces', { type: 'string', describe: 'only cities of these provinces, e.g. 江苏,浙江' })
      .option('monadic', { type: 'string', describe: 'city covariates to pair up (as in tongban dyads)' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of the CSV files' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
      .example('$0 panel --data data/demo --years 2021:2022', '')
      .example('$0 fit --data outputs/demo/panel/pair_years.parquet --formula "event ~ log_flow + same_province + log_distance + factor(year)" --family cloglog --vcov dyadic', ''),
  handler: async (args) => (await import('./stage-commands.ts')).runPanelCommand(args),
};

const fitCmd: CommandModule = {
  command: 'fit',
  describe: 'fit one model to any CSV, Parquet or Excel file with an R-style formula',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'CSV, Parquet or Excel (.xlsx) file (e.g. outputs/demo/2021/dyads.parquet)' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of the CSV files (gbk: Excel on a Chinese Windows)' })
      .option('sheet', { type: 'string', describe: 'the sheet of an .xlsx file (default: the first)' })
      .option('formula', { type: 'string', demandOption: true, describe: 'R-style formula, e.g. "coop ~ log_flow + same_province"' })
      .option('family', { type: 'string', demandOption: true, choices: FAMILY_NAMES, describe: 'model family' })
      .option('vcov', { type: 'string', default: 'classical', choices: VCOV_TYPES, describe: 'variance type' })
      .option('cluster', { type: 'string', describe: 'cluster column(s): one for cluster, two (a,b) for cluster2' })
      .option('dyad', { type: 'string', describe: 'the two city columns for dyadic variance (default i,j, as in tongban\'s dyads and pair-year tables)' })
      .option('ssc', { type: 'string', choices: SSC_PRESETS, describe: 'small-sample preset (default r; none for dyadic)' })
      .option('subset', { type: 'string', describe: 'keep rows where this expression is true, e.g. "items > 0"' })
      .option('weights', { type: 'string', describe: 'column of prior weights' })
      .option('level', { type: 'number', default: 0.95, describe: 'confidence level' })
      .option('max-levels', { type: 'number', describe: 'most levels a factor may have (default 1000)' })
      .option('fix-psd', { type: 'boolean', default: false, describe: 'repair a non-PSD multi-way variance (negative eigenvalues set to 0)' })
      .option('effects', { type: 'string', choices: ['exp', 'ame'], describe: 'also report exponentiated coefficients (IRR/OR) or average marginal effects' })
      .option('binary', { type: 'string', describe: 'with --effects ame: 0/1 variables whose effect is the discrete change 0 → 1, e.g. same_province,same_region' })
      .option('predict', { type: 'string', describe: 'predicted outcome at values of one variable, averaged over the others as observed (Stata margins, at()), e.g. "log_flow=0,2,4,6"' })
      .option('atmeans', { type: 'boolean', default: false, describe: 'with --predict: the other variables at their means (Stata margins, at() atmeans) instead of as observed' })
      .option('threshold', { type: 'number', default: 0.5, describe: 'binary models: the fitted probability from which the classification table predicts 1' })
      .option('wald', { type: 'string', array: true, describe: 'Wald test of linear restrictions with the model\'s variance, e.g. "log_flow = 0, same_region = 0" (comma = joint; repeat for separate tests; names with : ( ^ in backticks: "`a:b` = 0")' })
      .option('json', { type: 'boolean', default: false, describe: 'print the machine-readable fit (docs/contract.md §5); with --effects: {"fit": …, "effects": […]}' })
      .example('$0 fit --data outputs/demo/2021/dyads.parquet --formula "coop ~ log_flow + same_province + log_distance" --family logit --vcov dyadic --effects ame', ''),
  handler: async (args) => (await import('./fit-command.ts')).runFit(args),
};

const qapCmd: CommandModule = {
  command: 'qap',
  describe: 'QAP / MRQAP permutation p-values for a model of all pairs of a set of cities (sna::netlogit / netlm)',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'pair table: CSV, Parquet or Excel (e.g. outputs/demo/2021/dyads.parquet)' })
      .option('formula', { type: 'string', demandOption: true, describe: 'R-style formula, e.g. "coop ~ log_distance + log_flow + same_province"' })
      .option('family', { type: 'string', demandOption: true, choices: QAP_FAMILIES, describe: 'model family' })
      .option('null', { type: 'string', choices: ['dsp', 'y'], default: 'dsp', describe: 'dsp: double semi-partialling (each coefficient, its residual permuted); y: permute the outcome' })
      .option('reps', { type: 'number', default: 1000, describe: 'permutations' })
      .option('seed', { type: 'number', default: 1, describe: 'random seed (the same seed gives the same p-values, whatever the number of threads)' })
      .option('statistic', { type: 'string', choices: ['z', 'coef'], default: 'z', describe: 'test statistic: the z (t for OLS) value, or the coefficient' })
      .option('dyad', { type: 'string', describe: 'the two city columns (default i,j)' })
      .option('threads', { type: 'number', describe: 'threads for the permutations (default 2)' })
      .option('vcov', { type: 'string', default: 'classical', choices: VCOV_TYPES, describe: 'variance of the SEs printed with the fit (the QAP statistic uses the classical one)' })
      .option('cluster', { type: 'string', describe: 'cluster column(s) for --vcov cluster/cluster2' })
      .option('ssc', { type: 'string', choices: SSC_PRESETS, describe: 'small-sample preset' })
      .option('subset', { type: 'string', describe: 'keep rows where this expression is true (the pairs must stay complete)' })
      .option('level', { type: 'number', default: 0.95, describe: 'confidence level' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of a CSV file' })
      .option('sheet', { type: 'string', describe: 'the sheet of an .xlsx file' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"fit": <fit --json>, "qap": {...}}' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress on stderr' })
      .example('$0 qap --data outputs/demo/2021/dyads.parquet --formula "coop ~ log_distance + log_flow + same_province" --family logit --null dsp --reps 2000 --seed 1', ''),
  handler: async (args) => (await import('./qap-command.ts')).runQap(args),
};

const networkCmd: CommandModule = {
  command: 'network',
  describe: "the cooperation network's own statistics: density, centralisation, transitivity, components, central cities",
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'pair table: CSV, Parquet or Excel (e.g. outputs/demo/2021/dyads.parquet)' })
      .option('tie', { type: 'string', default: 'coop', describe: '0/1 column: the pair has a tie' })
      .option('weight', { type: 'string', describe: 'column summed into each city\'s strength (default: items when the file has it; else the number of ties)' })
      .option('dyad', { type: 'string', describe: 'the two city columns (default i,j)' })
      .option('subset', { type: 'string', describe: 'keep pairs where this expression is true, e.g. "province_i == province_j"' })
      .option('top', { type: 'number', default: 10, describe: 'list this many cities with most partners' })
      .option('out', { type: 'string', describe: 'write every city\'s statistics to this CSV file' })
      .option('json', { type: 'boolean', default: false, describe: 'print {"summary": …, "cities": […]}' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of a CSV file' })
      .option('sheet', { type: 'string', describe: 'the sheet of an .xlsx file' })
      .example('$0 network --data outputs/demo/2021/dyads.parquet --out network.csv', ''),
  handler: async (args) => (await import('./network-command.ts')).runNetwork(args),
};

const compareCmd: CommandModule = {
  command: 'compare',
  describe: 'fit several models on one data set and compare them (AIC, BIC, LR, alpha = 0, Vuong)',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'CSV, Parquet or Excel (.xlsx) file' })
      .option('encoding', { type: 'string', choices: ['utf8', 'gbk'], default: 'utf8', describe: 'character set of the CSV files (gbk: Excel on a Chinese Windows)' })
      .option('sheet', { type: 'string', describe: 'the sheet of an .xlsx file (default: the first)' })
      .option('model', { type: 'string', array: true, demandOption: true, describe: 'a model as "family: formula" (or "name=family: formula"); repeat' })
      .option('subset', { type: 'string', describe: 'keep rows where this expression is true' })
      .option('json', { type: 'boolean', default: false, describe: 'machine-readable output' })
      .example('$0 compare --data outputs/demo/2021/dyads.parquet --subset "coop == 1" --model "negbin: items ~ log_flow" --model "poisson: items ~ log_flow"', ''),
  handler: async (args) => (await import('./compare-command.ts')).runCompare(args),
};

export const commands: CommandModule[] = [cleanCmd, dyadsCmd, simulateCmd, runCmd, reportCmd, compareYearsCmd, fitCmd, compareCmd, qapCmd, networkCmd, panelCmd];
