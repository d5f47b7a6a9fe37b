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
  const order = Int32Array.from({ length: n }, (_, k) => k).sort((a, b) => p[a] - p[b]);
  // ROC: sum of the average ranks of the positives
  let n1 = 0;
  let rankSum = 0;
  for (let s = 0; s < n; ) {
    let e = s;
    while (e + 1 < n && p[order[e + 1]] === p[order[s]]) e++;
    const avg = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) if (y[order[k]] === 1) {
      n1++;
      rankSum += avg;
    }
    s = e + 1;
  }
  const n0 = n - n1;
  const auc = (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
  // precision–recall: thresholds from the largest fitted value down, ties entering together
  let tp = 0;
  let seen = 0;
  let ap = 0;
  let prevRecall = 0;
  for (let e = n - 1; e >= 0; ) {
    let s = e;
    while (s - 1 >= 0 && p[order[s - 1]] === p[order[e]]) s--;
    for (let k = s; k <= e; k++) {
      seen++;
      if (y[order[k]] === 1) tp++;
    }
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
