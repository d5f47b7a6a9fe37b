/**
 * A CSV file straight to typed columns, streaming: the file is read in blocks of bytes,
 * each record is split in place (RFC 4180 quoting, CRLF or LF, a UTF-8 BOM, blank lines
 * skipped), and each cell goes straight into its column — numbers into a Float64Array
 * (empty and NA are missing), text dictionary-encoded — with no per-row objects and no
 * string for the whole file, so the file's size is bounded by the memory of its columns.
 *
 * A column is numeric while every non-missing cell is a number; a column that meets a
 * non-number after numbers becomes text, and the file is scanned once more for the text
 * of those columns only (the text of a cell such as "001" must survive exactly). Columns
 * named in `text` (ids) are always text. Numbers parse with one parser (`parseNumber`):
 * finite decimals only, the same accepted forms as `isNumberText`.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import iconv from 'iconv-lite';
import { isUtf8 } from 'node:buffer';
import { totalmem } from 'node:os';
import { basename } from 'node:path';
import { InputError, unreadableFile, type Problem } from '../util/errors.ts';
import { answerOf, tryStartWorker } from '../util/workers.ts';
import { isNumberText } from './numbers.ts';
import { denseCodes, makeTable, numColumn, type Column, type Table } from './table.ts';

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const BLOCK = 1 << 23; // 8 MB
/** A file larger than this share of the machine's memory is refused before reading. */
const MEMORY_SHARE = 0.75;

/** Powers of ten that are exact doubles (Clinger's fast path). */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);
const MAX_EXACT = 2 ** 53;

/**
 * The number in characters [s, e) of a text, or undefined when the cell is not a number.
 * Spaces and tabs around it are ignored. A mantissa of at most 2^53 with a power of ten
 * of at most 22 is computed exactly from its digits (correctly rounded, as Number()
 * does: Clinger's fast path); other cells go through Number(). The forms accepted are
 * those of `isNumberText`; a text that overflows a double is not a number (undefined) here,
 * and the caller says so.
 */
export function parseNumber(t: string, s: number, e: number): number | undefined {
  while (s < e && (t.charCodeAt(s) === 0x20 || t.charCodeAt(s) === 0x09)) s++;
  while (e > s && (t.charCodeAt(e - 1) === 0x20 || t.charCodeAt(e - 1) === 0x09)) e--;
  let i = s;
  let neg = false;
  let c = i < e ? t.charCodeAt(i) : 0;
  if (c === 0x2d || c === 0x2b) {
    neg = c === 0x2d;
    c = ++i < e ? t.charCodeAt(i) : 0;
  }
  let mant = 0;
  let scale = 0;
  let any = false;
  while (c >= 0x30 && c <= 0x39) {
    mant = mant * 10 + (c - 0x30);
    any = true;
    c = ++i < e ? t.charCodeAt(i) : 0;
  }
  if (c === 0x2e) {
    c = ++i < e ? t.charCodeAt(i) : 0;
    while (c >= 0x30 && c <= 0x39) {
      mant = mant * 10 + (c - 0x30);
      scale--;
      any = true;
      c = ++i < e ? t.charCodeAt(i) : 0;
    }
  }
  if (!any) return undefined;
  let exp = 0;
  if (c === 0x65 || c === 0x45) {
    c = ++i < e ? t.charCodeAt(i) : 0;
    let eneg = false;
    if (c === 0x2d || c === 0x2b) {
      eneg = c === 0x2d;
      c = ++i < e ? t.charCodeAt(i) : 0;
    }
    let ed = 0;
    while (c >= 0x30 && c <= 0x39) {
      if (exp < 1e6) exp = exp * 10 + (c - 0x30);
      ed++;
      c = ++i < e ? t.charCodeAt(i) : 0;
    }
    if (ed === 0) return undefined;
    if (eneg) exp = -exp;
  }
  if (i !== e) return undefined;
  const p = scale + exp;
  // exact when the digits made an integer of at most 2^53 (every step was then exact too)
  if (mant <= MAX_EXACT && p >= -22 && p <= 22) {
    const v = p >= 0 ? mant * POW10[p] : mant / POW10[-p];
    return neg ? -v : v;
  }
  const v = Number(t.slice(s, e));
  return Number.isFinite(v) ? v : undefined;
}

