import { describe, expect, it } from 'vitest';
import { buildRegTable, starsFor } from '../src/report/regtable.ts';
import { regGrid, texEscape, toCsvTable, toHtmlFragment, toLatex, toMarkdown } from '../src/report/formats.ts';
import { pseudoR2, tidy } from '../src/report/tidy.ts';
import type { FitResult } from '../src/fit/types.ts';
import { warningText } from '../src/report/warnings.ts';
import { computeDyads } from '../src/stages/dyads.ts';
import { fitModel } from '../src/fit/fit-model.ts';
import { join } from 'node:path';

const fit = (over: Partial<FitResult> = {}): FitResult => ({
  schema_version: 2, family: 'logit', link: 'logit', formula: 'y ~ x', n: 100, df_residual: 98, converged: true, iterations: 5,
  vcov_type: 'HC1', ssc: 'r', ssc_factor: 100 / 98, clusters: null, n_dropped: 0, warnings: [],
  coefficients: [
    { term: '(Intercept)', estimate: -1.23456, std_error: 0.5, statistic: -2.46912, p_value: 0.0135, conf_low: -2.2, conf_high: -0.25 },
    { term: 'x', estimate: 0.2, std_error: 0.1, statistic: 2, p_value: 0.0455, conf_low: 0.004, conf_high: 0.396 },
    { term: 'z', estimate: null, std_error: null, statistic: null, p_value: null, conf_low: null, conf_high: null },
  ],
  loglik: -50, aic: 104, bic: 109.2, deviance: 100, null_deviance: 130, theta: null, theta_se: null, alpha: null, parts: null, auc: 0.7, pr_auc: 0.3, loglik_null_constant: null,
  ...over,
});

