/**
 * The side-by-side regression table of one level, as a format-free grid: coefficient
 * with stars above its standard error in parentheses, then N, log-likelihood, AIC, BIC,
 * pseudo-R², α for NB; the notes say the SE type, clustering, small-sample preset and
 * star thresholds of every column. One backend per output format renders the grid.
 */
import { warningText } from './warnings.ts';
import { family } from '../fit/families.ts';
import type { FitResult } from '../fit/types.ts';
import { isVcovType, VARIANCES } from '../vcov/registry.ts';
import type { QapResult } from '../inference/qap.ts';
import type { WaldTest } from '../inference/wald-test.ts';
import { labelText, type Label } from '../specfile/schema.ts';
import { pseudoR2, tidy, type PseudoR2Convention } from './tidy.ts';

export interface TableColumn {
  /** "(1)", "(2)", … */
  number: string;
  label: string;
  /** the dependent variable, labelled as in the spec's groups */
  outcome: string;
}

export interface TableRow {
  label: string;
  cells: string[];
  kind: 'group' | 'coef' | 'se' | 'stat';
}

export interface RegTable {
  title: string;
  lang: 'zh' | 'en';
  columns: TableColumn[];
  rows: TableRow[];
  notes: string[];
}

export interface TableModel {
  id: string;
  label: Label | undefined;
  fit: FitResult;
  /** named Wald tests of the spec (bottom rows) */
  tests?: (WaldTest & { label: Label })[];
  /** QAP p-values (a line under each SE) */
  qap?: QapResult;
  /** variables of the table the model leaves out because they take one value in its sample (a note says so) */
  constantOmitted?: Record<string, number>;
}

export interface TableOptions {
  title: string;
  lang: 'zh' | 'en';
  stars: [number, number, number];
  digits: number;
  /** extra bottom rows: auc, pr_auc */
  statistics?: ('auc' | 'pr_auc')[];
  /** the null model of an NB's McFadden R² (default: at the same θ) */
  pseudoR2?: PseudoR2Convention;
  groups: { id: string; label?: Label; variables: Record<string, Label> }[];
  /** the line under each coefficient: its SE (default), its z or t statistic, or its confidence interval */
  cells?: CellContent;
}

/** What the line under each coefficient shows; the stars always come from the p-value of the column's variance. */
export type CellContent = 'se' | 'statistic' | 'ci';

/** A term's label from the spec's variable groups (the term itself when no group names it). */
export function termLabeller(groups: TableOptions['groups'], lang: 'zh' | 'en'): (term: string) => string {
  const labels = new Map<string, string>();
  for (const g of groups) for (const [v, l] of Object.entries(g.variables)) labels.set(v, labelText(l, lang, v));
  return (t) => labels.get(t) ?? t;
}

export function starsFor(p: number | null, t: [number, number, number]): string {
  if (p === null || Number.isNaN(p)) return '';
  return p < t[2] ? '***' : p < t[1] ? '**' : p < t[0] ? '*' : '';
}

const familyLabel = (f: FitResult, lang: 'zh' | 'en') => family(f.family).label[lang];

/**
 * A variance's count of clusters in words: "城市 333 个" / "333 cities" (dyadic), "i 332 类" /
 * "i: 332 clusters", and an intersection of two clusterings "i×j 55,278 类" (two-way); a
 * two-part model's counts name their part ("计数部分城市 328 个" / "328 cities in the count part").
 */
function clusterCount(key: string, n: number, lang: 'zh' | 'en'): string {
  const zh = lang === 'zh';
  const [, part, what] = /^(?:(count|zero):)?(.*)$/.exec(key)!;
  const prefix = part ? (part === 'count' ? '计数部分' : '零部分') : '';
  const suffix = part ? ` in the ${part} part` : '';
  const count = n.toLocaleString('en-US');
  if (what === 'cities') return zh ? `${prefix}城市 ${count} 个` : `${count} cities${suffix}`;
  const label = what.replace(/:/g, '×');
  return zh ? `${prefix}${label} ${count} 类` : `${label}: ${count} clusters${suffix}`;
}