/** A typed array of twice the length holding the same values first. */
function doubled<T extends Float64Array | Int32Array | Uint8Array>(a: T): T {
  const next = new (a.constructor as new (n: number) => T)(a.length * 2);
  next.set(a);
  return next;
}

/** A growable Float64Array. */
class NumBuilder {
  values: Float64Array;
  length = 0;
  /** non-empty cells seen so far (numbers and NA) */
  nonEmpty = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(Math.max(capacity, 1024));
  }
  push(x: number): void {
    if (this.length === this.values.length) this.values = doubled(this.values);
    this.values[this.length++] = x;
  }
}

/** A growable dictionary-encoded text column ('' = missing). */
class TextBuilder {
  codes: Int32Array;
  length = 0;
  coder = denseCodes<string>();
  constructor(capacity: number) {
    this.codes = new Int32Array(Math.max(capacity, 1024));
  }
  push(s: string): void {
    if (this.length === this.codes.length) this.codes = doubled(this.codes);
    this.codes[this.length++] = s === '' ? -1 : this.coder.code(s);
  }
}

export interface CsvColumnsOptions {
  /** columns read as text whatever they hold (ids) */
  text?: ReadonlySet<string>;
  /** read only these columns (the others are checked for shape but not parsed); all when absent */
  only?: ReadonlySet<string>;
  /** bytes read at a time (tests use small blocks to cross block boundaries) */
  blockSize?: number;
  /** the file's character set (default UTF-8) */
  encoding?: Encoding;
  /** CSV bytes to read instead of the file (a spreadsheet converted by data/xlsx.ts); `path` names it in messages */
  memory?: Buffer;
}

/** One record's fields: start and end offsets in the block, and whether quoted. */
interface Fields {
  start: Int32Array;
  end: Int32Array;
  quoted: Uint8Array;
  count: number;
}

/**
 * A field's text: the block is decoded one byte per character (latin1, the fastest way to
 * a string; numbers are ASCII), so a field with bytes above 0x7f is decoded again as
 * UTF-8 (the block was checked to be valid UTF-8). Quoted fields have "" un-escaped; the
 * text is trimmed like every cell.
 */
function fieldText(text: string, f: Fields, k: number): string {
  const s = f.start[k];
  const e = f.end[k];
  let raw = text.slice(s, e);
  for (let i = s; i < e; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      raw = Buffer.from(raw, 'latin1').toString('utf8');
      break;
    }
  }
  return (f.quoted[k] ? raw.replace(/""/g, '"') : raw).trim();
}

/** The physical line (1-based, counting from `line0`) of the first line of bytes that is not UTF-8. */
function firstBadLine(buf: Buffer, from: number, to: number, line0: number): number {
  let line = line0;
  let s = from;
  for (let k = from; k <= to; k++) {
    if (k === to || buf[k] === LF) {
      if (!isUtf8(buf.subarray(s, k))) return line;
      line++;
      s = k + 1;
    }
  }
  return line0;
}

/**
 * Scans a CSV file record by record: blocks of bytes are checked to be UTF-8, turned into
 * a string of one character per byte up to their last line end, and split into records
 * (the structural characters are ASCII, so offsets are byte offsets). `onHeader` gets the
 * header cells, `onRecord` the fields of each data record (k = data record index,
 * spreadsheet row k + 2). Returns the number of data records (−1: no header).
 */
