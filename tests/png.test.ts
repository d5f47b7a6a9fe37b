/**
 * PNG figures: rendered with the bundled CJK font at the stated width and resolution, and never
 * written with a character the font lacks.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { addPngs, svgToPng } from '../src/report/png.ts';
import { cmapCoverage } from '../src/report/font.ts';

const svg = (text: string) => `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"><text x="10" y="50" font-family="Noto Sans SC" font-size="20">${text}</text></svg>`;

/** Width, height and pixels per metre (x, y, unit) of a PNG. */
function pngInfo(png: Uint8Array) {
  const d = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let phys: number[] | null = null;
  for (let at = 8; at < png.length; ) {
    const len = d.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'pHYs') phys = [d.getUint32(at + 8), d.getUint32(at + 12), png[at + 16]];
    at += 12 + len;
  }
  return { width: d.getUint32(16), height: d.getUint32(20), phys };
}

describe('PNG figures', () => {
  it('the bundled font covers Chinese, Latin and the symbols the tables and plots use, and not emoji', () => {
    const dir = dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans-sc/package.json'));
    const covers = cmapCoverage(readFileSync(join(dir, '400Regular', 'NotoSansSC_400Regular.ttf')));
    for (const ch of '合作网络伙伴选择估计值与置信区间AZaz09χ²×−…≤（）') expect(covers(ch.codePointAt(0)!), ch).toBe(true);
    expect(covers(0x1f600)).toBe(false); // 😀
    expect(covers(0xe000)).toBe(false); // private use
  });
  it('renders at 16 cm and 300 dpi by default (1,890 pixels, 11,811 pixels per metre recorded), other sizes on request', async () => {
    const r = await svgToPng(svg('合作网络 χ² test'));
    if (!('png' in r)) throw new Error(`missing glyphs: ${r.missing.join('')}`);
    expect(pngInfo(r.png)).toEqual({ width: 1890, height: 473, phys: [11811, 11811, 1] });
    const small = await svgToPng(svg('合作'), { widthCm: 8, dpi: 600 });
    if (!('png' in small)) throw new Error('missing glyphs');
    expect(pngInfo(small.png)).toMatchObject({ width: 1890, phys: [23622, 23622, 1] });
  });
  it('renders the same PNG with the whole fonts when the trimmed ones cannot be written (a full disk, say)', async () => {
    const trimmed = await svgToPng(svg('合作网络 fi é'));
    const before = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent/tongban-no-tmp';
    try {
      const whole = await svgToPng(svg('合作网络 fi é'));
      expect(whole).toEqual(trimmed);
    } finally {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    }
  });
  it('writes no PNG for a figure with a character the font lacks, and says which', async () => {
    const files = new Map<string, unknown>([
      ['plots/a.svg', svg('城市 &amp; 合作')],
      ['plots/b.svg', svg('合作 &#x1F600;')],
      ['tables/t.md', 'not a figure'],
    ]);
    const warnings = await addPngs(files);
    expect([...files.keys()].sort()).toEqual(['plots/a.png', 'plots/a.svg', 'plots/b.svg', 'tables/t.md']);
    expect(warnings).toEqual(["plots/b.svg: no PNG written: the bundled font (Noto Sans SC) has no glyph for '😀' (U+1F600)"]);
  });
});