describe('journal tables', () => {
  it('shows the spec\'s named Wald tests as bottom rows, with stars from their p-values', () => {
    const tests = [{ label: { en: 'Demand jointly', zh: '需求联合' }, hypothesis: 'x = 0, z = 0', df: 2, statistic: 7.5, p_value: 0.0235, f: null, vcov_type: 'HC1' }];
    const t = buildRegTable([{ id: 'm1', label: 'M', fit: fit(), tests }], { title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 2, groups: [] });
    expect(t.rows.find((r) => r.label === 'Demand jointly')?.cells).toEqual(['χ²(2) = 7.50**']);
    expect(t.notes.join('\n')).toMatch(/Joint tests are Wald tests with each column's variance/);
  });

  it('adds the AUC rows the spec asks for', () => {
    const t = buildRegTable([{ id: 'm1', label: 'M', fit: fit() }], { title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 2, groups: [], statistics: ['auc', 'pr_auc'] });
    expect(t.rows.find((r) => r.label === 'AUC (ROC)')?.cells).toEqual(['0.70']);
    expect(t.rows.find((r) => r.label === 'Area under the PR curve')?.cells).toEqual(['0.30']);
    const none = buildRegTable([{ id: 'm1', label: 'M', fit: fit() }], { title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 2, groups: [] });
    expect(none.rows.some((r) => r.label.startsWith('AUC'))).toBe(false);
  });

  it('stars follow the thresholds given', () => {
    expect(starsFor(0.0455, [0.1, 0.05, 0.01])).toBe('**');
    expect(starsFor(0.0455, [0.05, 0.01, 0.001])).toBe('*');
    expect(starsFor(0.2, [0.1, 0.05, 0.01])).toBe('');
    expect(starsFor(null, [0.1, 0.05, 0.01])).toBe('');
  });

  it('puts coefficient with stars above its SE, labels from groups, intercept last, statistics and notes', () => {
    const t = buildRegTable([{ id: 'm1', label: { zh: '模型一', en: 'Model one' }, fit: fit() }], {
      title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 2,
      groups: [{ id: 'g', label: { en: 'Demand' }, variables: { x: { en: 'Outflow' } } }],
    });
    expect(t.columns).toEqual([{ number: '(1)', label: 'Model one', outcome: 'y' }]); // the dependent variable (no label in the groups)
    expect(t.rows.find((r) => r.label === 'Model')?.cells).toEqual(['Logit']); // the family's label from the registry
    const body = t.rows.map((r) => [r.label, ...r.cells]);
    expect(body.slice(0, 5)).toEqual([['Demand', ''], ['Outflow', '0.20**'], ['', '(0.10)'], ['z', ''], ['', '']]);
    expect(body[5]).toEqual(['Constant', '-1.23**']);
    expect(body.find((r) => r[0] === 'Pseudo R²')).toEqual(['Pseudo R²', (1 - -50 / -65).toFixed(2)]);
    expect(t.notes[0]).toMatch(/\* p<0\.1, \*\* p<0\.05, \*\*\* p<0\.01/);
    expect(t.notes[1]).toBe("(1) robust HC1, small-sample correction as R's sandwich (variance × 1.0204)");
  });

  it('splits a two-part model into count and zero columns', () => {
    const rows = fit().coefficients.slice(0, 2);
    const t = buildRegTable([{ id: 'h', label: 'Hurdle', fit: fit({ family: 'hurdle-negbin', coefficients: [], parts: { count: rows, zero: rows } }) }], {
      title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 3, groups: [],
    });
    expect(t.columns.map((c) => c.label)).toEqual(['Hurdle (count)', 'Hurdle (zero)']);
    expect(t.columns.map((c) => c.outcome)).toEqual(['y', 'y > 0']);
    expect(tidy('h', fit({ coefficients: [], parts: { count: rows, zero: rows } })).map((r) => r.part)).toEqual(['count', 'count', 'zero', 'zero']);
  });

  it('McFadden pseudo-R² from loglik and deviances: 1 − ℓ/ℓ0, ℓ0 = ℓ + (D − D0)/2', () => {
    expect(pseudoR2(fit())).toBeCloseTo(1 - -50 / -65, 14);
    expect(pseudoR2(fit({ deviance: null }))).toBeNull();
  });

  it('renders Markdown, CSV, LaTeX and HTML with escaping', () => {
    const g = regGrid(buildRegTable([{ id: 'm', label: 'a_b & <c>', fit: fit() }], { title: '50% | T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 2, groups: [] }));
    expect(toMarkdown(g)).toContain('**50% \\| T**');
    expect(toCsvTable(g).split('\n')[1]).toBe(',a_b & <c>');
    const tex = toLatex(g);
    expect(tex).toContain('a\\_b \\& $<$c$>$');
    expect(tex).toContain('0.20\\sym{**}');
    expect(toHtmlFragment(g)).toContain('a_b &amp; &lt;c&gt;');
    expect(texEscape('α (1/θ), R²')).toBe('$\\alpha$ (1/$\\theta$), R$^2$');
    expect(texEscape('χ²(3), 0 → 1, 2022 − 2021')).toBe('$\\chi$$^2$(3), 0 $\\rightarrow$ 1, 2022 $-$ 2021');
  });

  it('LaTeX: notes in a threeparttable, a label, scaled to the text width only when wider; long tables break across pages', () => {
    const g = regGrid(buildRegTable([{ id: 'm', label: 'M', fit: fit() }], { title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 2, groups: [] }));
    const tex = toLatex(g, { label: 'partner' });
    const order = ['\\begin{table}', '\\caption{T}\\label{tab:partner}', '\\begin{adjustbox}{max totalsize={\\linewidth}{0.9\\textheight}}', '\\begin{threeparttable}', '\\toprule', '\\bottomrule', '\\end{tabular}', '\\begin{tablenotes}', '\\end{threeparttable}', '\\end{adjustbox}', '\\end{table}'];
    const at = order.map((x) => tex.indexOf(x));
    expect(at.every((k) => k >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const long = toLatex({ ...g, body: Array.from({ length: 45 }, (_, k) => ({ cells: [`v${k}`, '1'] })) }, { label: 'descriptives' });
    expect(long).toMatch(/\\begin\{ThreePartTable\}[\s\S]*\\begin\{longtable\}\{lc\}\n\\caption\{T\}\\label\{tab:descriptives\} \\\\[\s\S]*\\endfirsthead[\s\S]*\\endhead[\s\S]*\\insertTableNotes\n\\endlastfoot\nv0 & 1/);
    expect(long).not.toContain("\\begin{adjustbox}");
  });
});

describe('estimation warnings in a Chinese table are in Chinese', () => {
  const examples = [
    "the dyadic variance matrix is not positive semi-definite: smallest eigenvalue -0.00954195 (1 negative); standard errors may be unreliable (repair on request: --fix-psd, or fix_psd: true in a spec)",
    'the two-way cluster variance matrix was not positive semi-definite (smallest eigenvalue -1.2e-05); repaired on request by setting 2 negative eigenvalues to 0',
    "only 12 clusters in 'province': cluster-robust standard errors are unreliable with fewer than about 30",
    'fitted probabilities numerically 0 or 1 occurred for 3 rows (possible separation: coefficients may be diverging; consider firth-logit)',
    'perfectly collinear column dropped (estimate null, as R reports NA): same_region',
    "'log(x)' is not a number on 2 rows where its inputs are present (data rows 5, 9; e.g. the log of a negative number): they are left out like missing values",
    "the weighted information matrix X'WX became singular at iteration 4 (separation or a degenerate design?)",
    'the deviance became non-finite at iteration 3; no valid step found',
    'IRLS did not converge in 100 iterations',
    'the information matrix is singular at the estimate: standard errors are not available',
    'the estimator did not converge',
    'firth: the information matrix became singular',
    'firth: did not converge in 100 iterations (largest modified score 1.20e-03)',
    'alternating estimation of β and θ did not converge in 25 rounds',
    'theta ran to the Poisson boundary (θ = 1.23e+06, α = 1/θ ≈ 0): the data show no overdispersion; the Poisson model is the better description',
    'the log-likelihood is not finite at the starting values',
    'Newton: no ascent direction could be found',
    'Newton stalled at iteration 12 (largest gradient 3.10e-04)',
    'Newton did not converge in 200 iterations (largest gradient 3.10e-04)',
    'the observed information is not positive definite at the estimate: standard errors are not available',
    'the observed information is badly conditioned (pivot ratio 1.2e+13): standard errors may be unreliable',
    'ml-regression and the normal equations disagree by 1.00e-06 (relative): the design is ill-conditioned',
    'count part: IRLS did not converge in 100 iterations',
  ];
  const latin = /[A-Za-z]{4,}/g;
  it('every warning the estimators word has a Chinese version keeping its numbers', () => {
    for (const w of examples) {
      const zh = warningText(w, 'zh');
      expect(zh, w).not.toBe(w);
      expect(zh, w).toMatch(/[\u4e00-\u9fff]/);
      // numbers carried over; no English words left (names such as Firth, Newton, IRLS, logit allowed)
      for (const n of w.match(/-?\d[\d.e+-]*/g) ?? []) expect(zh, w).toContain(n);
      expect((zh.match(latin) ?? []).filter((x) => !['Firth', 'logit', 'Newton', 'IRLS', 'regression', 'true', 'same', 'region', 'log', 'province'].includes(x)), zh).toEqual([]);
    }
    expect(warningText(examples[0], 'en')).toBe(examples[0]);
  });
  it('every warning of the cleaning stage has a Chinese version keeping its numbers, files and columns', () => {
    const cleaning = [
      "regions.csv row 7: city 320100 listed twice in region '长三角'; the repeat is ignored",
      '2 cities have budget_revenue = 0: log_budget_revenue is missing for them',
      '1 city has budget_revenue = 0: log_budget_revenue is missing for it',
      "cities.csv already has a column 'log_gdp'; it is replaced by the derived value",
      "cities.csv: 3 missing values in 'gov_index'",
      'cities.csv has no lon/lat: distance columns will be empty',
      'cities.csv city_name: 2 values start with = + - @ (e.g. row 4: "=SUM(A1)"); a spreadsheet opening cities_clean.csv or dyads.csv may run them as a formula (tongban\'s own tables neutralise such cells)',
      "agreements.csv: 5 pairs were first signed after 2021-12-31, the end of this folder's year (e.g. rows 12, 13: 2022-03-01); is the folder or the date right?",
      'no flows.csv: flow = 0 for every dyad',
      'no regions.csv: same_region = 0 for every dyad',
    ];
    for (const w of cleaning) {
      const zh = warningText(w, 'zh');
      expect(zh, w).toMatch(/[\u4e00-\u9fff]/);
      for (const n of w.match(/\d[\d-]*/g) ?? []) expect(zh, w).toContain(n);
      // the only Latin words left are file and column names of the original
      const names = new Set(w.match(/[A-Za-z_]+(?:\.csv)?/g)!.filter((x) => x.includes('_') || x.endsWith('.csv') || ['tongban', 'lon', 'lat', 'SUM'].includes(x)).flatMap((x) => [x, ...x.split(/[_.]/)]));
      expect((zh.match(latin) ?? []).filter((x) => !names.has(x)), zh).toEqual([]);
    }
  });
  it("the warning of a real fit: the Yangtze delta sample's dyadic variance (41 cities) in the book's Chinese table", () => {
    const stage = computeDyads(join(import.meta.dirname, '..', 'data', 'demo', '2021'), { provinces: ['上海', '江苏', '浙江', '安徽'] });
    const f = fitModel(stage.dyads.dyads, {
      formula: 'coop ~ log_distance + log_gdp_sum + log_population_absdiff + log_flow + log_outflow_sum + same_province + gov_index_sum + fiscal_ratio_min',
      family: 'logit',
      vcov: 'dyadic',
      dyad: ['i', 'j'],
    });
    expect(f.result.warnings.length).toBeGreaterThan(0);
    const t = buildRegTable([{ id: 'y', label: { zh: '长三角样本', en: 'Yangtze' }, fit: f.result }], { title: 'T', lang: 'zh', stars: [0.1, 0.05, 0.01], digits: 3, groups: [] });
    const note = t.notes.find((n) => n.startsWith('长三角样本：'))!;
    expect(note).toMatch(/^长三角样本：二元组稳健方差矩阵非半正定：最小特征值 -?\d/);
    expect(note.match(latin) ?? []).toEqual(['true']); // fix_psd: true, the spec field to write
    // the variance note counts the cities in words, in either language
    expect(t.notes.join('\n')).toMatch(/二元组稳健标准误（Aronow 等 2015；城市 41 个）/);
    const en = buildRegTable([{ id: 'y', label: { zh: '长三角样本', en: 'Yangtze' }, fit: f.result }], { title: 'T', lang: 'en', stars: [0.1, 0.05, 0.01], digits: 3, groups: [] });
    expect(en.notes.join('\n')).toMatch(/dyadic-robust \(Aronow et al\. 2015; 41 cities\)/);
  });
});

describe('the line under each coefficient', () => {
  const rows = [
    { term: '(Intercept)', estimate: 1, std_error: 0.5, statistic: 2, p_value: 0.045, conf_low: 0.02, conf_high: 1.98 },
    { term: 'x', estimate: -0.3, std_error: 0.2, statistic: -1.5, p_value: 0.13, conf_low: -0.69, conf_high: 0.09 },
  ];
  const f = { schema_version: 1, family: 'logit', link: 'logit', formula: 'y ~ x', n: 100, df_residual: 98, converged: true, iterations: 5, vcov_type: 'HC1', ssc: 'r', ssc_factor: 1, clusters: null, n_dropped: 0, warnings: [], coefficients: rows, loglik: -50, aic: 104, bic: 109, deviance: 100, null_deviance: 130, theta: null, theta_se: null, alpha: null, parts: null } as unknown as FitResult;
  const table = (cells: 'se' | 'statistic' | 'ci', lang: 'zh' | 'en' = 'en') => buildRegTable([{ id: 'm', label: 'M', fit: f }], { title: 'T', lang, stars: [0.1, 0.05, 0.01], digits: 2, groups: [], cells });
  it('is the SE, the z statistic or the confidence interval as the spec chooses; the stars stay those of the p-value', () => {
    const line = (t: ReturnType<typeof table>) => t.rows.filter((r) => r.kind === 'se').map((r) => r.cells[0]);
    const stars = (t: ReturnType<typeof table>) => t.rows.filter((r) => r.kind === 'coef').map((r) => r.cells[0]);
    expect(line(table('se'))).toEqual(['(0.20)', '(0.50)']);
    expect(line(table('statistic'))).toEqual(['(-1.50)', '(2.00)']);
    expect(line(table('ci'))).toEqual(['[-0.69, 0.09]', '[0.02, 1.98]']);
    for (const c of ['se', 'statistic', 'ci'] as const) expect(stars(table(c))).toEqual(['-0.30', '1.00**']);
    expect(table('ci').notes[0]).toMatch(/^Note: 95% confidence intervals from each column's standard errors in brackets\./);
    expect(table('statistic', 'zh').notes[0]).toMatch(/^注：括号内为 z 值（OLS 为 t 值）/);
  });
});

describe('coefficient plots', () => {
  it('one panel per scale, terms in the order given (the table order)', async () => {
    const { coefficientPlotSvg } = await import('../src/report/plot.ts');
    const pt = (model: string, term: string, panel: string) => ({ model, term, estimate: 0.5, conf_low: 0.1, conf_high: 0.9, panel });
    const svg = await coefficientPlotSvg([pt('A', 'zeta', 'logit'), pt('A', 'alpha', 'logit'), pt('B', 'zeta', 'probit'), pt('B', 'alpha', 'probit')], 'T', 'x', ['zeta', 'alpha']);
    expect(svg).toMatch(/>logit</);
    expect(svg).toMatch(/>probit</);
    expect(svg.indexOf('>zeta<')).toBeLessThan(svg.indexOf('>alpha<'));
    const one = await coefficientPlotSvg([pt('A', 'zeta', ''), pt('A', 'alpha', '')], 'T', 'x', ['alpha', 'zeta']);
    expect(one.indexOf('>alpha<')).toBeLessThan(one.indexOf('>zeta<'));
  });
});

describe('distribution plots', () => {
  it('draw a county-scale network (200,000 cooperating pairs) without overflowing the call stack', async () => {
    const { distributionSvg } = await import('../src/report/plot.ts');
    const items = Array.from({ length: 200_000 }, (_, k) => 1 + (k % 300));
    const svg = await distributionSvg(items, 'T', 'Items', 'Pairs', { log: true });
    // the axis is labelled up to 10^2 (max 300): the largest value was found
    expect(svg).toMatch(/>100</);
    expect(svg).not.toMatch(/>1,000</);
    const small = await distributionSvg(Array.from({ length: 200_000 }, (_, k) => k % 7), 'T', 'Partners', 'Cities');
    expect(small).toMatch(/>6</);
  });
});

describe('the network map', () => {
  it('draws at most MAP_TIES pairs, those with the most items, and says so in Chinese or English', async () => {
    const { networkMapSvg, tiesToDraw, MAP_TIES } = await import('../src/report/plot.ts');
    const cities = Array.from({ length: 120 }, (_, k) => ({ name: `c${k}`, lon: 100 + k / 10, lat: 30 + (k % 10), degree: k }));
    const ties: [number, number, number | null][] = [];
    // 7,140 pairs: 100 with 50 items, the rest with 1 or none
    for (let a = 0; a < 120; a++) for (let b = a + 1; b < 120; b++) ties.push([a, b, ties.length % 71 === 0 ? 50 : ties.length % 2 ? null : 1]);
    const drawn = tiesToDraw(ties);
    expect(drawn.filter((t) => t[2] === 50)).toHaveLength(ties.filter((t) => t[2] === 50).length);
    expect(drawn.filter((t) => t[2] === 1).length + drawn.filter((t) => t[2] === null).length).toBe(MAP_TIES - 101);
    // equal items keep the record's order: the first pair without items is the first drawn among them
    expect(drawn.find((t) => t[2] !== 50)).toEqual(ties.find((t) => t[2] !== 50));
    const lines = (svg: string) => (svg.match(/<line/g) ?? []).length;
    const zh = await networkMapSvg(cities, ties, '合作网络', '伙伴数', undefined, 'zh');
    expect(lines(zh)).toBe(MAP_TIES);
    expect(zh).toContain(`绘出事项最多的 5,000 对（共 ${ties.length.toLocaleString('en-US')} 对合作城市）`);
    const en = await networkMapSvg(cities, ties.slice(0, 3000), 'Network', 'Partners');
    expect(lines(en)).toBe(3000);
    expect(en).not.toContain('are drawn');
  });
});
