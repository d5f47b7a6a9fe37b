/** A fit as a readable console table, in the spirit of R's summary(). */
import { family } from '../fit/families.ts';
import type { FitResult } from '../fit/types.ts';
import type { CoefRow } from '../inference/wald.ts';
import type { EffectRow, Prediction } from '../inference/effects.ts';
import type { WaldTest } from '../inference/wald-test.ts';
import type { BinaryFitStats } from '../inference/fit-stats.ts';
import type { QapResult } from '../inference/qap.ts';
import type { CityStats, NetworkSummary } from '../inference/network-stats.ts';
import { starsFor } from './regtable.ts';

const stars = (p: number | null) => starsFor(p, [0.1, 0.05, 0.01]);

const num = (x: number | null, d = 4) => (x === null || Number.isNaN(x) ? 'NA' : x.toFixed(d));
const pfmt = (p: number | null) =>
  p === null || Number.isNaN(p) ? 'NA' : p < 2e-16 ? '<2e-16' : p < 1e-4 ? p.toExponential(2) : p.toFixed(4);

/** A coefficient table as R prints it, with the confidence interval at `level` (as Stata shows it). */
function coefTable(rows: CoefRow[], statName: string, level: number): string[] {
  const pct = (x: number) => `${Number((x * 100).toFixed(3))} %`;
  const header = ['', 'Estimate', 'Std. Error', statName, `Pr(>|${statName[0]}|)`, '', pct((1 - level) / 2), pct(1 - (1 - level) / 2)];
  const body = rows.map((c) => [c.term, num(c.estimate), num(c.std_error), num(c.statistic, 3), pfmt(c.p_value), stars(c.p_value), num(c.conf_low), num(c.conf_high)]);
  const all = [header, ...body];
  const width = header.map((_, k) => Math.max(...all.map((r) => [...r[k]].length)));
  return all.map((r) => r.map((cell, k) => (k === 0 || k === 5 ? cell.padEnd(width[k]) : cell.padStart(width[k]))).join('  ').trimEnd());
}

/** A fit on the console; `level` is the one its confidence intervals were computed at. */
export function formatFit(r: FitResult, level = 0.95): string {
  const stat = `${family(r.family).statistic} value`;
  const out: string[] = [];
  out.push(`Family: ${r.family} (link: ${r.link})`);
  out.push(`Formula: ${r.formula}`);
  out.push(`Observations: ${r.n}${r.n_dropped ? ` (${r.n_dropped} dropped for missing values)` : ''}`);
  const ssc = r.ssc ? `, small-sample preset ${r.ssc} (factor ${r.ssc_factor === null ? 'NA' : r.ssc_factor.toPrecision(6)})` : '';
  const cl = r.clusters ? `, clusters: ${Object.entries(r.clusters).map(([k, v]) => `${k} ${v}`).join(', ')}` : '';
  out.push(`Standard errors: ${r.vcov_type}${ssc}${cl}`);
  out.push('');
  if (r.parts) {
    out.push('Count part:', ...coefTable(r.parts.count, stat, level), '', 'Zero part:', ...coefTable(r.parts.zero, stat, level));
  } else out.push(...coefTable(r.coefficients, stat, level));
  out.push('---', 'Signif. codes: *** p<0.01, ** p<0.05, * p<0.1', '');
  out.push(`Log-likelihood: ${r.loglik.toFixed(4)}   AIC: ${r.aic.toFixed(4)}   BIC: ${r.bic.toFixed(4)}`);
  if (r.deviance !== null) {
    out.push(`Deviance: ${r.deviance.toFixed(4)}   Null deviance: ${r.null_deviance?.toFixed(4) ?? 'NA'}   df residual: ${r.df_residual}`);
  }
  if (r.theta !== null) {
    out.push(`theta: ${r.theta.toPrecision(6)} (SE ${r.theta_se?.toPrecision(4) ?? 'NA'})   alpha = 1/theta: ${r.alpha?.toPrecision(6)}`);
  }
  if (r.auc !== null && r.auc !== undefined) out.push(`AUC (ROC): ${r.auc.toFixed(4)}   area under the precision-recall curve (average precision): ${r.pr_auc!.toFixed(4)}`);
  out.push(`Converged: ${r.converged ? 'yes' : 'NO'} (${r.iterations} iterations)`);
  if (r.warnings.length) out.push('', 'Warnings:', ...r.warnings.map((w) => `  - ${w}`));
  return out.join('\n') + '\n';
}

export function formatEffects(rows: EffectRow[], level = 0.95): string {
  const kind = rows[0]?.effect.startsWith('AME') ? 'Average marginal effects (dE[y]/dx, delta-method SEs)' : 'Exponentiated coefficients (IRR / OR, delta-method SEs)';
  const out = [kind];
  const ame = rows[0]?.effect.startsWith('AME');
  for (const part of [null, 'count', 'zero', 'positive'] as const) {
    const sel = rows.filter((r) => r.part === part);
    if (!sel.length) continue;
    if (ame && rows.some((r) => r.part !== null)) out.push(part === null ? 'On E[y]:' : part === 'zero' ? 'On P(y > 0):' : 'On E[y | y > 0]:');
    else if (part) out.push(`${part === 'count' ? 'Count' : 'Zero'} part (${sel[0].effect}):`);
    out.push(...coefTable(sel, 'z value', level));
  }
  return out.join('\n') + '\n';
}

