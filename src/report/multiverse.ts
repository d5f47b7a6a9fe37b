/** The summary of a multiverse's specification curve (the report's table). */
import type { MultiverseResult, MultiverseRow } from './run-record.ts';

/** The summary of the curve: how many were fitted, the median effect, the shares by sign and significance (first variance choice). */
export function multiverseSummary(r: MultiverseResult, alpha = 0.05) {
  const firstVcov = r.rows.find((x) => x.skipped === null)?.vcov;
  const fitted = r.rows.filter((x) => x.skipped === null && x.vcov === firstVcov);
  const est = fitted.map((x) => x.estimate!).sort((a, b) => a - b);
  const median = est.length ? (est.length % 2 ? est[est.length >> 1] : (est[est.length / 2 - 1] + est[est.length / 2]) / 2) : null;
  const share = (f: (x: MultiverseRow) => boolean) => (fitted.length ? fitted.filter(f).length / fitted.length : null);
  return {
    specifications: new Set(r.rows.map((x) => x.spec)).size,
    fitted: fitted.length,
    skipped: new Set(r.rows.filter((x) => x.skipped !== null).map((x) => x.spec)).size,
    excluded: r.excluded,
    vcov: firstVcov ?? null,
    median,
    share_positive: share((x) => x.estimate! > 0),
    share_positive_significant: share((x) => x.estimate! > 0 && x.p_value! < alpha),
    share_negative_significant: share((x) => x.estimate! < 0 && x.p_value! < alpha),
  };
}
