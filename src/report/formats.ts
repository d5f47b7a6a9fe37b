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
const TEX_MATH: Record<string, string> = { '<': '$<$', '>': '$>$', 'α': '$\\alpha$', 'θ': '$\\theta$', '²': '$^2$', '≥': '$\\geq$', '≤': '$\\leq$' };
export const texEscape = (s: string) =>
  s
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\&%$#_{}~^]/g, (c) => TEX_SPECIAL[c])
    .replace(/[<>αθ²≥≤]/g, (c) => TEX_MATH[c])
    .replace(/\*+$/, (m) => `\\sym{${m}}`);

/** booktabs table; \sym{} is defined as a superscript so stars line up, as esttab does. */
export function toLatex(g: Grid): string {
  const ncol = g.header[0].length;
  const out = [
    '% requires \\usepackage{booktabs}; for Chinese labels compile with xelatex and \\usepackage{ctex}',
    '\\providecommand{\\sym}[1]{\\ensuremath{^{#1}}}',
    '\\begin{table}[htbp]\\centering',
    `\\caption{${texEscape(g.title)}}`,
    `\\begin{tabular}{l${'c'.repeat(ncol - 1)}}`,
    '\\toprule',
    ...g.header.map((h) => h.map(texEscape).join(' & ') + ' \\\\'),
    '\\midrule',
  ];
  let statsStarted = false;
  for (const r of g.body) {
    if (r.kind === 'stat' && !statsStarted) {
      out.push('\\midrule');
      statsStarted = true;
    }
    const cells = r.kind === 'group' ? [`\\textit{${texEscape(r.cells[0])}}`, ...r.cells.slice(1)] : r.cells.map(texEscape);
    out.push(cells.join(' & ') + ' \\\\');
  }
  out.push('\\bottomrule', '\\end{tabular}');
  out.push(`\\par\\vspace{0.5ex}\\parbox{\\linewidth}{\\footnotesize ${g.notes.map(texEscape).join(' \\\\ ')}}`);
  out.push('\\end{table}');
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
`;

export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n<title>${htmlEscape(title)}</title>\n<style>${TABLE_CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}

export { htmlEscape };
