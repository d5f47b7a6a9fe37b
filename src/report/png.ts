/**
 * Figures as PNG for journals: every SVG plot rendered at 300 dpi for a stated physical width
 * (16 cm by default: 1,890 pixels wide) by resvg (@resvg/resvg-js: a Rust SVG renderer with
 * prebuilt binaries) with the bundled Noto Sans SC (@expo-google-fonts/noto-sans-sc, SIL Open
 * Font License: Chinese and Latin in one font) and no system fonts, so a figure looks the same on
 * every machine. The PNG records its resolution (a pHYs chunk), so Word and LaTeX place it at
 * the stated width. A figure with a character the font lacks gets no PNG (a warning names the
 * characters): a PNG with empty boxes for glyphs would go into a manuscript unnoticed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { temporaryFolder } from '../util/output.ts';
import { cmapCoverage, trimFont } from './font.ts';

/** The plots' font list: the bundled font first (PNG), then fonts a reader's system may have (SVG in a browser). */
export const PLOT_FONT = '"Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif';

export interface PngOptions {
  /** physical width in centimetres */
  widthCm: number;
  dpi: number;
}

export const DEFAULT_PNG: PngOptions = { widthCm: 16, dpi: 300 };

let fonts: { files: string[]; data: Uint8Array[]; covers: (cp: number) => boolean } | null = null;

/** The bundled fonts (regular and bold): their files, bytes and character coverage (read once). */
function bundledFonts(): { files: string[]; data: Uint8Array[]; covers: (cp: number) => boolean } {
  if (fonts) return fonts;
  const dir = dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans-sc/package.json'));
  const files = ['400Regular/NotoSansSC_400Regular.ttf', '700Bold/NotoSansSC_700Bold.ttf'].map((f) => join(dir, f));
  const data = files.map((f) => readFileSync(f));
  fonts = { files, data, covers: cmapCoverage(data[0]) };
  return fonts;
}

/**
 * The bundled fonts trimmed to `text` (font.ts), written to a temporary folder, and a function
 * that removes it; the whole fonts when that folder cannot be written (a full disk, say): the
 * trimming saves time only, and a figure must not fail for it.
 */
function trimmedFontFiles(text: string): { files: string[]; remove: () => void } {
  const f = bundledFonts();
  const trimmed = f.data.map((font) => trimFont(font, text));
  if (trimmed.some((t) => t === null)) return { files: f.files, remove: () => {} };
  let remove = () => {};
  try {
    const dir = mkdtempSync(join(tmpdir(), 'tongban-font-'));
    remove = temporaryFolder(dir); // removed also when the run is stopped while the figure renders
    const files = trimmed.map((font, i) => {
      const file = join(dir, `${i}.ttf`);
      writeFileSync(file, font!);
      return file;
    });
    return { files, remove };
  } catch {
    remove();
    return { files: f.files, remove: () => {} };
  }
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
  const text = svgText(svg);
  const missing = [...new Set([...text].filter((ch) => !/\s/.test(ch) && !f.covers(ch.codePointAt(0)!)))];
  if (missing.length) return { missing };
  const { renderAsync } = await import('@resvg/resvg-js');
  const px = Math.round((o.widthCm / 2.54) * o.dpi);
  // resvg reads a font file once per text element: it gets copies trimmed to this figure's text
  const fontFiles = trimmedFontFiles(text);
  try {
    // rendered on libuv's thread pool: several figures at once, the main thread free meanwhile
    const image = await renderAsync(svg, { fitTo: { mode: 'width', value: px }, background: 'white', font: { fontFiles: fontFiles.files, loadSystemFonts: false, defaultFontFamily: 'Noto Sans SC' } });
    return { png: withResolution(image.asPng(), o.dpi) };
  } finally {
    fontFiles.remove();
  }
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
