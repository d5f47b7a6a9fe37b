/**
 * Rendering a run's report: fits + run record → every output file (tidy/glance CSV, one table
 * per level in four formats, descriptive statistics, SVG coefficient plots and a
 * self-contained report.html). Used by `tongban run` and `tongban report`.
 */
import { isVcovType, VARIANCES } from '../vcov/registry.ts';
import { toCsv } from '../data/csv.ts';
import { formatNumber } from '../data/table.ts';
import type { FitResult } from '../fit/types.ts';
import type { RunRecord } from './run-record.ts';
import { labelText, TABLE_FORMATS } from '../specfile/schema.ts';
import { TableWriter } from './table-writer.ts';
import type { OutputFiles } from '../util/output.ts';
import { DEFAULT_PNG, PngRenderer } from './png.ts';
import { warningText } from './warnings.ts';
import { readFileSync } from 'node:fs';
import { geojsonProblem } from '../specfile/load.ts';
import { UsageError } from '../util/errors.ts';
import type { DescriptiveRow } from './descriptives.ts';
import { htmlEscape, htmlPage, regGrid, toHtmlFragment, type Grid } from './formats.ts';
import { coefficientPlotSvg, curveNullSvg, distributionSvg, networkMapSvg, plotPoints, predictionCurveSvg, specificationCurveSvg } from './plot.ts';
import { buildRegTable, starsFor, termLabeller } from './regtable.ts';
import { effectsGrid } from './effects-table.ts';
import { multiverseSummary } from './multiverse.ts';
import { glance, tidy, type GlanceRow, type TidyRow } from './tidy.ts';

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : String(v));

function rowsCsv<T extends object>(rows: T[], header: (keyof T)[]): string {
  return toCsv(header as string[], rows.map((r) => header.map((h) => cell(r[h]))));
}

function descriptivesGrid(rows: DescriptiveRow[], lang: 'zh' | 'en', digits: number, termLabel: (t: string) => string, sampleLabel: (id: string) => string = (id) => id): Grid {
  const zh = lang === 'zh';
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(digits) : '');
  const body: Grid['body'] = [];
  let current = '';
  for (const r of rows) {
    if (r.sample !== current) {
      current = r.sample;
      body.push({ cells: [(zh ? '样本：' : 'Sample: ') + sampleLabel(r.sample), '', '', '', '', ''], kind: 'group' });
    }
    body.push({ cells: [termLabel(r.variable), String(r.n), f(r.mean), f(r.sd), f(r.min), f(r.max)] });
  }
  return {
    title: zh ? '描述性统计' : 'Descriptive statistics',
    header: [[zh ? '变量' : 'Variable', 'N', zh ? '均值' : 'Mean', zh ? '标准差' : 'SD', zh ? '最小值' : 'Min', zh ? '最大值' : 'Max']],
    body,
    notes: [zh ? '注：按模型所用样本分别统计；缺失值不计。' : 'Note: computed on the sample each model uses; missing values are left out.'],
  };
}

