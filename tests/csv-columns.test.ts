import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvReadsJoined, parseNumber, readCsvColumns, readCsvColumnsOnTwoThreads, readCsvHeader } from '../src/data/csv-columns.ts';
import { makeTable, numColumn, strColumn, type Column, type Table } from '../src/data/table.ts';
import { csvHeader, tableCsvBytes, tableToCsv, toCsv } from '../src/data/csv.ts';
import { isNumberText } from '../src/data/numbers.ts';
import { InputError } from '../src/util/errors.ts';
import { Rng } from '../src/util/random.ts';
import { cellText, tmp } from './helpers.ts';

const file = (text: string | Buffer, name = 'x.csv') => {
  const p = join(tmp(), name);
  writeFileSync(p, text);
  return p;
};
const col = (t: Table, name: string) => {
  const c = t.columns.get(name)!;
  return Array.from({ length: t.nrow }, (_, r) => (c.kind === 'number' ? c.values[r] : cellText(c, r)));
};
const problemsOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e.message;
    throw e;
  }
  throw new Error('no error');
};

describe('number parser', () => {
  it('gives the same double as Number() for every form a CSV holds, digits of any length', () => {
    const rng = new Rng(11);
    const cases: string[] = ['0', '-0', '+1', '1.', '.5', '-.5e-3', '1e5', '1E+22', '123456789012345678', '9007199254740993', '0.1', '2.5e-308', '1.7976931348623157e308'];
    for (let k = 0; k < 20000; k++) {
      const x = (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 40 - 20);
      cases.push(String(x), x.toFixed(Math.floor(rng.uniform() * 12)), x.toPrecision(1 + Math.floor(rng.uniform() * 20)), x.toExponential(Math.floor(rng.uniform() * 18)));
    }
    for (const t of cases) {
      expect(isNumberText(t), t).toBe(true);
      expect(Object.is(parseNumber(t, 0, t.length), Number(t)), t).toBe(true);
    }
  });

  it('refuses what is not a finite decimal number', () => {
    for (const t of ['', '.', '-', '1e', 'e5', '1,234', '１２', 'NaN', 'Inf', 'Infinity', '0x10', '1.2.3', '1e309', '--1', '1 2']) {
      expect(parseNumber(t, 0, t.length), t).toBeUndefined();
    }
    expect(parseNumber(' 12\t', 0, 4)).toBe(12);
  });
});

describe('CSV to typed columns', () => {
  it('reads quoting, CRLF, a BOM and blank lines like a spreadsheet', () => {
    const p = file('\uFEFFid,name,x\r\n\r\n001,"a, ""b""",1.5\r\n002,"two\nlines",\r\n003,c,NA\r\n');
    const t = readCsvColumns(p, { text: new Set(['id']) });
    expect(t.nrow).toBe(3);
    expect(col(t, 'id')).toEqual(['001', '002', '003']);
    expect(col(t, 'name')).toEqual(['a, "b"', 'two\nlines', 'c']);
    expect(col(t, 'x')).toEqual([1.5, NaN, NaN]);
  });

  it('keeps a column of numbers that meets text as exact text (second scan)', () => {
    const p = file('a,b\n1,001\n2.50,1\nx,1e2\n');
    const t = readCsvColumns(p);
    expect(t.columns.get('a')!.kind).toBe('string');
    expect(col(t, 'a')).toEqual(['1', '2.50', 'x']);
    expect(col(t, 'b')).toEqual([1, 1, 100]);
    // ids are text whatever they hold: 001 and 1 are two cities
    expect(col(readCsvColumns(p, { text: new Set(['b']) }), 'b')).toEqual(['001', '1', '1e2']);
    // a text column with missing cells first
    expect(col(readCsvColumns(file('a\n\nNA\n\nq\n')), 'a')).toEqual(['NA', 'q']);
  });

  it('crosses block boundaries anywhere (a record, a quoted cell, a multi-byte character)', () => {
    const rows = ['k,name,v'];
    for (let r = 0; r < 500; r++) rows.push(`${r},"城市${r},\n第${r}行",${r / 7}`);
    const p = file(rows.join('\n') + '\n');
    const whole = readCsvColumns(p);
    for (const blockSize of [7, 13, 64, 1000]) {
      const t = readCsvColumns(p, { blockSize });
      expect(col(t, 'name')).toEqual(col(whole, 'name'));
      expect(col(t, 'v')).toEqual(col(whole, 'v'));
    }
    expect(col(whole, 'name')[499]).toBe('城市499,\n第499行');
    expect(col(whole, 'v')[7]).toBe(1);
  });

  it('reads only the columns asked for, and the header alone', () => {
    const p = file('a,b,c\n1,x,3\n');
    const t = readCsvColumns(p, { only: new Set(['c']) });
    expect(t.names).toEqual(['c']);
    expect(readCsvHeader(p)).toEqual(['a', 'b', 'c']);
  });

  it('names file, row and column of every problem', () => {
    expect(problemsOf(() => readCsvColumns(file('a,b\n1,2\n3\n4,5,6\n')))).toMatch(/row 3, column 'b'.*too few[\s\S]*row 4, column '#3'.*too many/);
    expect(problemsOf(() => readCsvColumns(file('a,a,\n1,2,3\n')))).toMatch(/each column name once[\s\S]*'#3'.*a column name/);
    expect(problemsOf(() => readCsvColumns(file('a,b\n1,2\n3,"open\n4,5\n6,7\n')))).toMatch(/row 3: .*closing quote/);
    expect(problemsOf(() => readCsvColumns(file('a\n1e309\n')))).toMatch(/row 2, column 'a'.*1e309.*range of a double/);
    expect(problemsOf(() => readCsvColumns(file('')))).toMatch(/header row/);
    expect(problemsOf(() => readCsvColumns(file('a,b\n')))).toMatch(/at least one data row/);
    const gbk = Buffer.concat([Buffer.from('a,name\n1,ok\n2,'), Buffer.from([0xb1, 0xb1, 0xbe, 0xa9]), Buffer.from('\n')]);
    expect(problemsOf(() => readCsvColumns(file(gbk)))).toMatch(/row 3: .*not UTF-8.*GBK/);
  });
});

