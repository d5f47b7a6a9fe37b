/**
 * Effects on the scale people read: exponentiated coefficients (incidence-rate ratios
 * for count models, odds ratios for logits) and average marginal effects, each with
 * delta-method standard errors from the fit's own variance (so a robust or dyadic
 * variance carries over).
 */
import { UsageError } from '../util/errors.ts';
import { linearPredictor } from '../linalg/dense.ts';
import { evalNumeric, type Var } from '../formula/design.ts';
import { columnsIn, deparse } from '../formula/parse.ts';
import { derivative } from '../formula/derivative.ts';
import { FAMILY_NAMES, family } from '../fit/families.ts';
import type { ModelFit } from '../fit/types.ts';
import { criticalValue, pValue, type CoefRow } from './wald.ts';

export interface EffectRow extends CoefRow {
  /** 'IRR', 'OR' or 'AME' */
  effect: string;
  /** 'count', 'zero' or null */
  part: string | null;
}

/** exp(β) with SE exp(β)·SE(β) and the exponentiated confidence interval; the test of β = 0 is kept. */
export function exponentiate(fit: ModelFit): EffectRow[] {
  const r = fit.result;
  const conv = (rows: CoefRow[], effect: string, part: string | null): EffectRow[] =>
    rows.map((c) => ({
      ...c,
      estimate: c.estimate === null ? null : Math.exp(c.estimate),
      std_error: c.estimate === null || c.std_error === null ? null : Math.exp(c.estimate) * c.std_error,
      conf_low: c.conf_low === null ? null : Math.exp(c.conf_low),
      conf_high: c.conf_high === null ? null : Math.exp(c.conf_high),
      effect,
      part,
    }));
  const fam = family(r.family);
  if (r.parts && fam.partRatios) return [...conv(r.parts.count, fam.partRatios.count, 'count'), ...conv(r.parts.zero, fam.partRatios.zero, 'zero')];
  const effect = fam.ratio;
  if (!effect) throw new UsageError(`exponentiated coefficients have no ratio reading for family ${r.family} (they do for logit models and log-link count models)`);
  return conv(r.coefficients, effect, null);
}

/**
 * Average marginal effects per VARIABLE, as Stata's `margins, dydx(*)` and R's
 * marginaleffects::avg_slopes define them: for each data column a numeric term of the formula
 * reads, the average over the fitted rows (prior weights as weights) of the total derivative
 * d E[y] / d v through every term that contains it (I(), log(), powers, interactions); 0/1
 * columns too, unless declared `binary`, when — as for factor() terms and text columns — the
 * effect is the average discrete change from the base level (0, or the first sorted level).
 * Delta-method SEs from the model's own variance (so a robust, clustered or dyadic variance
 * carries over): ∂AME/∂β_c = mean[μ''(η) x_c dη/dv + μ'(η) dx_c/dv] for a derivative,
 * mean[μ'(η₁) x₁c − μ'(η₀) x₀c] for a discrete change.
 */