/** The network's statistics and its ten cities with most partners (the report's network section). */
function networkGrids(net: NonNullable<RunRecord['network']>, lang: 'zh' | 'en'): [Grid, Grid] {
  const zh = lang === 'zh';
  const s = net.summary;
  const f = (x: number | null, d = 3) => (x === null ? '—' : x.toFixed(d));
  const row = (label: string, value: string) => ({ cells: [label, value] });
  const summary: Grid = {
    title: zh ? '合作网络的整体特征' : 'The cooperation network',
    header: [[zh ? '指标' : 'Statistic', zh ? '数值' : 'Value']],
    body: [
      row(zh ? '城市数' : 'Cities', String(s.cities)),
      row(zh ? '合作关系数（城市对）' : 'Ties (cooperating pairs)', String(s.ties)),
      row(zh ? '网络密度' : 'Density', f(s.density, 4)),
      row(zh ? '平均度数' : 'Mean degree', f(s.mean_degree, 2)),
      row(zh ? '最大度数' : 'Maximum degree', String(s.max_degree)),
      row(zh ? '度数中心势（Freeman）' : 'Degree centralization (Freeman)', f(s.degree_centralization)),
      row(zh ? '全局聚类系数（传递性）' : 'Global transitivity', f(s.transitivity)),
      row(zh ? '度数同配系数' : 'Degree assortativity', f(s.assortativity)),
      row(zh ? '连通分量数（最大分量城市数）' : 'Components (largest)', `${s.components} (${s.component_sizes[0] ?? 0})`),
    ],
    notes: [
      zh
        ? '注：无向、无权的简单图，城市为节点（包括没有合作的城市），签署协议的城市对为边。度数中心势以星形图为最大值 (n−1)(n−2) 归一化；全局聚类系数为三角形数×3 除以连通三元组数。'
        : 'Note: undirected, unweighted simple graph; cities are vertices (including those without agreements), pairs with an agreement are edges. Degree centralization is normalised by the star graph, (n−1)(n−2); transitivity is 3 × triangles / connected triples.',
    ],
  };
  const top = [...net.cities].sort((a, b) => b.degree - a.degree || b.eigenvector - a.eigenvector || (a.city < b.city ? -1 : 1)).slice(0, 10);
  const cities: Grid = {
    title: zh ? '合作伙伴最多的十个城市' : 'The ten cities with most partners',
    header: [[zh ? '城市' : 'City', zh ? '度数' : 'Degree', zh ? '强度（事项数）' : 'Strength (items)', zh ? '中介中心度（标准化）' : 'Betweenness (normalised)', zh ? '特征向量中心度' : 'Eigenvector', zh ? '接近中心度 ×1000' : 'Closeness ×1000']],
    body: top.map((c) => ({ cells: [c.name ? `${c.name}（${c.city}）` : c.city, String(c.degree), formatNumber(c.strength), f(c.betweenness_normalized), f(c.eigenvector), c.closeness === null ? '—' : (c.closeness * 1000).toFixed(3)] })),
    notes: [
      zh
        ? '注：度数为合作伙伴数；强度为各合作关系的事项数之和；中介中心度除以 (n−1)(n−2)/2；特征向量中心度以最大值为 1；接近中心度为到同一连通分量内其他城市距离之和的倒数。全部城市见 network.csv。'
        : "Note: degree = partners; strength = sum of items over the city's agreements; betweenness divided by (n−1)(n−2)/2; eigenvector centrality scaled to a maximum of 1; closeness = 1 / the sum of distances to the other cities of the city's component. Every city: network.csv.",
    ],
  };
  return [summary, cities];
}

/** The spec's base map, read for the network map (a file that has become unreadable since the spec was loaded is an error naming it). */
function baseMap(map: RunRecord['spec']['map'], lang: 'zh' | 'en'): { geojson: unknown; caption?: string } | undefined {
  if (!map) return undefined;
  const problem = geojsonProblem(map.geojson);
  if (problem) throw new UsageError(`the spec's map.geojson: expected ${problem}`);
  return { geojson: JSON.parse(readFileSync(map.geojson, 'utf8')), caption: map.caption === undefined ? undefined : labelText(map.caption, lang, '') };
}

