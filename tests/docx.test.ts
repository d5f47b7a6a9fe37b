/**
 * Word tables: the journal's three-line layout (rules above and under the header, above the
 * statistics, at the bottom; no vertical rules), the text of every cell and note in order, CJK and
 * Latin fonts; a spec's `outputs:` chooses the formats a run writes.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { libraryDocx, toDocx } from '../src/report/docx.ts';
import type { Grid } from '../src/report/formats.ts';
import { TableWriter, warmUpWordWorker } from '../src/report/table-writer.ts';
import type { OutputFiles } from '../src/util/output.ts';
import { runYear } from '../src/stages/run-year.ts';
import { tmp, zipEntry } from './helpers.ts';
import { Rng } from '../src/util/random.ts';
import { writeFileSync } from 'node:fs';

const grid: Grid = {
  title: '表 1 伙伴选择',
  header: [
    ['', '(1)', '(2)'],
    ['', 'Logit', 'Probit'],
  ],
  body: [
    { cells: ['需求', '', ''], kind: 'group' },
    { cells: ['距离（对数）', '-0.512***', '-0.231***'], kind: 'coef' },
    { cells: ['', '(0.041)', '(0.020)'], kind: 'se' },
    { cells: ['N', '55278', '55278'], kind: 'stat' },
    { cells: ['AIC', '14290.3', '14302.2'], kind: 'stat' },
  ],
  notes: ['注：括号内为二元组稳健标准误。', '*** p<0.01'],
};

/** The borders of each table row's first cell: [top size, bottom size] in eighths of a point, 0 = none. */
function rowRules(xml: string): [number, number][] {
  return [...xml.matchAll(/<w:tr>(.*?)<\/w:tr>/g)].map((m) => {
    const b = /<w:tcBorders>(.*?)<\/w:tcBorders>/.exec(m[1])![1];
    const size = (side: string) => {
      const e = new RegExp(`<w:${side} ([^>]*)/>`).exec(b)![1];
      return /w:val="none"/.test(e) ? 0 : Number(/w:sz="(\d+)"/.exec(e)![1]);
    };
    expect(size('left')).toBe(0);
    expect(size('right')).toBe(0);
    return [size('top'), size('bottom')];
  });
}

