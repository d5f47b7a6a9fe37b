/**
 * Progress on stderr: a bar (cli-progress) when stderr is a terminal, plain lines
 * otherwise, nothing with --quiet. Results go to stdout, progress never does. Warnings (an
 * estimate that may be unreliable) go to stderr with or without --quiet.
 */
import cliProgress from 'cli-progress';

export interface Reporter {
  /** a one-line message about a step */
  step(message: string): void;
  /** a bar over `total` units; returns tick/stop */
  bar(label: string, total: number): { tick(detail?: string): void; stop(): void };
  /** a warning about a result (not progress: shown with --quiet too) */
  warn(message: string): void;
}

export function makeReporter(quiet: boolean): Reporter {
  const tty = process.stderr.isTTY === true;
  return {
    step(message) {
      if (!quiet) process.stderr.write(`tongban: ${message}\n`);
    },
    warn(message) {
      process.stderr.write(`tongban: warning: ${message}\n`);
    },
    bar(label, total) {
      if (quiet) return { tick() {}, stop() {} };
      if (!tty) {
        let k = 0;
        return {
          tick(detail) {
            k++;
            process.stderr.write(`tongban: ${label} ${k}/${total}${detail ? ` ${detail}` : ''}\n`);
          },
          stop() {},
        };
      }
      const b = new cliProgress.SingleBar(
        { stream: process.stderr, format: `${label} [{bar}] {value}/{total} {detail}`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      b.start(total, 0, { detail: '' });
      return {
        tick(detail) {
          b.increment(1, { detail: detail ?? '' });
        },
        stop() {
          b.stop();
        },
      };
    },
  };
}

/** No progress and no warnings (library use and tests: the warnings stay in the results). */
export const silentReporter: Reporter = { ...makeReporter(true), warn() {} };