/** The classification table of a binary model at a threshold (sna::netlogit prints the same). */
export function formatClassification(c: BinaryFitStats['classification']): string {
  const n = c.tp + c.fp + c.tn + c.fn;
  return [
    `Classification at fitted probability >= ${c.threshold}:`,
    `              predicted 0  predicted 1`,
    `  observed 0  ${String(c.tn).padStart(11)}  ${String(c.fp).padStart(11)}`,
    `  observed 1  ${String(c.fn).padStart(11)}  ${String(c.tp).padStart(11)}`,
    `  correct: ${(((c.tp + c.tn) / n) * 100).toFixed(2)}%   sensitivity: ${c.tp + c.fn ? ((c.tp / (c.tp + c.fn)) * 100).toFixed(2) : 'NA'}%   precision: ${c.tp + c.fp ? ((c.tp / (c.tp + c.fp)) * 100).toFixed(2) : 'NA'}%`,
  ].join('\n') + '\n';
}

export function formatWald(tests: WaldTest[]): string {
  const out = [`Wald tests (${tests[0].vcov_type} variance)`];
  for (const t of tests) {
    out.push(`  ${t.hypothesis}:  chi2(${t.df}) = ${t.statistic.toFixed(4)}, p = ${pfmt(t.p_value)}`);
    if (t.f) out.push(`    F(${t.f.df1}, ${t.f.df2}) = ${t.f.statistic.toFixed(4)}, p = ${pfmt(t.f.p_value)}`);
  }
  return out.join('\n') + '\n';
}

export function formatPredictions(rows: Prediction[], level: number, atmeans = false): string {
  const pct = `${Math.round(level * 100)}%`;
  const out = [`Predicted outcome at values of ${rows[0].variable} (the other variables ${atmeans ? 'at their means' : 'as observed'}; delta-method SEs)`];
  const header = [rows[0].variable, 'Estimate', 'Std. Error', `${pct} low`, `${pct} high`];
  const body = rows.map((r) => [String(r.at), num(r.estimate), num(r.std_error), num(r.conf_low), num(r.conf_high)]);
  const all = [header, ...body];
  const width = header.map((_, k) => Math.max(...all.map((x) => x[k].length)));
  for (const line of all) out.push(line.map((c, k) => c.padStart(width[k])).join('  '));
  return out.join('\n') + '\n';
}

/** QAP p-values under the fit's table (tongban qap). */
export function formatQap(q: QapResult): string {
  const what = q.null === 'dsp' ? 'MRQAP, double semi-partialling (Dekker, Krackhardt & Snijders 2007)' : 'QAP, permuting the outcome (Y permutation)';
  const out = [`${what}: ${q.reps} permutations of the cities, seed ${q.seed}; statistic: ${q.statistic === 'z' ? 'z (t for OLS) from the classical variance' : 'the coefficient'}`];
  const header = ['', 'Statistic', 'p (two-sided)', 'p (>=)', 'p (<=)'];
  const body = q.coefficients.map((c) => [c.term, num(c.statistic, 3), num(c.p_two_sided), num(c.p_greater), num(c.p_less)]);
  const all = [header, ...body];
  const width = header.map((_, k) => Math.max(...all.map((x) => x[k].length)));
  for (const line of all) out.push(line.map((c, k) => (k === 0 ? c.padEnd(width[k]) : c.padStart(width[k]))).join('  '));
  out.push('p = (1 + number of permutations at least as extreme) / (1 + permutations): the observed value counts as one (sna reports number / permutations).');
  if (q.null === 'dsp') out.push('The intercept has no DSP test (NA).');
  for (const w of q.warnings) out.push(`Warning: ${w}`);
  return out.join('\n') + '\n';
}

/** The network's statistics and its most central cities (tongban network). */
export function formatNetwork(s: NetworkSummary, cities: CityStats[], top: number, weight: string | null): string {
  const f = (x: number | null, d = 4) => (x === null ? 'NA' : x.toFixed(d));
  const out = [
    `Cooperation network: ${s.cities} cities, ${s.ties} ties (undirected, unweighted for every centrality)`,
    `  density ${f(s.density)}   mean degree ${f(s.mean_degree, 2)}   max degree ${s.max_degree}`,
    `  degree centralization (Freeman) ${f(s.degree_centralization)}   transitivity (global) ${f(s.transitivity)}   degree assortativity ${f(s.assortativity)}`,
    `  components ${s.components}: sizes ${s.component_sizes.slice(0, 10).join(', ')}${s.components > 10 ? ', …' : ''}`,
  ];
  if (top > 0) {
    const rows = [...cities].sort((a, b) => b.degree - a.degree || b.eigenvector - a.eigenvector || (a.city < b.city ? -1 : 1)).slice(0, top);
    out.push('', `The ${rows.length} cities with most partners (strength: sum of ${weight ?? 'ties'}):`);
    const header = ['city', 'degree', 'strength', 'betweenness (norm.)', 'eigenvector', 'closeness'];
    const body = rows.map((c) => [c.city, String(c.degree), String(c.strength), f(c.betweenness_normalized), f(c.eigenvector), c.closeness === null ? 'NA' : c.closeness.toExponential(4)]);
    const all = [header, ...body];
    const width = header.map((_, k) => Math.max(...all.map((x) => x[k].length)));
    for (const line of all) out.push('  ' + line.map((c, k) => (k === 0 ? c.padEnd(width[k]) : c.padStart(width[k]))).join('  '));
  }
  return out.join('\n') + '\n';
}
