/**
 * Input errors. Every problem names the file, the row as a spreadsheet shows it
 * (header = row 1), the column, the offending value and what was expected.
 * All problems of a file are collected and reported together (capped).
 */
export interface Problem {
  file: string;
  row?: number;
  /** 'row' for data files (spreadsheet rows), 'line' for text files such as specs */
  rowLabel?: 'row' | 'line';
  column?: string;
  value?: string;
  expected: string;
}

export const MAX_LISTED_PROBLEMS = 20;

function formatProblem(p: Problem): string {
  const where = [p.file];
  if (p.row !== undefined) where.push(`${p.rowLabel ?? 'row'} ${p.row}`);
  if (p.column !== undefined) where.push(p.rowLabel === 'line' ? `field '${p.column}'` : `column '${p.column}'`);
  const v = p.value !== undefined && p.value.length > 80 ? `${p.value.slice(0, 80)}… (${p.value.length} characters)` : p.value;
  const value = v === undefined ? '' : ` value ${JSON.stringify(v)}:`;
  return `${where.join(', ')}:${value} expected ${p.expected}`;
}

/** An error in what the user gave us (data, options, spec). Exit code 2. */
export class InputError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[], headline?: string) {
    const shown = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => '  - ' + formatProblem(p));
    const more = problems.length - shown.length;
    if (more > 0) shown.push(`  … and ${more} more problem${more === 1 ? '' : 's'}`);
    const head = headline ?? `invalid input (${problems.length} problem${problems.length === 1 ? '' : 's'})`;
    super(`${head}\n${shown.join('\n')}`);
    this.name = 'InputError';
    this.problems = problems;
  }
}

/** The error for a file that cannot be opened or read, with the system's reason. */
export const unreadableFile = (file: string, e: unknown): InputError =>
  new InputError([{ file, expected: `a readable file (${(e as Error).message})` }]);

/** A user error that is not tied to a data file (bad option, bad formula, …). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Collects problems and throws them together. */
export class ProblemList {
  readonly items: Problem[] = [];
  add(p: Problem): void {
    this.items.push(p);
  }
  get size(): number {
    return this.items.length;
  }
  throwIfAny(headline?: string): void {
    if (this.items.length > 0) throw new InputError(this.items, headline);
  }
}