describe('Word tables', () => {
  it('a three-line table with every cell and note in order, SimSun for Chinese and Times New Roman for numbers', async () => {
    const xml = zipEntry(await toDocx([grid], 'zh'), 'word/document.xml');
    const text = [...xml.matchAll(/<w:t(?: [^>]*)?>([^<]*)<\/w:t>/g)].map((m) => m[1]).filter((t) => t !== '');
    expect(text).toEqual(['表 1 伙伴选择', '(1)', '(2)', 'Logit', 'Probit', '需求', '距离（对数）', '-0.512***', '-0.231***', '(0.041)', '(0.020)', 'N', '55278', '55278', 'AIC', '14290.3', '14302.2', '注：括号内为二元组稳健标准误。', '*** p&lt;0.01']);
    // heavy rule on top, light under the header, light above the first statistic, heavy at the bottom
    expect(rowRules(xml)).toEqual([
      [12, 0],
      [0, 6],
      [0, 0],
      [0, 0],
      [0, 0],
      [6, 0],
      [0, 12],
    ]);
    expect(xml).toMatch(/w:eastAsia="SimSun"/);
    expect(xml).toMatch(/w:ascii="Times New Roman"/);
    // the group label in italics
    expect(xml).toMatch(/<w:i\/>.*?需求/);
  });

  it('several tables in one file, each after a page break', async () => {
    const xml = zipEntry(await toDocx([grid, { ...grid, title: '表 2' }], 'en'), 'word/document.xml');
    expect(xml.match(/<w:br w:type="page"\/>/g)).toHaveLength(1);
    expect(xml.indexOf('表 2')).toBeGreaterThan(xml.indexOf('表 1 伙伴选择'));
    expect(xml).not.toMatch(/SimSun/);
  });

  it("a spec's outputs: chooses the formats (Word: each table and all in tables/tables.docx)", async () => {
    const dir = tmp();
    const spec = join(dir, 's.yaml');
    writeFileSync(
      spec,
      ['name: s', 'language: zh', 'outputs: [md, docx]', 'samples:', '  all: { table: dyads }', 'levels:', '  - id: partner', '    models:', '      - { id: m, family: logit, sample: all, outcome: coop, terms: [log_distance, same_province] }'].join('\n') + '\n',
    );
    await runYear({ data: join(import.meta.dirname, '..', 'data', 'demo'), year: 2021, out: join(dir, 'out'), spec });
    const t = join(dir, 'out', 'demo', '2021', 'tables');
    expect(existsSync(join(t, 'partner.md'))).toBe(true);
    expect(existsSync(join(t, 'partner.tex'))).toBe(false);
    expect(existsSync(join(t, 'partner.csv'))).toBe(false);
    const one = zipEntry(readFileSync(join(t, 'partner.docx')), 'word/document.xml');
    expect(one).toMatch(/same_province/);
    expect(one).toMatch(/被解释变量/);
    const all = zipEntry(readFileSync(join(t, 'tables.docx')), 'word/document.xml');
    expect(all.match(/<w:tbl>/g)!.length).toBeGreaterThanOrEqual(2); // the descriptives and the partner table
  });

  it('the Word files made on the worker thread are the bytes made on the main thread, in the order written', async () => {
    const second = { ...grid, title: '表 2' };
    const direct = [await toDocx([grid], 'zh'), await toDocx([second], 'zh'), await toDocx([grid, second], 'zh')];
    for (const threads of ['', '1']) {
      const before = process.env.TONGBAN_THREADS;
      process.env.TONGBAN_THREADS = threads;
      try {
        const files: OutputFiles = new Map();
        const w = new TableWriter(files, new Set(['docx', 'md']), 'zh');
        w.write('t/a', grid);
        w.write('t/b', second);
        w.lastTable('t/all.docx');
        expect(() => w.write('t/c', grid)).toThrow(/after the Word file of all tables/);
        await w.finish('t/all.docx');
        expect([...files.keys()]).toEqual(['t/a.md', 't/b.md', 't/a.docx', 't/b.docx', 't/all.docx']);
        expect([files.get('t/a.docx'), files.get('t/b.docx'), files.get('t/all.docx')]).toEqual(direct);
      } finally {
        if (before === undefined) delete process.env.TONGBAN_THREADS;
        else process.env.TONGBAN_THREADS = before;
      }
    }
  });

  it('a worker started ahead (warmUpWordWorker) is taken by the next writer and makes the same bytes', async () => {
    warmUpWordWorker();
    const files: OutputFiles = new Map();
    const w = new TableWriter(files, new Set(['docx']), 'en');
    w.write('t/a', grid);
    await w.finish('t/all.docx');
    expect(files.get('t/a.docx')).toEqual(await toDocx([grid], 'en'));
    expect(files.get('t/all.docx')).toEqual(await toDocx([grid], 'en'));
  });

  it("a document the worker cannot make fails the finish with the worker's error", async () => {
    const w = new TableWriter(new Map(), new Set(['docx']), 'en');
    w.write('t/bad', { ...grid, header: [] }); // no header row: toDocx cannot count the columns
    await expect(w.finish('t/all.docx')).rejects.toThrow(/the Word worker failed: TypeError/);
  });

  it('the documents toDocx writes are the bytes the docx library makes of the same tables', async () => {
    const rng = new Rng(3);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rng.uniform() * xs.length)];
    const pieces = ['', ' ', 'β', '城市', '<', '>', '&', '"', "'", '&amp;', ']]>', '\t', '\n', '\r', '\r\n', '\x00', '\x01', '\x0b', '\x0c', '\x1f', '\x7f', '\ufffe', '\ud800', '  two  spaces', '-0.512***', '(0.041)', '😀', 'x\u0301', 'Ω', '\\'];
    const text = () => Array.from({ length: Math.floor(rng.uniform() * 4) }, () => pick(pieces)).join('');
    const randomGrid = (): Grid => {
      const ncol = rng.uniform() < 0.05 ? 0 : 1 + Math.floor(rng.uniform() * 12);
      // rows shorter and longer than the first header row, as the library's grid counts the widest,
      // and rows without cells, which the library leaves out
      const width = () => (rng.uniform() < 0.2 ? Math.max(1, ncol - 2) : rng.uniform() < 0.1 ? ncol + 2 : rng.uniform() < 0.06 ? 0 : ncol);
      const row = (n = ncol) => Array.from({ length: n }, text);
      const body = Array.from({ length: Math.floor(rng.uniform() * 7) }, () => ({ cells: row(width()), kind: pick(['coef', 'se', 'stat', 'group']) }));
      const header = [row(), ...Array.from({ length: Math.floor(rng.uniform() * 2) }, () => row(width()))];
      return { title: text(), header, body, notes: Array.from({ length: Math.floor(rng.uniform() * 3) }, text) };
    };
    for (let k = 0; k < 60; k++) {
      const lang = k % 2 ? 'en' : 'zh';
      const grids = Array.from({ length: 1 + Math.floor(rng.uniform() * 4) }, randomGrid);
      const [ours, library] = [await toDocx(grids, lang), await libraryDocx(grids, lang)];
      if (!Buffer.from(ours).equals(Buffer.from(library))) expect(zipEntry(ours, 'word/document.xml')).toBe(zipEntry(library, 'word/document.xml'));
      expect(Buffer.from(ours).equals(Buffer.from(library))).toBe(true);
    }
  });
});
