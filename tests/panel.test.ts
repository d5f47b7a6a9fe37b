/**
 * Years as a panel: dates in expressions, the pair-year table of the demo data (2021–2022)
 * against an independent build in R (tests/fixtures/panel/panel_reference.R: risk set from the
 * raw 2022 agreements file, row for row by an md5 of the key columns), and the hazard with the
 * cross-year dyadic variance against R's glm(binomial("cloglog")) with the meat by hand.
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileRestricted } from '../src/expr/restricted.ts';
import { makeTable, numColumn, strColumn } from '../src/data/table.ts';
import { pairYearTables, runPanel } from '../src/stages/panel.ts';
import { readParquetColumns } from '../src/data/parquet.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { waldTest } from '../src/inference/wald-test.ts';
import { runCli, tmp, expectClose } from './helpers.ts';
import { silentReporter } from '../src/util/progress.ts';

const ROOT = join(import.meta.dirname, '..');
const DATA = join(ROOT, 'data', 'demo');

describe('dates in expressions', () => {
  const t = makeTable(4, [
    ['first_signed', strColumn(['2020-11-18', '2022-01-01', '', '2021-12-31'])],
    ['x', numColumn(Float64Array.of(1, 2, 3, 4))],
  ]);
  const ev = async (text: string) => Array.from((await compileRestricted(text, '--subset')).evaluate(t));
  it('compares a text column with date(), and takes year/month/day', async () => {
    expect(await ev('first_signed >= date("2022-01-01")')).toEqual([0, 1, NaN, 0]);
    // a missing date is NA: NA or FALSE is NA, NA or TRUE is TRUE (R's logic)
    expect(await ev('first_signed < date("2021-06-30") or x == 4')).toEqual([1, 0, NaN, 1]);
    expect(await ev('first_signed < date("2021-06-30") or x == 3')).toEqual([1, 0, 1, 0]);
    expect(await ev('year(first_signed)')).toEqual([2020, 2022, NaN, 2021]);
    expect(await ev('month(first_signed) * 100 + day(first_signed)')).toEqual([1118, 101, NaN, 1231]);
    expect(await ev('year(first_signed) == 2022')).toEqual([0, 1, NaN, 0]);
    expect(await ev('date("2022-01-01") - date("2021-12-31")')).toEqual([1, 1, 1, 1]);
  });
  it('names the column, the row and the value of a date it cannot read', async () => {
    const bad = makeTable(2, [['first_signed', strColumn(['2021-01-05', '2021/3/5'])]]);
    await expect((async () => (await compileRestricted('year(first_signed) > 2020', '--subset')).evaluate(bad))()).rejects.toThrow(/column 'first_signed', row 3: "2021\/3\/5" is not a date YYYY-MM-DD/);
    await expect(ev('first_signed >= date("2022-02-30")')).rejects.toThrow(/"2022-02-30" is not a date/);
    await expect(ev('first_signed >= "2022-01-01"')).rejects.toThrow(/compares with a date: first_signed >= date\("2022-01-01"\)/);
  });
});

const demoPairYears = await pairYearTables({ data: DATA, years: [2021, 2022], lag: 0 });

describe('the pair-year table of the demo data', () => {
  const { table, report } = demoPairYears;
  const col = (name: string) => table.columns.get(name)!;
  const text = (name: string, r: number) => {
    const c = col(name);
    return c.kind === 'string' ? c.levels[c.codes[r]] : String(c.values[r]);
  };
  it('a pair that signs in year t has event 1 in t and no row after; rows are pairs at risk', () => {
    const year = (col('year') as { values: Float64Array }).values;
    const event = (col('event') as { values: Float64Array }).values;
    const seen = new Map<string, number[]>();
    for (let r = 0; r < table.nrow; r++) {
      const k = `${text('i', r)}-${text('j', r)}`;
      seen.set(k, [...(seen.get(k) ?? []), year[r] * 10 + event[r]]);
    }
    for (const ys of seen.values()) {
      // (2021, 1) has no 2022 row; otherwise one row per year while at risk
      if (ys.includes(20211)) expect(ys).toEqual([20211]);
    }
    expect(report.by_year.map((b) => b.pairs_at_risk)).toEqual([report.by_year[0].pairs_at_risk, report.by_year[0].pairs_at_risk - report.by_year[0].events]);
    expect(table.names.slice(0, 5)).toEqual(['i', 'j', 'year', 'event', 't']);
    expect(table.names).not.toContain('coop');
  });
  const REF = join(import.meta.dirname, 'fixtures', 'panel', 'panel_reference.json');
  it('equals the independent build in R row for row (md5 of i,j,year,event sorted by year, i, j)', () => {
    const ref = JSON.parse(readFileSync(REF, 'utf8'));
    const rows = Array.from({ length: table.nrow }, (_, r) => r).map((r) => ({ i: text('i', r), j: text('j', r), y: Number(text('year', r)), e: Number(text('event', r)) }));
    rows.sort((a, b) => a.y - b.y || (a.i < b.i ? -1 : a.i > b.i ? 1 : a.j < b.j ? -1 : a.j > b.j ? 1 : 0));
    const lines = rows.map((x) => `${x.i},${x.j},${x.y},${x.e}\n`);
    expect(lines.slice(0, 3).join('')).toBe(ref.panel.key_first_lines.map((l: string) => `${l}\n`).join(''));
    expect(createHash('md5').update(lines.join('')).digest('hex')).toBe(ref.panel.key_md5);
    expect(report.by_year.map((b) => b.pairs_at_risk)).toEqual([ref.panel.rows_by_year['2021'], ref.panel.rows_by_year['2022']]);
    expect(report.by_year.map((b) => b.events)).toEqual([ref.panel.events_by_year['2021'], ref.panel.events_by_year['2022']]);
    expect(report.undated_pairs_left_out).toBe(ref.panel.undated_pairs);
    expect(report.signed_before_first_year).toBe(ref.panel.signed_before_first_year);
    // pairs the 2021 file lists as signed but undated, which the 2022 file dates in 2022: reported
    expect(report.date_disagreements).toMatchObject([{ year: 2021, pairs: ref.panel.earlier_file_date_differences }]);
  });
  it('cloglog and logit hazards with dyadic SEs across years equal R', () => {
    const ref = JSON.parse(readFileSync(REF, 'utf8'));
    for (const [key, family] of [['hazard_cloglog', 'cloglog'], ['hazard_logit', 'logit']] as const) {
      const h = ref[key];
      const f = fitModel(table, { formula: 'event ~ log_distance + log_flow + same_province + gov_index_sum + fiscal_ratio_min + factor(year)', family, vcov: 'dyadic', dyad: ['i', 'j'] }).result;
      expect(f.coefficients.map((c) => c.term)).toEqual(h.coef_names);
      f.coefficients.forEach((c, k) => {
        expectClose(c.estimate, h.coefficients[k], 1e-6, 0, `${key} ${c.term}`);
        expectClose(c.std_error, h.se_dyadic[k], 1e-5, 0, `${key} ${c.term} dyadic SE`);
      });
      const classical = fitModel(table, { formula: 'event ~ log_distance + log_flow + same_province + gov_index_sum + fiscal_ratio_min + factor(year)', family }).result;
      classical.coefficients.forEach((c, k) => expectClose(c.std_error, h.se_classical[k], 1e-5, 0, `${key} ${c.term} classical SE`));
    }
  });
});

/** C's %.17g (R's sprintf): 17 significant digits, trailing zeros dropped, exponent form outside 1e-4 … 1e17. */
function g17(x: number): string {
  if (x === 0) return '0';
  const [mant, e] = x.toExponential(16).split('e');
  const exp = Number(e);
  const strip = (t: string) => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (exp < -4 || exp >= 17) return `${strip(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return strip(x.toFixed(16 - exp));
}

describe('the demo panel 2019–2022 (lag 0) and 2020–2022 (lag 1) equal an independent build in R', () => {
  const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'panel', 'panel_2019_2022.json'), 'utf8'));
  const COV = ['log_distance', 'log_flow', 'same_province', 'gov_index_sum', 'fiscal_ratio_min'];
  const FORMULA = 'event ~ log_distance + log_flow + same_province + gov_index_sum + fiscal_ratio_min + factor(year)';
  const digests = (table: Awaited<ReturnType<typeof pairYearTables>>['table']) => {
    const col = (name: string) => table.columns.get(name)!;
    const text = (name: string, r: number) => {
      const c = col(name);
      return c.kind === 'string' ? c.levels[c.codes[r]] : String(c.values[r]);
    };
    const num = (name: string) => (col(name) as { values: Float64Array }).values;
    const rows = Array.from({ length: table.nrow }, (_, r) => r).map((r) => ({ r, i: text('i', r), j: text('j', r), y: Number(text('year', r)) }));
    rows.sort((a, b) => a.y - b.y || (a.i < b.i ? -1 : a.i > b.i ? 1 : a.j < b.j ? -1 : a.j > b.j ? 1 : 0));
    const event = num('event');
    const key = rows.map((x) => `${x.i},${x.j},${x.y},${event[x.r]}\n`);
    const cov = rows.map((x) => `${x.i},${x.j},${x.y},${event[x.r]},${COV.map((c) => g17(num(c)[x.r])).join(',')}\n`);
    return { key, cov, md5: (lines: string[]) => createHash('md5').update(lines.join('')).digest('hex') };
  };
  for (const [name, years, lag, panelKey, hazards] of [
    ['lag 0, 2019–2022', [2019, 2020, 2021, 2022], 0, 'panel', [['hazard_cloglog', 'cloglog'], ['hazard_logit', 'logit']]],
    ['lag 1, 2020–2022 (covariates of the year before)', [2020, 2021, 2022], 1, 'panel_lag1', [['hazard_cloglog_lag1', 'cloglog']]],
  ] as const) {
    it(`${name}: the risk sets row for row, the covariates bit for bit, and the hazards`, async () => {
      const r = ref[panelKey];
      const { table, report } = await pairYearTables({ data: DATA, years: [...years], lag });
      expect(report.by_year.map((b) => b.pairs_at_risk)).toEqual(years.map((y) => r.rows_by_year[String(y)]));
      expect(report.by_year.map((b) => b.events)).toEqual(years.map((y) => r.events_by_year[String(y)]));
      expect(report.undated_pairs_left_out).toBe(r.undated_pairs);
      expect(report.signed_before_first_year).toBe(r.signed_before_first_year);
      const d = digests(table);
      expect(d.cov.slice(0, 3).join('')).toBe(r.cov_first_lines.map((l: string) => `${l}\n`).join(''));
      expect(d.md5(d.key)).toBe(r.key_md5);
      expect(d.md5(d.cov)).toBe(r.cov_md5);
      if (lag === 0) {
        // earlier agreements files that date a pair differently from the 2022 file (R counts every earlier year)
        const differ = Object.fromEntries(report.date_disagreements.map((x) => [String(x.year), x.pairs]));
        for (const [y, n] of Object.entries(r.earlier_file_date_differences_tongban_rule as Record<string, number>)) expect(differ[y] ?? 0, y).toBe(n);
      }
      for (const [key, family] of hazards) {
        const h = ref[key];
        const f = fitModel(table, { formula: FORMULA, family, vcov: 'dyadic', dyad: ['i', 'j'] }).result;
        expect(f.coefficients.map((c) => c.term)).toEqual(h.coef_names);
        f.coefficients.forEach((c, k) => {
          expectClose(c.estimate, h.coefficients[k], 1e-6, 0, `${key} ${c.term}`);
          expectClose(c.std_error, h.se_dyadic[k], 1e-5, 0, `${key} ${c.term} dyadic SE`);
        });
      }
    });
  }
});

const demoStacked = (await pairYearTables({ data: DATA, years: [2021, 2022], lag: 0 }, undefined, { stacked: true })).stacked!;

describe('change between years: Wald tests on the stacked cross-sections with the cross-year dyadic variance', () => {
  const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'panel', 'panel_reference.json'), 'utf8')).stacked;
  const stacked = demoStacked;
  it('equals R to 1e-8 (each interaction, and the three jointly; dyadic and classical)', () => {
    expect(stacked.nrow).toBe(ref.n);
    for (const vcov of ['dyadic', 'classical'] as const) {
      const fit = fitModel(stacked, { formula: ref.formula, family: 'logit', vcov, dyad: vcov === 'dyadic' ? ['i', 'j'] : undefined });
      expect(fit.result.coefficients.map((c) => c.term)).toEqual(ref.coef_names);
      for (const w of ref.wald.filter((x: { vcov: string }) => x.vcov === vcov)) {
        const got = waldTest(fit, w.terms.map((t: string) => `\`${t}\` = 0`).join(', '));
        expect(got.df).toBe(w.df);
        expectClose(got.statistic, w.W, 1e-8, 0, `${vcov} ${w.terms.join(' & ')}`);
        expectClose(got.p_value, w.p, 1e-7, 1e-15, `${vcov} ${w.terms.join(' & ')} p`);
      }
    }
  });
});