describe('CSV on two threads', () => {
  /** every column's values, bit for bit, and each text column's levels and codes */
  const dump = (t: Table) =>
    t.names.map((n) => {
      const c = t.columns.get(n)!;
      return c.kind === 'number' ? [n, Buffer.from(c.values.buffer, c.values.byteOffset, c.values.byteLength).toString('hex')] : [n, c.levels, Array.from(c.codes)];
    });
  const asyncProblemsOf = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
    } catch (e) {
      if (e instanceof InputError) return e.message;
      throw e;
    }
    throw new Error('no error');
  };
  /** n lines made by f, joined */
  const rows = (n: number, f: (r: number) => string) => Array.from({ length: n }, (_, r) => f(r)).join('\n');
  /** a random file: ids from a pool (some only in the second half), quoted text with commas, quotes, CJK and line ends, numbers in every form, missing cells */
  const randomCsv = (rng: Rng, rows: number, o: { crlf: boolean; multiline: boolean }) => {
    const eol = o.crlf ? '\r\n' : '\n';
    const lines = ['id,name,x,y,k'];
    for (let r = 0; r < rows; r++) {
      const id = String(Math.floor(rng.uniform() * (r < rows / 2 ? 40 : 80))).padStart(3, '0');
      const u = rng.uniform();
      const name = u < 0.2 ? `"城市 ${r}, ""q"""` : u < 0.25 && o.multiline && Math.abs(r - rows / 2) > 20 ? `"two${eol}lines ${r}"` : u < 0.3 ? '' : `c${Math.floor(rng.uniform() * 30)}`;
      const x = (rng.uniform() - 0.5) * 10 ** Math.floor(rng.uniform() * 30 - 15);
      const xs = [String(x), x.toFixed(3), x.toExponential(5), 'NA', '', ' 7 ', '-0'][Math.floor(rng.uniform() * 7)];
      const y = rng.uniform() < 0.1 ? '' : String(Math.floor(rng.uniform() * 5));
      lines.push(`${id},${name},${xs},${y},${r}`);
      if (rng.uniform() < 0.02) lines.push('');
    }
    return lines.join(eol) + eol;
  };

  it('gives the table one thread gives, from the two halves joined', async () => {
    const rng = new Rng(5);
    for (let k = 0; k < 8; k++) {
      const p = file(randomCsv(rng, 200 + Math.floor(rng.uniform() * 3000), { crlf: k % 2 === 1, multiline: k % 4 >= 2 }));
      for (const opts of k % 3 === 2 ? [{}] : [{ text: new Set(['id']) }, { text: new Set(['id']), only: new Set(['id', 'x', 'k']) }]) {
        const before = csvReadsJoined();
        const two = await readCsvColumnsOnTwoThreads(p, opts, 1);
        expect(csvReadsJoined()).toBe(before + 1);
        expect(dump(two)).toEqual(dump(readCsvColumns(p, opts)));
      }
    }
  });

  it('reads on one thread, with the same table or the same errors, whenever a half is not clean', async () => {
    const text = new Set(['id']);
    const same = async (content: string, joins = false) => {
      const p = file(content);
      const before = csvReadsJoined();
      let one: unknown;
      try {
        one = dump(readCsvColumns(p, { text }));
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        expect(await asyncProblemsOf(() => readCsvColumnsOnTwoThreads(p, { text }, 1))).toBe(e.message);
        expect(csvReadsJoined()).toBe(before);
        return;
      }
      expect(dump(await readCsvColumnsOnTwoThreads(p, { text }, 1))).toEqual(one);
      expect(csvReadsJoined()).toBe(before + (joins ? 1 : 0));
    };
    // a quoted cell with line ends across the middle: the main thread's half ends inside it
    await same(`id,name,x\n${rows(50, (r) => `${r},a,${r}`)}\n1,"${rows(40, (r) => `line ${r}`)}",2\n${rows(50, (r) => `${r},b,${r}`)}\n`);
    // a malformed row, an overflowing number, a cell that is not a number, in the second half
    await same(`id,x\n${rows(200, (r) => `${r},${r}`)}\n7\n${rows(10, (r) => `${r},1`)}\n`);
    await same(`id,x\n${rows(200, (r) => `${r},${r}`)}\n7,1e400\n`);
    await same(`id,x\n${rows(200, (r) => `${r},${r}`)}\n7,n/a\n`);
    // text after numbers in the second half (a second scan), and in a column empty in the first half
    await same(`id,x,y\n${rows(100, (r) => `${r},${r},`)}\n${rows(30, (r) => `${r},q${r},t`)}\n`);
    // an unclosed quote in the second half; problems in the first half
    await same(`id,x\n${rows(200, (r) => `${r},${r}`)}\n7,"open\n8,1\n`);
    await same(`id,x\n7,1,2\n${rows(200, (r) => `${r},${r}`)}\n`);
    // and a clean file is joined
    await same(`id,x\n${rows(200, (r) => `${r},${r / 3}`)}\n`, true);
  });

  it('reads on one thread when the worker fails, and a failure of a half it does not need ends nothing', async () => {
    const text = new Set(['id']);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    process.env.TONGBAN_FAULT = 'csv-worker'; // the worker fails instead of reading its half
    try {
      // a clean file: the worker's half is read again here
      const clean = file(`id,x\n${rows(400, (r) => `${r},${r / 7}`)}\n`);
      const before = csvReadsJoined();
      expect(dump(await readCsvColumnsOnTwoThreads(clean, { text }, 1))).toEqual(dump(readCsvColumns(clean, { text })));
      expect(csvReadsJoined()).toBe(before);
      // a quoted cell across the middle: this half needs the whole file, the worker's answer is never awaited
      const straddling = file(`id,name,x\n${rows(50, (r) => `${r},a,${r}`)}\n1,"${rows(40, (r) => `line ${r}`)}",2\n${rows(50, (r) => `${r},b,${r}`)}\n`);
      expect(dump(await readCsvColumnsOnTwoThreads(straddling, { text }, 1))).toEqual(dump(readCsvColumns(straddling, { text })));
      await new Promise((resolve) => setTimeout(resolve, 500)); // time for a worker's failure to arrive
      expect(unhandled).toEqual([]);
    } finally {
      delete process.env.TONGBAN_FAULT;
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('CSV writer', () => {
  // the writer's rules, written out plainly as strings: empty for a missing value, 0 for -0,
  // the shortest text of a double; a text cell quoted when it holds a quote, comma or line end,
  // or begins or ends with white space
  const numberText = (x: number) => (Number.isNaN(x) ? '' : Object.is(x, -0) ? '0' : String(x));
  const textCell = (s: string) => (/[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const expected = (t: Table) => {
    const cols = t.names.map((n) => t.columns.get(n)!);
    const lines: string[] = [];
    for (let r = 0; r < t.nrow; r++) lines.push(cols.map((c) => (c.kind === 'number' ? numberText(c.values[r]) : c.codes[r] < 0 ? '' : textCell(c.levels[c.codes[r]]))).join(','));
    // a row of one missing cell as "": a blank line, which readers skip, would lose the row
    return Buffer.from(lines.map((l) => (l === '' ? '""' : l) + '\n').join(''), 'utf8');
  };
  const SPECIALS = [NaN, -0, 0, Infinity, -Infinity, 5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1e21, 123456789012, -Math.PI * 1e-300];
  const randomTable = (rng: Rng, nrow: number, ncol = 1 + rng.int(6), specials = SPECIALS, numberShare = 0.6): Table => {
    const texts = ['', 'a', 'Alpha, 甲市', 'say "hi"', ' lead', 'trail ', 'two\nlines', 'cr\r', '北京', '😀 emoji', 'tab\tinside', 'x'.repeat(300)];
    const cols: [string, Column][] = [];
    for (let c = 0; c < ncol; c++) {
      if (rng.uniform() < numberShare) {
        const v = new Float64Array(nrow);
        for (let r = 0; r < nrow; r++) {
          const u = rng.uniform();
          v[r] = u < 0.15 ? specials[rng.int(specials.length)] : u < 0.4 ? rng.int(100000) - 50000 : (rng.uniform() - 0.5) * 10 ** (rng.int(40) - 20);
        }
        cols.push([`n${c}`, numColumn(v)]);
      } else {
        cols.push([`t${c}`, strColumn(Array.from({ length: nrow }, () => texts[rng.int(texts.length)]))]);
      }
    }
    return makeTable(nrow, cols);
  };

  it('writes every number and text cell as the plain rules say, in chunks of 10,000 whole rows', () => {
    const rng = new Rng(5);
    for (const [k, nrow] of [0, 1, 2, 9999, 10000, 10001, 23456, 500, 501].entries()) {
      const t = randomTable(rng, nrow, k % 2 ? 1 : undefined);
      const chunks = [...tableCsvBytes(t)];
      expect(Buffer.concat(chunks).equals(expected(t)), `${nrow} rows`).toBe(true);
      expect(chunks.length).toBe(Math.ceil(nrow / 10000));
      for (const c of chunks) expect(c[c.length - 1]).toBe(0x0a);
      expect(tableToCsv(t)).toBe(csvHeader(t.names) + expected(t).toString('utf8'));
    }
  });

  it('writes a row of one empty cell as "" (toCsv), which reads back as a missing value, not as no row', () => {
    const text = toCsv(['x'], [['a'], [''], ['b'], []]);
    expect(text).toBe('x\na\n""\nb\n""\n');
    expect(col(readCsvColumns(file(text)), 'x')).toEqual(['a', '', 'b', '']);
  });

  it('has room for rows of the longest number texts (25 characters: -0.0000012345678901234567)', () => {
    for (let nc = 1; nc < 40; nc++) {
      const t = makeTable(3000, Array.from({ length: nc }, (_, c): [string, Column] => [`c${c}`, numColumn(new Float64Array(3000).fill(-1.2345678901234567e-6))]));
      expect(Buffer.concat([...tableCsvBytes(t)]).equals(expected(t)), `${nc} columns`).toBe(true);
    }
  });

  it('reads back to the same numbers, bit for bit (-0 as 0), and the same texts, with one column or several', () => {
    const rng = new Rng(6);
    // (the readers refuse infinities, which no tongban table holds)
    const finite = SPECIALS.filter(Number.isFinite).concat(NaN);
    const kinds = new Set<string>();
    for (const [ncol, numberShare] of [[1, 1], [1, 0], [1, 1], [1, 0], [2, 0.6], [3, 0.6], [5, 0.6]]) {
      const t = randomTable(rng, 12345, ncol, finite, numberShare);
      for (const n of t.names) kinds.add(`${ncol === 1 ? 'one' : 'several'} ${t.columns.get(n)!.kind}`);
      const back = readCsvColumns(file(tableToCsv(t)), { text: new Set(t.names.filter((n) => n.startsWith('t'))) });
      expect(back.nrow).toBe(t.nrow);
      for (const n of t.names) {
        const c = t.columns.get(n)!;
        if (c.kind === 'number') {
          const want = Array.from(c.values, (x) => (Object.is(x, -0) ? 0 : x));
          expect(col(back, n), n).toEqual(want);
        } else expect(col(back, n).map((x) => String(x).trim()), n).toEqual(col(t, n).map((x) => String(x).trim()));
      }
    }
    expect([...kinds].sort()).toEqual(['one number', 'one string', 'several number', 'several string']);
  });
});