function scan(path: string, onHeader: (cells: string[]) => void, onRecord: (text: string, f: Fields, k: number) => void, block = BLOCK, source: Source = {}, range?: ByteRange): number {
  // a GBK file is decoded whole and scanned from memory as UTF-8; a spreadsheet arrives as CSV bytes
  const memory = source.memory ?? (source.encoding === 'gbk' ? gbkToUtf8(path) : null);
  let fd = -1;
  if (!memory) {
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw unreadableFile(path, e);
    }
  }
  const fail = (row: number, expected: string): never => {
    throw new InputError([{ file: path, row, expected }], `cannot read ${basename(path)}`);
  };
  try {
    const st = memory ? null : fstatSync(fd);
    if (st && !st.isFile()) throw new InputError([{ file: path, expected: `a file (this is ${st.isDirectory() ? 'a folder' : 'a device or other special file'})` }], `cannot read ${basename(path)}`);
    // its columns take about as much memory as the file's text: refuse before reading what cannot fit
    if (st && st.size > MEMORY_SHARE * totalmem()) {
      throw new InputError([{ file: path, expected: `a file this machine's memory can hold as columns (it has ${(st.size / 1e9).toFixed(1)} GB; the machine ${(totalmem() / 1e9).toFixed(1)} GB): select the columns or rows you need first, or convert it to Parquet` }], `cannot read ${basename(path)}`);
    }
    if (range && memory) throw new Error('internal: a byte range of a CSV held in memory');
    const size = memory ? memory.length : range ? range.to : st!.size;
    let pos = range ? range.from : 0; // file position of buf[0]
    let buf = memory ?? Buffer.allocUnsafe(Math.min(block, Math.max(size - pos, 1)));
    let have = memory ? memory.length : 0; // bytes in buf
    let eof = memory !== null;
    let first = pos === 0;
    let record = pos > 0 ? 0 : -1; // -1 = header (a range from inside the file has none)
    let line = 1; // physical line at buf[0] (for errors)
    const f: Fields = { start: new Int32Array(64), end: new Int32Array(64), quoted: new Uint8Array(64), count: 0 };
    const grow = () => {
      f.start = doubled(f.start);
      f.end = doubled(f.end);
      f.quoted = doubled(f.quoted);
    };
    for (;;) {
      if (!eof) {
        if (have === buf.length) {
          // a record longer than the block: a bigger block
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, have);
          buf = bigger;
        }
        const got = readSync(fd, buf, have, Math.min(buf.length - have, size - (pos + have)), pos + have);
        if (got === 0) eof = true;
        have += got;
      }
      let from = 0;
      if (first && have >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3;
      first = false;
      // decode up to the last line end (a line end byte is never inside a UTF-8 sequence)
      let cut = have;
      if (!eof) {
        cut = buf.lastIndexOf(LF, have - 1) + 1;
        if (cut <= from) continue; // no line end yet: read more
      }
      if (!isUtf8(buf.subarray(from, cut))) {
        fail(firstBadLine(buf, from, cut, line), "UTF-8 text (this line has bytes that are not UTF-8; a CSV saved by Excel on a Chinese Windows is usually GBK: add --encoding gbk, or save it as 'CSV UTF-8')");
      }
      const text = buf.toString('latin1', from, cut);
      const n = text.length;
      let nextComma = -1;
      let nextLF = -1;
      const hasCR = text.indexOf('\r') >= 0;
      let done = 0; // start (in text) of the first unprocessed record
      let lines = 0; // line ends before `done`
      while (done < n) {
        let j = done;
        f.count = 0;
        let complete = false;
        let newlines = 0;
        for (;;) {
          if (f.count === f.start.length) grow();
          if (j < n && text.charCodeAt(j) === QUOTE) {
            const s = j + 1;
            let k = s;
            let closed = -1;
            while (k < n) {
              const c = text.charCodeAt(k);
              if (c === QUOTE) {
                if (k + 1 < n && text.charCodeAt(k + 1) === QUOTE) k += 2;
                else {
                  closed = k;
                  break;
                }
              } else {
                if (c === LF) newlines++;
                k++;
              }
            }
            if (closed < 0) {
              if (eof) fail(line + lines, 'a closing quote for the quoted cell that starts on this line');
              break; // the quoted cell goes on in the next block
            }
            f.start[f.count] = s;
            f.end[f.count] = closed;
            f.quoted[f.count] = 1;
            f.count++;
            j = closed + 1;
            if (j < n) {
              const c = text.charCodeAt(j);
              if (c !== COMMA && c !== LF && c !== CR) fail(line + lines, 'a separator or line end right after a closing quote (a quote inside a quoted cell is written "")');
            }
          } else {
            // an unquoted field ends at the next separator or line end (indexOf is far faster than a loop)
            const s = j;
            if (nextComma < j) nextComma = text.indexOf(',', j);
            if (nextComma < 0) nextComma = n;
            if (nextLF < j) nextLF = text.indexOf('\n', j);
            if (nextLF < 0) nextLF = n;
            j = nextComma < nextLF ? nextComma : nextLF;
            if (hasCR) {
              const r = text.indexOf('\r', s);
              if (r >= 0 && r < j) j = r;
            }
            f.start[f.count] = s;
            f.end[f.count] = j;
            f.quoted[f.count] = 0;
            f.count++;
          }
          if (j >= n) {
            // the end of the decoded text is a line end unless the file ends without one
            complete = eof;
            break;
          }
          const c = text.charCodeAt(j);
          if (c === COMMA) {
            j++;
            continue;
          }
          j += c === CR && j + 1 < n && text.charCodeAt(j + 1) === LF ? 2 : 1;
          newlines++;
          complete = true;
          break;
        }
        if (!complete) break;
        const blank = f.count === 1 && f.end[0] === f.start[0] && !f.quoted[0];
        if (!blank) {
          if (record < 0) {
            const cells: string[] = [];
            for (let k = 0; k < f.count; k++) cells.push(fieldText(text, f, k));
            onHeader(cells);
          } else onRecord(text, f, record);
          record++;
        }
        lines += newlines;
        done = j;
      }
      line += lines;
      if (eof) break;
      // keep the bytes of the unprocessed records (and any partial line) for the next block
      const keepFrom = from + done; // one character per byte
      buf.copy(buf, 0, keepFrom, have);
      pos += keepFrom;
      have -= keepFrom;
    }
    return record < 0 ? -1 : record;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Character sets a CSV may be in: UTF-8 (default) or GBK (GB 18030; Excel's "CSV" on a Chinese Windows). */
export type Encoding = 'utf8' | 'gbk';

/** Where the bytes come from: the file (in its encoding), or CSV bytes made in memory (a spreadsheet's sheet). */
export interface Source {
  encoding?: Encoding;
  memory?: Buffer;
}

/** Empty and repeated column names of a header (row 1). */
function headerProblems(path: string, header: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  header.forEach((h, c) => {
    if (h === '') problems.push({ file: path, row: 1, column: `#${c + 1}`, value: h, expected: 'a column name' });
    else if (seen.has(h)) problems.push({ file: path, row: 1, column: h, value: h, expected: 'each column name once' });
    seen.add(h);
  });
  return problems;
}

/** A record (0-based k after the header) whose number of cells differs from the header's. */
function cellCountProblem(path: string, header: readonly string[], count: number, k: number): Problem {
  return {
    file: path,
    row: k + 2,
    column: count > header.length ? `#${header.length + 1}` : (header[count] ?? ''),
    value: `${count} cells`,
    expected: `${header.length} cells as in the header (${count > header.length ? 'too many' : 'too few'})`,
  };
}

/** A GBK file's bytes as UTF-8; bytes that are not GBK are an error naming their line. */
function gbkToUtf8(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw unreadableFile(path, e);
  }
  const text = iconv.decode(bytes, 'gb18030');
  const bad = text.indexOf('\uFFFD');
  if (bad >= 0) {
    const line = text.slice(0, bad).split('\n').length;
    throw new InputError([{ file: path, row: line, expected: 'GBK text (this line has bytes that are not GBK; if the file is UTF-8, leave out --encoding gbk)' }], `cannot read ${basename(path)}`);
  }
  return Buffer.from(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, 'utf8');
}

/**
 * Reads a CSV file into a table of typed columns. Problems with the file's shape (no
 * header, empty or repeated names, rows with too many or too few cells) are reported
 * together, each with the file, row and column.
 */
export function readCsvColumns(path: string, opts: CsvColumnsOptions = {}): Table {
  return finishColumns(path, scanColumns(path, opts), opts);
}

/** Bytes [from, to) of a file; a range that does not start at 0 starts at a record and holds no header. */
export interface ByteRange {
  from: number;
  to: number;
}

/** What scanning a file, or a range of its records, into columns gave, before the checks that need the whole file. */
interface ColumnsPart {
  header: string[];
  /** the columns read, by position in the header */
  wanted: number[];
  nums: (NumBuilder | null)[];
  texts: (TextBuilder | null)[];
  /** columns that met text after numbers: their text comes from a second scan */
  rescan: Set<number>;
  problems: Problem[];
  overflow: Problem[];
  /** data records (−1: no header) */
  n: number;
}

/** Scans the file (or `range` of it, whose columns are those of `header`) into columns; problems are collected, not thrown. */
function scanColumns(path: string, opts: CsvColumnsOptions, range?: ByteRange & { header?: string[] }): ColumnsPart {
  const forced = opts.text ?? new Set<string>();
  let header: string[] = [];
  let nums: (NumBuilder | null)[] = [];
  let texts: (TextBuilder | null)[] = [];
  let wanted: number[] = [];
  const rescan = new Set<number>();
  const problems: Problem[] = [];
  const overflow: Problem[] = [];
  const capacity = 1024;
  const onHeader = (cells: string[]) => {
    header = cells;
    problems.push(...headerProblems(path, header));
    const want = (h: string) => !opts.only || opts.only.has(h);
    nums = header.map((h) => (want(h) && !forced.has(h) ? new NumBuilder(capacity) : null));
    texts = header.map((h) => (want(h) && forced.has(h) ? new TextBuilder(capacity) : null));
    wanted = header.map((h, c) => c).filter((c) => want(header[c]));
  };
  const onRecord = (text: string, f: Fields, k: number) => {
    if (f.count !== header.length) {
      if (problems.length < 1000) {
        problems.push(cellCountProblem(path, header, f.count, k));
      }
      // keep the columns aligned: missing cells are missing
    }
    for (let w = 0; w < wanted.length; w++) {
      const c = wanted[w];
      const present = c < f.count;
      const nb = nums[c];
      if (nb) {
        if (!present) {
          nb.push(NaN);
          continue;
        }
        const s = f.start[c];
        const e = f.end[c];
        let x: number | undefined;
        if (e === s) x = NaN;
        else if (!f.quoted[c]) x = parseNumber(text, s, e);
        let empty = e === s;
        if (x === undefined) {
          // a quoted cell, NA, or not a number: the text decides
          const t = fieldText(text, f, c);
          empty = t === '';
          x = empty || t === 'NA' ? NaN : isNumberText(t) ? Number(t) : undefined;
          if (x === Infinity || x === -Infinity) {
            if (overflow.length < 20) overflow.push({ file: path, row: k + 2, column: header[c], value: t.length > 40 ? `${t.slice(0, 40)}…` : t, expected: 'a number within the range of a double (about ±1.8e308)' });
            x = NaN;
          }
        }
        if (x !== undefined) {
          nb.push(x);
          if (!empty) nb.nonEmpty++;
          continue;
        }
        // the column holds text
        nums[c] = null;
        const tb = new TextBuilder(capacity);
        texts[c] = tb;
        if (nb.nonEmpty > 0) rescan.add(c);
        else for (let r = 0; r < nb.length; r++) tb.push('');
        tb.push(fieldText(text, f, c));
        continue;
      }
      const tb = texts[c]!;
      tb.push(present ? fieldText(text, f, c) : '');
    }
  };
  if (range && range.from > 0) onHeader(range.header ?? []);
  const n = scan(path, onHeader, onRecord, opts.blockSize, opts, range);
  return { header, wanted, nums, texts, rescan, problems, overflow, n };
}

/** The table of a scanned file, after the checks that need all of it (and a second scan for columns that met text after numbers). */
function finishColumns(path: string, part: ColumnsPart, opts: CsvColumnsOptions): Table {
  const { header, wanted, nums, texts, rescan, problems, overflow, n } = part;
  if (n < 0) throw new InputError([{ file: path, row: 1, expected: 'a header row (the file is empty)' }]);
  if (n === 0) problems.push({ file: path, row: 2, expected: 'at least one data row (the file holds only a header)' });
  if (problems.length || overflow.length) throw new InputError([...problems, ...overflow], `cannot read ${basename(path)}`);
  if (rescan.size) {
    const again = new Map([...rescan].map((c) => [c, new TextBuilder(n)]));
    scan(
      path,
      () => {},
      (text, f) => {
        for (const [c, tb] of again) tb.push(c < f.count ? fieldText(text, f, c) : '');
      },
      opts.blockSize,
      opts,
    );
    for (const [c, tb] of again) texts[c] = tb;
  }
  mixedColumns(path, header, wanted, opts.text ?? new Set<string>(), texts, n);
  // an array of exactly n values (the halves of a parallel read joined) is kept, a longer one copied to its length
  const fit = <T extends Float64Array | Int32Array>(a: T): T => (a.length === n ? a : (a.slice(0, n) as T));
  const cols: [string, Column][] = wanted.map((c) => {
    const name = header[c];
    const nb = nums[c];
    if (nb) return [name, numColumn(fit(nb.values))];
    const tb = texts[c]!;
    return [name, { kind: 'string', codes: fit(tb.codes), levels: tb.coder.keys }];
  });
  return makeTable(n, cols);
}

/**
 * From this size a CSV file is read on two threads (readCsvColumnsOnTwoThreads). Starting the
 * worker costs about what reading half of a 32 MB file saves (`tongban fit` on the national
 * 32 MB dyads.csv: 0.53 s on one thread, 0.55 s on two; medians of 10).
 */
export const TWO_THREADS_CSV_BYTES = 64 << 20;

/** The columns of a range of records as csv-worker.ts sends them back (the arrays transferred). */
export interface RangeColumns {
  n: number;
  /** false: the range met a problem or a column with text after numbers (the file is then read on one thread) */
  clean: boolean;
  nums: (Float64Array | null)[];
  texts: ({ codes: Int32Array; keys: string[] } | null)[];
}

/** A half that cannot be joined: the file is read again on one thread. */
const UNCLEAN: RangeColumns = { n: 0, clean: false, nums: [], texts: [] };

/** The records of bytes [from, to) of a file with the given header, as columns (the worker's half of a read). */
export function readRangeColumns(path: string, o: { text: string[]; only: string[] | null; header: string[] } & ByteRange): RangeColumns {
  let part: ColumnsPart;
  try {
    part = scanColumns(path, { text: new Set(o.text), only: o.only ? new Set(o.only) : undefined }, o);
  } catch (e) {
    if (e instanceof InputError) return UNCLEAN;
    throw e;
  }
  return {
    n: part.n,
    clean: !part.problems.length && !part.overflow.length && !part.rescan.size,
    nums: part.nums.map((nb) => nb && nb.values),
    texts: part.texts.map((tb) => tb && { codes: tb.codes, keys: tb.coder.keys }),
  };
}

/** The position just after the first line end at or after byte `at`, or −1 when there is none. */
function recordStartAfter(path: string, at: number): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 16);
    for (let pos = at; ; pos += buf.length) {
      const got = readSync(fd, buf, 0, buf.length, pos);
      if (got === 0) return -1;
      const k = buf.subarray(0, got).indexOf(LF);
      if (k >= 0) return pos + k + 1;
    }
  } finally {
    closeSync(fd);
  }
}