/** In: the run record and the fits by model id. Out: every file of the report (tidy, glance, tables, plots, report.html). */
/** `warn` gets each warning about the report itself (a figure left without a PNG), for stderr. */
export async function renderReport(record: RunRecord, fits: Map<string, FitResult>, warn: (message: string) => void = () => {}): Promise<OutputFiles> {
  const files: OutputFiles = new Map();
  const lang = record.spec.language;
  const zh = lang === 'zh';
  // every figure also as PNG at the spec's width and resolution, rendered while the report goes on
  const figures = record.spec.figures ?? { width_cm: DEFAULT_PNG.widthCm, dpi: DEFAULT_PNG.dpi };
  const pngs = new PngRenderer({ widthCm: figures.width_cm, dpi: figures.dpi });
  const figure = (name: string, svg: string) => {
    files.set(name, svg);
    pngs.add(name, svg);
  };
  // runs saved before `outputs:` existed wrote every format but Word
  const tables = new TableWriter(files, new Set(record.spec.outputs ?? TABLE_FORMATS.filter((f) => f !== 'docx')), lang);
  const modelLabel = new Map(record.models.map((m) => [m.id, labelText(m.label, lang, m.id)]));
  const termLabel = termLabeller(record.spec.groups, lang);

  const tidyRows: (TidyRow & { level: string })[] = [];
  const glanceRows: (GlanceRow & { level: string; sample: string })[] = [];
  for (const m of record.models) {
    const f = fits.get(m.id)!;
    tidyRows.push(...tidy(m.id, f).map((r) => ({ level: m.level, ...r })));
    glanceRows.push({ level: m.level, sample: m.sample, ...glance(m.id, f) });
  }
  files.set('tidy.csv', rowsCsv(tidyRows, ['level', 'model', 'part', 'term', 'estimate', 'std_error', 'statistic', 'p_value', 'conf_low', 'conf_high', 'vcov_type']));
  files.set(
    'glance.csv',
    rowsCsv(glanceRows, ['level', 'model', 'sample', 'family', 'n', 'n_dropped', 'loglik', 'aic', 'bic', 'deviance', 'null_deviance', 'pseudo_r2', 'theta', 'alpha', 'vcov_type', 'ssc', 'ssc_factor', 'clusters', 'converged', 'auc', 'pr_auc']),
  );

  const sections: string[] = [];
  const title = record.spec.title ?? record.spec.name;
  sections.push(`<h1>${htmlEscape(title)}</h1>`);
  sections.push(
    `<p>${zh ? '数据' : 'Data'}: <code>${htmlEscape(record.dataset)}</code>, ${record.panel && record.panel.years.length > 1 ? `${zh ? '年份' : 'years'} ${record.panel.years[0]}–${record.panel.years[record.panel.years.length - 1]}` : `${zh ? '年份' : 'year'} ${record.year}`}; ${zh ? '模型设定' : 'spec'}: <code>${htmlEscape(record.spec.file)}</code> (sha256 ${record.spec.sha256.slice(0, 12)}…)</p>`,
  );

  // descriptive statistics
  const sampleLabels = record.spec.sample_labels ?? {};
  const sampleLabel = (id: string) => labelText(sampleLabels[id], lang, id);
  const desc = descriptivesGrid(record.descriptives, lang, record.spec.digits, termLabel, sampleLabel);
  tables.write('tables/descriptives', desc);

  // a panel run: the risk sets by year and what was left out
  let panelHtml = '';
  if (record.panel) {
    const pr = record.panel;
    const pg: Grid = {
      title: zh ? '城市对-年份表（首次签约的风险集）' : 'Pair-year table (risk sets of first agreements)',
      header: [[zh ? '年份' : 'Year', zh ? '处于风险中的城市对' : 'Pairs at risk', zh ? '首次签约（事件）' : 'First agreements (events)', zh ? '因城市缺失而剔除' : 'Dropped (a city missing)']],
      body: pr.by_year.map((b) => ({ cells: [String(b.year), String(b.pairs_at_risk), String(b.events), String(b.pairs_dropped)] })),
      notes: [
        zh
          ? `注：城市对在首次签约前的每一年处于风险中，签约当年事件 = 1，其后不再出现；签约日期取自 ${pr.dates_from} 年的协议文件；协变量取${pr.lag ? '上一年' : '当年'}；t = 年份 − ${pr.origin}。${pr.years[0]} 年前已签约的城市对 ${pr.signed_before_first_year} 对不在风险集中；有协议但无签约日期的 ${pr.undated_pairs_left_out} 对被剔除。${pr.date_disagreements.map((d) => `${d.year} 年协议文件中有 ${d.pairs} 对的日期与 ${pr.dates_from} 年不同（以后者为准）。`).join('')}`
          : `Note: a pair is at risk in every year before its first agreement; the year it signs has event = 1 and it has no row after. Signing dates from the ${pr.dates_from} agreements file; covariates of the ${pr.lag ? 'year before' : 'same year'}; t = year − ${pr.origin}. ${pr.signed_before_first_year} pairs had signed before ${pr.years[0]} (not at risk); ${pr.undated_pairs_left_out} pairs with agreements but no date are left out.${pr.date_disagreements.map((d) => ` The ${d.year} agreements file dates ${d.pairs} pairs differently from the ${pr.dates_from} file (the latter is used).`).join('')}`,
      ],
    };
    tables.write('tables/pair_years', pg);
    panelHtml = `<h2>${htmlEscape(pg.title)}</h2>\n${toHtmlFragment(pg)}`;
  }

  // the multiverse: every specification, the curve, and its summary
  let multiverseHtml = '';
  if (record.multiverse) {
    const mv = record.multiverse;
    const cols = ['spec', ...mv.dimensions.map((d) => `choice_${d}`), 'sample', 'family', 'vcov', 'formula', 'interest', 'estimate', 'std_error', 'conf_low', 'conf_high', 'p_value', 'sd', 'n', 'aic', 'converged', 'skipped'];
    // with a permutation test: whether each specification is in it, or why not
    const inTest = mv.null ? new Map<number, string>([...mv.null.specs.map((k): [number, string] => [k, 'included']), ...mv.null.left_out.map((l): [number, string] => [l.spec, l.reason])]) : null;
    if (inTest) cols.push('permutation_test');
    const csvCell = (r: (typeof mv.rows)[number], c: string) => (c.startsWith('choice_') ? r.choices[c.slice(7)] : c === 'permutation_test' ? (inTest!.get(r.spec) ?? '') : cell((r as unknown as Record<string, unknown>)[c]));
    files.set('multiverse.csv', toCsv(cols, mv.rows.map((r) => cols.map((c) => csvCell(r, c)))));
    const s = multiverseSummary(mv);
    const vcovLabel = (v: string) => (isVcovType(v) ? VARIANCES[v].short[zh ? 'zh' : 'en'] : v);
    const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
    // the permutation test of the whole curve
    const nullRows: string[][] = [];
    const nullNotes: string[] = [];
    const cn = mv.null;
    if (cn) {
      const pv = (x: number) => x.toFixed(3);
      const dir = cn.direction > 0 ? (zh ? '正向' : 'positive') : zh ? '负向' : 'negative';
      nullRows.push(
        [zh ? `置换检验：零假设下的抽样次数（种子 ${cn.seed}）` : `Permutation test: draws under the null (seed ${cn.seed})`, String(cn.valid_draws)],
        [zh ? `置换检验涵盖的设定（样本 ${(cn.samples ?? []).join('、')}）` : `Specifications in the permutation test (sample${(cn.samples ?? []).length > 1 ? 's' : ''} ${(cn.samples ?? []).join(', ')})`, `${cn.specs.length} / ${cn.specs.length + cn.left_out.length}`],
        [zh ? '其效应中位数 / p 值' : 'Their median effect / p-value', `${cn.median.observed.toFixed(record.spec.digits + 1)} / ${pv(cn.median.p_value)}`],
        ...cn.share_significant.map((x) => [
          zh ? `其中${dir}且显著（p < ${cn.alpha}，${vcovLabel(x.vcov)}）的占比 / p 值` : `Share ${dir} and significant (p < ${cn.alpha}, ${vcovLabel(x.vcov)}) / p-value`,
          `${pct(x.observed)} / ${pv(x.p_value)}`,
        ]),
      );
      nullNotes.push(
        zh
          ? `置换检验：每次抽样对城市标签做一次置换，所有设定共用；每个设定中关注变量对其余协变量回归的残差按该置换重排后替换关注变量并重新估计（双重半偏，Dekker 等 2007）。p 值 = (1 + 至少同样极端的抽样数) / (1 + 抽样数)，最小为 ${pv(1 / (cn.valid_draws + 1))}；中位数为双侧，显著占比按观测中位数的方向单侧。只在完整网络样本上进行（按配对属性筛选的样本无法置换${cn.left_out.length ? `，${cn.left_out.length} 个设定未纳入，原因见 multiverse.csv 的 permutation_test 列` : ''}）。`
          : `Permutation test: each draw permutes the city labels once, shared by all specifications; in each specification the residual of the variable of interest on its other covariates is permuted and replaces it, and the model is refitted (double semi-partialling, Dekker et al. 2007). p = (1 + draws at least as extreme)/(1 + draws), so the smallest possible is ${pv(1 / (cn.valid_draws + 1))}; two-sided for the median, one-sided in the observed median's direction for the shares. Only samples that are complete networks can be permuted (a sample selected by a pair attribute cannot${cn.left_out.length ? `; ${cn.left_out.length} specifications are not in the test, reasons in the permutation_test column of multiverse.csv` : ''}).`,
      );
      const ncols = ['draw', 'median', ...cn.share_significant.map((x) => `share_significant_${x.vcov}`)];
      files.set('multiverse_null.csv', toCsv(ncols, cn.draws.map((d, t) => [String(t + 1), cell(Number.isFinite(d.median) ? d.median : null), ...d.shares.map((x) => cell(Number.isFinite(x) ? x : null))])));
    }
    const sg: Grid = {
      title: zh ? '多重设定分析（设定曲线）' : 'Multiverse (specification curve)',
      header: [[zh ? '指标' : 'Statistic', zh ? '数值' : 'Value']],
      body: [
        [zh ? '设定数' : 'Specifications', String(s.specifications)],
        [zh ? '已估计' : 'Fitted', String(s.fitted)],
        [zh ? '跳过（原因见 multiverse.csv）' : 'Skipped (reasons in multiverse.csv)', String(s.skipped)],
        [zh ? '按设定排除' : 'Excluded by the spec', String(s.excluded)],
        [zh ? '效应中位数（1 个标准差变化的平均边际效应）' : 'Median effect (AME of a one-SD change)', s.median === null ? '—' : s.median.toFixed(record.spec.digits + 1)],
        [zh ? '正向' : 'Positive', pct(s.share_positive)],
        ...s.significance.flatMap((x) => {
          const by = s.significance.length > 1 ? (zh ? `，${vcovLabel(x.vcov)}` : `, ${vcovLabel(x.vcov)}`) : '';
          return [
            [zh ? `正向且显著（p < 0.05${by}）` : `Positive and significant (p < 0.05${by})`, pct(x.positive)],
            [zh ? `负向且显著（p < 0.05${by}）` : `Negative and significant (p < 0.05${by})`, pct(x.negative)],
          ];
        }),
        ...nullRows,
      ].map((cells) => ({ cells })),
      notes: [
        zh
          ? `注：效应为关注变量变化一个标准差时的平均边际效应（不同测量与 logit/probit 之间可比）；方差选择只改变区间与显著性，不产生新的设定，每种方差各有一幅设定曲线图。`
          : `Note: effects are average marginal effects of a one-standard-deviation change in the variable of interest (comparable across measures and across logit/probit); variance choices change only the intervals and significance, not the points: each has its own curve plot.`,
        ...nullNotes,
      ],
    };
    tables.write('tables/multiverse', sg);
    // one curve per variance choice (the first as plots/multiverse.svg)
    let plot = '';
    const dims = mv.dimensions.filter((d) => d !== 'vcov').map((d) => ({ name: d, label: d, alternatives: [...new Set(mv.rows.map((r) => r.choices[d]))] }));
    for (const [k, { vcov }] of s.significance.entries()) {
      const pts = mv.rows
        .filter((r) => r.skipped === null && r.vcov === vcov)
        .map((r) => ({ estimate: r.estimate!, conf_low: r.conf_low!, conf_high: r.conf_high!, significant: r.p_value! < 0.05, choices: r.choices }));
      const title = s.significance.length > 1 ? `${sg.title}${zh ? `：${vcovLabel(vcov)}标准误` : ` — ${vcovLabel(vcov)} SEs`}` : sg.title;
      const svg = await specificationCurveSvg(pts, dims, title, zh ? '平均边际效应（1 个标准差）与 95% 置信区间' : 'AME of a one-SD change, 95% CI');
      figure(k === 0 ? 'plots/multiverse.svg' : `plots/multiverse_${vcov}.svg`, svg);
      plot += `${plot ? '\n' : ''}<div class="plot">${svg}</div>`;
    }
    if (cn) {
      const svg = await curveNullSvg(cn.curve, zh ? '设定曲线与置换零分布' : 'The specification curve against the permutation null', zh ? '平均边际效应（1 个标准差），按大小排序' : 'AME of a one-SD change, ranked', {
        observed: zh ? '观测' : 'observed',
        null: zh ? '零假设（中位数与 2.5–97.5% 区间）' : 'null (median, 2.5–97.5%)',
        rank: zh ? '置换检验涵盖的设定（按效应排序）' : 'Specifications in the test, ranked by effect',
      });
      figure('plots/multiverse_null.svg', svg);
      plot += `\n<div class="plot">${svg}</div>`;
    }
    multiverseHtml = `<h2>${htmlEscape(sg.title)}</h2>\n${toHtmlFragment(sg)}\n${plot}`;
  }

  // the cooperation network
  let networkHtml = '';
  if (record.network) {
    const [ng, cg] = networkGrids(record.network, lang);
    tables.write('tables/network', ng);
    tables.write('tables/network_cities', cg);
    const cols = ['city', 'name', 'degree', 'strength', 'betweenness', 'betweenness_normalized', 'eigenvector', 'closeness', 'component'] as const;
    files.set('network.csv', rowsCsv(record.network.cities, [...cols]));
    // the figures a paper shows: partners per city, items per cooperating pair, the network on a map
    const figures: string[] = [];
    const nc = record.network.cities;
    const degreeSvg = await distributionSvg(
      nc.map((c) => c.degree),
      zh ? '城市的合作伙伴数分布' : 'Partners per city',
      zh ? '合作伙伴数（城市对数）' : 'Partners (cooperating pairs)',
      zh ? '城市数' : 'Cities',
    );
    figure('plots/degree_distribution.svg', degreeSvg);
    figures.push(degreeSvg);
    const items = (record.network.ties ?? []).map((t) => t[2]).filter((x): x is number => x !== null);
    if (items.length) {
      const svg = await distributionSvg(items, zh ? '合作城市对的事项数分布' : 'Items per cooperating pair', zh ? '事项数（对数刻度）' : 'Items (log scale)', zh ? '城市对数' : 'Pairs', { log: true });
      figure('plots/items_distribution.svg', svg);
      figures.push(svg);
    }
    const placed = nc.map((c) => (c.lon != null && c.lat != null ? { name: c.name ?? c.city, lon: c.lon, lat: c.lat, degree: c.degree } : null));
    if (record.network.ties && placed.every((c) => c)) {
      const svg = await networkMapSvg(
        placed as NonNullable<(typeof placed)[number]>[],
        record.network.ties,
        zh ? '合作网络（按经纬度）' : 'The cooperation network (by longitude and latitude)',
        zh ? '合作伙伴数' : 'Partners',
        baseMap(record.spec.map, lang),
        lang,
      );
      figure('plots/network_map.svg', svg);
      figures.push(svg);
    }
    networkHtml = `<h2>${zh ? '合作网络' : 'Cooperation network'}</h2>\n${toHtmlFragment(ng)}\n${figures.map((f) => `<div class="plot">${f}</div>`).join('\n')}\n${toHtmlFragment(cg)}`;
  }

  const levelHtml: string[] = [];
  for (const level of record.spec.levels) {
    const models = level.models.map((id) => ({ id, label: record.models.find((m) => m.id === id)!.label, fit: fits.get(id)!, tests: record.tests?.[id], qap: record.qap?.[id], constantOmitted: record.constant_omitted?.[id] }));
    const levelTitle = labelText(level.label, lang, level.id);
    const table = buildRegTable(models, { title: levelTitle, lang, stars: record.spec.stars, digits: record.spec.digits, groups: record.spec.groups, statistics: record.spec.statistics, pseudoR2: record.spec.pseudo_r2, cells: record.spec.cells });
    const grid = regGrid(table);
    tables.write(`tables/${level.id}`, grid);
    // one panel per scale of the coefficients (logit and probit, a hurdle's parts), terms in table order
    const levelRows = tidyRows.filter((r) => r.level === level.id);
    const pts = plotPoints(
      levelRows,
      (id) => modelLabel.get(id) ?? id,
      termLabel,
      (r) => scaleOf(fits.get(r.model)!.family, r.part, lang),
      (part) => (zh ? (part === 'count' ? '（计数部分）' : '（零部分）') : ` (${part})`),
    );
    let plotHtml = '';
    if (pts.length) {
      const svg = await coefficientPlotSvg(pts, levelTitle, zh ? '估计值与 95% 置信区间' : 'Estimate and 95% CI', table.rows.filter((r) => r.kind === 'coef').map((r) => r.label));
      figure(`plots/${level.id}.svg`, svg);
      plotHtml = `<div class="plot">${svg}</div>`;
    }
    // average marginal effects of the level's models that asked for them
    let ameHtml = '';
    const withAme = level.models.filter((id) => record.effects?.[id]?.length);
    if (withAme.length) {
      const ameTitle = `${levelTitle}${zh ? '：平均边际效应' : ': average marginal effects'}`;
      const models = withAme.map((id) => ({ id, label: record.models.find((m) => m.id === id)!.label, rows: record.effects[id] }));
      const ag = effectsGrid(models, { title: ameTitle, lang, stars: record.spec.stars, digits: record.spec.digits, groups: record.spec.groups });
      tables.write(`tables/${level.id}_ame`, ag);
      const apts = plotPoints(
        // each model's own mean only (a hurdle's P(y > 0) is on another scale: it stays in the table)
        models.flatMap((m) => m.rows.filter((r) => r.part === m.rows[0].part).map((r) => ({ ...r, model: m.id, vcov_type: '', part: null }))),
        (id) => modelLabel.get(id) ?? id,
        termLabel,
      );
      let amePlot = '';
      if (apts.length) {
        const svg = await coefficientPlotSvg(apts, ameTitle, zh ? '平均边际效应与 95% 置信区间' : 'AME and 95% CI');
        figure(`plots/${level.id}_ame.svg`, svg);
        amePlot = `<div class="plot">${svg}</div>`;
      }
      ameHtml = `\n<h3>${htmlEscape(ameTitle)}</h3>\n${toHtmlFragment(ag)}\n${amePlot}`;
    }
    // predicted outcomes at values of a variable, one curve per variable (all models that ask)
    let curveHtml = '';
    const curves = level.models.flatMap((id) => (record.predictions?.[id] ?? []).map((q) => ({ ...q, model: modelLabel.get(id) ?? id })));
    for (const v of [...new Set(curves.map((c) => c.variable))]) {
      const pts = curves.filter((c) => c.variable === v);
      const curveTitle = `${levelTitle}${zh ? '：预测值随' : ': prediction by '}${termLabel(v)}${zh ? '的变化' : ''}`;
      const svg = await predictionCurveSvg(pts, curveTitle, termLabel(v), zh ? '平均预测值与 95% 置信区间' : 'Average prediction and 95% CI');
      figure(`plots/${level.id}_predict_${v.replace(/[^A-Za-z0-9_]/g, '_')}.svg`, svg);
      curveHtml += `\n<h3>${htmlEscape(curveTitle)}</h3>\n<div class="plot">${svg}</div>`;
    }
    // collinearity: VIFs of the level's models, and the correlations of its main model's variables
    let collinearityHtml = '';
    const withVif = level.models.filter((id) => record.vif?.[id]?.length);
    if (withVif.length) {
      const vg = vifGrid(
        withVif.map((id) => ({ label: modelLabel.get(id) ?? id, rows: record.vif![id] })),
        zh ? `${levelTitle}：方差膨胀因子（VIF）` : `${levelTitle}: variance inflation factors (VIF)`,
        lang,
        termLabel,
      );
      tables.write(`tables/${level.id}_vif`, vg);
      collinearityHtml += `\n${toHtmlFragment(vg)}`;
    }
    const cor = record.correlations?.[level.id];
    if (cor && cor.variables.length > 1) {
      const cgr = correlationGrid(cor, zh ? `${levelTitle}：变量相关系数（${modelLabel.get(cor.model) ?? cor.model}）` : `${levelTitle}: correlations of the variables (${modelLabel.get(cor.model) ?? cor.model})`, lang, termLabel, record.spec.stars);
      tables.write(`tables/${level.id}_correlations`, cgr);
      collinearityHtml += `\n${toHtmlFragment(cgr)}`;
    }
    levelHtml.push(`<h2>${htmlEscape(levelTitle)}</h2>\n${toHtmlFragment(grid)}\n${plotHtml}${ameHtml}${curveHtml}${collinearityHtml}`);
  }

  // report.html: cleaning report, descriptives, tables and plots, the run record
  const c = record.cleaning;
  sections.push(`<h2>${zh ? '数据清理' : 'Data cleaning'}</h2>`);
  sections.push(
    `<ul><li>${zh ? '城市' : 'cities'}: ${c.cities}; ${zh ? '样本城市' : 'sample cities'}: ${c.sample.cities}; ${zh ? '城市对' : 'dyads'}: ${c.sample.dyads}; ${zh ? '合作城市对' : 'cooperating dyads'}: ${c.sample.coop_dyads}</li>` +
      `<li>${zh ? '协议记录' : 'agreement rows'}: ${c.agreement_rows} → ${c.agreement_pairs} ${zh ? '对' : 'pairs'}; ${zh ? '分批合并' : 'pairs merged from batches'}: ${c.batches_merged.length}; ${zh ? '反向记录' : 'reversed rows'}: ${c.reversed_rows}</li>` +
      `<li>${zh ? '警告' : 'warnings'}: ${c.warnings.length ? c.warnings.map((w) => htmlEscape(warningText(w, lang))).join(zh ? '；' : '; ') : zh ? '无' : 'none'}</li></ul>`,
  );
  if (panelHtml) sections.push(panelHtml);
  sections.push(`<h2>${htmlEscape(desc.title)}</h2>\n${toHtmlFragment(desc)}`);
  if (networkHtml) sections.push(networkHtml);
  sections.push(...levelHtml);
  if (multiverseHtml) sections.push(multiverseHtml);
  tables.lastTable('tables/tables.docx'); // made while the PNGs are awaited
  const pngWarnings = await pngs.into(files);
  for (const w of pngWarnings) warn(w);
  if (pngWarnings.length) sections.push(`<p class="notes">${pngWarnings.map(htmlEscape).join('<br>')}</p>`);
  sections.push(`<h2>${zh ? '运行记录' : 'Run record'}</h2>`);
  // the run record as a small table: every model's family, sample, formula, variance and N
  const runGrid: Grid = {
    title: zh ? `数据 ${record.dataset}，${record.year} 年；设定文件 ${record.spec.file}（sha256 ${record.spec.sha256.slice(0, 12)}…）` : `Data ${record.dataset}, ${record.year}; spec ${record.spec.file} (sha256 ${record.spec.sha256.slice(0, 12)}…)`,
    header: [[zh ? '模型' : 'Model', zh ? '族' : 'Family', zh ? '样本' : 'Sample', zh ? '公式' : 'Formula', zh ? '标准误' : 'SE', 'N', zh ? '收敛' : 'Converged']],
    body: record.models.map((m) => {
      const f = fits.get(m.id);
      return {
        cells: [zh ? `${m.id}（${modelLabel.get(m.id) ?? m.id}）` : `${m.id} (${modelLabel.get(m.id) ?? m.id})`, m.family, sampleLabel(m.sample), m.formula, m.vcov, f ? String(f.n) : '', f ? (f.converged ? (zh ? '是' : 'yes') : zh ? '否' : 'no') : ''],
      };
    }),
    notes: [],
  };
  sections.push(`<div class="runrecord">${toHtmlFragment(runGrid)}</div>`);
  sections.push(`<p>${zh ? '输入与输出文件的 SHA-256、版本与运行时间见' : 'SHA-256 of inputs and outputs, versions and times:'} <code>manifest.json</code>.</p>`);
  files.set('report.html', htmlPage(title, sections.join('\n')));
  await tables.finish('tables/tables.docx');
  return files;
}

