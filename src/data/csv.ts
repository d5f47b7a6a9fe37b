/**
 * CSV in and out. Reading goes through one scanner (csv-columns.ts: BOM, CRLF, quoted
 * fields, UTF-8 checked); writing quotes only the cells that need it.
 */
import { statSync } from 'node:fs';
import { InputError, unreadableFile } from '../util/errors.ts';
import { formatNumber, makeTable, numColumn, strColumn, type Column, type Table } from './table.ts';
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

/** Writes rows as CSV text (LF line ends, UTF-8, no BOM); an empty row of a one-column table as "" (a blank line would be skipped on reading). */
export function toCsv(header: string[], rows: Iterable<string[]>): string {
  const out: string[] = [header.map(quote).join(',')];
  for (const r of rows) {
    const line = r.map(quote).join(',');
    out.push(line === '' && header.length === 1 ? '""' : line);
  }
  return out.join('\n') + '\n';
}

/** The header line of a CSV file with these columns. */
export const csvHeader = (names: string[]): string => names.map(quote).join(',') + '\n';

const UTF8 = new TextEncoder();

/**
 * A table's rows (no header line) as CSV in UTF-8, in chunks of 10,000 rows: a 4-million-row
 * dyad table is larger than the longest string V8 allows, so large tables are written chunk by
 * chunk. The bytes are made straight from the columns: each text level is quoted and encoded
 * once, a number's shortest text (ASCII) is copied byte by byte; no row strings, no joins and no
 * encoding pass (a third of the time of writing the national dyads.csv that way).
 */
export function* tableCsvBytes(t: Table, names: string[] = t.names): Generator<Uint8Array> {
  const cols = names.map((n) => {
    const c = t.columns.get(n);
    if (!c) throw new Error(`no column '${n}'`);
    return c;
  });
  const nc = cols.length;
  const nums = cols.map((c) => (c.kind === 'number' ? c.values : null));
  const codes = cols.map((c) => (c.kind === 'string' ? c.codes : null));
  const texts = cols.map((c) => (c.kind === 'string' ? c.levels.map((l) => UTF8.encode(quote(l))) : null));
  // the most bytes a row can take: a number's text is at most 25 characters
  // (-0.0000012345678901234567; -1.2345678901234567e-308 is 24); 2 for a lone missing cell's ""
  let rowMax = nc + 3;
  for (const levels of texts) rowMax += levels ? levels.reduce((m, b) => Math.max(m, b.length), 0) : 25;
  let buf = new Uint8Array(Math.max(1 << 16, rowMax * 256));
  let p = 0;
  for (let r = 0; r < t.nrow; r++) {
    if (p + rowMax > buf.length) {
      const grown = new Uint8Array(Math.max(2 * buf.length, p + rowMax));
      grown.set(buf.subarray(0, p));
      buf = grown;
    }
    const start = p;
    for (let c = 0; c < nc; c++) {
      if (c > 0) buf[p++] = 0x2c; // ,
      const v = nums[c];
      if (v !== null) {
        const s = formatNumber(v[r]);
        for (let i = 0; i < s.length; i++) buf[p++] = s.charCodeAt(i);
      } else {
        const code = codes[c]![r];
        if (code >= 0) {
          const b = texts[c]![code];
          for (let i = 0; i < b.length; i++) buf[p++] = b[i];
        }
      }
    }
    // a row of one missing cell as "", not a blank line: readers skip blank lines, and the row
    // would be lost (a quoted empty cell reads back as missing)
    if (p === start && nc === 1) {
      buf[p++] = 0x22;
      buf[p++] = 0x22;
    }
    buf[p++] = 0x0a; // \n
    if ((r + 1) % 10000 === 0) {
      yield buf.slice(0, p);
      p = 0;
    }
  }
  if (p > 0) yield buf.slice(0, p);
}

/** A (small) table as one CSV string, header line first. */
export function tableToCsv(t: Table, names: string[] = t.names): string {
  const utf8 = new TextDecoder();
  let out = csvHeader(names);
  for (const b of tableCsvBytes(t, names)) out += utf8.decode(b); // chunks end at line ends
  return out;
}