/** What AMEs and predictions share: the fitted design, η, μ's derivatives, and builders of counterfactual columns. */
function engine(fit: ModelFit, level: number) {
  const fam = family(fit.result.family);
  const link = fam.ameLink;
  if (!link || fit.design.parts.length > 1) {
    const offered = FAMILY_NAMES.filter((f) => family(f).ameLink).join(', ');
    throw new UsageError(`average marginal effects are available for ${offered}, not ${fit.result.family}`);
  }
  const d = fit.design;
  const part = d.parts[0];
  const n = d.n;
  const cols = part.aliased.map((a, c) => (a ? -1 : c)).filter((c) => c >= 0);
  const p = cols.length;
  const beta = fit.estimate.blocks[0].params;
  const V = fit.vcov.V;
  const K = fit.estimate.blocks[0].params.length;
  const w = d.weights;
  let sw = 0;
  for (let r = 0; r < n; r++) sw += w ? w[r] : 1;
  const crit = criticalValue(level, null);
  const variables = d.formula.variables;
  const table = fit.table;
  if (!table) throw new UsageError('average marginal effects need the data the model was fitted on');

  /** the design's columns (non-aliased, index j) that involve formula variable k */
  const involves = (j: number, ks: Set<number>) => part.recipes[cols[j]].vars.some((k) => ks.has(k));
  /**
   * The columns `only` (indices j of the non-aliased design) on the used rows for the formula's
   * variables `vars`, as an n × |only| matrix, and, when `dvars` is given, their derivative.
   * The other columns do not involve the variable: they stay as fitted.
   */
  const build = (vars: Var[], dvars: (Float64Array | null)[] | null, only: number[]) => {
    const q = only.length;
    const Z = new Float64Array(n * q);
    const dZ = dvars ? new Float64Array(n * q) : null;
    only.forEach((j, t) => {
      const rec = part.recipes[cols[j]];
      const factors = rec.vars.map((k) => vars[k]);
      const ders = rec.vars.map((k) => dvars?.[k] ?? null);
      for (let r = 0; r < n; r++) {
        let x = 1;
        let dx = 0;
        for (let m = 0; m < factors.length; m++) {
          const v = factors[m];
          const val = v.kind === 'factor' ? (v.codes[r] === rec.levelOf[m] ? 1 : 0) : v.v[r];
          const der = ders[m] ? ders[m]![r] : 0;
          dx = dx * val + x * der; // product rule, one factor at a time
          x *= val;
        }
        Z[r * q + t] = x;
        if (dZ) dZ[r * q + t] = dx;
      }
    });
    return { Z, dZ };
  };
  const X = part.X;
  const eta0 = linearPredictor(X, n, p, beta, part.offset);
  // dμ/dη and d²μ/dη² at the fitted η, shared by every derivative below
  const m1s = eta0.map((e) => link.muEta(e));
  const m2s = eta0.map((e) => link.muEta2(e));
  const row = (term: string, est: number, J: Float64Array, effect: string): EffectRow => {
    let v = 0;
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) v += J[a] * V[a * K + b] * J[b];
    const se = Math.sqrt(v);
    return { term, estimate: est, std_error: se, statistic: est / se, p_value: pValue(est / se, null), conf_low: est - crit * se, conf_high: est + crit * se, effect, part: null };
  };
  const discrete = (term: string, v1: Var[], v0: Var[], changed: Set<number>, effect: string): EffectRow => {
    const only = cols.map((_, j) => j).filter((j) => involves(j, changed));
    const q = only.length;
    const { Z: Z1 } = build(v1, null, only);
    const { Z: Z0 } = build(v0, null, only);
    let est = 0;
    const J = new Float64Array(p);
    for (let r = 0; r < n; r++) {
      // η in the two scenarios: the fitted η with the changed columns swapped
      let e1 = eta0[r];
      let e0 = eta0[r];
      for (let t = 0; t < q; t++) {
        const x = X[r * p + only[t]];
        e1 += beta[only[t]] * (Z1[r * q + t] - x);
        e0 += beta[only[t]] * (Z0[r * q + t] - x);
      }
      const wr = (w ? w[r] : 1) / sw;
      est += wr * (link.inv(e1) - link.inv(e0));
      const g1 = wr * link.muEta(e1);
      const g0 = wr * link.muEta(e0);
      const o = r * p;
      for (let a = 0; a < p; a++) J[a] += (g1 - g0) * X[o + a];
      for (let t = 0; t < q; t++) J[only[t]] += g1 * (Z1[r * q + t] - X[o + only[t]]) - g0 * (Z0[r * q + t] - X[o + only[t]]);
    }
    return row(term, est, J, effect);
  };
  /** the formula's variables with data column `name` set to `value` on every used row */
  const withColumn = (name: string, value: number): Var[] => {
    const t = { ...table, columns: new Map(table.columns) };
    t.columns.set(name, { kind: 'number', values: new Float64Array(table.nrow).fill(value) });
    return d.vars.map((v, k) => (k > 0 && v.kind === 'num' && columnsIn(variables[k]).includes(name) ? { kind: 'num', v: gatherRows(evalNumeric(variables[k], t), d.rows) } : v));
  };

  /** the formula variables that read data column `name` */
  const dependsOn = (name: string) => new Set(variables.map((e, k) => (k > 0 && d.vars[k].kind === 'num' && columnsIn(e).includes(name) ? k : -1)).filter((k) => k >= 0));

  return { d, part, n, p, cols, beta, w, sw, link, X, eta0, m1s, m2s, variables, table, involves, build, row, discrete, withColumn, dependsOn };
}

