/**
 * Writing a run's tables in the spec's formats (`outputs:`): Markdown, CSV, LaTeX and HTML as they
 * are made, and Word: each table as its own .docx, and all of them in one file, a manuscript's
 * tables. The Word documents are made on a worker thread (the docx library is loaded there) while
 * the main thread goes on with the report's figures; they are put among the files at `finish`.
 */
import type { Worker } from 'node:worker_threads';
import type { OutputFiles } from '../util/output.ts';
import type { TableFormat } from '../specfile/schema.ts';
import { tryStartWorker } from '../util/workers.ts';
import type { WordJob } from './docx.ts';
import { htmlPage, toCsvTable, toHtmlFragment, toLatex, toMarkdown, type Grid } from './formats.ts';

export class TableWriter {
  private readonly word: [string, Grid, Promise<Uint8Array>][] = [];
  private all: [string, Promise<Uint8Array>] | undefined;
  private readonly docx: WordFiles;
  constructor(
    private readonly files: OutputFiles,
    private readonly formats: ReadonlySet<TableFormat>,
    lang: 'zh' | 'en',
  ) {
    this.docx = new WordFiles(lang);
  }

  /** `base` is the path without extension, e.g. tables/partner */
  write(base: string, g: Grid): void {
    if (this.all) throw new Error(`internal: table ${base} written after the Word file of all tables was started`);
    if (this.formats.has('md')) this.files.set(`${base}.md`, toMarkdown(g));
    if (this.formats.has('csv')) this.files.set(`${base}.csv`, toCsvTable(g));
    if (this.formats.has('tex')) this.files.set(`${base}.tex`, toLatex(g, { label: base.split('/').pop() }));
    if (this.formats.has('html')) this.files.set(`${base}.html`, htmlPage(g.title, toHtmlFragment(g)));
    if (this.formats.has('docx')) this.word.push([base, g, this.docx.make([g])]);
  }

  /**
   * Starts the Word file `allTables` with every table written so far, in that order (`finish`
   * starts it if this was not called): a caller with more to do after its last table calls this
   * first, so the document is made meanwhile.
   */
  lastTable(allTables: string): void {
    if (this.word.length && !this.all) this.all = [allTables, this.docx.make(this.word.map(([, g]) => g))];
  }

  /** The Word files: each table's, and the one with every table (`lastTable`). */
  async finish(allTables: string): Promise<void> {
    this.lastTable(allTables);
    if (!this.all) return;
    try {
      for (const [base, , doc] of this.word) this.files.set(`${base}.docx`, await doc);
      this.files.set(this.all[0], await this.all[1]);
    } finally {
      this.docx.close();
    }
  }
}

let warm: Worker | null = null;
const startWordWorker = () => tryStartWorker('word-worker', new URL('./word-worker.ts', import.meta.url), import.meta.url);

/**
 * Starts the Word worker ahead of the first table, so that it loads the docx library while the
 * caller does other work (a run: while the models are fitted); the next TableWriter takes it.
 * It does not keep the process alive meanwhile.
 */
export function warmUpWordWorker(): void {
  if (warm) return;
  warm = startWordWorker();
  warm?.unref();
}

/**
 * Word documents made on a worker thread (word-worker.ts), started with the first document; on
 * the main thread when threads are not allowed (TONGBAN_THREADS=1) or the worker cannot start.
 * The worker keeps the process alive only while it has documents to make.
 */
class WordFiles {
  private worker: Worker | null | undefined;
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (doc: Uint8Array) => void; reject: (e: Error) => void }>();

  constructor(private readonly lang: 'zh' | 'en') {}

  /** The document of the tables `grids`, each after the first on a new page. */
  make(grids: Grid[]): Promise<Uint8Array> {
    const job: WordJob = { id: this.next++, grids, lang: this.lang };
    if (this.worker === undefined) this.worker = this.start();
    let doc: Promise<Uint8Array>;
    if (!this.worker) doc = import('./docx.ts').then((m) => m.toDocx(job.grids, job.lang));
    else {
      doc = new Promise<Uint8Array>((resolve, reject) => this.waiting.set(job.id, { resolve, reject }));
      this.worker.postMessage(job);
      this.worker.ref(); // a document is awaited: the worker keeps the process alive until it answers
    }
    doc.catch(() => {}); // a failure surfaces when finish awaits it; a report that fails earlier must not leave it unhandled
    return doc;
  }

  private start(): Worker | null {
    const w = warm ?? startWordWorker();
    warm = null;
    if (!w) return null;
    w.on('message', (m: { id: number; result?: Uint8Array; error?: string }) => {
      const job = this.waiting.get(m.id)!;
      this.waiting.delete(m.id);
      if (m.error === undefined) job.resolve(m.result!);
      else job.reject(new Error(`the Word worker failed: ${m.error}`));
      if (!this.waiting.size) w.unref();
    });
    w.on('error', (e) => this.failAll(e));
    w.on('exit', (code) => this.failAll(new Error(`the Word worker stopped (exit code ${code})`)));
    return w;
  }

  private failAll(e: Error): void {
    for (const job of this.waiting.values()) job.reject(e);
    this.waiting.clear();
  }

  /** Stops the worker (every document has been awaited). */
  close(): void {
    if (this.worker) void this.worker.terminate();
    this.worker = null;
  }
}
