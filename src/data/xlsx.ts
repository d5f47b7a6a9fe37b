/**
 * Excel workbooks (.xlsx) for `fit` and `compare`: the first sheet (or a named one) read with
 * read-excel-file and turned into CSV bytes, which then go through the one CSV scanner — so a
 * sheet gets the same column typing, id handling and file/row/column errors as a CSV. Numbers
 * keep the digits Excel stored (not a re-rounded double), dates become YYYY-MM-DD, booleans 1/0.
 * Row numbers in messages are the sheet's rows (header = row 1) when the sheet has no blank rows
 * above its data.
 */
import { readSheet } from 'read-excel-file/node';
import { InputError } from '../util/errors.ts';

const quote = (s: string) => (/[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString().slice(0, 10);
  if (typeof v === 'boolean') return v ? '1' : '0';
  return String(v);
}

/** The sheet as UTF-8 CSV bytes. */
export async function xlsxAsCsv(path: string, sheet?: string): Promise<Buffer> {
  let rows: unknown[][];
  try {
    // numbers as the text Excel stored, so "0.1" stays 0.1 and ids keep their digits
    rows = (await readSheet(path, sheet ?? 1, { parseNumber: (s: string) => s })) as unknown[][];
  } catch (e) {
    throw new InputError([{ file: path, expected: `an Excel workbook (.xlsx)${sheet ? ` with a sheet '${sheet}'` : ''} (${(e as Error).message})` }], `cannot read ${path}`);
  }
  const lines = rows.map((r) => r.map((v) => quote(cellText(v))).join(','));
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}
