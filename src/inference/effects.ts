/**
 * Effects on the scale people read: exponentiated coefficients (incidence-rate ratios
 * for count models, odds ratios for logits) and average marginal effects, each with
 * delta-method standard errors from the fit's own variance (so a robust or dyadic
 * variance carries over).
 */
import { UsageError } from '../util/errors.ts';
import { linearPredictor } from '../linalg/dense.ts';
import { evalNumeric, type DesignPart, type Var } from '../formula/design.ts';
import { makeTable, numColumn } from '../data/table.ts';
import type { MeanOutcome } from '../models/means.ts';
import { columnsIn, deparse } from '../formula/parse.ts';
import { derivative } from '../formula/derivative.ts';
import { FAMILY_NAMES, family } from '../fit/families.ts';
import type { ModelFit } from '../fit/types.ts';
import { criticalValue, pValue, type CoefRow } from './wald.ts';

export interface EffectRow extends CoefRow {
  /** 'IRR', 'OR' or 'AME' */
  effect: string;
  /**
   * ratios: 'count', 'zero' or null (single part); AMEs: which expected outcome — null for the
   * model's own mean, 'zero' for P(y > 0) and 'positive' for E[y | y > 0] (hurdle models)
   */
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

/** One linear predictor of the model (a single-part model has one; hurdle and ZINB: count, zero). */
interface Predictor {
  part: DesignPart;
  /** index into the part's recipes of each non-aliased design column */
  cols: number[];
  X: Float64Array;
  p: number;
  beta: Float64Array;
  /** position of each of its coefficients in the joint parameter vector (the joint variance's order) */
  idx: Int32Array;
  /** η at the estimate (offset included) */
  eta: Float64Array;
}

/**
 * What AMEs and predictions share for one expected outcome: the linear predictors, the mean
 * kernel with its gradient and Hessian at the fitted rows, the joint variance, and builders of
 * counterfactual columns. Every quantity Q = mean_r w_r E_r(…) is returned with its gradient
 * over the joint parameter vector, so SE(Q) = √(J'VJ) with the model's own variance (robust,
 * clustered or dyadic; for a hurdle the joint variance with its cross-part terms).
 */
function engine(fit: ModelFit, level: number, outcome: MeanOutcome) {
  const d = fit.design;
  const n = d.n;
  const kern = outcome.kernel;
  const Q = kern.etas + (kern.theta ? 1 : 0);
  // the joint parameter vector: blocks in order, each block's reported columns at their index
  const entries = new Map<string | null, { idx: Int32Array; beta: Float64Array }>();
  let thetaIdx = -1;
  let lt = 0;
  let off = 0;
  for (const b of fit.estimate.blocks) {
    for (const rep of b.report) entries.set(rep.part, { idx: Int32Array.from(rep.index, (i) => off + i), beta: Float64Array.from(rep.index, (i) => b.params[i]) });
    if (b.logThetaIndex !== null) {
      thetaIdx = off + b.logThetaIndex;
      lt = b.params[b.logThetaIndex];
    }
    off += b.params.length;
  }
  if (kern.theta && thetaIdx < 0) throw new Error('internal: the mean of this model needs θ, but no block estimates it');
  const roles: (string | null)[] = kern.etas === 1 ? [entries.has(null) ? null : 'count'] : ['count', 'zero'];
  const predictors: Predictor[] = roles.map((role, j) => {
    const part = d.parts[j] ?? d.parts[0]; // a two-part model with one formula part uses it twice
    const e = entries.get(role);
    if (!e) throw new Error(`internal: no coefficients reported for the ${role ?? 'single'} part`);
    const cols = part.aliased.map((a, c) => (a ? -1 : c)).filter((c) => c >= 0);
    return { part, cols, X: part.X, p: part.p, beta: e.beta, idx: e.idx, eta: linearPredictor(part.X, n, part.p, e.beta, part.offset) };
  });
  const vc = fit.jointVcov();
  const V = vc.V;
  const K = Math.round(Math.sqrt(V.length));
  const w = d.weights;
  let sw = 0;
  for (let r = 0; r < n; r++) sw += w ? w[r] : 1;
  const crit = criticalValue(level, null);
  const variables = d.formula.variables;
  const table = fit.table;

  // the kernel's input, gradient and Hessian at the fitted rows
  const x = new Float64Array(Q);
  const inputAt = (r: number, etas: Float64Array[] | null) => {
    for (let j = 0; j < kern.etas; j++) x[j] = etas ? etas[j][r] : predictors[j].eta[r];
    if (kern.theta) x[Q - 1] = lt;
    return x;
  };
  const G = new Float64Array(n * Q);
  const H = new Float64Array(n * Q * Q);
  const gr = new Float64Array(Q);
  const hr = new Float64Array(Q * Q);
  for (let r = 0; r < n; r++) {
    kern.value(inputAt(r, null), gr);
    kern.hessian(x, hr);
    G.set(gr, r * Q);
    H.set(hr, r * Q * Q);
  }

  /** the columns (indices j of a predictor's non-aliased design) that involve one of the formula variables ks */
  const involving = (pr: Predictor, ks: Set<number>) => pr.cols.map((_, j) => j).filter((j) => pr.part.recipes[pr.cols[j]].vars.some((k) => ks.has(k)));
  /**
   * The columns `only` of a predictor on the used rows for the formula's variables `vars`, as
   * an n × |only| matrix, and, when `dvars` is given, their derivative (product rule). The
   * other columns do not involve the variable: they stay as fitted.
   */
  const build = (pr: Predictor, vars: Var[], dvars: (Float64Array | null)[] | null, only: number[]) => {
    const q = only.length;
    const Z = new Float64Array(n * q);
    const dZ = dvars ? new Float64Array(n * q) : null;
    only.forEach((j, t) => {
      const rec = pr.part.recipes[pr.cols[j]];
      const factors = rec.vars.map((k) => vars[k]);
      const ders = rec.vars.map((k) => dvars?.[k] ?? null);
      for (let r = 0; r < n; r++) {
        let xv = 1;
        let dx = 0;
        for (let m = 0; m < factors.length; m++) {
          const v = factors[m];
          const val = v.kind === 'factor' ? (v.codes[r] === rec.levelOf[m] ? 1 : 0) : v.v[r];
          const der = ders[m] ? ders[m]![r] : 0;
          dx = dx * val + xv * der; // product rule, one factor at a time
          xv *= val;
        }
        Z[r * q + t] = xv;
        if (dZ) dZ[r * q + t] = dx;
      }
    });
    return { Z, dZ };
  };
  const se = (J: Float64Array) => {
    let v = 0;
    for (let a = 0; a < K; a++) for (let b = 0; b < K; b++) v += J[a] * V[a * K + b] * J[b];
    return Math.sqrt(v);
  };
  const row = (term: string, est: number, J: Float64Array, effect: string): EffectRow => {
    const s = se(J);
    return { term, estimate: est, std_error: s, statistic: est / s, p_value: pValue(est / s, null), conf_low: est - crit * s, conf_high: est + crit * s, effect, part: outcome.id === 'mean' ? null : outcome.id };
  };
  /** mean_r E_r with the formula variables `vars` (those in `changed` differ from the fitted ones), and its gradient */
  const scenario = (vars: Var[], changed: Set<number>) => {
    const sets = predictors.map((pr) => {
      const only = involving(pr, changed);
      const { Z } = build(pr, vars, null, only);
      const eta = Float64Array.from(pr.eta);
      const q = only.length;
      for (let r = 0; r < n; r++) for (let t = 0; t < q; t++) eta[r] += pr.beta[only[t]] * (Z[r * q + t] - pr.X[r * pr.p + only[t]]);
      return { only, Z, eta };
    });
    const etas = sets.map((s) => s.eta);
    const g = new Float64Array(Q);
    const J = new Float64Array(K);
    let est = 0;
    for (let r = 0; r < n; r++) {
      const wr = (w ? w[r] : 1) / sw;
      est += wr * kern.value(inputAt(r, etas), g);
      predictors.forEach((pr, j) => {
        const f = wr * g[j];
        const o = r * pr.p;
        for (let a = 0; a < pr.p; a++) J[pr.idx[a]] += f * pr.X[o + a];
        const { only, Z } = sets[j];
        const q = only.length;
        for (let t = 0; t < q; t++) J[pr.idx[only[t]]] += f * (Z[r * q + t] - pr.X[o + only[t]]);
      });
      if (kern.theta) J[thetaIdx] += wr * g[Q - 1];
    }
    return { est, J };
  };
  /** the average discrete change between two scenarios */
  const discrete = (term: string, v1: Var[], v0: Var[], changed: Set<number>, effect: string): EffectRow => {
    const a = scenario(v1, changed);
    const b = scenario(v0, changed);
    return row(term, a.est - b.est, a.J.map((v, k) => v - b.J[k]), effect);
  };
  /** the average derivative with respect to data column `name`, through every column that contains it */
  const slope = (name: string): EffectRow => {
    const changed = dependsOn(name);
    const dvars = variables.map((e, k) => (changed.has(k) ? gatherRows(derivative(e, table, name), d.rows) : null));
    const sets = predictors.map((pr) => {
      const only = involving(pr, changed);
      const q = only.length;
      const { dZ } = build(pr, d.vars, dvars, only);
      const deta = new Float64Array(n);
      for (let r = 0; r < n; r++) for (let t = 0; t < q; t++) deta[r] += pr.beta[only[t]] * dZ![r * q + t];
      return { only, dZ: dZ!, deta };
    });
    const J = new Float64Array(K);
    let est = 0;
    for (let r = 0; r < n; r++) {
      const wr = (w ? w[r] : 1) / sw;
      const gr = r * Q;
      const hr = r * Q * Q;
      predictors.forEach((pr, j) => {
        est += wr * G[gr + j] * sets[j].deta[r];
        // d/dβ of g_j·deta_j summed over parts: the Hessian row of η_j, and g_j times dZ
        let s = 0;
        for (let i = 0; i < kern.etas; i++) s += H[hr + i * Q + j] * sets[i].deta[r];
        const o = r * pr.p;
        for (let a = 0; a < pr.p; a++) J[pr.idx[a]] += wr * s * pr.X[o + a];
        const { only, dZ } = sets[j];
        const q = only.length;
        for (let t = 0; t < q; t++) J[pr.idx[only[t]]] += wr * G[gr + j] * dZ[r * q + t];
      });
      if (kern.theta) {
        let s = 0;
        for (let i = 0; i < kern.etas; i++) s += H[hr + i * Q + (Q - 1)] * sets[i].deta[r];
        J[thetaIdx] += wr * s;
      }
    }
    return row(name, est, J, 'AME');
  };
  /** the formula's variables with data column `name` set to `value` on every used row */
  const withColumn = (name: string, value: number): Var[] => {
    const t = { ...table, columns: new Map(table.columns) };
    t.columns.set(name, { kind: 'number', values: new Float64Array(table.nrow).fill(value) });
    return d.vars.map((v, k) => (k > 0 && v.kind === 'num' && columnsIn(variables[k]).includes(name) ? { kind: 'num', v: gatherRows(evalNumeric(variables[k], t), d.rows) } : v));
  };
  /** the formula variables that read data column `name` */
  function dependsOn(name: string) {
    return new Set(variables.map((e, k) => (k > 0 && d.vars[k].kind === 'num' && columnsIn(e).includes(name) ? k : -1)).filter((k) => k >= 0));
  }
  /**
   * E at the means (Stata's atmeans) with data column `name` set to `value`: every other data
   * column a numeric term reads at its (weighted) mean over the used rows, terms computed from
   * those means (I(x^2) at the mean of x, not the mean of x²), factor indicators at their shares.
   */
  const atMeans = (name: string, value: number) => {
    const wsum = (f: (r: number) => number) => {
      let s = 0;
      for (let r = 0; r < n; r++) s += (w ? w[r] : 1) * f(r);
      return s / sw;
    };
    const cols: [string, ReturnType<typeof numColumn>][] = [];
    const seen = new Set<string>();
    variables.forEach((e, k) => {
      if (k === 0 || d.vars[k].kind !== 'num') return;
      for (const c of columnsIn(e)) {
        if (seen.has(c)) continue;
        seen.add(c);
        const col = table.columns.get(c);
        if (!col || col.kind !== 'number') continue;
        const v = col.values;
        cols.push([c, numColumn(Float64Array.of(c === name ? value : wsum((r) => v[d.rows[r]])))]);
      }
    });
    const one = makeTable(1, cols);
    const at: (number | Float64Array)[] = d.vars.map((v, k) => {
      if (k === 0) return 0;
      if (v.kind === 'num') return evalNumeric(variables[k], one)[0];
      const shares = new Float64Array(v.levels.length);
      for (let r = 0; r < n; r++) shares[v.codes[r]] += (w ? w[r] : 1) / sw;
      return shares;
    });
    const g = new Float64Array(Q);
    const J = new Float64Array(K);
    const xs = predictors.map((pr) =>
      pr.cols.map((c) => {
        const rec = pr.part.recipes[c];
        let xv = 1;
        rec.vars.forEach((k, m) => {
          const a = at[k];
          xv *= typeof a === 'number' ? a : a[rec.levelOf[m]!];
        });
        return xv;
      }),
    );
    predictors.forEach((pr, j) => {
      let eta = 0;
      for (let a = 0; a < pr.p; a++) eta += pr.beta[a] * xs[j][a];
      const offs = pr.part.offset;
      x[j] = offs ? eta + wsum((r) => offs[r]) : eta;
    });
    if (kern.theta) x[Q - 1] = lt;
    const est = kern.value(x, g);
    predictors.forEach((pr, j) => xs[j].forEach((xv, a) => (J[pr.idx[a]] += g[j] * xv)));
    if (kern.theta) J[thetaIdx] += g[Q - 1];
    return { est, J };
  };

  return { d, n, variables, row, se, crit, scenario, discrete, slope, withColumn, dependsOn, atMeans };
}

/** The expected outcomes of a fit's family (the model's mean first); an error naming the families that have them. */
function outcomesOf(fit: ModelFit): readonly MeanOutcome[] {
  const means = family(fit.result.family).means;
  if (!means) {
    const offered = FAMILY_NAMES.filter((f) => family(f).means).join(', ');
    throw new UsageError(`average marginal effects are available for ${offered}, not ${fit.result.family}`);
  }
  if (!fit.table) throw new UsageError('average marginal effects need the data the model was fitted on');
  return means;
}

/**
 * Average marginal effects per VARIABLE, as Stata's `margins, dydx(*)` and R's
 * marginaleffects::avg_slopes define them: for each data column a numeric term of the formula
 * reads, the average over the fitted rows (prior weights as weights) of the total derivative
 * d E / d v through every term that contains it (I(), log(), powers, interactions; in both
 * parts of a two-part model); 0/1 columns too, unless declared `binary`, when — as for
 * factor() terms — the effect is the average discrete change from the base level (0, or the
 * first sorted level). E is each expected outcome of the family (`part`: null for the model's
 * own mean; a hurdle adds 'zero' = P(y > 0) and 'positive' = E[y | y > 0]). Delta-method SEs
 * from the model's own variance (the joint one of a hurdle's two parts).
 */
export function averageMarginalEffects(fit: ModelFit, opts: { level?: number; binary?: string[]; only?: string[] } | number = {}): EffectRow[] {
  const o = typeof opts === 'number' ? { level: opts } : opts;
  const binary = new Set(o.binary ?? []);
  const rows: EffectRow[] = [];
  for (const outcome of outcomesOf(fit)) {
    const { d, n, variables, discrete, slope, withColumn, dependsOn } = engine(fit, o.level ?? 0.95, outcome);
    // the data columns the numeric terms read, in order of first appearance
    const numericCols: string[] = [];
    variables.forEach((e, k) => {
      if (k === 0 || d.vars[k].kind !== 'num') return;
      for (const c of columnsIn(e)) if (!numericCols.includes(c)) numericCols.push(c);
    });
    for (const b of binary) {
      if (!numericCols.includes(b)) throw new UsageError(`--binary ${b}: '${b}' is not a numeric variable of the formula (its variables: ${numericCols.join(', ')})`);
    }
    for (const name of numericCols) {
      if (o.only && !o.only.includes(name)) continue;
      const row = binary.has(name) ? discrete(name, withColumn(name, 1), withColumn(name, 0), dependsOn(name), 'AME (discrete change 0 → 1)') : slope(name);
      // a variable that does not enter this outcome (a count-part variable and a hurdle's P(y > 0)) has no effect to report
      if (row.estimate === 0 && row.std_error === 0) continue;
      rows.push(row);
    }
    // factor terms: each level against the base
    d.vars.forEach((v, k) => {
      if (k === 0 || v.kind !== 'factor' || o.only) return;
      const label = deparse(variables[k]);
      for (let lvl = 1; lvl < v.levels.length; lvl++) {
        const at = (code: number): Var[] => d.vars.map((u, m) => (m === k ? { kind: 'factor', codes: new Int32Array(n).fill(code), levels: v.levels } : u));
        rows.push(discrete(`${label}${v.levels[lvl]}`, at(lvl), at(0), new Set([k]), `AME (discrete change ${v.levels[0]} → ${v.levels[lvl]})`));
      }
    });
  }
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
 * Predicted outcomes at representative values, as Stata's `margins, at(v = (…))`: by default,
 * for each value g, the average over the fitted rows of E[y] with v set to g on every row and
 * the other variables as observed; with `atmeans`, E[y] once at the means of the other
 * variables (`margins, at(…) atmeans`). The model's own mean (for a hurdle, E[y]).
 * Delta-method SEs with the model's variance.
 */
export function predictionsAt(fit: ModelFit, variable: string, values: number[], opts: { level?: number; atmeans?: boolean } | number = {}): Prediction[] {
  const o = typeof opts === 'number' ? { level: opts } : opts;
  const e = engine(fit, o.level ?? 0.95, outcomesOf(fit)[0]);
  const changed = e.dependsOn(variable);
  if (!changed.size) throw new UsageError(`--predict ${variable}: '${variable}' is not a numeric variable of the formula`);
  return values.map((g) => {
    const { est, J } = o.atmeans ? e.atMeans(variable, g) : e.scenario(e.withColumn(variable, g), changed);
    const s = e.se(J);
    return { variable, at: g, estimate: est, std_error: s, conf_low: est - e.crit * s, conf_high: est + e.crit * s };
  });
}

function gatherRows(v: Float64Array, rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = v[rows[k]];
  return out;
}
