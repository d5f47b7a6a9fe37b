/**
 * Fit statistics for a binary outcome, the ones a rare-events paper reports besides the
 * likelihood: the area under the ROC curve (the Mann–Whitney form, ties given average ranks),
 * the area under the precision–recall curve as average precision (steps at each distinct
 * fitted value, no interpolation: scikit-learn's average_precision_score), and the
 * classification table at a threshold (predicted 1 when the fitted probability ≥ it), the
 * table `sna::netlogit` prints.
 */
export interface BinaryFitStats {
  auc: number;
  pr_auc: number;
  classification: { threshold: number; tp: number; fp: number; tn: number; fn: number };
}

export function binaryFitStats(y: Float64Array, p: Float64Array, threshold = 0.5): BinaryFitStats {
  const n = y.length;
  // a NaN would never compare equal to itself in the rank loops below, and they would not end
  for (let r = 0; r < n; r++) if (Number.isNaN(p[r])) throw new Error('internal: binaryFitStats got a NaN fitted value');
  // all fitted values and those of the positives, each sorted ascending (native numeric sorts)
  const all = Float64Array.from(p).sort();
  let n1 = 0;
  for (let r = 0; r < n; r++) if (y[r] === 1) n1++;
  const pos = new Float64Array(n1);
  for (let r = 0, k = 0; r < n; r++) if (y[r] === 1) pos[k++] = p[r];
  pos.sort();
  const n0 = n - n1;
  // ROC: the sum of the average ranks (1-based, ties averaged) of the positives' values among all values
  let rankSum = 0;
  for (let k = 0, s = 0; k < n1; ) {
    const x = pos[k];
    while (all[s] < x) s++; // first index of x in all
    let e = s;
    while (e + 1 < n && all[e + 1] === x) e++; // last index of x
    let m = k;
    while (m < n1 && pos[m] === x) m++;
    rankSum += (m - k) * ((s + e) / 2 + 1);
    k = m;
  }
  const auc = (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
  // precision–recall: thresholds from the largest value down, tied values entering together
  let ap = 0;
  let prevRecall = 0;
  let ip = n1 - 1;
  for (let e = n - 1; e >= 0; ) {
    const x = all[e];
    let s = e;
    while (s - 1 >= 0 && all[s - 1] === x) s--;
    while (ip >= 0 && pos[ip] >= x) ip--;
    const tp = n1 - 1 - ip;
    const seen = n - s;
    const recall = tp / n1;
    ap += (recall - prevRecall) * (tp / seen);
    prevRecall = recall;
    e = s - 1;
  }
  const c = { threshold, tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let r = 0; r < n; r++) {
    const hit = p[r] >= threshold;
    if (y[r] === 1) {
      if (hit) c.tp++;
      else c.fn++;
    } else if (hit) c.fp++;
    else c.tn++;
  }
  return { auc, pr_auc: ap, classification: c };
}
