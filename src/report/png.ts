/**
 * Figures as PNG for journals: every SVG plot rendered at 300 dpi for a stated physical width
 * (16 cm by default: 1,890 pixels wide) by resvg (@resvg/resvg-js: a Rust SVG renderer with
 * prebuilt binaries) with the bundled Noto Sans SC (@expo-google-fonts/noto-sans-sc, SIL Open
 * Font License: Chinese and Latin in one font) and no system fonts, so a figure looks the same on
 * every machine. The PNG records its resolution (a pHYs chunk), so Word and LaTeX place it at
 * the stated width. A figure with a character the font lacks gets no PNG (a warning names the
 * characters): a PNG with empty boxes for glyphs would go into a manuscript unnoticed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';

/** The plots' font list: the bundled font first (PNG), then fonts a reader's system may have (SVG in a browser). */
export const PLOT_FONT = '"Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';

export interface PngOptions {
  /** physical width in centimetres */
  widthCm: number;
  dpi: number;
}

export const DEFAULT_PNG: PngOptions = { widthCm: 16, dpi: 300 };

let fonts: { files: string[]; covers: (cp: number) => boolean } | null = null;

/** The bundled font files and their character coverage (read once). */
function bundledFonts(): { files: string[]; covers: (cp: number) => boolean } {
  if (fonts) return fonts;
  const dir = dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans-sc/package.json'));
  const files = ['400Regular/NotoSansSC_400Regular.ttf', '700Bold/NotoSansSC_700Bold.ttf'].map((f) => join(dir, f));
  const covers = cmapCoverage(readFileSync(files[0]));
  fonts = { files, covers };
  return fonts;
}

/**
 * The characters a TrueType/OpenType font maps to a glyph: its Unicode `cmap` subtable (format
 * 12, or format 4 for the Basic Multilingual Plane), read from the table directory.
 */
export function cmapCoverage(font: Uint8Array): (cp: number) => boolean {
  const d = new DataView(font.buffer, font.byteOffset, font.byteLength);
  const tables = d.getUint16(4);
  let cmap = -1;
  for (let t = 0; t < tables; t++) {
    const rec = 12 + 16 * t;
    if (String.fromCharCode(font[rec], font[rec + 1], font[rec + 2], font[rec + 3]) === 'cmap') cmap = d.getUint32(rec + 8);
  }
  if (cmap < 0) throw new Error('internal: the bundled font has no cmap table');
  const subtables = new Map<string, number>();
  for (let s = 0; s < d.getUint16(cmap + 2); s++) {
    const rec = cmap + 4 + 8 * s;
    subtables.set(`${d.getUint16(rec)}/${d.getUint16(rec + 2)}`, cmap + d.getUint32(rec + 4));
  }
  const full = subtables.get('3/10') ?? subtables.get('0/4');
  if (full !== undefined && d.getUint16(full) === 12) {
    const groups: [number, number][] = [];
    for (let g = 0; g < d.getUint32(full + 12); g++) {
      const at = full + 16 + 12 * g;
      groups.push([d.getUint32(at), d.getUint32(at + 4)]);
    }
    return (cp) => {
      let lo = 0;
      let hi = groups.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (cp < groups[mid][0]) hi = mid - 1;
        else if (cp > groups[mid][1]) lo = mid + 1;
        else return true;
      }
      return false;
    };
  }
  const bmp = subtables.get('3/1') ?? subtables.get('0/3');
  if (bmp === undefined || d.getUint16(bmp) !== 4) throw new Error('internal: the bundled font has no Unicode cmap of format 4 or 12');
  const segs = d.getUint16(bmp + 6) / 2;
  const ends = bmp + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const offsets = deltas + 2 * segs;
  return (cp) => {
    if (cp > 0xffff) return false;
    for (let s = 0; s < segs; s++) {
      if (cp > d.getUint16(ends + 2 * s)) continue;
      const start = d.getUint16(starts + 2 * s);
      if (cp < start) return false;
      const ro = d.getUint16(offsets + 2 * s);
      if (ro === 0) return ((cp + d.getInt16(deltas + 2 * s)) & 0xffff) !== 0;
      const glyph = d.getUint16(offsets + 2 * s + ro + 2 * (cp - start));
      return glyph !== 0;
    }
    return false;
  };
}

