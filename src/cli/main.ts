/**
 * The `tongban` command line (yargs). Each command maps its options to one src/ call.
 * Exit codes: 0 success, 2 bad input or usage (message names file/row/column), 1 a bug.
 */
import yargs, { type Argv, type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../util/errors.ts';
import { reportError } from './errors.ts';
import { commands } from './commands.ts';
import { closest } from '../util/suggest.ts';

/**
 * yargs' messages with hints: a misspelled option or a value outside the choices gets the
 * closest known one (Stata and R names included: nbreg → negbin, robust → HC1).
 */
export function withHints(msg: string, options: string[], argv: string[] = []): string {
  // a required option reported missing because it was misspelled
  if (/^Missing required arguments?:/.test(msg)) {
    const given = argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]);
    const known = new Set(options.flatMap((o) => [o, o.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)]));
    const hints = given.filter((g) => !known.has(g) && !known.has(g.replace(/^no-/, ''))).map((g) => {
      const c = closest(g, options.filter((o) => o.length > 1));
      return c ? `--${g}: did you mean --${c}?` : null;
    });
    return hints.some(Boolean) ? `${msg}\n${hints.filter(Boolean).join('\n')}` : msg;
  }
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (unknown) {
    const hints = unknown[1].split(',').map((a) => {
      const c = closest(a.trim(), options.filter((o) => o.length > 1));
      return c ? `--${a.trim()}: did you mean --${c}?` : null;
    });
    return hints.some(Boolean) ? `${msg}\n${hints.filter(Boolean).join('\n')}` : msg;
  }
  const invalid = /Argument: ([\w-]+), Given: "([^"]*)", Choices: (.+)$/m.exec(msg);
  if (invalid) {
    const choices = [...invalid[3].matchAll(/"([^"]*)"/g)].map((m) => m[1]);
    const c = closest(invalid[2], choices);
    if (c) return `${msg}\n--${invalid[1]} ${invalid[2]}: did you mean --${invalid[1]} ${c}?`;
  }
  return msg;
}

export async function main(argv: string[]): Promise<number> {
  let code = 0;
  // yargs lays a command's help out as the command starts, to show it should the command fail;
  // tongban's failures print their own message instead, so the layout is wasted work (~40 ms of
  // every command, mostly wrapping text): help is wrapped to the terminal only when asked for
  const wantsHelp = argv.some((a) => a === '--help' || a === '-h' || a === 'help');
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
    .wrap(wantsHelp ? Math.min(110, process.stdout.columns ?? 100) : null)
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(withHints(msg, knownOptions, argv));
    });
  // the running command's options, recorded as its builder declares them (for "did you mean")
  let knownOptions: string[] = [];
  for (const c of commands) {
    const builder = c.builder;
    parser.command({
      ...c,
      builder: (y: Argv) => {
        const built = typeof builder === 'function' ? builder(y) : y;
        knownOptions = Object.keys((built as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key);
        return built;
      },
    } as CommandModule);
  }
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

const code = await main(hideBin(process.argv));
process.exitCode = code;
// a failed command ends once its error message is out: a worker thread still busy for it (say,
// encoding the dyad files of a run that failed later) must not keep the process alive ('exit'
// handlers still remove partial outputs and locks; stdout is not written to here, so its EPIPE
// handler cannot turn the code into 0)
if (code !== 0) process.stderr.write('', () => process.exit(code));