describe('compare-years: the differences between years with their SEs, the joint test and the plot', () => {
  const ref = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'panel', 'panel_reference.json'), 'utf8')).stacked;
  it("equal R's stacked fit with year interactions and the cross-year dyadic variance", async () => {
    const { compareYears } = await import('../src/stages/compare-years.ts');
    const dir = tmp();
    const spec = join(dir, 'change.yaml');
    writeFileSync(
      spec,
      [
        'name: change',
        'language: en',
        'samples:',
        '  all: { table: dyads }',
        '  cities: { table: cities }',
        'levels:',
        '  - id: partner',
        '    models:',
        '      - { id: m, main: true, family: logit, sample: all, outcome: coop, terms: [log_distance, log_flow, same_province], vcov: cluster2, cluster: [i, j] }',
        '  - id: breadth',
        '    models:',
        '      - { id: b, main: true, family: poisson, sample: cities, outcome: degree, terms: [log_population] }',
      ].join('\n') + '\n',
    );
    // years in any order: the changes are from the earlier year
    const out = await compareYears({ data: DATA, years: [2022, 2021], spec, out: join(dir, 'out') }, silentReporter);
    expect(out).toMatch(/compare-years_2021-2022$/);
    const changes = JSON.parse(readFileSync(join(out, 'year_changes.json'), 'utf8'));
    const m = changes.find((c: { model: string }) => c.model === 'm');
    expect(m.formula).toBe(ref.formula);
    expect(m.n).toBe(ref.n);
    const names = ['log_distance', 'log_flow', 'same_province'];
    expect(m.differences.map((d: { term: string }) => d.term)).toEqual(['(Intercept)', ...names]);
    m.differences.forEach((d: { difference: number; std_error: number; year: number }, k: number) => {
      expect(d.year).toBe(2022);
      expectClose(d.difference, ref.coefficients[4 + k], 1e-6, 0, `difference ${k}`);
      expectClose(d.std_error, ref.se_dyadic[4 + k], 1e-5, 0, `SE ${k}`);
    });
    // the joint test of the three slopes against R's
    const w = ref.wald.find((x: { vcov: string; terms: string[] }) => x.vcov === 'dyadic' && x.terms.length === 3);
    expect(m.wald.df).toBe(3);
    expectClose(m.wald.statistic, w.W, 1e-8, 0, 'joint W');
    // a city-level model is listed with the reason, not tested
    expect(changes.find((c: { model: string }) => c.model === 'b').skipped.en).toMatch(/cities sample/);
    expect(readFileSync(join(out, 'm_change.md'), 'utf8')).toMatch(/Joint test \(every slope the same in all years; the constant may shift\): χ²\(3\) = \d+\.\d+, p [=<] /);
    expect(readFileSync(join(out, 'm_by_year.svg'), 'utf8')).toMatch(/<svg/);
    expect(readFileSync(join(out, 'm_change.md'), 'utf8')).toMatch(/^\*\*partner: m \(change between years\)\*\*/);
    // a rerun replaces the whole folder: nothing of an earlier comparison stays behind
    writeFileSync(join(out, 'stale_change.md'), 'old');
    await compareYears({ data: DATA, years: [2021, 2022], spec, out: join(dir, 'out') }, silentReporter);
    expect(existsSync(join(out, 'stale_change.md'))).toBe(false);
    expect(existsSync(join(out, 'm_change.md'))).toBe(true);
    // a year given twice, a missing year folder, and a spec without main models are refused before any year runs
    await expect(compareYears({ data: DATA, years: [2021, 2021], spec, out: join(dir, 'o2') }, silentReporter)).rejects.toThrow(/2021 is given twice/);
    await expect(compareYears({ data: DATA, years: [2021, 2030], spec, out: join(dir, 'o2') }, silentReporter)).rejects.toThrow(/no folder .*2030/);
    writeFileSync(spec, readFileSync(spec, 'utf8').replaceAll('main: true', 'main: false'));
    await expect(compareYears({ data: DATA, years: [2021, 2022], spec, out: join(dir, 'o2') }, silentReporter)).rejects.toThrow(/field 'levels'.*main: true/);
    expect(existsSync(join(dir, 'o2'))).toBe(false);
  });
});

