/** The summary of a multiverse's specification curve (the report's table). */
import { median } from '../inference/curve-null.ts';
import type { MultiverseResult, MultiverseRow } from './run-record.ts';

/**
 * The summary of the curve: how many specifications were fitted, the median effect and the share
 * positive (the same under every variance choice), and per variance choice the shares positive
 * and negative and significant.
 */
export function multiverseSummary(r: MultiverseResult, alpha = 0.05) {
  const vcovs = [...new Set(r.rows.filter((x) => x.skipped === null).map((x) => x.vcov))];
  const firstVcov = vcovs[0];
  const fittedIn = (v: string | undefined) => r.rows.filter((x) => x.skipped === null && x.vcov === v);
  const fitted = fittedIn(firstVcov);
  const est = fitted.map((x) => x.estimate!);
  const share = (rows: MultiverseRow[], f: (x: MultiverseRow) => boolean) => (rows.length ? rows.filter(f).length / rows.length : null);
  return {
    specifications: new Set(r.rows.map((x) => x.spec)).size,
    fitted: fitted.length,
    skipped: new Set(r.rows.filter((x) => x.skipped !== null).map((x) => x.spec)).size,
    excluded: r.excluded,
    median: est.length ? median(est) : null,
    share_positive: share(fitted, (x) => x.estimate! > 0),
    /** per variance choice, in the order of the rows */
    significance: vcovs.map((vcov) => {
      const rows = fittedIn(vcov);
      return {
        vcov,
        positive: share(rows, (x) => x.estimate! > 0 && x.p_value! < alpha),
        negative: share(rows, (x) => x.estimate! < 0 && x.p_value! < alpha),
      };
    }),
  };
}
