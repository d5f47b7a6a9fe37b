/**
 * The table of average marginal effects of one level: a column per model that asked for them
 * (`effects: [ame]`), a row per variable (in the order of the spec's groups, with their
 * labels), the effect with stars above its delta-method SE; notes say what an AME is here.
 */
import type { EffectRow } from '../inference/effects.ts';
import { labelText, type Label } from '../specfile/schema.ts';
import type { Grid } from './formats.ts';
import { starsFor } from './regtable.ts';

/** the expected outcome of an AME column (EffectRow.part; null: E[y]) */
const OUTCOME_LABEL: Record<string, string> = { mean: 'E[y]', zero: 'P(y > 0)', positive: 'E[y | y > 0]' };

export interface EffectsModel {
  id: string;
  label: Label | undefined;
  rows: EffectRow[];
}

export function effectsGrid(
  models: EffectsModel[],
  o: { title: string; lang: 'zh' | 'en'; stars: [number, number, number]; digits: number; groups: { variables: Record<string, Label> }[] },
): Grid {
  const zh = o.lang === 'zh';
  const labelOf = new Map<string, string>();
  for (const g of o.groups) for (const [v, l] of Object.entries(g.variables)) labelOf.set(v, labelText(l, o.lang, v));
  // one column per model and expected outcome (a hurdle model: E[y], P(y > 0), E[y | y > 0])
  const columns = models.flatMap((m) => [...new Set(m.rows.map((r) => r.part))].map((part) => ({ m, part, rows: m.rows.filter((r) => r.part === part) })));
  const terms: string[] = [];
  for (const g of o.groups) for (const v of Object.keys(g.variables)) if (models.some((m) => m.rows.some((r) => r.term === v)) && !terms.includes(v)) terms.push(v);
  for (const m of models) for (const r of m.rows) if (!terms.includes(r.term)) terms.push(r.term);
  const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? '' : x.toFixed(o.digits));
  const body: Grid['body'] = [];
  for (const t of terms) {
    const found = columns.map((c) => c.rows.find((x) => x.term === t));
    body.push({ cells: [labelOf.get(t) ?? t, ...found.map((r) => (r ? fmt(r.estimate) + starsFor(r.p_value, o.stars) : ''))], kind: 'coef' }, { cells: ['', ...found.map((r) => (r ? `(${fmt(r.std_error)})` : ''))], kind: 'se' });
  }
  const discrete = models.some((m) => m.rows.some((r) => r.effect !== 'AME'));
  const [a, b, c] = o.stars;
  const notes = [
    zh
      ? `注：平均边际效应（对预测均值的导数在样本上的平均；二元模型为概率），括号内为用各模型方差（与系数表相同）计算的 delta 法标准误。* p<${a}，** p<${b}，*** p<${c}。${discrete ? '因子变量与指定的 0/1 变量为相对基准水平的平均离散变化。' : ''}`
      : `Note: average marginal effects (the derivative of the predicted mean, averaged over the sample; a probability for binary models), delta-method standard errors in parentheses from each model's variance (as in the coefficient table). * p<${a}, ** p<${b}, *** p<${c}.${discrete ? ' Factor terms and the 0/1 variables named binary: average discrete change from the base level.' : ''}`,
  ];
  if (columns.some((c) => c.part !== null)) {
    notes.push(
      zh
        ? '两部分模型的效应分别针对 E[y]（期望项数）、P(y > 0)（合作至少一项的概率）与 E[y | y > 0]（正计数的条件期望），在全部样本行上平均；门槛模型的标准误用两部分的联合方差（含两部分之间的协方差项）。'
        : 'For models with a zero part the effects are on E[y] (expected count), P(y > 0) and E[y | y > 0] (the mean of positive counts), averaged over all rows of the sample; hurdle SEs use the joint variance of both parts (including the cross-part terms).',
    );
  }
  return {
    title: o.title,
    header: [
      ['', ...columns.map((_, k) => `(${k + 1})`)],
      ['', ...columns.map((c) => labelText(c.m.label, o.lang, c.m.id))],
      ...(columns.some((c) => c.part !== null) ? [['', ...columns.map((c) => OUTCOME_LABEL[c.part ?? 'mean'])]] : []),
    ],
    body,
    notes,
  };
}