/** The characters of an SVG's text (entities decoded). */
function svgText(svg: string): string {
  let out = '';
  for (const m of svg.matchAll(/<text\b[^>]*>([\s\S]*?)<\/text>/g)) out += m[1].replace(/<[^>]+>/g, '');
  return out
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** A pHYs chunk (pixels per metre) inserted after the IHDR chunk of a PNG. */
function withResolution(png: Uint8Array, dpi: number): Uint8Array {
  const ppm = Math.round(dpi / 0.0254);
  const chunk = new Uint8Array(21);
  const d = new DataView(chunk.buffer);
  d.setUint32(0, 9);
  chunk.set([0x70, 0x48, 0x59, 0x73], 4); // "pHYs"
  d.setUint32(8, ppm);
  d.setUint32(12, ppm);
  chunk[16] = 1; // unit: metre
  d.setUint32(17, crc32(chunk.subarray(4, 17)));
  const ihdrEnd = 8 + 8 + new DataView(png.buffer, png.byteOffset).getUint32(8) + 4;
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/** An SVG as a PNG `o.widthCm` wide at `o.dpi`, or the characters the bundled font lacks. */
export async function svgToPng(svg: string, o: PngOptions = DEFAULT_PNG): Promise<{ png: Uint8Array } | { missing: string[] }> {
  const f = bundledFonts();
  const missing = [...new Set([...svgText(svg)].filter((ch) => !/\s/.test(ch) && !f.covers(ch.codePointAt(0)!)))];
  if (missing.length) return { missing };
  const { renderAsync } = await import('@resvg/resvg-js');
  const px = Math.round((o.widthCm / 2.54) * o.dpi);
  // rendered on libuv's thread pool: several figures at once, the main thread free meanwhile
  const image = await renderAsync(svg, { fitTo: { mode: 'width', value: px }, background: 'white', font: { fontFiles: f.files, loadSystemFonts: false, defaultFontFamily: 'Noto Sans SC' } });
  return { png: withResolution(image.asPng(), o.dpi) };
}

/**
 * PNGs rendered as the figures are made: `add` starts a figure's rendering on the thread pool at
 * once (the main thread goes on building tables), `into` waits for all of them and puts each PNG
 * beside its SVG (plots/x.svg → plots/x.png). It returns a warning per figure left without a PNG,
 * naming the characters the font lacks.
 */
export class PngRenderer {
  private readonly jobs: [string, Promise<{ png: Uint8Array } | { missing: string[] }>][] = [];

  constructor(private readonly o: PngOptions = DEFAULT_PNG) {}

  add(name: string, svg: string): void {
    const job = svgToPng(svg, this.o);
    job.catch(() => {}); // a failure surfaces in into(); a report that fails earlier must not leave it unhandled
    this.jobs.push([name, job]);
  }

  async into(files: Map<string, unknown>): Promise<string[]> {
    const warnings: string[] = [];
    for (const [name, job] of this.jobs) {
      const r = await job;
      if ('png' in r) files.set(name.replace(/\.svg$/, '.png'), r.png);
      else warnings.push(`${name}: no PNG written: the bundled font (Noto Sans SC) has no glyph for ${r.missing.map((c) => `'${c}' (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`).join(', ')}`);
    }
    return warnings;
  }
}

/** A PNG beside every SVG among `files` (see PngRenderer). */
export async function addPngs(files: Map<string, unknown>, o: PngOptions = DEFAULT_PNG): Promise<string[]> {
  const r = new PngRenderer(o);
  for (const [name, content] of files) if (name.endsWith('.svg') && typeof content === 'string') r.add(name, content);
  return r.into(files);
}
