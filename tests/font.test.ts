/**
 * The font trimmed for a figure (src/report/font.ts): small, and every pixel of the figure's
 * text the same as with the whole font, including text the shaper changes (ligatures,
 * combining marks it composes, dashes and ellipses it substitutes).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { renderAsync } from '@resvg/resvg-js';
import { cmapGlyphs, gsubOutputs, trimFont } from '../src/report/font.ts';

const dir = dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans-sc/package.json'));
const FULL = join(dir, '400Regular', 'NotoSansSC_400Regular.ttf');
const font = readFileSync(FULL);

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
async function pixels(text: string, file: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="60"><text x="5" y="40" font-family="Noto Sans SC" font-size="24">${escape(text)}</text></svg>`;
  return (await renderAsync(svg, { font: { fontFiles: [file], loadSystemFonts: false, defaultFontFamily: 'Noto Sans SC' } })).pixels;
}

describe('the font trimmed for a figure', () => {
  it('keeps glyph ids and empties the outlines the text cannot reach', () => {
    const trimmed = trimFont(font, '合作网络 χ²')!;
    expect(trimmed.length).toBeLessThan(font.length / 10);
    const glyph = cmapGlyphs(trimmed);
    const original = cmapGlyphs(font);
    for (const ch of '合作网络χ²暨') expect(glyph(ch.codePointAt(0)!)).toBe(original(ch.codePointAt(0)!));
    // glyf/loca lengths: 合 kept, 暨 (not in the text) empty
    const outline = (f: Uint8Array, g: number) => {
      const d = new DataView(f.buffer, f.byteOffset, f.byteLength);
      const table = (tag: string) => {
        for (let t = 0; t < d.getUint16(4); t++) if (String.fromCharCode(...f.subarray(12 + 16 * t, 16 + 16 * t)) === tag) return d.getUint32(12 + 16 * t + 8);
        throw new Error(tag);
      };
      const long = d.getInt16(table('head') + 50) === 1;
      const loca = (i: number) => (long ? d.getUint32(table('loca') + 4 * i) : 2 * d.getUint16(table('loca') + 2 * i));
      return loca(g + 1) - loca(g);
    };
    expect(outline(trimmed, original(0x5408))).toBe(outline(font, original(0x5408)));
    expect(outline(font, original(0x66a8))).toBeGreaterThan(0);
    expect(outline(trimmed, original(0x66a8))).toBe(0);
    expect(gsubOutputs(font)!.size).toBeGreaterThan(100);
  });

  it('leaves the font whole for text where trimming would not be exact: combining marks, other scripts, characters it lacks', () => {
    expect(trimFont(font, 'Cafe\u0301')).toBeNull(); // a mark the shaper may compose past another
    expect(trimFont(font, 'o\u0328\u0301')).toBeNull();
    expect(trimFont(font, 'שלום')).toBeNull(); // Hebrew: presentation forms
    expect(trimFont(font, '合作 😀')).toBeNull(); // a character the font lacks
    expect(trimFont(font, '合作网络 Café χ² ≤ 10³ —…（）')).not.toBeNull();
  });

  it('draws the same pixels as the whole font, for text the shaper substitutes and for random text', async () => {
    const work = mkdtempSync(join(tmpdir(), 'tongban-font-test-'));
    try {
      // a pool of what labels hold: ASCII, Latin-1, combining marks, Greek, math, CJK punctuation and ideographs
      const pool = [...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)), ...'éäñ\u0301\u0308\u0303αβχσμ²³±×÷−≤≥…—–‘’“”（），。、：；「」《》·', ...'合作网络伙伴选择估计值与置信区间城市年份广度深度模型系数'];
      let seed = 7;
      const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
      const texts = ['fi ffi fl', 'e\u0301 a\u0308 n\u0303', '——……', '\u0301 at the start'];
      for (let t = 0; t < 12; t++) texts.push(Array.from({ length: 30 }, () => pool[Math.floor(rand() * pool.length)]).join(''));
      for (const [i, text] of texts.entries()) {
        const file = join(work, `${i}.ttf`);
        writeFileSync(file, trimFont(font, text) ?? font);
        expect((await pixels(text, file)).equals(await pixels(text, FULL)), JSON.stringify(text)).toBe(true);
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