describe('fitting with releaseColumns (tongban panel at county scale)', () => {
  it("gives the same fits, effects, correlations and descriptives, and leaves each table no number columns (its text columns, the ids among them, stay)", async () => {
    const { loadSpec } = await import('../src/specfile/load.ts');
    const { prepareModels, fitModels } = await import('../src/stages/models.ts');
    const loaded = loadSpec(join(ROOT, 'specs', 'panel.yaml'));
    const run = async (releaseColumns: boolean) => {
      const { table, stacked } = await pairYearTables({ data: DATA, years: [2021, 2022], lag: 0 }, silentReporter, { stacked: true });
      const samples = await prepareModels(loaded, { pair_years: table, pair_years_stacked: stacked! });
      const r = await fitModels(loaded, samples, silentReporter, { releaseColumns });
      return { r, samples };
    };
    const kept = await run(false);
    const released = await run(true);
    const plain = (x: Awaited<ReturnType<typeof run>>['r']) => JSON.parse(JSON.stringify({ ...x, fits: [...x.fits], effects: [...x.effects], tests: [...x.tests], correlations: [...x.correlations], constantOmitted: [...x.constantOmitted] }));
    expect(plain(released.r)).toEqual(plain(kept.r));
    expect(released.r.correlations.get('hazard')!.model).toBe('hazard_cloglog');
    // hazard_logit, the last model on the pair-year table, released it; its first model (with AMEs) was fitted before
    for (const id of ['at_risk', 'stacked']) {
      const t = released.samples.get(id)!;
      expect(t.names.slice(0, 2)).toEqual(['i', 'j']);
      expect(t.names.filter((n) => t.columns.get(n)!.kind === 'number')).toEqual([]);
    }
    expect(kept.samples.get('at_risk')!.names.length).toBeGreaterThan(20);
  });

  it('a last model with classical SEs that carries cluster ids (from like:) is announced under the ids its variance reads', async () => {
    // it was announced under its cluster ids but asked for its design without them: on the
    // release path its design was built after the table's columns had gone ("unknown column")
    const { loadSpec } = await import('../src/specfile/load.ts');
    const { prepareModels, fitModels } = await import('../src/stages/models.ts');
    const base = loadSpec(join(ROOT, 'specs', 'panel.yaml'));
    const last = base.models.filter((m) => m.sample === 'at_risk').at(-1)!;
    // its cluster column misses a value: a design made under it has a row fewer and cannot stand in
    const loaded = { ...base, models: [...base.models, { ...last, id: 'classical_with_clusters', vcov: 'classical' as const, cluster: ['gap'], dyad: undefined }] };
    const { strColumn } = await import('../src/data/table.ts');
    const run = async (releaseColumns: boolean) => {
      const { table, stacked } = await pairYearTables({ data: DATA, years: [2021, 2022], lag: 0 }, silentReporter, { stacked: true });
      table.names.push('gap');
      table.columns.set('gap', strColumn(Array.from({ length: table.nrow }, (_, r) => (r === 5 ? null : `g${r % 9}`))));
      const samples = await prepareModels(loaded, { pair_years: table, pair_years_stacked: stacked! });
      const nrow = samples.get(last.sample)!.nrow;
      return { fit: (await fitModels(loaded, samples, silentReporter, { releaseColumns })).fits.get('classical_with_clusters')!, nrow };
    };
    const released = await run(true);
    expect(released.fit.vcov_type).toBe('classical');
    expect(released.fit.n).toBe(released.nrow); // classical SEs read no cluster: no row is dropped for it
    expect(JSON.parse(JSON.stringify(released.fit))).toEqual(JSON.parse(JSON.stringify((await run(false)).fit)));
  });
});

