import { InputError, UsageError } from '../util/errors.ts';

/** Prints an error for a person and returns the exit code: 2 for bad input or usage, 1 for a bug. */
export function reportError(e: unknown): number {
  if (e instanceof InputError || e instanceof UsageError) {
    process.stderr.write(`tongban: error: ${e.message}\n`);
    return 2;
  }
  process.stderr.write(`tongban: internal error (please report): ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}
