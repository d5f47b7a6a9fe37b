/**
 * Word (.docx) tables in the journal style: a caption above, a three-line table (a heavy rule above
 * the header, a light one under it, a light one above the statistics rows, a heavy one at the
 * bottom; no vertical rules), the notes below in a smaller size. Chinese text in 宋体 (SimSun),
 * Latin text and numbers in Times New Roman, as Chinese journals ask; Word and WPS substitute what
 * a machine lacks.
 *
 * The `docx` library defines the document (`libraryDocx`), but building every table through its
 * objects cost ~0.16 ms a cell, ~1 s of CPU per book run (docs/decisions.md §61). So the library
 * makes one small document per language (`template`), whose parts other than the tables are the
 * same for every document, and `toDocx` writes the tables' XML itself, as the library writes it:
 * the same bytes as the library's whole document (tests/docx.test.ts: random grids with markup and
 * control characters, line ends, combining marks and emoji). Loaded only when a run writes Word files.
 */
import type { Grid } from './formats.ts';

/** Border sizes in eighths of a point: 1.5 pt and 0.75 pt rules. */
const HEAVY = 12;
const LIGHT = 6;
/** Page margins in twips (on the library's A4 page), and the text width the table's columns share. */
const MARGIN = { top: 1440, bottom: 1440, left: 1200, right: 1200 };
const A4_WIDTH = 11906;
const TEXT_WIDTH = A4_WIDTH - MARGIN.left - MARGIN.right;
/** Font sizes in half-points: 10.5 pt (五号) in the table, 9 pt (小五) in the notes. */
const TABLE_SIZE = 21;
const NOTE_SIZE = 18;

const fontsOf = (lang: 'zh' | 'en') => ({ ascii: 'Times New Roman', hAnsi: 'Times New Roman', cs: 'Times New Roman', eastAsia: lang === 'zh' ? 'SimSun' : 'Times New Roman' });

/**
 * The docx library's document of the given tables, each on its own page after the first: the
 * definition `toDocx` writes faster.
 */
export async function libraryDocx(grids: Grid[], lang: 'zh' | 'en'): Promise<Uint8Array> {
  return zipFixed(await libraryParts(grids, lang));
}

/** The parts of libraryDocx's document (its files by path, in the archive's order), with fixed dates: also the source of toDocx's template. */
async function libraryParts(grids: Grid[], lang: 'zh' | 'en'): Promise<Record<string, Uint8Array>> {
  const { AlignmentType, BorderStyle, Document, Packer, PageBreak, Paragraph, Table, TableCell, TableRow, TextRun, VerticalAlign, WidthType } = await import('docx');
  const font = fontsOf(lang);
  const run = (text: string, o: { size?: number; bold?: boolean; italics?: boolean } = {}) => new TextRun({ text, font, size: o.size ?? TABLE_SIZE, bold: o.bold, italics: o.italics });
  const none = { style: BorderStyle.NONE, size: 0, color: 'auto' };
  const rule = (size: number) => ({ style: BorderStyle.SINGLE, size, color: '000000' });
  const children: (InstanceType<typeof Paragraph> | InstanceType<typeof Table>)[] = [];
  grids.forEach((g, t) => {
    const caption = new Paragraph({ alignment: AlignmentType.CENTER, spacing: { after: 120 }, keepNext: true, children: [...(t > 0 ? [new PageBreak()] : []), run(g.title, { bold: true })] });
    const ncol = g.header[0].length;
    const firstStat = g.body.findIndex((r) => r.kind === 'stat');
    const cell = (text: string, col: number, borders: { top?: number; bottom?: number }, o: { bold?: boolean; italics?: boolean } = {}) =>
      new TableCell({
        verticalAlign: VerticalAlign.CENTER,
        margins: { left: 80, right: 80 },
        borders: { top: borders.top ? rule(borders.top) : none, bottom: borders.bottom ? rule(borders.bottom) : none, left: none, right: none },
        children: text.split('\n').map((line) => new Paragraph({ alignment: col === 0 ? AlignmentType.LEFT : AlignmentType.CENTER, children: [run(line, o)] })),
      });
    const rows: InstanceType<typeof TableRow>[] = [];
    g.header.forEach((h, r) => {
      const top = r === 0 ? HEAVY : undefined;
      const bottom = r === g.header.length - 1 ? LIGHT : undefined;
      rows.push(new TableRow({ tableHeader: true, children: h.map((c, k) => cell(c, k, { top, bottom })) }));
    });
    g.body.forEach((b, r) => {
      const top = r === firstStat ? LIGHT : undefined;
      const bottom = r === g.body.length - 1 ? HEAVY : undefined;
      const cells = b.cells.length < ncol ? [...b.cells, ...Array(ncol - b.cells.length).fill('')] : b.cells;
      rows.push(new TableRow({ cantSplit: true, children: cells.map((c, k) => cell(c, k, { top, bottom }, b.kind === 'group' && k === 0 ? { italics: true } : {})) }));
    });
    if (!g.body.length) rows.push(new TableRow({ children: Array.from({ length: ncol }, (_, k) => cell('', k, { bottom: HEAVY })) }));
    const table = new Table({
      rows,
      alignment: AlignmentType.CENTER,
      width: { size: 0, type: WidthType.AUTO },
      borders: { top: none, bottom: none, left: none, right: none, insideHorizontal: none, insideVertical: none },
    });
    const notes = g.notes.map((n) => new Paragraph({ spacing: { before: 60 }, children: [run(n, { size: NOTE_SIZE })] }));
    children.push(caption, table, ...notes);
  });
  const doc = new Document({
    creator: 'tongban',
    styles: { default: { document: { run: { font, size: TABLE_SIZE } } } },
    sections: [{ properties: { page: { margin: MARGIN } }, children }],
  });
  const { unzipSync } = await import('fflate');
  return withFixedDates(unzipSync(new Uint8Array(await Packer.toBuffer(doc))));
}

