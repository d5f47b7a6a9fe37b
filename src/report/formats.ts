/**
 * One renderer per output format for the grids of regtable.ts and descriptives.ts:
 * Markdown, CSV, LaTeX (booktabs) and HTML. Formatting only: no statistics here.
 */
import { toCsv } from '../data/csv.ts';
import type { RegTable } from './regtable.ts';

/** A plain grid (header row + body rows + notes), the common shape of all tables. */
export interface Grid {
  title: string;
  header: string[][];
  body: { cells: string[]; kind?: string }[];
  notes: string[];
}

export function regGrid(t: RegTable): Grid {
  return {
    title: t.title,
    header: [
      ['', ...t.columns.map((c) => c.number)],
      ['', ...t.columns.map((c) => c.label)],
      [t.lang === 'zh' ? '被解释变量' : 'Dependent variable', ...t.columns.map((c) => c.outcome)],
    ],
    body: t.rows.map((r) => ({ cells: [r.label, ...r.cells], kind: r.kind })),
    notes: t.notes,
  };
}

/** Markdown cell text: pipes escaped, line breaks as spaces, and anything that would open an HTML tag made literal. */
const mdEscape = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n|\r/g, ' ').replace(/<(?=[A-Za-z/!?])/g, '&lt;');

export function toMarkdown(g: Grid): string {
  const ncol = g.header[0].length;
  const lines = [`**${mdEscape(g.title)}**`, ''];
  lines.push(`| ${g.header[0].map(mdEscape).join(' | ')} |`);
  lines.push(`|${['---', ...Array(ncol - 1).fill(':---:')].join('|')}|`);
  for (const h of g.header.slice(1)) lines.push(`| ${h.map(mdEscape).join(' | ')} |`);
  for (const r of g.body) {
    const cells = r.kind === 'group' ? [`*${r.cells[0]}*`, ...r.cells.slice(1)] : r.cells;
    lines.push(`| ${cells.map(mdEscape).join(' | ')} |`);
  }
  lines.push('', ...g.notes.map((n) => mdEscape(n) + '  '));
  return lines.join('\n') + '\n';
}

/** A number as a table shows it: signed decimal, stars or parentheses around it allowed (never a formula). */
const TABLE_NUMBER = /^\(?[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\)?\**$/;

/**
 * A cell of a CSV meant for spreadsheets: text starting with = + - @ tab or CR is prefixed with
 * an apostrophe so that Excel or WPS shows it instead of running it as a formula (OWASP's
 * rule); numbers, with their stars or parentheses, stay as they are.
 */
export function spreadsheetSafe(s: string): string {
  return /^[=+\-@\t\r]/.test(s) && !TABLE_NUMBER.test(s) ? `'${s}` : s;
}

export function toCsvTable(g: Grid): string {
  const rows = [...g.header.slice(1), ...g.body.map((r) => r.cells), ...g.notes.map((n) => [n])];
  return toCsv(g.header[0].map(spreadsheetSafe), rows.map((r) => r.map(spreadsheetSafe)));
}

const TEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};
/** Math-mode replacements so that English tables also compile with pdflatex. */
const TEX_MATH: Record<string, string> = { '<': '$<$', '>': '$>$', 'α': '$\\alpha$', 'θ': '$\\theta$', 'χ': '$\\chi$', '²': '$^2$', '≥': '$\\geq$', '≤': '$\\leq$', '→': '$\\rightarrow$', '×': '$\\times$', '−': '$-$' };
export const texEscape = (s: string) =>
  s
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\&%$#_{}~^]/g, (c) => TEX_SPECIAL[c])
    .replace(/[<>αθχ²≥≤→×−]/g, (c) => TEX_MATH[c])
    .replace(/\*+$/, (m) => `\\sym{${m}}`);

/** Tables with more body rows than this, and at most LONG_COLS columns, are longtables that break across pages. */
const LONG_ROWS = 40;
const LONG_COLS = 6;

/** The packages a document needs for tongban's LaTeX tables (docs/spec-files.md says so too). */
export const LATEX_PACKAGES = 'booktabs, threeparttable, threeparttablex, longtable, adjustbox';

/**
 * A booktabs table with its notes under it (threeparttable), `\label{tab:<label>}` after the
 * caption, scaled down only when it is wider than the text or taller than 90% of the page
 * (adjustbox's max totalsize); a long and narrow table (more than 40 rows, at most 6 columns: the
 * descriptives) is a longtable that breaks across pages, with its header repeated (threeparttablex). \sym{} is a superscript so that stars line up, as esttab does.
 */