describe('tongban panel --spec', () => {
  it('fits the spec on the pair-year tables and writes tables and a report with the risk sets', async () => {
    const out = tmp();
    const { outDir } = await runPanel({ data: DATA, years: [2021, 2022], lag: 0, spec: join(ROOT, 'specs', 'panel.yaml'), out });
    const html = readFileSync(join(outDir, 'report.html'), 'utf8');
    expect(html).toMatch(/城市对-年份表（首次签约的风险集）/);
    expect(html).toMatch(/年份 2021–2022；|年份 2021–2022;/);
    expect(readFileSync(join(outDir, 'tables', 'pair_years.md'), 'utf8')).toMatch(/\| 2021 \| 53629 \| 746 \| 0 \|/);
    const hazard = JSON.parse(readFileSync(join(outDir, 'fits', 'hazard_cloglog.json'), 'utf8'));
    expect(hazard).toMatchObject({ family: 'cloglog', vcov_type: 'dyadic', n: 106512 });
    expect(readFileSync(join(outDir, 'tables', 'change.md'), 'utf8')).toMatch(/三个系数均未变化 \| χ²\(3\) = \d+\.\d+/);
    // the table's report in the spec's language, disagreements included
    const report = readFileSync(join(outDir, 'pair_years_report.md'), 'utf8');
    expect(report).toMatch(/^# 城市对-年份表/);
    expect(report).toMatch(/个城市对在 2021 年协议文件中的日期与 2022 年文件不同（采用后者），如 \d{6}–\d{6}：2021 年文件已签署但无日期，2022 年文件首次签署于 2022-\d{2}-\d{2}/);
    // a rerun without the spec (other years) leaves no fits, tables or report of the earlier run
    await runPanel({ data: DATA, years: [2022], lag: 0, out });
    for (const f of ['report.html', 'fits', 'tables', 'plots', 'tidy.csv', 'glance.csv', 'pair_years_stacked.parquet']) expect(existsSync(join(outDir, f)), f).toBe(false);
    expect(existsSync(join(outDir, 'pair_years.parquet'))).toBe(true);
    expect(readFileSync(join(outDir, 'pair_years_report.md'), 'utf8')).toMatch(/^# Pair-year table/);
  });
  it('a pair-year sample in a yearly run is an error naming the field', async () => {
    const { runYear } = await import('../src/stages/run-year.ts');
    await expect(runYear({ data: DATA, year: 2021, out: tmp(), spec: join(ROOT, 'specs', 'panel.yaml') })).rejects.toThrow(/field 'samples\.at_risk\.table'.*exist in `tongban panel --spec` runs only/);
  });
});

describe('tongban panel', () => {
  it('writes pair_years.parquet and its report; fit reads it with the dyadic default', () => {
    const out = tmp();
    const r = runCli(['panel', '--data', DATA, '--years', '2021:2022', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const md = readFileSync(join(out, 'demo', 'panel', 'pair_years_report.md'), 'utf8');
    expect(md).toMatch(/\| 2021 \| \d+ \| \d+ \| 0 \|/);
    const f = runCli(['fit', '--data', join(out, 'demo', 'panel', 'pair_years.parquet'), '--formula', 'event ~ log_flow + factor(year)', '--family', 'cloglog', '--vcov', 'dyadic', '--json']);
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout)).toMatchObject({ family: 'cloglog', vcov_type: 'dyadic', clusters: { cities: 333 } });
  });
  it('the written tables equal the in-memory build, also when a number is missing only in a later year', async () => {
    // 2022 with one city's gov_index blank: the 2021 part is written before the gap is seen,
    // so the Parquet file is built again with its number columns nullable
    const dir = tmp();
    for (const y of ['2021', '2022']) {
      mkdirSync(join(dir, 'gap', y), { recursive: true });
      for (const f of readdirSync(join(DATA, y))) cpSync(join(DATA, y, f), join(dir, 'gap', y, f));
    }
    const cities = join(dir, 'gap', '2022', 'cities.csv');
    const lines = readFileSync(cities, 'utf8').split('\n');
    const header = lines[0].split(',');
    const row = lines[5].split(',');
    row[header.indexOf('gov_index')] = '';
    lines[5] = row.join(',');
    writeFileSync(cities, lines.join('\n'));
    for (const data of [DATA, join(dir, 'gap')]) {
      const steps: string[] = [];
      const rep = { ...silentReporter, step: (s: string) => steps.push(s) };
      const { outDir } = await runPanel({ data, years: [2021, 2022], lag: 0, out: join(dir, 'out'), stacked: true }, rep);
      expect(steps.some((s) => /building the tables again with every number column nullable/.test(s))).toBe(data !== DATA);
      const mem = await pairYearTables({ data, years: [2021, 2022], lag: 0 }, silentReporter, { stacked: true });
      for (const [file, table] of [['pair_years.parquet', mem.table], ['pair_years_stacked.parquet', mem.stacked!]] as const) {
        const read = await readParquetColumns(join(outDir, file));
        expect(read.names).toEqual(table.names);
        expect(read.nrow).toBe(table.nrow);
        for (const name of table.names) {
          const a = table.columns.get(name)!;
          const b = read.columns.get(name)!;
          expect(b.kind, name).toBe(a.kind);
          const cells = (c: typeof a) => (c.kind === 'number' ? Array.from(c.values, (x) => (Number.isNaN(x) ? 'NA' : x)) : Array.from(c.codes, (k) => (k < 0 ? 'NA' : c.levels[k])));
          expect(cells(b), `${file} ${name}`).toEqual(cells(a));
        }
      }
      const gov = (mem.table.columns.get('gov_index_sum') as { values: Float64Array }).values;
      expect(gov.some(Number.isNaN)).toBe(data !== DATA);
    }
  });
  it('a missing year folder is an error naming it; --lag 1 says it needs the year before', () => {
    const r = runCli(['panel', '--data', DATA, '--years', '2018:2022', '--out', tmp(), '--quiet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no folder .*2018 for panel year 2018/);
    const lag = runCli(['panel', '--data', DATA, '--years', '2019:2022', '--lag', '1', '--out', tmp(), '--quiet']);
    expect(lag.code).toBe(2);
    expect(lag.stderr).toMatch(/--lag 1 takes the covariates of the year before each panel year: it needs the folder .*2018/);
  });
});