/** The main thread's half joined with the worker's, or null when either needs the whole file on one thread. */
function joinHalves(a: ColumnsPart, b: RangeColumns): ColumnsPart | null {
  if (!b.clean || a.n < 0 || a.problems.length || a.overflow.length || a.rescan.size) return null;
  const n = a.n + b.n;
  const nums: (NumBuilder | null)[] = a.nums.map(() => null);
  const texts: (TextBuilder | null)[] = a.texts.map(() => null);
  for (const c of a.wanted) {
    const an = a.nums[c];
    const bn = b.nums[c];
    const at = a.texts[c];
    const bt = b.texts[c];
    if (an && bn) {
      const nb = new NumBuilder(n);
      nb.values.set(an.values.subarray(0, a.n));
      nb.values.set(bn.subarray(0, b.n), a.n);
      nb.length = n;
      nums[c] = nb;
    } else if (at && bt) {
      // the worker's levels coded after the main thread's, in their order of first appearance: the codes one thread gives
      const tb = new TextBuilder(n);
      tb.coder = at.coder;
      tb.codes.set(at.codes.subarray(0, a.n));
      const code = Int32Array.from(bt.keys, (k) => at.coder.code(k));
      for (let r = 0; r < b.n; r++) tb.codes[a.n + r] = bt.codes[r] < 0 ? -1 : code[bt.codes[r]];
      tb.length = n;
      texts[c] = tb;
    } else return null; // numbers in one half, text in the other
  }
  return { ...a, nums, texts, n };
}