/** VIFs of a level's models side by side, with the mean VIF of each. */
function vifGrid(models: { label: string; rows: { term: string; vif: number | null }[] }[], title: string, lang: 'zh' | 'en', termLabel: (t: string) => string): Grid {
  const zh = lang === 'zh';
  const terms = [...new Set(models.flatMap((m) => m.rows.map((r) => r.term)))];
  const f = (x: number | null | undefined) => (x == null ? '' : x.toFixed(2));
  const body = terms.map((t) => ({ cells: [termLabel(t), ...models.map((m) => f(m.rows.find((r) => r.term === t)?.vif))], kind: 'coef' }));
  const mean = (m: (typeof models)[number]) => {
    const v = m.rows.map((r) => r.vif).filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  body.push({ cells: [zh ? '平均 VIF' : 'Mean VIF', ...models.map((m) => f(mean(m)))], kind: 'stat' });
  return {
    title,
    header: [
      ['', ...models.map((_, k) => `(${k + 1})`)],
      ['', ...models.map((m) => m.label)],
    ],
    body,
    notes: [
      zh
        ? '注：VIF = 1/(1 − R²)，R² 为该协变量对模型其余协变量（含常数项）回归的拟合优度（同 Stata 的 estat vif；因子变量每个虚拟变量一个值）；通常以大于 10 表示严重共线。空白：该模型不含此变量。'
        : "Note: VIF = 1/(1 − R²), R² of the covariate on the model's other covariates with a constant (Stata's estat vif; one value per indicator of a factor); above 10 is commonly read as strong collinearity. Blank: the model does not have the variable.",
    ],
  };
}

/** The lower triangle of a correlation matrix with stars, variables numbered as columns. */
function correlationGrid(c: { variables: string[]; n: number; r: (number | null)[][]; p: (number | null)[][] }, title: string, lang: 'zh' | 'en', termLabel: (t: string) => string, stars: [number, number, number]): Grid {
  const zh = lang === 'zh';
  const k = c.variables.length;
  const body = c.variables.map((v, a) => ({
    cells: [
      `(${a + 1}) ${termLabel(v)}`,
      ...c.variables.map((_, b) => {
        if (b > a) return '';
        if (b === a) return '1';
        const r = c.r[a][b];
        return r == null ? '' : `${r.toFixed(3)}${starsFor(c.p[a][b], stars)}`;
      }),
    ],
  }));
  const [s1, s2, s3] = stars;
  return {
    title,
    header: [['', ...Array.from({ length: k }, (_, b) => `(${b + 1})`)]],
    body,
    notes: [
      zh
        ? `注：Pearson 相关系数，N = ${c.n}。* p<${s1}，** p<${s2}，*** p<${s3}（t 检验，视各观测为独立；共享城市的城市对并不独立，星号仅作描述）。`
        : `Note: Pearson correlations, N = ${c.n}. * p<${s1}, ** p<${s2}, *** p<${s3} (t test treating the rows as independent; pairs sharing a city are not, so read the stars as descriptive).`,
    ],
  };
}

/** The scale of a model's coefficients, for the coefficient plot's panels. */
function scaleOf(family: string, part: 'count' | 'zero' | null, lang: 'zh' | 'en'): string {
  const zh = lang === 'zh';
  if (part === 'zero') return family === 'zinb' ? (zh ? 'logit（结构性零）' : 'logit (structural zero)') : zh ? 'logit（y > 0）' : 'logit (y > 0)';
  if (family === 'logit' || family === 'firth-logit' || family === 'relogit') return 'logit';
  if (family === 'probit' || family === 'cloglog') return family;
  if (family === 'ols') return zh ? '线性' : 'linear';
  return zh ? '对数（计数）' : 'log (count)';
}
