/**
 * Comparing fitted models: information criteria, likelihood-ratio tests of nested
 * models fitted on the same rows, the boundary-corrected LR test of α = 0 (NB against
 * Poisson, as Stata's nbreg reports it) and the Vuong test of non-nested models with
 * its AIC and BIC corrections (as pscl::vuong).
 */
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { UsageError } from '../util/errors.ts';
import { family } from '../fit/families.ts';
import type { ModelFit } from '../fit/types.ts';

export interface CriteriaRow {
  model: string;
  family: string;
  n: number;
  /** parameters (θ included) */
  df: number;
  loglik: number;
  aic: number;
  bic: number;
}

/** Number of estimated parameters behind the log-likelihood (θ and σ included). */
const parameterCount = (f: ModelFit): number => f.parameters;

export function criteria(fits: { name: string; fit: ModelFit }[]): CriteriaRow[] {
  return fits.map(({ name, fit }) => ({
    model: name,
    family: fit.result.family,
    n: fit.result.n,
    df: parameterCount(fit),
    loglik: fit.result.loglik,
    aic: fit.result.aic,
    bic: fit.result.bic,
  }));
}

/** Refuses two fits that do not use exactly the same rows of the same data. */
function assertSameRows(a: ModelFit, b: ModelFit, what: string): void {
  const ra = a.design.rows;
  const rb = b.design.rows;
  if (a.design.responseName !== b.design.responseName) {
    throw new UsageError(`${what}: the models explain different outcomes ('${a.design.responseName}' and '${b.design.responseName}')`);
  }
  if (ra.length !== rb.length) {
    throw new UsageError(
      `${what}: the models were fitted on different rows (n = ${ra.length} and ${rb.length}; missing values in their variables differ); fit both on a common sample, e.g. with --subset`,
    );
  }
  for (let k = 0; k < ra.length; k++) {
    if (ra[k] !== rb[k]) {
      throw new UsageError(`${what}: the models were fitted on different rows (row ${ra[k] + 2} is in one sample only); fit both on a common sample`);
    }
  }
}

/** The estimated terms of a model, part-qualified ("0:x", "1:z"). */
const termsOf = (m: ModelFit) => new Set(m.design.parts.flatMap((p, k) => p.names.filter((_, c) => !p.aliased[c]).map((t) => `${k}:${t}`)));

export interface LrTest {
  test: string;
  restricted: string;
  full: string;
  statistic: number;
  df: number;
  p_value: number;
  note: string;
}

/** Likelihood-ratio test of a restricted model inside a fuller one (same family, same rows, terms a subset). */
export function lrTest(restricted: { name: string; fit: ModelFit }, full: { name: string; fit: ModelFit }): LrTest {
  const r = restricted.fit;
  const f = full.fit;
  assertSameRows(r, f, 'likelihood-ratio test');
  if (r.result.family !== f.result.family) {
    throw new UsageError(`likelihood-ratio test: different families (${r.result.family}, ${f.result.family}); for NB against Poisson use the test of alpha = 0`);
  }
  const tr = termsOf(r);
  const tf = termsOf(f);
  const missing = [...tr].filter((t) => !tf.has(t));
  if (missing.length) {
    throw new UsageError(`likelihood-ratio test: '${restricted.name}' is not nested in '${full.name}' (it has ${missing.map((m) => m.split(':').slice(1).join(':')).join(', ')})`);
  }
  const df = parameterCount(f) - parameterCount(r);
  if (df <= 0) throw new UsageError(`likelihood-ratio test: '${full.name}' has no more parameters than '${restricted.name}'`);
  const stat = 2 * (f.result.loglik - r.result.loglik);
  return {
    test: 'LR',
    restricted: restricted.name,
    full: full.name,
    statistic: stat,
    df,
    p_value: 1 - chisquareCdf(Math.max(stat, 0), df),
    note: `chi-squared with ${df} df`,
  };
}

/** LR test of α = 0 (NB against Poisson): the null is on the boundary, so p = ½ P(χ²₁ > LR). */
export function alphaTest(pois: { name: string; fit: ModelFit }, nb: { name: string; fit: ModelFit }): LrTest {
  assertSameRows(pois.fit, nb.fit, 'test of alpha = 0');
  if (family(nb.fit.result.family).nestsAtBoundary !== pois.fit.result.family) {
    throw new UsageError('the test of alpha = 0 compares a poisson and a negbin model with the same terms');
  }
  const a = [...termsOf(pois.fit)].sort().join(',');
  const b = [...termsOf(nb.fit)].sort().join(',');
  if (a !== b) throw new UsageError(`the test of alpha = 0 needs the same terms in '${pois.name}' and '${nb.name}'`);
  const stat = Math.max(0, 2 * (nb.fit.result.loglik - pois.fit.result.loglik));
  return {
    test: 'LR alpha = 0',
    restricted: pois.name,
    full: nb.name,
    statistic: stat,
    df: 1,
    p_value: 0.5 * (1 - chisquareCdf(stat, 1)),
    note: 'boundary-corrected: p = 0.5 P(chi2(1) > LR), as Stata nbreg',
  };
}

