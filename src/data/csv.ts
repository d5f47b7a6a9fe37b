/**
 * CSV in and out. Reading uses csv-parse (BOM, CRLF, quoted fields, UTF-8 text);
 * writing quotes only the cells that need it.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { InputError, type Problem } from '../util/errors.ts';
import { cellText, makeTable, numColumn, strColumn, type Column, type Table } from './table.ts';
import { isNumberText } from './numbers.ts';
import { readCsvColumns } from './csv-columns.ts';

export interface RawCsv {
  /** name used in messages (the path as given) */
  file: string;
  header: string[];
  /** data records; rows[k] is spreadsheet row k + 2 */
  rows: string[][];
}

/** Larger files exceed what one JavaScript string (and csv-parse) can hold comfortably. */
const MAX_CSV_BYTES = 400e6;

/** Spreadsheet row number of data record k (header = row 1). */
export const rowNumber = (k: number): number => k + 2;

/**
 * Reads a CSV file into header + string cells. Problems with the shape of the file
 * (no header, empty header names, repeated names, rows with too many or too few
 * cells) are reported together.
 */
export function readCsvRaw(path: string, opts: { allowHeaderOnly?: boolean } = {}): RawCsv {
  let text: string;
  try {
    const bytes = statSync(path).size;
    if (bytes > MAX_CSV_BYTES) {
      throw new InputError([
        {
          file: path,
          expected: `a CSV under ${MAX_CSV_BYTES / 1e6} MB to read as text (this one has ${(bytes / 1e6).toFixed(0)} MB); fit models on county-scale dyads through a spec file with tongban run, which keeps them in memory`,
        },
      ]);
    }
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError([{ file: path, expected: `a readable file (${(e as Error).message})` }]);
  }
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) {
    const line = text.slice(0, bad).split('\n').length;
    throw new InputError([
      {
        file: path,
        row: line,
        expected: "UTF-8 text (this file has bytes that are not UTF-8; a CSV saved by Excel on a Chinese Windows is usually GBK: save it as 'CSV UTF-8')",
      },
    ]);
  }
  let records: string[][];
  try {
    records = parse(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: false,
    }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new InputError([
      { file: path, row: err.lines, expected: `well-formed CSV (${err.message})` },
    ]);
  }
  if (records.length === 0) {
    throw new InputError([{ file: path, row: 1, expected: 'a header row (the file is empty)' }]);
  }
  const header = records[0].map((h) => h.trim());
  const rows = records.slice(1);
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  header.forEach((h, c) => {
    if (h === '') problems.push({ file: path, row: 1, column: `#${c + 1}`, value: h, expected: 'a column name' });
    else if (seen.has(h)) problems.push({ file: path, row: 1, column: h, value: h, expected: 'each column name once' });
    seen.set(h, c);
  });
  if (rows.length === 0 && !opts.allowHeaderOnly) {
    problems.push({ file: path, row: 2, expected: 'at least one data row (the file holds only a header)' });
  }
  rows.forEach((cells, k) => {
    if (cells.length !== header.length) {
      problems.push({
        file: path,
        row: rowNumber(k),
        column: cells.length > header.length ? `#${header.length + 1}` : header[cells.length] ?? '',
        value: `${cells.length} cells`,
        expected: `${header.length} cells as in the header (${cells.length > header.length ? 'too many' : 'too few'})`,
      });
    }
  });
  if (problems.length) throw new InputError(problems, `cannot read ${basename(path)}`);
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

/**
 * A table as CSV text in chunks of 10,000 rows: a 4-million-row dyad table is larger than
 * the longest string V8 allows, so large tables are written chunk by chunk.
 */
export function* tableCsvChunks(t: Table, names: string[] = t.names): Generator<string> {
  const cols = names.map((n) => {
    const c = t.columns.get(n);
    if (!c) throw new Error(`no column '${n}'`);
    return c;
  });
  yield names.map(quote).join(',') + '\n';
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