/** The table note on a column's variance: the registry's sentence, its clusters, its small-sample factor. */
function vcovText(f: FitResult, lang: 'zh' | 'en'): string {
  const zh = lang === 'zh';
  const cl = f.clusters ? Object.entries(f.clusters).map(([k, v]) => clusterCount(k, v, lang)).join(zh ? '，' : ', ') : '';
  // the small-sample correction in words: none, or the convention and the factor applied
  const factor = f.ssc_factor !== null ? f.ssc_factor.toFixed(4) : null;
  const convention = f.ssc === 'r' ? (zh ? '同 R 的 sandwich' : "R's sandwich") : f.ssc === 'stata' ? (zh ? '同 Stata' : "Stata's") : f.ssc;
  const ssc = !f.ssc
    ? ''
    : f.ssc === 'none'
      ? zh
        ? '，未作小样本校正'
        : ', no small-sample correction'
      : f.vcov_type === 'cluster2'
        ? zh
          ? `，小样本校正${convention}（每个聚类维度的 meat 乘以 G/(G−1)${factor ? `，方差再乘以 ${factor}` : ''}）`
          : `, small-sample correction as ${convention} (each clustering's meat × G/(G−1)${factor ? `, the variance × ${factor}` : ''})`
        : zh
          ? `，小样本校正${convention}${factor ? `（方差乘以 ${factor}）` : ''}`
          : `, small-sample correction as ${convention}${factor ? ` (variance × ${factor})` : ''}`;
  const entry = isVcovType(f.vcov_type) ? VARIANCES[f.vcov_type] : null;
  return entry ? entry.note(lang, cl) + ssc : f.vcov_type;
}

