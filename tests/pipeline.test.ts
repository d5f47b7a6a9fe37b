/**
 * The book's analysis end to end on the demo data: recovery of the simulator's true
 * coefficients, year separation, determinism, the report stage, and spec errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { runYear } from '../src/stages/run-year.ts';
import { readFits } from '../src/report/run-record.ts';
import { compareYears } from '../src/stages/compare-years.ts';
import { renderReport } from '../src/report/render.ts';
import { loadSpec, parseSpec } from '../src/specfile/load.ts';
import { TRUE_COOP, TRUE_ITEMS, DGP } from '../src/data/simulate.ts';
import { InputError } from '../src/util/errors.ts';
import type { FitResult } from '../src/fit/types.ts';
import { runCli, snapshot, tmp } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'data', 'demo');
/**
 * The book's spec without its `qap:` line: these tests run the book four times, and its 200
 * DSP permutations would take most of the suite's time. QAP in a spec run (table line, note,
 * run record) is tested in qap.test.ts on a provinces sample.
 */
const BOOK = join(tmp(), 'book.yaml');
writeFileSync(BOOK, readFileSync(join(ROOT, 'specs', 'book.yaml'), 'utf8').replace(/^ *qap: .*\n/m, ''));

let outA: string;
let outB: string;
let snapA2021: Record<string, string>;

beforeAll(async () => {
  outA = tmp();
  outB = tmp();
  await runYear({ data: DATA, year: 2021, out: outA, spec: BOOK });
  snapA2021 = snapshot(join(outA, 'demo', '2021'));
  await runYear({ data: DATA, year: 2022, out: outA, spec: BOOK });
  await runYear({ data: DATA, year: 2021, out: outB, spec: BOOK });
}, 120_000);

const fit = (out: string, year: number, id: string): FitResult =>
  JSON.parse(readFileSync(join(out, 'demo', String(year), 'fits', `${id}.json`), 'utf8'));

