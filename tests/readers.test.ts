import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { runCli, TINY, tinyWith, tmp } from './helpers.ts';

const X = join(import.meta.dirname, 'fixtures', 'xlsx');
const FIT = ['fit', '--formula', 'coop ~ x + province', '--family', 'logit', '--vcov', 'dyadic', '--dyad', 'i,j', '--json'];

describe('what researchers hold: Excel workbooks and GBK-encoded CSV', () => {
  it('fits a model on an .xlsx sheet exactly as on the same data in CSV (ids 001 and 1 stay two cities)', () => {
    const a = runCli([...FIT, '--data', join(X, 'small.xlsx')]);
    const b = runCli([...FIT, '--data', join(X, 'small.csv')]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout).clusters).toEqual({ cities: 10 });
    const named = runCli([...FIT, '--data', join(X, 'small.xlsx'), '--sheet', 'dyads']);
    expect(named.stdout).toBe(b.stdout);
  });

  it('refuses a file that is not a workbook, and a sheet that does not exist, with exit 2', () => {
    const dir = tmp();
    const fake = join(dir, 'fake.xlsx');
    writeFileSync(fake, readFileSync(join(X, 'small.csv')));
    const r = runCli([...FIT, '--data', fake]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fake\.xlsx.*expected an Excel workbook/);
    const s = runCli([...FIT, '--data', join(X, 'small.xlsx'), '--sheet', 'nosuch']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/a sheet 'nosuch'/);
  });

  it('reads a GBK-encoded CSV behind --encoding gbk, and points to it when the option is missing', () => {
    const dir = tmp();
    const gbk = join(dir, 'gbk.csv');
    writeFileSync(gbk, iconv.encode(readFileSync(join(X, 'small.csv'), 'utf8'), 'gbk'));
    const plain = runCli([...FIT, '--data', join(X, 'small.csv')]);
    const r = runCli([...FIT, '--data', gbk, '--encoding', 'gbk']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(plain.stdout);
    const missing = runCli([...FIT, '--data', gbk]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/gbk\.csv, row 2: expected UTF-8 text .*--encoding gbk/);
  });

  it('cleans a year folder whose files are GBK behind --encoding gbk, as the same folder in UTF-8', () => {
    const gbkDir = tinyWith({});
    for (const f of ['cities.csv', 'agreements.csv']) writeFileSync(join(gbkDir, f), iconv.encode(readFileSync(join(TINY, f), 'utf8').replace(/^\uFEFF/, '').replace('P1', '广东'), 'gbk'));
    const utfDir = tinyWith({ 'cities.csv': readFileSync(join(TINY, 'cities.csv'), 'utf8').replace('P1', '广东') });
    const a = join(tmp(), 'a');
    const b = join(tmp(), 'b');
    expect(runCli(['dyads', '--input', gbkDir, '--out', a, '--encoding', 'gbk', '--quiet']).code).toBe(0);
    expect(runCli(['dyads', '--input', utfDir, '--out', b, '--quiet']).code).toBe(0);
    expect(readFileSync(join(a, 'dyads.csv'), 'utf8')).toBe(readFileSync(join(b, 'dyads.csv'), 'utf8'));
    expect(readFileSync(join(a, 'dyads.csv'), 'utf8')).toContain('广东');
  });
});