/**
 * readCsvColumns on two threads for a large file: a worker thread (csv-worker.ts) reads the
 * records after the first line end past the middle while the main thread reads those before,
 * and the halves are joined (text columns' codes renumbered as one thread numbers them). Only
 * a clean read is joined: when either half meets a problem (a malformed row, a cell that is
 * not a number, a quoted cell running across the middle) or a column with text after numbers,
 * the file is read again on one thread, which reports exactly what readCsvColumns reports.
 * The same table as readCsvColumns either way.
 */
export async function readCsvColumnsOnTwoThreads(path: string, opts: CsvColumnsOptions = {}, minBytes = TWO_THREADS_CSV_BYTES): Promise<Table> {
  const size = opts.memory || opts.encoding === 'gbk' ? 0 : fileSize(path);
  let split = -1;
  let header: string[] = [];
  try {
    split = size >= minBytes ? recordStartAfter(path, Math.floor(size / 2)) : -1;
    if (split > 0) header = readCsvHeader(path);
  } catch {
    split = -1; // a file that cannot be read: the one-thread reader says why
  }
  const w = split > 0 && split < size ? tryStartWorker('csv-worker', new URL('./csv-worker.ts', import.meta.url), import.meta.url) : null;
  if (!w) return readCsvColumns(path, opts);
  w.postMessage({ path, from: split, to: size, header, text: [...(opts.text ?? [])], only: opts.only ? [...opts.only] : null });
  const theirs = answerOf<RangeColumns>(w, 'CSV');
  theirs.catch(() => {}); // an answer not awaited (below) must not end the process as an unhandled rejection
  let mine: ColumnsPart | null = null;
  try {
    mine = scanColumns(path, opts, { from: 0, to: split });
  } catch (e) {
    if (!(e instanceof InputError)) {
      void w.terminate();
      throw e;
    }
  }
  if (!mine) {
    // this half needs the whole file on one thread: the worker's half is not needed (it may have
    // started inside a quoted cell and be reading nonsense: a 1 GB file's then reached V8's
    // longest string and failed)
    void w.terminate();
    return readCsvColumns(path, opts);
  }
  const joined = joinHalves(mine, await theirs.catch(() => UNCLEAN)); // a failed worker: its half is read again here
  if (!joined) return readCsvColumns(path, opts);
  joinedReads++;
  return finishColumns(path, joined, opts);
}

