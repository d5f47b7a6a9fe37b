/** Wald inference: z (or t) statistics, p-values and confidence intervals from @stdlib distributions. */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import tQuantile from '@stdlib/stats-base-dists-t-quantile';

export interface CoefRow {
  term: string;
  estimate: number | null;
  std_error: number | null;
  statistic: number | null;
  p_value: number | null;
  conf_low: number | null;
  conf_high: number | null;
}

/** Two-sided p-value of a z (df = null) or t statistic. */
export function pValue(stat: number, df: number | null): number {
  const a = -Math.abs(stat);
  return 2 * (df === null ? normalCdf(a, 0, 1) : tCdf(a, df));
}

export function criticalValue(level: number, df: number | null): number {
  const q = 1 - (1 - level) / 2;
  return df === null ? normalQuantile(q, 0, 1) : tQuantile(q, df);
}

/** One row per column of the design (aliased columns: all null), from estimates and a variance matrix. */
export function coefficientRows(
  names: string[],
  aliased: boolean[],
  beta: Float64Array,
  V: Float64Array,
  df: number | null,
  level: number,
): CoefRow[] {
  const k = beta.length;
  const crit = criticalValue(level, df);
  let m = 0;
  return names.map((term, c) => {
    if (aliased[c]) return { term, estimate: null, std_error: null, statistic: null, p_value: null, conf_low: null, conf_high: null };
    const est = beta[m];
    const v = V[m * k + m];
    m++;
    const se = v >= 0 ? Math.sqrt(v) : NaN;
    const stat = est / se;
    return {
      term,
      estimate: est,
      std_error: se,
      statistic: stat,
      p_value: pValue(stat, df),
      conf_low: est - crit * se,
      conf_high: est + crit * se,
    };
  });
}
