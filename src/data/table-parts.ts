/**
 * A table built part by part — the pair-year table, year by year — without ever holding all of
 * it: each part goes to sinks (a Parquet file written as it grows, a collector of the columns the
 * models need), and the part's source tables can be dropped once it has been pushed.
 */
import { denseCodes, numColumn, type Column, type Table } from './table.ts';

export type ColumnKind = Column['kind'];

/** Rows of the table-to-be: its columns in order, each a source column read through a row index (null: rows 0 … n − 1). */
export interface TablePart {
  n: number;
  columns: { name: string; col: Column; rows: Int32Array | null }[];
}

/**
 * Where the parts of a table go: `start` with its columns (and those with a missing value in the
 * first part's source, a hint: later parts may have others), then `push` every part in row
 * order, then `finish`.
 */
export interface PartSink {
  start(columns: [string, ColumnKind][], missing?: ReadonlySet<string>): void;
  push(part: TablePart): void;
  finish(): void;
}

/** Numbers of rows [from, to) of a part's column. */
export function gatherNumbers(c: { col: Column; rows: Int32Array | null }, from: number, to: number, into: Float64Array, at: number): void {
  const v = (c.col as { values: Float64Array }).values;
  if (!c.rows) into.set(v.subarray(from, to), at);
  else for (let k = from, o = at; k < to; k++, o++) into[o] = v[c.rows[k]];
}

/**
 * Collects the columns `keep` names into one in-memory table. Text columns are coded by first
 * appearance in row order, as `strColumn` codes them, and empty text is missing.
 */
export class TableCollector implements PartSink {
  private cols: [string, ColumnKind][] = [];
  private numParts = new Map<string, Float64Array[]>();
  private strParts = new Map<string, Int32Array[]>();
  private coders = new Map<string, ReturnType<typeof denseCodes<string>>>();
  private n = 0;
  private result: Table | null = null;

  constructor(private readonly keep: (name: string) => boolean = () => true) {}

  start(columns: [string, ColumnKind][]): void {
    this.cols = columns.filter(([name]) => this.keep(name));
    for (const [name, kind] of this.cols) {
      if (kind === 'number') this.numParts.set(name, []);
      else {
        this.strParts.set(name, []);
        this.coders.set(name, denseCodes<string>());
      }
    }
  }

  push(part: TablePart): void {
    for (const c of part.columns) {
      const nums = this.numParts.get(c.name);
      if (nums) {
        const v = new Float64Array(part.n);
        gatherNumbers(c, 0, part.n, v, 0);
        nums.push(v);
        continue;
      }
      const strs = this.strParts.get(c.name);
      if (!strs) continue;
      const src = c.col as { codes: Int32Array; levels: string[] };
      const coder = this.coders.get(c.name)!;
      // source level → code here, assigned at the level's first use in row order
      const recode = new Int32Array(src.levels.length).fill(-2);
      const out = new Int32Array(part.n);
      for (let k = 0; k < part.n; k++) {
        const s = src.codes[c.rows ? c.rows[k] : k];
        if (s < 0) {
          out[k] = -1;
          continue;
        }
        let g = recode[s];
        if (g === -2) g = recode[s] = src.levels[s] === '' ? -1 : coder.code(src.levels[s]);
        out[k] = g;
      }
      strs.push(out);
    }
    this.n += part.n;
  }

  finish(): void {
    const columns = new Map<string, Column>();
    for (const [name, kind] of this.cols) {
      if (kind === 'number') columns.set(name, numColumn(concat(this.numParts.get(name)!, new Float64Array(this.n))));
      else columns.set(name, { kind: 'string', codes: concat(this.strParts.get(name)!, new Int32Array(this.n)), levels: this.coders.get(name)!.keys });
    }
    this.result = { nrow: this.n, names: this.cols.map(([name]) => name), columns };
  }

  /** The collected table (after `finish`). */
  table(): Table {
    if (!this.result) throw new Error('internal: a collected table asked for before it was finished');
    return this.result;
  }
}

/** The parts one after another in `into` (sized to hold them all); each part is let go once copied. */
function concat<T extends Float64Array | Int32Array>(parts: T[], into: T): T {
  let o = 0;
  for (const p of parts.splice(0)) {
    into.set(p, o);
    o += p.length;
  }
  return into;
}
