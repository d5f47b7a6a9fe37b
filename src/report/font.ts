/**
 * The bundled TrueType font, read and trimmed for one figure's text.
 *
 * resvg (the PNG renderer) reads a font file from disk again for every text element it shapes:
 * with the 10.5 MB Noto Sans SC that was about 6 ms per label, 1 s of a book run's 4.5 s
 * (docs/decisions.md §50). `trimFont` writes a copy in which every glyph the figure cannot
 * reach has an empty outline, so the file is about 0.5 MB. Glyph ids and every table except
 * `glyf`/`loca` are kept as they are (cmap, GSUB, GPOS, metrics), so shaping and the kept
 * outlines — and so the pixels — are those of the whole font. A glyph is kept when the text's
 * characters map to it, when any GSUB lookup can produce it (ligatures, localized forms), or
 * when a kept composite glyph uses it. A font it cannot read that far, and text for which this
 * would not be exact (see `trimmable`), is not trimmed (null).
 */

interface Tables {
  view: DataView;
  /** tag → [offset, length], in the file's order */
  tables: Map<string, [number, number]>;
}

function readTables(font: Uint8Array): Tables {
  const view = new DataView(font.buffer, font.byteOffset, font.byteLength);
  const tables = new Map<string, [number, number]>();
  for (let t = 0; t < view.getUint16(4); t++) {
    const rec = 12 + 16 * t;
    tables.set(String.fromCharCode(font[rec], font[rec + 1], font[rec + 2], font[rec + 3]), [view.getUint32(rec + 8), view.getUint32(rec + 12)]);
  }
  return { view, tables };
}