export function buildRegTable(models: TableModel[], o: TableOptions): RegTable {
  const zh = o.lang === 'zh';
  const content = o.cells ?? 'se';
  const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? '' : x.toFixed(o.digits));
  // one column per model, two for a two-part model
  interface Col {
    model: TableModel;
    part: 'count' | 'zero' | null;
  }
  const cols: Col[] = models.flatMap((m): Col[] => (m.fit.parts ? [{ model: m, part: 'count' }, { model: m, part: 'zero' }] : [{ model: m, part: null }]));
  const outcomeLabel = (fit: FitResult) => {
    const y = fit.formula.split('~')[0].trim();
    for (const g of o.groups) if (Object.hasOwn(g.variables, y)) return labelText(g.variables[y], o.lang, y);
    return y;
  };
  const columns: TableColumn[] = cols.map((c, k) => {
    const base = labelText(c.model.label, o.lang, c.model.id);
    const partLabel = c.part === null ? '' : c.part === 'count' ? (zh ? '（计数部分）' : ' (count)') : zh ? '（零部分）' : ' (zero)';
    // a hurdle's zero part models whether the count is positive
    return { number: `(${k + 1})`, label: base + partLabel, outcome: outcomeLabel(c.model.fit) + (c.part === 'zero' ? ' > 0' : '') };
  });
  const tidyByCol = cols.map((c) => new Map(tidy(c.model.id, c.model.fit).filter((r) => r.part === c.part).map((r) => [r.term, r])));
  // row order: the spec's groups, then any other term in order of first appearance; intercept last
  const seen = new Set<string>();
  const order: string[] = [];
  for (const t of tidyByCol) {
    for (const term of t.keys()) {
      if (seen.has(term)) continue;
      seen.add(term);
      order.push(term);
    }
  }
  const labelOf = new Map<string, string>();
  const rows: TableRow[] = [];
  const withQap = models.some((m) => m.qap);
  const placed = new Set<string>();
  const emit = (term: string) => {
    const cells = tidyByCol.map((t) => {
      const r = t.get(term);
      return r && r.estimate !== null ? fmt(r.estimate) + starsFor(r.p_value, o.stars) : '';
    });
    const ses = tidyByCol.map((t) => {
      const r = t.get(term);
      if (!r || r.estimate === null) return '';
      if (content === 'statistic') return r.statistic === null ? '' : `(${fmt(r.statistic)})`;
      if (content === 'ci') return r.conf_low === null || r.conf_high === null ? '' : `[${fmt(r.conf_low)}, ${fmt(r.conf_high)}]`;
      return r.std_error === null ? '' : `(${fmt(r.std_error)})`;
    });
    rows.push({ label: labelOf.get(term) ?? term, cells, kind: 'coef' }, { label: '', cells: ses, kind: 'se' });
    // QAP p-values in brackets, without stars (the stars follow the SE the column shows)
    if (withQap) {
      const qs = cols.map((c) => {
        const q = c.part === null ? c.model.qap?.coefficients.find((x) => x.term === term) : undefined;
        return q && q.p_two_sided !== null ? `[${q.p_two_sided.toFixed(3)}]` : '';
      });
      if (qs.some(Boolean)) rows.push({ label: 'QAP p', cells: qs, kind: 'se' });
    }
    placed.add(term);
  };
  for (const g of o.groups) {
    const terms = Object.keys(g.variables).filter((v) => seen.has(v) && !placed.has(v));
    for (const v of Object.keys(g.variables)) labelOf.set(v, labelText(g.variables[v], o.lang, v));
    if (!terms.length) continue;
    if (g.label && !(terms.length === 1 && terms[0] === '(Intercept)')) {
      rows.push({ label: labelText(g.label, o.lang, g.id), cells: cols.map(() => ''), kind: 'group' });
    }
    terms.forEach(emit);
  }
  const rest = order.filter((t) => !placed.has(t) && t !== '(Intercept)');
  rest.forEach(emit);
  if (seen.has('(Intercept)') && !placed.has('(Intercept)')) {
    labelOf.set('(Intercept)', zh ? '常数项' : 'Constant');
    emit('(Intercept)');
  }
  // statistics
  const stat = (label: string, f: (fit: FitResult, part: Col['part']) => string) =>
    rows.push({ label, cells: cols.map((c) => f(c.model.fit, c.part)), kind: 'stat' });
  stat(zh ? '模型' : 'Model', (f) => familyLabel(f, o.lang));
  stat(zh ? '观测值' : 'N', (f) => String(f.n));
  stat(zh ? '对数似然值' : 'Log-likelihood', (f, part) => (part === 'zero' ? '' : fmt(f.loglik)));
  stat('AIC', (f, part) => (part === 'zero' ? '' : fmt(f.aic)));
  stat('BIC', (f, part) => (part === 'zero' ? '' : fmt(f.bic)));
  stat(zh ? '伪 R²' : 'Pseudo R²', (f) => fmt(pseudoR2(f, o.pseudoR2)));
  if (cols.some((c) => c.model.fit.alpha !== null)) {
    stat('α (1/θ)', (f, part) => (f.alpha === null || part === 'zero' ? '' : fmt(f.alpha)));
  }
  // AUC rows only where a column has one (binary outcomes)
  const withAuc = cols.some((c) => c.part !== 'zero' && c.model.fit.auc != null);
  const withPrAuc = cols.some((c) => c.part !== 'zero' && c.model.fit.pr_auc != null);
  if (o.statistics?.includes('auc') && withAuc) stat(zh ? 'AUC（ROC 曲线下面积）' : 'AUC (ROC)', (f, part) => (part === 'zero' || f.auc == null ? '' : fmt(f.auc)));
  if (o.statistics?.includes('pr_auc') && withPrAuc) stat(zh ? 'PR 曲线下面积' : 'Area under the PR curve', (f, part) => (part === 'zero' || f.pr_auc == null ? '' : fmt(f.pr_auc)));
  // the spec's named Wald tests, one row per test label, with the model's variance
  const testLabels: string[] = [];
  for (const m of models) for (const t of m.tests ?? []) if (!testLabels.includes(labelText(t.label, o.lang, t.hypothesis))) testLabels.push(labelText(t.label, o.lang, t.hypothesis));
  for (const tl of testLabels) {
    rows.push({
      label: tl,
      cells: cols.map((c) => {
        const t = c.part === 'zero' ? undefined : c.model.tests?.find((x) => labelText(x.label, o.lang, x.hypothesis) === tl);
        if (!t || t.statistic === null) return '';
        return t.f ? `F(${t.f.df1}, ${t.f.df2}) = ${fmt(t.f.statistic)}${starsFor(t.f.p_value, o.stars)}` : `χ²(${t.df}) = ${fmt(t.statistic)}${starsFor(t.p_value, o.stars)}`;
      }),
      kind: 'stat',
    });
  }
  stat(zh ? '标准误' : 'SE', (f) => (isVcovType(f.vcov_type) ? VARIANCES[f.vcov_type].short[o.lang] : f.vcov_type));
  const t = o.stars;
  // the NB part of the pseudo-R² note only where an NB column is (the convention the spec chose)
  const hasNb = models.some((m) => m.fit.family === 'negbin');
  const constantOnly = o.pseudoR2 === 'constant_only';
  const nbNote = !hasNb
    ? ''
    : zh
      ? constantOnly
        ? '（NB 的零模型为只含常数项、θ 重新估计的负二项模型，同 Stata nbreg）'
        : '（NB 的零模型取相同 θ）'
      : constantOnly
        ? " (for NB, the constant-only NB with its own θ, as Stata's nbreg)"
        : ' (for NB, null model at the same θ)';
  // what the line under each coefficient shows (spec runs fit at the 95% level)
  const pct = '95%';
  const cellNote =
    content === 'statistic'
      ? { zh: '括号内为 z 值（OLS 为 t 值），由各列所示标准误计算', en: "z statistics (t for OLS) from each column's standard errors in parentheses" }
      : content === 'ci'
        ? { zh: `方括号内为 ${pct} 置信区间，由各列所示标准误计算`, en: `${pct} confidence intervals from each column's standard errors in brackets` }
        : { zh: '括号内为标准误', en: 'standard errors in parentheses' };
  const notes = [
    zh
      ? `注：${cellNote.zh}。* p<${t[0]}，** p<${t[1]}，*** p<${t[2]}。伪 R² 为 McFadden R²${nbNote}。`
      : `Note: ${cellNote.en}. * p<${t[0]}, ** p<${t[1]}, *** p<${t[2]}. Pseudo R² is McFadden's${nbNote}.`,
  ];
  // one note per distinct variance description, naming every column it applies to
  const byText = new Map<string, string[]>();
  cols.forEach((c, k) => {
    const text = vcovText(c.model.fit, o.lang);
    byText.set(text, [...(byText.get(text) ?? []), columns[k].number]);
  });
  for (const [text, nums] of byText) notes.push(`${nums.join('')} ${text}`);
  const qapNotes = new Map<string, string[]>();
  cols.forEach((c, k) => {
    const q = c.model.qap;
    if (!q) return;
    const text = zh
      ? `方括号内为 QAP 双侧 p 值（${q.null === 'dsp' ? '双重半偏置换 DSP' : '置换因变量'}，${q.reps} 次城市标签置换，种子 ${q.seed}；p = (1 + 不小于观测值的次数)/(1 + 置换次数)），不标星号。`
      : `QAP two-sided p-values in brackets (${q.null === 'dsp' ? 'double semi-partialling, DSP' : 'permuting the outcome'}; ${q.reps} permutations of the city labels, seed ${q.seed}; p = (1 + #as extreme)/(1 + permutations)), without stars.`;
    qapNotes.set(text, [...(qapNotes.get(text) ?? []), columns[k].number]);
  });
  for (const [text, nums] of qapNotes) notes.push(`${nums.join('')} ${text}`);
  // structurally blank cells: a covariate the model has but could not estimate (constant or
  // collinear in its sample: R's NA), statistics that exist only for some columns
  const aliased = new Map<string, string[]>();
  for (const term of order) {
    tidyByCol.forEach((t, k) => {
      const r = t.get(term);
      if (r && r.estimate === null) aliased.set(term, [...(aliased.get(term) ?? []), columns[k].number]);
    });
  }
  for (const [term, nums] of aliased) {
    const label = labelOf.get(term) ?? term;
    notes.push(zh ? `${nums.join('')} ${label}在该列样本中为常数或与其他变量完全共线，无法估计（R 中为 NA），故空白。` : `${nums.join('')} ${label} is constant or perfectly collinear with the other covariates in this column's sample and cannot be estimated (NA in R): left blank.`);
  }
  for (const term of order) {
    const label = labelOf.get(term) ?? term;
    const byValue = new Map<number, string[]>();
    tidyByCol.forEach((t, k) => {
      const value = cols[k].model.constantOmitted?.[term];
      if (!t.has(term) && value !== undefined) byValue.set(value, [...(byValue.get(value) ?? []), columns[k].number]);
    });
    for (const [value, nums] of byValue) {
      notes.push(zh ? `${nums.join('')} ${label}在该列样本中恒为 ${value}，故未纳入模型。` : `${nums.join('')} ${label} is ${value} for every observation of this column's sample, so it is not in the model.`);
    }
  }
  const zeroCols = cols.flatMap((c, k) => (c.part === 'zero' ? [columns[k].number] : []));
  if (zeroCols.length) {
    notes.push(zh ? `${zeroCols.join('')} 两部分模型的对数似然值、AIC、BIC 与 α 属于整个模型，列在其计数部分一列。` : `${zeroCols.join('')} A two-part model's log-likelihood, AIC, BIC and α belong to the whole model and are shown in its count-part column.`);
  }
  const shown = [...(o.statistics?.includes('auc') && withAuc ? ['auc'] : []), ...(o.statistics?.includes('pr_auc') && withPrAuc ? ['pr_auc'] : [])];
  const noAuc = cols.flatMap((c, k) => (c.part === 'zero' || c.model.fit.auc == null ? [columns[k].number] : []));
  if (shown.length && noAuc.length) {
    const what = shown.length === 2 ? (zh ? 'AUC 与 PR 曲线下面积' : 'AUC and the area under the PR curve') : shown[0] === 'auc' ? 'AUC' : zh ? 'PR 曲线下面积' : 'The area under the PR curve';
    notes.push(zh ? `${noAuc.join('')} ${what}只对单部分二元模型（logit、probit 等）计算。` : `${noAuc.join('')} ${what} ${shown.length === 2 ? 'are' : 'is'} computed for one-part binary models (logit, probit, …) only.`);
  }
  const noR2 = cols.flatMap((c, k) => (c.part === 'zero' ? [] : fmt(pseudoR2(c.model.fit, o.pseudoR2)) === '' ? [columns[k].number] : []));
  if (noR2.length) {
    notes.push(zh ? `${noR2.join('')} 该模型没有可比的零模型（偏差校正、零截断或两部分模型），不报告伪 R²。` : `${noR2.join('')} No pseudo R²: the model has no comparable null model (bias-corrected, zero-truncated or two-part).`);
  }
  if (testLabels.length) {
    notes.push(zh ? '联合检验为 Wald 检验，使用各列的标准误类型（二元组稳健等），星号表示其 p 值。' : "Joint tests are Wald tests with each column's variance (dyadic-robust etc.); stars give their p-values.");
  }
  for (const m of models) {
    for (const w of m.fit.warnings) notes.push(o.lang === 'zh' ? `${labelText(m.label, o.lang, m.id)}：${warningText(w, 'zh')}` : `${labelText(m.label, o.lang, m.id)}: ${w}`);
  }
  return { title: o.title, lang: o.lang, columns, rows, notes };
}