/** Log-likelihood of each fitted row. */
function rowLoglik(fit: ModelFit): Float64Array {
  if (fit.estimate.rowLoglik) return fit.estimate.rowLoglik;
  const mu = fit.estimate.mu;
  const density = family(fit.result.family).density;
  if (!mu || !density) throw new UsageError(`no per-observation likelihood for family ${fit.result.family}`);
  const fam = density(fit.result.theta);
  const y = fit.design.y;
  return Float64Array.from(mu, (m, r) => fam.logDensity(y[r], m));
}

export interface VuongTest {
  model1: string;
  model2: string;
  n: number;
  k1: number;
  k2: number;
  /** raw, AIC-corrected, BIC-corrected */
  statistic: [number, number, number];
  /** one-sided, towards the model the statistic favours (as pscl prints) */
  p_value: [number, number, number];
  favours: [string, string, string];
}

/**
 * Vuong's test of non-nested models (pscl::vuong): m_i = ℓ1_i − ℓ2_i, statistic
 * Σ(m − c)/(sd(m − c)√n) with c = 0, (k1 − k2)/n (AIC) or (k1 − k2) log(n)/(2n) (BIC);
 * k counts the coefficients (θ not counted, as pscl's coef()).
 */
export function vuong(m1: { name: string; fit: ModelFit }, m2: { name: string; fit: ModelFit }): VuongTest {
  assertSameRows(m1.fit, m2.fit, 'Vuong test');
  const l1 = rowLoglik(m1.fit);
  const l2 = rowLoglik(m2.fit);
  const n = l1.length;
  const k = (f: ModelFit) => parameterCount(f) - family(f.result.family).auxParams;
  const k1 = k(m1.fit);
  const k2 = k(m2.fit);
  const adj = [0, (k1 - k2) / n, ((k1 - k2) / (2 * n)) * Math.log(n)];
  const stats = adj.map((c) => {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += (l1[r] - l2[r] - c) / n;
    let ss = 0;
    for (let r = 0; r < n; r++) ss += (l1[r] - l2[r] - c - mean) ** 2;
    const sd = Math.sqrt(ss / (n - 1));
    return (mean * n) / (sd * Math.sqrt(n));
  }) as [number, number, number];
  return {
    model1: m1.name,
    model2: m2.name,
    n,
    k1,
    k2,
    statistic: stats,
    p_value: stats.map((v) => normalCdf(-Math.abs(v), 0, 1)) as [number, number, number],
    favours: stats.map((v) => (v > 0 ? m1.name : m2.name)) as [string, string, string],
  };
}

export interface Comparison {
  criteria: ReturnType<typeof criteria>;
  tests: (LrTest | (VuongTest & { test: string }))[];
  skipped: string[];
}

/**
 * Every pair gets the test the family registry gives it: LR (same family, nested), the
 * boundary LR test (a family nesting the other at a boundary: NB and Poisson at α = 0),
 * Vuong (non-nested pairs the registry lists, e.g. ZINB against NB).
 */
export function compareModels(models: { name: string; fit: ModelFit }[]): Comparison {
  const tests: Comparison['tests'] = [];
  const skipped: string[] = [];
  for (let a = 0; a < models.length; a++) {
    for (let b = a + 1; b < models.length; b++) {
      const [x, y] = [models[a], models[b]];
      const fx = x.fit.result.family;
      const fy = y.fit.result.family;
      try {
        if (fx === fy) {
          const [small, big] = x.fit.parameters <= y.fit.parameters ? [x, y] : [y, x];
          tests.push(lrTest(small, big));
        } else if (family(fy).nestsAtBoundary === fx || family(fx).nestsAtBoundary === fy) {
          tests.push(family(fy).nestsAtBoundary === fx ? alphaTest(x, y) : alphaTest(y, x));
        } else if (family(fx).vuongAgainst.includes(fy) || family(fy).vuongAgainst.includes(fx)) {
          tests.push({ test: 'Vuong', ...(family(fx).vuongAgainst.includes(fy) ? vuong(x, y) : vuong(y, x)) });
        } else skipped.push(`${x.name} vs ${y.name}: no test for ${fx} against ${fy}`);
      } catch (e) {
        if (e instanceof UsageError) skipped.push(`${x.name} vs ${y.name}: ${e.message}`);
        else throw e;
      }
    }
  }
  return { criteria: criteria(models), tests, skipped };
}
