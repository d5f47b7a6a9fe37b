/**
 * The table of average marginal effects of one level: a column per model that asked for them
 * (`effects: [ame]`), a row per variable (in the order of the spec's groups, with their
 * labels), the effect with stars above its delta-method SE; notes say what an AME is here.
 */
import type { EffectRow } from '../inference/effects.ts';
import { labelText, type Label } from '../specfile/schema.ts';
import type { Grid } from './formats.ts';
import { starsFor } from './regtable.ts';

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
  const terms: string[] = [];
  for (const g of o.groups) for (const v of Object.keys(g.variables)) if (models.some((m) => m.rows.some((r) => r.term === v)) && !terms.includes(v)) terms.push(v);
  for (const m of models) for (const r of m.rows) if (!terms.includes(r.term)) terms.push(r.term);
  const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? '' : x.toFixed(o.digits));
  const body: Grid['body'] = [];
  for (const t of terms) {
    const cells = models.map((m) => {
      const r = m.rows.find((x) => x.term === t);
      return r ? fmt(r.estimate) + starsFor(r.p_value, o.stars) : '';
    });
    const ses = models.map((m) => {
      const r = m.rows.find((x) => x.term === t);
      return r ? `(${fmt(r.std_error)})` : '';
    });
    body.push({ cells: [labelOf.get(t) ?? t, ...cells], kind: 'coef' }, { cells: ['', ...ses], kind: 'se' });
  }
  const discrete = models.some((m) => m.rows.some((r) => r.effect !== 'AME'));
  const [a, b, c] = o.stars;
  const notes = [
    zh
      ? `注：平均边际效应（对预测均值的导数在样本上的平均；二元模型为概率），括号内为用各模型方差（与系数表相同）计算的 delta 法标准误。* p<${a}，** p<${b}，*** p<${c}。${discrete ? '因子变量与指定的 0/1 变量为相对基准水平的平均离散变化。' : ''}`
      : `Note: average marginal effects (the derivative of the predicted mean, averaged over the sample; a probability for binary models), delta-method standard errors in parentheses from each model's variance (as in the coefficient table). * p<${a}, ** p<${b}, *** p<${c}.${discrete ? ' Factor terms and the 0/1 variables named binary: average discrete change from the base level.' : ''}`,
  ];
  return {
    title: o.title,
    header: [
      ['', ...models.map((_, k) => `(${k + 1})`)],
      ['', ...models.map((m) => labelText(m.label, o.lang, m.id))],
    ],
    body,
    notes,
  };
}