/** What every document of a language shares: document.xml around the tables, and the other parts. */
interface Template {
  head: string;
  tail: string;
  parts: Record<string, Uint8Array>;
}

const BODY = '<w:body>';
const SECTION = '<w:sectPr>';
const templates = new Map<'zh' | 'en', Promise<Template>>();

/** The library's document of one small table, cut around its body (once per language and process). */
function template(lang: 'zh' | 'en'): Promise<Template> {
  let t = templates.get(lang);
  if (!t) {
    t = (async () => {
      const { strFromU8 } = await import('fflate');
      const parts = await libraryParts([{ title: '', header: [['']], body: [], notes: [] }], lang);
      const xml = strFromU8(parts['word/document.xml']);
      const open = xml.indexOf(BODY) + BODY.length;
      const close = xml.lastIndexOf(SECTION);
      if (open < BODY.length || close < open) throw new Error('internal: the docx library wrote a document.xml without <w:body> or <w:sectPr>');
      return { head: xml.slice(0, open), tail: xml.slice(close), parts };
    })();
    templates.set(lang, t);
  }
  return t;
}

/** Text as the library escapes it (its `escapeAll`): markup characters as entities, control characters other than tab and line ends dropped. */
const ENTITIES: Record<string, string> = { '&': '&amp;', '"': '&quot;', "'": '&apos;', '<': '&lt;', '>': '&gt;' };
// eslint-disable-next-line no-control-regex
const escapeXml = (s: string) => s.replace(/[&"'<>\x00-\x08\x0B\x0C\x0E-\x1F]/g, (c) => ENTITIES[c] ?? '');

/** The XML of the tables, each with its caption and notes, as libraryDocx's document body has it. */
function tablesXml(grids: Grid[], lang: 'zh' | 'en'): string {
  const f = fontsOf(lang);
  const fonts = `<w:rFonts w:ascii="${f.ascii}" w:cs="${f.cs}" w:eastAsia="${f.eastAsia}" w:hAnsi="${f.hAnsi}"/>`;
  const run = (text: string, size: number, bold = false, italics = false) =>
    `<w:r><w:rPr>${fonts}${bold ? '<w:b/><w:bCs/>' : ''}${italics ? '<w:i/><w:iCs/>' : ''}<w:sz w:val="${size}"/><w:szCs w:val="${size}"/></w:rPr><w:t xml:space="preserve">${escapeXml(text)}</w:t></w:r>`;
  const border = (side: string, size: number | undefined) => (size ? `<w:${side} w:val="single" w:color="000000" w:sz="${size}"/>` : `<w:${side} w:val="none" w:color="auto" w:sz="0"/>`);
  const NONE = ['top', 'left', 'bottom', 'right', 'insideH', 'insideV'].map((side) => border(side, undefined)).join('');
  const cell = (text: string, col: number, top: number | undefined, bottom: number | undefined, italics = false) => {
    const jc = `<w:p><w:pPr><w:jc w:val="${col === 0 ? 'left' : 'center'}"/></w:pPr>`;
    return (
      `<w:tc><w:tcPr><w:tcBorders>${border('top', top)}${border('left', undefined)}${border('bottom', bottom)}${border('right', undefined)}</w:tcBorders>` +
      '<w:tcMar><w:left w:type="dxa" w:w="80"/><w:right w:type="dxa" w:w="80"/></w:tcMar><w:vAlign w:val="center"/></w:tcPr>' +
      text
        .split('\n')
        .map((line) => `${jc}${run(line, TABLE_SIZE, false, italics)}</w:p>`)
        .join('') +
      '</w:tc>'
    );
  };
  let out = '';
  grids.forEach((g, t) => {
    out += `<w:p><w:pPr><w:keepNext/><w:spacing w:after="120"/><w:jc w:val="center"/></w:pPr>${t > 0 ? '<w:r><w:br w:type="page"/></w:r>' : ''}${run(g.title, TABLE_SIZE, true)}</w:p>`;
    const ncol = g.header[0].length;
    const firstStat = g.body.findIndex((r) => r.kind === 'stat');
    // each row as its properties and cells; the library leaves out a row without cells
    const rows: [string, string[]][] = [];
    g.header.forEach((h, r) => {
      const top = r === 0 ? HEAVY : undefined;
      const bottom = r === g.header.length - 1 ? LIGHT : undefined;
      rows.push(['<w:trPr><w:tblHeader/></w:trPr>', h.map((c, k) => cell(c, k, top, bottom))]);
    });
    g.body.forEach((b, r) => {
      const top = r === firstStat ? LIGHT : undefined;
      const bottom = r === g.body.length - 1 ? HEAVY : undefined;
      const cells = b.cells.length < ncol ? [...b.cells, ...Array<string>(ncol - b.cells.length).fill('')] : b.cells;
      rows.push(['<w:trPr><w:cantSplit/></w:trPr>', cells.map((c, k) => cell(c, k, top, bottom, b.kind === 'group' && k === 0))]);
    });
    if (!g.body.length) rows.push(['', Array.from({ length: ncol }, (_, k) => cell('', k, undefined, HEAVY))]);
    const kept = rows.filter(([, cells]) => cells.length > 0);
    // the library's grid: the widest row's columns sharing the text width equally
    const columns = Math.max(0, ...kept.map(([, cells]) => cells.length));
    const grid = columns ? `<w:tblGrid>${`<w:gridCol w:w="${Math.round(TEXT_WIDTH / columns)}"/>`.repeat(columns)}</w:tblGrid>` : '<w:tblGrid/>';
    out += `<w:tbl><w:tblPr><w:tblW w:type="auto" w:w="0"/><w:jc w:val="center"/><w:tblBorders>${NONE}</w:tblBorders></w:tblPr>${grid}${kept.map(([pr, cells]) => `<w:tr>${pr}${cells.join('')}</w:tr>`).join('')}</w:tbl>`;
    for (const n of g.notes) out += `<w:p><w:pPr><w:spacing w:before="60"/></w:pPr>${run(n, NOTE_SIZE)}</w:p>`;
  });
  return out;
}

/** One .docx with the given tables, each on its own page after the first (a manuscript's "tables" file): libraryDocx's bytes. */
export async function toDocx(grids: Grid[], lang: 'zh' | 'en'): Promise<Uint8Array> {
  const { head, tail, parts } = await template(lang);
  const { strToU8 } = await import('fflate');
  return zipFixed({ ...parts, 'word/document.xml': strToU8(head + tablesXml(grids, lang) + tail) });
}

/** A Word document to make: the tables' (one table's, or all of a run's), by an id the answer carries. */
export interface WordJob {
  id: number;
  grids: Grid[];
  lang: 'zh' | 'en';
}

/** The document's created/modified dates (and, as local time, every zip entry's), so that reruns are byte-identical. */
const FIXED_TIME = '2000-01-01T00:00:00Z';

/**
 * The parts with the document's clock readings replaced: the docx library stamps the document
 * properties with the time of writing (and zipping would stamp the entries with the time of
 * packing: zipFixed), which would make every rerun differ (tongban's reruns are byte-identical
 * apart from the manifest's times).
 */
async function withFixedDates(entries: Record<string, Uint8Array>): Promise<Record<string, Uint8Array>> {
  const { strFromU8, strToU8 } = await import('fflate');
  const core = entries['docProps/core.xml'];
  if (core) {
    entries['docProps/core.xml'] = strToU8(strFromU8(core).replace(/(<dcterms:(?:created|modified)[^>]*>)[^<]*(<\/dcterms:(?:created|modified)>)/g, `$1${FIXED_TIME}$2`));
  }
  return entries;
}

/** The entries zipped in their order, each with the fixed time. */
async function zipFixed(entries: Record<string, Uint8Array>): Promise<Uint8Array> {
  const { zipSync } = await import('fflate');
  // zip times are local wall-clock times: the same on every machine whatever its time zone
  const mtime = new Date(2000, 0, 1, 0, 0, 0);
  return zipSync(Object.fromEntries(Object.entries(entries).map(([name, data]) => [name, [data, { mtime }]])));
}