describe('outputs of tongban run', () => {
  it('writes fits, tidy/glance, four formats per level, descriptives, plots, report.html and the manifest', () => {
    const dir = join(outA, 'demo', '2021');
    for (const f of ['tidy.csv', 'glance.csv', 'report.html', 'manifest.json', 'fits/_run.json', 'fits/partner_main.json', 'plots/partner.svg', 'plots/depth.svg', 'plots/breadth.svg']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    for (const level of ['breadth', 'partner', 'depth', 'descriptives']) {
      for (const ext of ['md', 'csv', 'tex', 'html']) expect(existsSync(join(dir, 'tables', `${level}.${ext}`)), `${level}.${ext}`).toBe(true);
    }
    const tex = readFileSync(join(dir, 'tables', 'partner.tex'), 'utf8');
    expect(tex).toMatch(/\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
    const md = readFileSync(join(dir, 'tables', 'partner.md'), 'utf8');
    expect(md).toMatch(/\| 城市间人口流动（对数） \| {2}\| 0\.\d{3}\*\*\* \|/);
    expect(md).toMatch(/\* p<0\.1，\*\* p<0\.05，\*\*\* p<0\.01/);
    expect(md).toMatch(/二元组稳健标准误/);
    // structurally blank cells are explained: a variable constant in a column's sample, a
    // statistic for binary models only, a two-part model's whole-model statistics; and the
    // small-sample correction in words
    expect(md).toMatch(/\(8\) 同属区域战略在该列样本中恒为 1，故未纳入模型。/);
    expect(md).toMatch(/未作小样本校正/);
    expect(md).not.toMatch(/小样本校正 none/);
    // two-way clustering: G/(G−1) on each clustering's meat, then (n − 1)/(n − k) on the variance
    expect(md).toMatch(/\(7\) 双向聚类标准误（i 332 类，j 332 类，i×j 55,278 类），小样本校正同 R 的 sandwich（每个聚类维度的 meat 乘以 G\/\(G−1\)，方差再乘以 1\.0002）/);
    // the cleaning report in the spec's language, with city names beside the codes
    const cleaning = readFileSync(join(dir, 'cleaning_report.md'), 'utf8');
    expect(cleaning).toMatch(/^# 数据清理报告/);
    expect(cleaning).toMatch(/\| 110100 模拟市0001 \| \d{6} 模拟市\d{4} \| [\d, ]+ \| \d+ \| \d{4}-\d{2}-\d{2} \|/);
    const depth = readFileSync(join(dir, 'tables', 'depth.md'), 'utf8');
    expect(depth).toMatch(/两部分模型的对数似然值、AIC、BIC 与 α 属于整个模型/);
    expect(depth).toMatch(/没有可比的零模型（偏差校正、零截断或两部分模型），不报告伪 R²/);
    // count models only: no AUC row, so no note about it
    const breadth = readFileSync(join(dir, 'tables', 'breadth.md'), 'utf8');
    expect(breadth).not.toMatch(/AUC/);
    expect(readFileSync(join(dir, 'plots', 'partner.svg'), 'utf8')).toMatch(/^<svg/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.inputs.map((i: { file: string }) => i.file.split('/').pop())).toEqual(['cities.csv', 'agreements.csv', 'flows.csv', 'regions.csv']);
    expect(manifest.inputs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.spec.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.node_version).toBe(process.version);
    // the manifest's output hashes are those of the files on disk
    for (const o of manifest.outputs as { file: string; sha256: string }[]) {
      expect(createHash('sha256').update(readFileSync(join(dir, o.file))).digest('hex'), o.file).toBe(o.sha256);
    }
    expect(manifest.outputs.map((o: { file: string }) => o.file)).toContain('dyads.csv');
    // a two-part fit keeps its coefficients in parts (docs/contract.md §5)
    expect(Object.keys(fit(outA, 2021, 'depth_hurdle'))).toContain('parts');
    expect(fit(outA, 2021, 'depth_hurdle').coefficients).toEqual([]);
  });
});

describe('the demo data give back the simulator’s true coefficients', () => {
  // The logit's true values are conditional on the city effects a_i + a_j (sd 0.3 each),
  // so a plain logit estimates them attenuated by about 1/sqrt(1 + 0.346 · 2 · 0.3²) ≈ 0.97
  // (data/demo/README.md). Each true value (0 for the controls the DGP does not use) must lie
  // within 3 standard errors (dyadic-robust) of the model: with 16 coefficients a 95% interval
  // would miss one by chance more often than not (z values on this seed are printed on failure).
  const attenuation = 1 / Math.sqrt(1 + 0.346 * 2 * DGP.cityActivitySd ** 2);
  it.each([
    ['partner_main', TRUE_COOP, attenuation],
    ['depth_negbin', TRUE_ITEMS, 1],
  ] as const)('%s', (id, truth, factor) => {
    const f = fit(outA, 2021, id);
    expect(f.converged).toBe(true);
    const terms = f.coefficients.map((c) => c.term);
    // every true covariate is in the model; the other terms (controls) have a true value of 0
    for (const t of Object.keys(truth)) expect(terms).toContain(t);
    for (const c of f.coefficients) {
      if (c.term === '(Intercept)') continue;
      const target = ((truth as Record<string, number>)[c.term] ?? 0) * factor;
      const z = Math.abs(c.estimate! - target) / c.std_error!;
      expect(z, `${id} ${c.term}: estimate ${c.estimate} vs ${target} (z = ${z.toFixed(2)})`).toBeLessThan(3);
    }
  });
});

describe('reruns', () => {
  it('keep each year in its own folder: running 2022 leaves 2021 as it was', () => {
    expect(snapshot(join(outA, 'demo', '2021'))).toEqual(snapA2021);
    const a = fit(outA, 2021, 'partner_main');
    const b = fit(outA, 2022, 'partner_main');
    expect(b.n).toBe(55278);
    expect(b.coefficients[1].estimate).not.toBe(a.coefficients[1].estimate);
  });

  it('are byte-identical on the same inputs, apart from the manifest’s times', () => {
    const a = snapshot(join(outA, 'demo', '2021'));
    const b = snapshot(join(outB, 'demo', '2021'));
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a)) {
      if (name === 'manifest.json') continue;
      expect(b[name] === a[name], `${name} differs`).toBe(true);
    }
    const strip = (s: string) => ({ ...JSON.parse(s), started_at: null, finished_at: null });
    expect(strip(b['manifest.json'])).toEqual(strip(a['manifest.json']));
  });

  it('tongban report re-renders the same tables from the saved fits', async () => {
    const { record, fits } = readFits(join(outA, 'demo', '2021', 'fits'));
    const files = await renderReport(record, fits);
    expect(files.get('tables/partner.md')).toBe(snapA2021['tables/partner.md']);
    expect(files.get('report.html')).toBe(snapA2021['report.html']);
  });

  it('a figure left without a PNG (a character the font lacks) is said to the caller (stderr in the CLI) as well as in report.html', async () => {
    const { record, fits } = readFits(join(outA, 'demo', '2021', 'fits'));
    const partner = record.spec.levels.find((l) => l.id === 'partner')!;
    partner.label = '伙伴选择 \u{1F600}';
    const warned: string[] = [];
    const files = await renderReport(record, fits, (w) => warned.push(w));
    expect(warned.length).toBeGreaterThan(0);
    for (const w of warned) expect(w).toMatch(/^plots\/\S+\.svg: no PNG written: .*U\+1F600/);
    expect(files.get('report.html')).toContain(warned[0]);
    expect(files.has(warned[0].split(':')[0].replace(/\.svg$/, '.png'))).toBe(false);
  });

  it('compare-years puts the main models side by side by year', async () => {
    const dir = await compareYears({ data: DATA, years: [2021, 2022], spec: BOOK, out: outA }, { step() {}, bar: () => ({ tick() {}, stop() {} }), warn() {} });
    const md = readFileSync(join(dir, 'partner_main.md'), 'utf8');
    expect(md).toMatch(/\| {2}\| 2021 \| 2022 \|/);
    expect(existsSync(join(dir, 'depth_negbin.tex'))).toBe(true);
  });
});

describe('spec errors name the line and the field', () => {
  const book = readFileSync(BOOK, 'utf8');
  const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
  const errorOf = async (text: string, run = false): Promise<InputError> => {
    const file = join(tmp(), 'spec.yaml');
    writeFileSync(file, text);
    try {
      if (run) await runYear({ data: DATA, year: 2021, out: tmp(), spec: file });
      else loadSpec(file);
    } catch (e) {
      expect(e).toBeInstanceOf(InputError);
      return e as InputError;
    }
    throw new Error('no error');
  };

  it('unknown family', async () => {
    const text = book.replace('family: probit', 'family: tobit');
    const e = await errorOf(text);
    expect(e.problems[0].row).toBe(lineOf(text, 'family: tobit'));
    expect(e.message).toMatch(/spec\.yaml, line \d+, field 'levels\.1\.models\.3\.family': value "tobit": expected one of/);
  });

  it('unknown variable', async () => {
    const text = book.replace('terms: [log_distance, log_gdp_sum, log_population_absdiff]', 'terms: [log_distanse, log_gdp_sum, log_population_absdiff]');
    const e = await errorOf(text, true);
    expect(e.problems[0].row).toBe(lineOf(text, 'id: partner_controls'));
    expect(e.message).toMatch(/field 'partner_controls': value "log_distanse": expected a variable of the dyads table/);
  });

  it('a misspelt pair column is suggested from every column of the dyad table, those no model reads included', async () => {
    // the pair columns no model reads are not built in memory (data/pairwise.ts); the messages still know them
    const subset = book.replace(/^samples:\n/m, 'samples:\n  typo: { table: dyads, subset: fiscal_ratio_smu > 0.5 }\n').replace('sample: all_dyads', 'sample: typo');
    expect(subset).not.toBe(book);
    expect((await errorOf(subset, true)).message).toMatch(/unknown column 'fiscal_ratio_smu': did you mean 'fiscal_ratio_sum'\?/);
    const formula = book.replace('terms: [log_distance, log_gdp_sum, log_population_absdiff]', 'terms: [log_distance, log_gdp_maxx, log_population_absdiff]');
    expect((await errorOf(formula, true)).message).toMatch(/value "log_gdp_maxx".*did you mean 'log_gdp_max'\?/);
  });

  it('forbidden expression in a derived variable', async () => {
    const text = book.replace('cross_province: 1 - same_province', 'cross_province: f(x) = 1');
    const e = await errorOf(text, true);
    expect(e.problems[0].row).toBe(lineOf(text, 'cross_province: f(x) = 1'));
    expect(e.message).toMatch(/field 'derived\.dyads\.cross_province'.*not allowed/);
  });

  it('unknown fields, unknown samples and broken like: chains are all listed', () => {
    const text = book.replace('label: { zh: 泊松, en: Poisson }', 'lable: Poisson').replace('sample: cooperating', 'sample: coperating');
    let err: InputError | null = null;
    try {
      parseSpec(text, 'x.yaml');
    } catch (e) {
      err = e as InputError;
    }
    expect(err!.message).toMatch(/no unknown fields \(lable\)/);
    expect(err!.problems[0].row).toBe(lineOf(text, 'lable: Poisson') - 1);
    const text2 = book.replace('sample: cooperating', 'sample: coperating');
    expect(() => parseSpec(text2, 'x.yaml')).toThrow(/field 'levels\.2\.models\.0\.sample': value "coperating": expected one of the samples/);
  });

  it('bounds and whole numbers are said in words, not in the validator\'s', () => {
    expect(() => parseSpec(`figures: { dpi: 10 }\n${book}`, 'x.yaml')).toThrow(/field 'figures\.dpi': value "10": expected a number >= 72$/m);
    expect(() => parseSpec(`figures: { dpi: 72.5 }\n${book}`, 'x.yaml')).toThrow(/field 'figures\.dpi': value "72\.5": expected a whole number$/m);
    expect(() => parseSpec(`outputs: []\n${book}`, 'x.yaml')).toThrow(/field 'outputs': expected a list with at least 1 item$/m);
  });
});

describe('the run and report commands as a user types them', () => {
  it('tongban run --spec, then tongban report from the saved fits', () => {
    const out = tmp();
    const r = runCli(['run', '--data', DATA, '--year', '2021', '--spec', BOOK, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/fit 14\/14 depth_cross_province \(\d+\.\d s\)/);
    expect(r.stderr).toMatch(/report\.html/);
    // a model's estimation warning reaches the shell as well as the table's notes (once, after the progress lines)
    const warning = /^tongban: warning: model partner_yangtze: the dyadic variance matrix is not positive semi-definite: smallest eigenvalue -0\.00954\d* \(1 negative\)/m;
    expect(r.stderr).toMatch(warning);
    expect(r.stderr.match(new RegExp(warning.source, 'gm'))).toHaveLength(1);
    expect(readFileSync(join(out, 'demo', '2021', 'tables', 'partner.md'), 'utf8')).toMatch(/方差矩阵非半正定/);
    const again = join(tmp(), 'rendered');
    const rep = runCli(['report', '--fits', join(out, 'demo', '2021', 'fits'), '--out', again, '--quiet']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(readFileSync(join(again, 'tables', 'depth.md'), 'utf8')).toBe(readFileSync(join(out, 'demo', '2021', 'tables', 'depth.md'), 'utf8'));
  });
});

describe('npm run pipeline', () => {
  const pipeline = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [join(ROOT, 'dist', 'pipeline.js'), ...args], { cwd, encoding: 'utf8' });

  it('--steps runs only the steps named, --out and --book-spec say where and with what, from any folder; anything else is a usage error', () => {
    const out = tmp();
    const spec = join(tmp(), 'book-for-the-pipeline.yaml');
    copyFileSync(BOOK, spec);
    // from another folder: the demo data and the project's specs are found all the same
    const r = pipeline(['--steps=measures,compare', '--book-spec', spec, '--out', out, '--quiet'], tmp());
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(out, 'measures', 'demo', '2021', 'report.html'))).toBe(true);
    // compare-years runs the years it needs with the book spec given
    expect(existsSync(join(out, 'demo', 'compare-years_2021-2022', 'index.html'))).toBe(true);
    for (const year of ['2021', '2022']) expect(readFileSync(join(out, 'demo', year, 'manifest.json'), 'utf8')).toContain('book-for-the-pipeline.yaml');
    // and no other step ran
    expect(existsSync(join(out, 'demo', 'panel'))).toBe(false);
    expect(existsSync(join(out, 'multiverse'))).toBe(false);
    const usage = (args: string[], message: RegExp) => {
      const bad = pipeline(args);
      expect(bad.status, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(message);
    };
    usage(['--steps', 'years,nope'], /--steps: unknown step 'nope'/);
    usage(['--verbose'], /unknown option '--verbose'/);
    usage(['years'], /unexpected argument 'years'/);
    usage(['--out'], /--out needs a value/);
    usage(['--out', ''], /--out is empty/);
    usage(['--steps', 'measures', '--steps', 'years'], /--steps is given twice \('measures' and 'years'\)/);
    usage(['--steps', 'measures', '--book-spec', spec], /--book-spec is the spec of the steps years and compare/);
  });
});