export function toLatex(g: Grid, o: { label?: string } = {}): string {
  const ncol = g.header[0].length;
  const cols = `l${'c'.repeat(ncol - 1)}`;
  const label = o.label ? `\\label{tab:${o.label.replace(/[^A-Za-z0-9_:-]/g, '-')}}` : '';
  const header = g.header.map((h) => h.map(texEscape).join(' & ') + ' \\\\');
  const body: string[] = [];
  let statsStarted = false;
  for (const r of g.body) {
    if (r.kind === 'stat' && !statsStarted) {
      body.push('\\midrule');
      statsStarted = true;
    }
    const cells = r.kind === 'group' ? [`\\textit{${texEscape(r.cells[0])}}`, ...r.cells.slice(1)] : r.cells.map(texEscape);
    body.push(cells.join(' & ') + ' \\\\');
  }
  const notes = g.notes.map((n) => `\\item ${texEscape(n)}`);
  const out = [`% requires \\usepackage{${LATEX_PACKAGES}}; for Chinese labels compile with xelatex and \\usepackage{ctex}`, '\\providecommand{\\sym}[1]{\\ensuremath{^{#1}}}'];
  if (g.body.length > LONG_ROWS && ncol <= LONG_COLS) {
    out.push(
      '\\begin{ThreePartTable}',
      ...(notes.length ? ['\\begin{TableNotes}[flushleft]\\footnotesize', ...notes, '\\end{TableNotes}'] : []),
      `\\begin{longtable}{${cols}}`,
      `\\caption{${texEscape(g.title)}}${label} \\\\`,
      '\\toprule',
      ...header,
      '\\midrule',
      '\\endfirsthead',
      '\\toprule',
      ...header,
      '\\midrule',
      '\\endhead',
      '\\bottomrule',
      ...(notes.length ? ['\\insertTableNotes'] : []),
      '\\endlastfoot',
      ...body,
      '\\end{longtable}',
      '\\end{ThreePartTable}',
    );
    return out.join('\n') + '\n';
  }
  out.push(
    '\\begin{table}[htbp]\\centering',
    `\\caption{${texEscape(g.title)}}${label}`,
    '\\begin{adjustbox}{max totalsize={\\linewidth}{0.9\\textheight}}',
    '\\begin{threeparttable}',
    `\\begin{tabular}{${cols}}`,
    '\\toprule',
    ...header,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    ...(notes.length ? ['\\begin{tablenotes}[flushleft]\\footnotesize', ...notes, '\\end{tablenotes}'] : []),
    '\\end{threeparttable}',
    '\\end{adjustbox}',
    '\\end{table}',
  );
  return out.join('\n') + '\n';
}

const htmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An HTML fragment (a <figure> with a <table>); the stand-alone file wraps it in a page. */
export function toHtmlFragment(g: Grid): string {
  const out = [`<figure class="regtable"><figcaption>${htmlEscape(g.title)}</figcaption><table>`, '<thead>'];
  for (const h of g.header) out.push(`<tr>${h.map((c, k) => (k === 0 ? `<th class="label">${htmlEscape(c)}</th>` : `<th>${htmlEscape(c)}</th>`)).join('')}</tr>`);
  out.push('</thead><tbody>');
  let statsStarted = false;
  for (const r of g.body) {
    const cls = [r.kind ?? '', r.kind === 'stat' && !statsStarted ? 'first-stat' : ''].filter(Boolean).join(' ');
    if (r.kind === 'stat') statsStarted = true;
    out.push(`<tr class="${cls}">${r.cells.map((c, k) => (k === 0 ? `<td class="label">${htmlEscape(c)}</td>` : `<td>${htmlEscape(c)}</td>`)).join('')}</tr>`);
  }
  out.push('</tbody></table>');
  out.push(`<div class="notes">${g.notes.map((n) => `<p>${htmlEscape(n)}</p>`).join('')}</div></figure>`);
  return out.join('\n') + '\n';
}

const TABLE_CSS = `
body { font-family: "Noto Serif CJK SC", "Songti SC", "SimSun", Georgia, serif; margin: 2em auto; max-width: 1100px; color: #111; }
h1, h2, h3 { font-family: "Noto Sans CJK SC", "PingFang SC", Helvetica, Arial, sans-serif; }
figure.regtable { margin: 1.5em 0; overflow-x: auto; }
figure.regtable figcaption { font-weight: bold; margin-bottom: 0.4em; text-align: center; }
figure.regtable table { border-collapse: collapse; margin: 0 auto; border-top: 2px solid #000; border-bottom: 2px solid #000; }
figure.regtable thead tr:last-child th { border-bottom: 1px solid #000; }
figure.regtable th, figure.regtable td { padding: 0.15em 0.8em; text-align: center; white-space: nowrap; font-variant-numeric: tabular-nums; }
figure.regtable .label { text-align: left; }
figure.regtable tr.group td { font-style: italic; padding-top: 0.5em; }
figure.regtable tr.first-stat td { border-top: 1px solid #000; }
figure.regtable tr.se td { color: #333; }
figure.regtable .notes { font-size: 0.85em; max-width: 60em; margin: 0.4em auto; }
figure.regtable .notes p { margin: 0.1em 0; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
.plot { margin: 1em 0; text-align: center; }
/* print (and print to PDF): the whole width of every table on A4 — smaller type, narrower cells,
   header labels that may wrap — instead of a scroll box that print cuts after the fifth column */
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  figure.regtable { overflow: visible; }
  figure.regtable table { font-size: 7.5pt; }
  figure.regtable th, figure.regtable td { padding: 0.05em 0.3em; }
  figure.regtable thead th { white-space: normal; }
  figure.regtable tr { break-inside: avoid; }
  figure.regtable figcaption, h2, h3 { break-after: avoid; }
  .plot svg { max-width: 100%; height: auto; }
  pre { white-space: pre-wrap; }
}
`;

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<title>${htmlEscape(title)}</title>\n<style>${TABLE_CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

export { htmlEscape };