/** The glyph id the font's Unicode `cmap` maps a code point to (0: none), from its format 12 or format 4 subtable. */
export function cmapGlyphs(font: Uint8Array): (cp: number) => number {
  const { view: d, tables } = readTables(font);
  const cmap = tables.get('cmap')?.[0];
  if (cmap === undefined) throw new Error('internal: the bundled font has no cmap table');
  const subtables = new Map<string, number>();
  for (let s = 0; s < d.getUint16(cmap + 2); s++) {
    const rec = cmap + 4 + 8 * s;
    subtables.set(`${d.getUint16(rec)}/${d.getUint16(rec + 2)}`, cmap + d.getUint32(rec + 4));
  }
  const full = subtables.get('3/10') ?? subtables.get('0/4');
  if (full !== undefined && d.getUint16(full) === 12) {
    const groups: [number, number, number][] = [];
    for (let g = 0; g < d.getUint32(full + 12); g++) {
      const at = full + 16 + 12 * g;
      groups.push([d.getUint32(at), d.getUint32(at + 4), d.getUint32(at + 8)]);
    }
    return (cp) => {
      let lo = 0;
      let hi = groups.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (cp < groups[mid][0]) hi = mid - 1;
        else if (cp > groups[mid][1]) lo = mid + 1;
        else return groups[mid][2] + (cp - groups[mid][0]);
      }
      return 0;
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
    if (cp > 0xffff) return 0;
    for (let s = 0; s < segs; s++) {
      if (cp > d.getUint16(ends + 2 * s)) continue;
      const start = d.getUint16(starts + 2 * s);
      if (cp < start) return 0;
      const delta = d.getInt16(deltas + 2 * s);
      const ro = d.getUint16(offsets + 2 * s);
      if (ro === 0) return (cp + delta) & 0xffff;
      const glyph = d.getUint16(offsets + 2 * s + ro + 2 * (cp - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

/** The characters a font maps to a glyph. */
export function cmapCoverage(font: Uint8Array): (cp: number) => boolean {
  const glyph = cmapGlyphs(font);
  return (cp) => glyph(cp) !== 0;
}

/** Every glyph a GSUB lookup of the font can output, or null for a lookup type or format it does not know. */
export function gsubOutputs(font: Uint8Array): Set<number> | null {
  const { view: d, tables } = readTables(font);
  const out = new Set<number>();
  const gsub = tables.get('GSUB')?.[0];
  if (gsub === undefined) return out;
  const coverage = (at: number): number[] => {
    const glyphs: number[] = [];
    const format = d.getUint16(at);
    const count = d.getUint16(at + 2);
    if (format === 1) for (let i = 0; i < count; i++) glyphs.push(d.getUint16(at + 4 + 2 * i));
    else if (format === 2) {
      for (let r = 0; r < count; r++) for (let g = d.getUint16(at + 4 + 6 * r); g <= d.getUint16(at + 6 + 6 * r); g++) glyphs.push(g);
    } else throw new Error(`coverage format ${format}`);
    return glyphs;
  };
  const array = (at: number) => {
    for (let i = 0; i < d.getUint16(at); i++) out.add(d.getUint16(at + 2 + 2 * i));
  };
  const subtable = (type: number, at: number): void => {
    const format = d.getUint16(at);
    if (type === 1 && format === 1) for (const g of coverage(at + d.getUint16(at + 2))) out.add((g + d.getInt16(at + 4)) & 0xffff);
    else if (type === 1 && format === 2) array(at + 4);
    else if ((type === 2 || type === 3) && format === 1) {
      for (let s = 0; s < d.getUint16(at + 4); s++) array(at + d.getUint16(at + 6 + 2 * s));
    } else if (type === 4 && format === 1) {
      for (let s = 0; s < d.getUint16(at + 4); s++) {
        const set = at + d.getUint16(at + 6 + 2 * s);
        for (let l = 0; l < d.getUint16(set); l++) out.add(d.getUint16(set + d.getUint16(set + 2 + 2 * l)));
      }
    } else if (type === 5 || type === 6) {
      // contextual: its substitutions are lookups of the list, read in their own right
    } else if (type === 7 && format === 1) subtable(d.getUint16(at + 2), at + d.getUint32(at + 4));
    else if (type === 8 && format === 1) {
      let p = at + 4;
      p += 2 + 2 * d.getUint16(p); // backtrack coverages
      p += 2 + 2 * d.getUint16(p); // lookahead coverages
      array(p);
    } else throw new Error(`lookup type ${type} format ${format}`);
  };
  try {
    const list = gsub + d.getUint16(gsub + 8);
    for (let l = 0; l < d.getUint16(list); l++) {
      const lookup = list + d.getUint16(list + 2 + 2 * l);
      for (let s = 0; s < d.getUint16(lookup + 4); s++) subtable(d.getUint16(lookup), lookup + d.getUint16(lookup + 6 + 2 * s));
    }
  } catch {
    return null;
  }
  return out;
}

/** The uint32 sum of a table's big-endian words (OpenType's table checksum). */
function checksum(bytes: Uint8Array, at: number, length: number): number {
  const d = new DataView(bytes.buffer, bytes.byteOffset);
  let sum = 0;
  const end = at + ((length + 3) & ~3);
  for (let p = at; p < end; p += 4) sum = (sum + d.getUint32(p)) >>> 0;
  return sum;
}

/**
 * Characters a shaper may put in place of a text's own: ASCII (space and hyphen stand in for
 * other spaces and hyphens), the no-break space, hyphens, the minus sign and the dotted circle
 * (drawn under a combining mark with no base). Composed and decomposed forms of the text are
 * added too: the shaper composes `e` + U+0301 into `é` when the font has it.
 */
const SHAPER_CHARACTERS = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('') + '\u00a0\u2010\u2011\u2212\u25cc';

interface Parsed {
  font: Uint8Array;
  t: Tables;
  glyphOf: (cp: number) => number;
  /** glyphs kept whatever the text: .notdef and every GSUB output (null: not trimmable) */
  base: Set<number> | null;
}
const parsed = new WeakMap<Uint8Array, Parsed>();

function parse(font: Uint8Array): Parsed {
  let p = parsed.get(font);
  if (!p) {
    const t = readTables(font);
    const ok = ['glyf', 'loca', 'head', 'maxp'].every((tag) => t.tables.has(tag)) && !t.tables.has('CFF ');
    const gsub = ok ? gsubOutputs(font) : null;
    p = { font, t, glyphOf: cmapGlyphs(font), base: gsub && new Set([0, ...gsub]) };
    parsed.set(font, p);
  }
  return p;
}

/**
 * Whether trimming is exact for `text`: the shaper then reaches only the glyphs of the text's
 * characters (and their composed or decomposed forms, and GSUB outputs). A combining mark can be
 * composed with a base past another mark, and the shapers of scripts such as Hebrew or Arabic
 * substitute presentation forms the text does not contain; such text, or a character the font
 * lacks, gets the whole font (svgToPng refuses the last anyway).
 */
function trimmable(text: string, glyphOf: (cp: number) => number): boolean {
  if (/\p{M}/u.test(text)) return false;
  if (!/^[\p{Script=Han}\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\p{Script=Common}]*$/u.test(text)) return false;
  for (const ch of text) if (!/\s/.test(ch) && glyphOf(ch.codePointAt(0)!) === 0) return false;
  return true;
}

/**
 * The font with empty outlines for the glyphs `text` cannot reach (see the top of this file),
 * or null when the font is not a TrueType font this reads (then the whole font is used).
 */
export function trimFont(font: Uint8Array, text: string): Uint8Array | null {
  const { t, glyphOf, base } = parse(font);
  if (!base || !trimmable(text, glyphOf)) return null;
  const d = t.view;
  const [headAt] = t.tables.get('head')!;
  const [locaAt] = t.tables.get('loca')!;
  const [glyfAt] = t.tables.get('glyf')!;
  const numGlyphs = d.getUint16(t.tables.get('maxp')![0] + 4);
  const long = d.getInt16(headAt + 50) === 1;
  const loca = (g: number) => (long ? d.getUint32(locaAt + 4 * g) : 2 * d.getUint16(locaAt + 2 * g));
  // the glyphs to keep: the text's, the GSUB outputs, and the components of kept composites
  const keep = new Uint8Array(numGlyphs);
  const todo: number[] = [...base];
  for (const ch of text + text.normalize('NFC') + text.normalize('NFD') + SHAPER_CHARACTERS) todo.push(glyphOf(ch.codePointAt(0)!));
  while (todo.length) {
    const g = todo.pop()!;
    if (g >= numGlyphs || keep[g]) continue;
    keep[g] = 1;
    const at = glyfAt + loca(g);
    if (loca(g + 1) === loca(g) || d.getInt16(at) >= 0) continue;
    // a composite glyph: its components, each with flags and arguments of a stated size
    for (let p = at + 10, more = true; more; ) {
      const flags = d.getUint16(p);
      todo.push(d.getUint16(p + 2));
      p += 4 + (flags & 0x0001 ? 4 : 2) + (flags & 0x0008 ? 2 : flags & 0x0040 ? 4 : flags & 0x0080 ? 8 : 0);
      more = (flags & 0x0020) !== 0;
    }
  }
  let glyfLength = 0;
  for (let g = 0; g < numGlyphs; g++) if (keep[g]) glyfLength += loca(g + 1) - loca(g);
  const newGlyf = new Uint8Array(glyfLength);
  const newLoca = new Uint8Array(long ? 4 * (numGlyphs + 1) : 2 * (numGlyphs + 1));
  const ld = new DataView(newLoca.buffer);
  let offset = 0;
  for (let g = 0; g <= numGlyphs; g++) {
    if (long) ld.setUint32(4 * g, offset);
    else ld.setUint16(2 * g, offset / 2);
    if (g < numGlyphs && keep[g]) {
      newGlyf.set(font.subarray(glyfAt + loca(g), glyfAt + loca(g + 1)), offset);
      offset += loca(g + 1) - loca(g);
    }
  }
  // the same tables in the same order, glyf and loca replaced, checksums recomputed
  const tags = [...t.tables.keys()];
  const content = (tag: string) => {
    if (tag === 'glyf') return newGlyf;
    if (tag === 'loca') return newLoca;
    const [at, length] = t.tables.get(tag)!;
    return font.subarray(at, at + length);
  };
  const dirLength = 12 + 16 * tags.length;
  let size = dirLength;
  for (const tag of tags) size += (content(tag).length + 3) & ~3;
  const out = new Uint8Array(size);
  const od = new DataView(out.buffer);
  out.set(font.subarray(0, 12), 0);
  let at = dirLength;
  let outHead = -1;
  tags.forEach((tag, i) => {
    const bytes = content(tag);
    out.set(bytes, at);
    if (tag === 'head') {
      outHead = at;
      od.setUint32(at + 8, 0); // checkSumAdjustment, set below
    }
    const rec = 12 + 16 * i;
    for (let c = 0; c < 4; c++) out[rec + c] = tag.charCodeAt(c);
    od.setUint32(rec + 4, checksum(out, at, bytes.length));
    od.setUint32(rec + 8, at);
    od.setUint32(rec + 12, bytes.length);
    at += (bytes.length + 3) & ~3;
  });
  od.setUint32(outHead + 8, (0xb1b0afba - checksum(out, 0, out.length)) >>> 0);
  return out;
}
