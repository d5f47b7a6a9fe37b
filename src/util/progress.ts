/**
 * Progress on stderr: a bar (cli-progress) when stderr is a terminal, plain lines
 * otherwise, nothing with --quiet. Results go to stdout, progress never does.
 */
import cliProgress from 'cli-progress';

export interface Reporter {
  /** a one-line message about a step */
  step(message: string): void;
  /** a bar over `total` units; returns tick/stop */
  bar(label: string, total: number): { tick(detail?: string): void; stop(): void };
}

export function makeReporter(quiet: boolean): Reporter {
  const tty = process.stderr.isTTY === true;
  return {
    step(message) {
      if (!quiet) process.stderr.write(`tongban: ${message}\n`);
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

export const silentReporter: Reporter = makeReporter(true);
