/**
 * The `tongban` command line (yargs). Each command maps its options to one src/ call.
 * Exit codes: 0 success, 2 bad input or usage (message names file/row/column), 1 a bug.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../util/errors.ts';
import { reportError } from './errors.ts';
import { commands } from './commands.ts';

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  const parser: Argv = yargs(argv)
    .scriptName('tongban')
    .usage('tongban <command> [options]\n\nStatistical models of inter-city cooperation in government services (跨域通办).')
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress messages on stderr' })
    .strict()
    .demandCommand(1, 'Name a command (tongban --help lists them).')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    });
  for (const c of commands) parser.command(c);
  try {
    await parser.parseAsync();
  } catch (e) {
    code = reportError(e);
  }
  return code;
}

// a reader that stops early (`| head`) closes the pipe: stop quietly, as command-line tools do
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(hideBin(process.argv));
