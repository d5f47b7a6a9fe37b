/**
 * CSV in and out. Reading goes through one scanner (csv-columns.ts: BOM, CRLF, quoted
 * fields, UTF-8 checked); writing quotes only the cells that need it.
 */
import { statSync } from 'node:fs';
import { InputError, unreadableFile } from '../util/errors.ts';
import { cellText, makeTable, numColumn, strColumn, type Column, type Table } from './table.ts';
import { isNumberText } from './numbers.ts';
import { readCsvColumns, readCsvRecords, type Encoding } from './csv-columns.ts';

export interface RawCsv {
  /** name used in messages (the path as given) */
  file: string;
  header: string[];
  /** data records; rows[k] is spreadsheet row k + 2 */
  rows: string[][];
}

/** Larger files hold more cells than rows of text cells can comfortably keep in memory. */
const MAX_CSV_BYTES = 400e6;

/** Spreadsheet row number of data record k (header = row 1). */
export const rowNumber = (k: number): number => k + 2;

/**
 * Reads a CSV file into header + text cells (readCsvRecords). Problems with the shape of the
 * file (no header, empty or repeated names, rows with too many or too few cells) are
 * reported together.
 */
export function readCsvRaw(path: string, opts: { allowHeaderOnly?: boolean; encoding?: Encoding } = {}): RawCsv {
  let bytes: number;
  try {
    bytes = statSync(path).size;
  } catch (e) {
    throw unreadableFile(path, e);
  }
  if (bytes > MAX_CSV_BYTES) {
    throw new InputError([{ file: path, expected: `a file under ${MAX_CSV_BYTES / 1e6} MB to validate cell by cell (this one has ${(bytes / 1e6).toFixed(0)} MB)` }]);
  }
  const { header, rows } = readCsvRecords(path, opts);
  return { file: path, header, rows };
}

/** Parses a numeric cell ('' = missing = NaN); undefined when the text is not a number. */
function parseNumberCell(s: string): number | undefined {
  const t = s.trim();
  if (t === '' || t === 'NA') return NaN;
  if (!isNumberText(t)) return undefined;
  return Number(t);
}

/**
 * Turns a raw CSV into a typed table: a column whose non-empty cells are all numbers
 * becomes numeric, any other column a string column. Used by `tongban fit` on any CSV.
 */
export function rawToTable(raw: RawCsv, forceString: Set<string> = new Set()): Table {
  const n = raw.rows.length;
  const cols: [string, Column][] = raw.header.map((name, c) => {
    if (!forceString.has(name)) {
      const v = new Float64Array(n);
      let numeric = true;
      for (let r = 0; r < n; r++) {
        const x = parseNumberCell(raw.rows[r][c] ?? '');
        if (x === undefined) {
          numeric = false;
          break;
        }
        v[r] = x;
      }
      if (numeric) return [name, numColumn(v)];
    }
    return [name, strColumn(raw.rows.map((row) => (row[c] ?? '').trim()))];
  });
  return makeTable(n, cols);
}

/** Any CSV as a table of typed columns (`tongban fit`); columns in `text` stay text (ids). */
export function readCsvTable(path: string, text: ReadonlySet<string> = new Set()): Table {
  return readCsvColumns(path, { text });
}

function quote(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** Writes rows as CSV text (LF line ends, UTF-8, no BOM). */
export function toCsv(header: string[], rows: Iterable<string[]>): string {
  const out: string[] = [header.map(quote).join(',')];
  for (const r of rows) out.push(r.map(quote).join(','));
  return out.join('\n') + '\n';
}

/** The header line of a CSV file with these columns. */
export const csvHeader = (names: string[]): string => names.map(quote).join(',') + '\n';

/**
 * A table as CSV text in chunks of 10,000 rows: a 4-million-row dyad table is larger than
 * the longest string V8 allows, so large tables are written chunk by chunk. The header line
 * first, unless `header` is false (the rows of a file written a part at a time).
 */
export function* tableCsvChunks(t: Table, names: string[] = t.names, header = true): Generator<string> {
  const cols = names.map((n) => {
    const c = t.columns.get(n);
    if (!c) throw new Error(`no column '${n}'`);
    return c;
  });
  if (header) yield csvHeader(names);
  const line: string[] = new Array(cols.length);
  let chunk: string[] = [];
  for (let r = 0; r < t.nrow; r++) {
    for (let c = 0; c < cols.length; c++) {
      const col = cols[c];
      line[c] = col.kind === 'number' ? cellText(col, r) : quote(cellText(col, r));
    }
    chunk.push(line.join(','));
    if (chunk.length === 10000) {
      yield chunk.join('\n') + '\n';
      chunk = [];
    }
  }
  if (chunk.length) yield chunk.join('\n') + '\n';
}

/** A (small) table as one CSV string. */
export function tableToCsv(t: Table, names: string[] = t.names): string {
  return [...tableCsvChunks(t, names)].join('');
}