let joinedReads = 0;
/** How many reads joined two threads' halves (for tests and the benchmark). */
export const csvReadsJoined = (): number => joinedReads;

/** A file's size in bytes; 0 when it cannot be read as a file (readCsvColumns then says why). */
function fileSize(path: string): number {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

/** A column is taken as numbers that went wrong when at least this share of its cells are numbers. */
const MOSTLY_NUMBERS = 0.9;

/**
 * A column read as text whose cells are mostly numbers (at least 90% of the non-missing
 * ones) is an error listing the others — "1,234", "n/a", "Inf", a full-width "１２" — never a
 * silent factor. Counted over the dictionary's levels, so the check costs nothing per row.
 */
function mixedColumns(path: string, header: string[], wanted: number[], forced: ReadonlySet<string>, texts: (TextBuilder | null)[], n: number): void {
  const problems: Problem[] = [];
  for (const c of wanted) {
    const tb = texts[c];
    if (!tb || forced.has(header[c])) continue;
    const levels = tb.coder.keys;
    const counts = new Float64Array(levels.length);
    for (let r = 0; r < n; r++) if (tb.codes[r] >= 0) counts[tb.codes[r]]++;
    let numbers = 0;
    let others = 0;
    levels.forEach((l, k) => {
      if (l === 'NA') return;
      if (isNumberText(l)) numbers += counts[k];
      else others += counts[k];
    });
    if (others === 0 || numbers / (numbers + others) < MOSTLY_NUMBERS) continue;
    const bad = new Set(levels.map((l, k) => (l !== 'NA' && !isNumberText(l) ? k : -1)).filter((k) => k >= 0));
    let listed = 0;
    for (let r = 0; r < n && listed < 20; r++) {
      if (!bad.has(tb.codes[r])) continue;
      const v = levels[tb.codes[r]];
      problems.push({ file: path, row: r + 2, column: header[c], value: v.length > 40 ? `${v.slice(0, 40)}…` : v, expected: `a number like the column's other ${numbers} cells (empty or NA for missing; ${others} cell${others > 1 ? 's are' : ' is'} not)` });
      listed++;
    }
  }
  if (problems.length) throw new InputError(problems, `cannot read ${basename(path)}: a column of numbers holds cells that are not numbers`);
}

/**
 * A CSV file as header + rows of (trimmed) text cells, for the input files of a year folder,
 * which are validated cell by cell (data/schemas.ts). The same scanner as readCsvColumns, so
 * the same rules for quoting, blank lines, UTF-8 and row numbers; rows with too many or too
 * few cells are reported together with the header's problems.
 */
export function readCsvRecords(path: string, opts: { allowHeaderOnly?: boolean; encoding?: Encoding } = {}): { header: string[]; rows: string[][] } {
  let header: string[] = [];
  const rows: string[][] = [];
  const problems: Problem[] = [];
  const n = scan(
    path,
    (cells) => {
      header = cells;
      problems.push(...headerProblems(path, header));
    },
    (text, f, k) => {
      const cells = new Array<string>(f.count);
      for (let c = 0; c < f.count; c++) cells[c] = fieldText(text, f, c);
      if (f.count !== header.length && problems.length < 1000) {
        problems.push(cellCountProblem(path, header, f.count, k));
      }
      rows.push(cells);
    },
    BLOCK,
    opts,
  );
  if (n < 0) throw new InputError([{ file: path, row: 1, expected: 'a header row (the file is empty)' }]);
  if (n === 0 && !opts.allowHeaderOnly) problems.push({ file: path, row: 2, expected: 'at least one data row (the file holds only a header)' });
  if (problems.length) throw new InputError(problems, `cannot read ${basename(path)}`);
  return { header, rows };
}

/** The header cells of a CSV file (the first non-blank record). */
export function readCsvHeader(path: string, source: Source = {}): string[] {
  let header: string[] = [];
  try {
    scan(
      path,
      (cells) => {
        header = cells;
        throw STOP;
      },
      () => {},
      1 << 16,
      source,
    );
  } catch (e) {
    if (e !== STOP) throw e;
  }
  return header;
}
const STOP = Symbol('stop');

