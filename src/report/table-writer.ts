/**
 * Writing a run's tables in the spec's formats (`outputs:`): Markdown, CSV, LaTeX and HTML as they
 * are made, Word at the end (the docx library works asynchronously and is loaded only then): each
 * table as its own .docx, and all of them in one file, a manuscript's tables.
 */
import type { OutputFiles } from '../util/output.ts';
import type { TableFormat } from '../specfile/schema.ts';
import { htmlPage, toCsvTable, toHtmlFragment, toLatex, toMarkdown, type Grid } from './formats.ts';

export class TableWriter {
  private readonly word: [string, Grid][] = [];
  constructor(
    private readonly files: OutputFiles,
    private readonly formats: ReadonlySet<TableFormat>,
  ) {}

  /** `base` is the path without extension, e.g. tables/partner */
  write(base: string, g: Grid): void {
    if (this.formats.has('md')) this.files.set(`${base}.md`, toMarkdown(g));
    if (this.formats.has('csv')) this.files.set(`${base}.csv`, toCsvTable(g));
    if (this.formats.has('tex')) this.files.set(`${base}.tex`, toLatex(g, { label: base.split('/').pop() }));
    if (this.formats.has('html')) this.files.set(`${base}.html`, htmlPage(g.title, toHtmlFragment(g)));
    if (this.formats.has('docx')) this.word.push([base, g]);
  }

  /** The Word files: each table's, and `allTables` with every table in the order written. */
  async finish(lang: 'zh' | 'en', allTables: string): Promise<void> {
    if (!this.word.length) return;
    const { toDocx } = await import('./docx.ts');
    for (const [base, g] of this.word) this.files.set(`${base}.docx`, await toDocx([g], lang));
    this.files.set(allTables, await toDocx(this.word.map(([, g]) => g), lang));
  }
}
