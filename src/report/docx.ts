/**
 * Word (.docx) tables in the journal style, with the `docx` library: a caption above, a three-line
 * table (a heavy rule above the header, a light one under it, a light one above the statistics
 * rows, a heavy one at the bottom; no vertical rules), the notes below in a smaller size. Chinese
 * text in 宋体 (SimSun), Latin text and numbers in Times New Roman, as Chinese journals ask; Word
 * and WPS substitute what a machine lacks. Loaded only when a run writes Word files.
 */
import type { Grid } from './formats.ts';

/** Border sizes in eighths of a point: 1.5 pt and 0.75 pt rules. */
const HEAVY = 12;
const LIGHT = 6;

/** One .docx with the given tables, each on its own page after the first (a manuscript's "tables" file). */
export async function toDocx(grids: Grid[], lang: 'zh' | 'en'): Promise<Uint8Array> {
  const { AlignmentType, BorderStyle, Document, Packer, PageBreak, Paragraph, Table, TableCell, TableRow, TextRun, VerticalAlign, WidthType } = await import('docx');
  const font = { ascii: 'Times New Roman', hAnsi: 'Times New Roman', cs: 'Times New Roman', eastAsia: lang === 'zh' ? 'SimSun' : 'Times New Roman' };
  // sizes in half-points: 10.5 pt (五号) in the table, 9 pt (小五) in the notes
  const run = (text: string, o: { size?: number; bold?: boolean; italics?: boolean } = {}) => new TextRun({ text, font, size: o.size ?? 21, bold: o.bold, italics: o.italics });
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
    const notes = g.notes.map((n) => new Paragraph({ spacing: { before: 60 }, children: [run(n, { size: 18 })] }));
    children.push(caption, table, ...notes);
  });
  const doc = new Document({
    creator: 'tongban',
    styles: { default: { document: { run: { font, size: 21 } } } },
    sections: [{ properties: { page: { margin: { top: 1440, bottom: 1440, left: 1200, right: 1200 } } }, children }],
  });
  return deterministic(new Uint8Array(await Packer.toBuffer(doc)));
}

/** A Word document to make: one table's, or the join of documents made before (by their ids). */
export type WordJob = { id: number; grid: Grid; lang: 'zh' | 'en' } | { id: number; join: number[] };

/** The document of a job; `made` holds the documents made so far by id, this one included once called. */
export function wordDocument(job: WordJob, made: Map<number, Promise<Uint8Array>>): Promise<Uint8Array> {
  const doc = 'grid' in job ? toDocx([job.grid], job.lang) : Promise.all(job.join.map((id) => made.get(id)!)).then(joinDocx);
  made.set(job.id, doc);
  doc.catch(() => {}); // a failure is the caller's, through the promise returned
  return doc;
}

/** The document's created/modified dates (and, as local time, every zip entry's), so that reruns are byte-identical. */
const FIXED_TIME = '2000-01-01T00:00:00Z';

/**
 * The archive with its clock readings replaced: the docx library stamps the document properties
 * with the time of writing and the zip entries with the time of packing, which would make every
 * rerun differ (tongban's reruns are byte-identical apart from the manifest's times).
 */
async function deterministic(zip: Uint8Array): Promise<Uint8Array> {
  const { strFromU8, strToU8, unzipSync } = await import('fflate');
  const entries = unzipSync(zip);
  const core = entries['docProps/core.xml'];
  if (core) {
    entries['docProps/core.xml'] = strToU8(strFromU8(core).replace(/(<dcterms:(?:created|modified)[^>]*>)[^<]*(<\/dcterms:(?:created|modified)>)/g, `$1${FIXED_TIME}$2`));
  }
  return zipFixed(entries);
}

/** The entries zipped in their order, each with the fixed time. */
async function zipFixed(entries: Record<string, Uint8Array>): Promise<Uint8Array> {
  const { zipSync } = await import('fflate');
  // zip times are local wall-clock times: the same on every machine whatever its time zone
  const mtime = new Date(2000, 0, 1, 0, 0, 0);
  return zipSync(Object.fromEntries(Object.entries(entries).map(([name, data]) => [name, [data, { mtime }]])));
}

const BODY = '<w:body>';
const SECTION = '<w:sectPr>';
const PAGE_BREAK = '<w:r><w:br w:type="page"/></w:r>';

/**
 * One .docx with the tables of several single-table documents made by toDocx, each after a page
 * break: the same bytes as toDocx with all their grids (tested), at a fraction of the cost. The
 * docx library writes every table's XML independently of the others and the parts other than
 * word/document.xml do not depend on the tables, so the document's body is the bodies joined,
 * each table's caption after the first opening with the page break toDocx puts there.
 */
export async function joinDocx(docs: Uint8Array[]): Promise<Uint8Array> {
  const { strFromU8, strToU8, unzipSync } = await import('fflate');
  const parts = docs.map((d) => unzipSync(d));
  const first = parts[0];
  const xml = parts.map((p) => strFromU8(p['word/document.xml']));
  const at = (x: string) => [x.indexOf(BODY) + BODY.length, x.lastIndexOf(SECTION)];
  const [open, close] = at(xml[0]);
  const bodies = xml.map((x, t) => {
    const [i, j] = at(x);
    if (i < BODY.length || j < i || x.slice(0, i) !== xml[0].slice(0, open) || x.slice(j) !== xml[0].slice(close)) throw new Error('internal: the Word documents to join differ outside their bodies');
    const body = x.slice(i, j);
    if (t === 0) return body;
    // the caption's paragraph properties, then the page break
    const k = body.indexOf('</w:pPr>') + '</w:pPr>'.length;
    if (!body.startsWith('<w:p><w:pPr>') || k < '</w:pPr>'.length) throw new Error('internal: a Word table without its caption paragraph');
    return body.slice(0, k) + PAGE_BREAK + body.slice(k);
  });
  for (const p of parts.slice(1)) {
    const names = Object.keys(p);
    if (names.join('\n') !== Object.keys(first).join('\n') || names.some((n) => n !== 'word/document.xml' && Buffer.compare(p[n], first[n]) !== 0)) {
      throw new Error('internal: the Word documents to join differ outside word/document.xml');
    }
  }
  return zipFixed({ ...first, 'word/document.xml': strToU8(xml[0].slice(0, open) + bodies.join('') + xml[0].slice(close)) });
}