export function averageMarginalEffects(fit: ModelFit, opts: { level?: number; binary?: string[] } | number = {}): EffectRow[] {
  const o = typeof opts === 'number' ? { level: opts } : opts;
  const { d, n, p, cols, beta, w, sw, X, m1s, m2s, variables, table, involves, build, row, discrete, withColumn, dependsOn } = engine(fit, o.level ?? 0.95);
  const binary = new Set(o.binary ?? []);
  // the data columns the numeric terms read, in order of first appearance
  const numericCols: string[] = [];
  variables.forEach((e, k) => {
    if (k === 0 || d.vars[k].kind !== 'num') return;
    for (const c of columnsIn(e)) if (!numericCols.includes(c)) numericCols.push(c);
  });
  for (const b of binary) {
    if (!numericCols.includes(b)) throw new UsageError(`--binary ${b}: '${b}' is not a numeric variable of the formula (its variables: ${numericCols.join(', ')})`);
  }

  const rows: EffectRow[] = [];
  for (const name of numericCols) {
    if (binary.has(name)) {
      rows.push(discrete(name, withColumn(name, 1), withColumn(name, 0), dependsOn(name), 'AME (discrete change 0 → 1)'));
      continue;
    }
    const dvars = variables.map((e, k) => (k > 0 && d.vars[k].kind === 'num' && columnsIn(e).includes(name) ? gatherRows(derivative(e, table, name), d.rows) : null));
    const only = cols.map((_, j) => j).filter((j) => involves(j, dependsOn(name)));
    const q = only.length;
    const { dZ } = build(d.vars, dvars, only);
    let est = 0;
    const J = new Float64Array(p);
    for (let r = 0; r < n; r++) {
      const wr = (w ? w[r] : 1) / sw;
      let deta = 0;
      for (let t = 0; t < q; t++) deta += beta[only[t]] * dZ![r * q + t];
      const m1 = m1s[r];
      const g = wr * m2s[r] * deta;
      est += wr * m1 * deta;
      const o = r * p;
      for (let a = 0; a < p; a++) J[a] += g * X[o + a];
      for (let t = 0; t < q; t++) J[only[t]] += wr * m1 * dZ![r * q + t];
    }
    rows.push(row(name, est, J, 'AME'));
  }
  // factor terms: each level against the base
  d.vars.forEach((v, k) => {
    if (k === 0 || v.kind !== 'factor') return;
    const label = deparse(variables[k]);
    for (let lvl = 1; lvl < v.levels.length; lvl++) {
      const at = (code: number): Var[] => d.vars.map((u, m) => (m === k ? { kind: 'factor', codes: new Int32Array(n).fill(code), levels: v.levels } : u));
      rows.push(discrete(`${label}${v.levels[lvl]}`, at(lvl), at(0), new Set([k]), `AME (discrete change ${v.levels[0]} → ${v.levels[lvl]})`));
    }
  });
  return rows;
}

/** A predicted mean at one value of a variable (margins, at()), with its delta-method SE. */
export interface Prediction {
  variable: string;
  at: number;
  estimate: number;
  std_error: number;
  conf_low: number;
  conf_high: number;
}

/**
 * Predicted outcomes at representative values, as Stata's `margins, at(v = (…))` by default:
 * for each value g, the average over the fitted rows of E[y] with v set to g on every row and
 * the other variables as observed; delta-method SEs with the model's variance
 * (∂/∂β = mean μ'(η) x(g)).
 */
export function predictionsAt(fit: ModelFit, variable: string, values: number[], level = 0.95): Prediction[] {
  const e = engine(fit, level);
  const changed = e.dependsOn(variable);
  if (!changed.size) throw new UsageError(`--predict ${variable}: '${variable}' is not a numeric variable of the formula`);
  const only = e.cols.map((_, j) => j).filter((j) => e.involves(j, changed));
  const q = only.length;
  return values.map((g) => {
    const { Z } = e.build(e.withColumn(variable, g), null, only);
    let est = 0;
    const J = new Float64Array(e.p);
    for (let r = 0; r < e.n; r++) {
      let eta = e.eta0[r];
      for (let t = 0; t < q; t++) eta += e.beta[only[t]] * (Z[r * q + t] - e.X[r * e.p + only[t]]);
      const wr = (e.w ? e.w[r] : 1) / e.sw;
      est += wr * e.link.inv(eta);
      const m = wr * e.link.muEta(eta);
      const o = r * e.p;
      for (let a = 0; a < e.p; a++) J[a] += m * e.X[o + a];
      for (let t = 0; t < q; t++) J[only[t]] += m * (Z[r * q + t] - e.X[o + only[t]]);
    }
    const rr = e.row(variable, est, J, 'prediction');
    return { variable, at: g, estimate: est, std_error: rr.std_error!, conf_low: rr.conf_low!, conf_high: rr.conf_high! };
  });
}

function gatherRows(v: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = v[rows[k]];
  return out;
}
