/** Descriptive statistics (N, mean, SD, min, max) of the variables a sample's models use. */
import type { Table } from '../data/table.ts';

export interface DescriptiveRow {
  sample: string;
  variable: string;
  n: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
}

export function describe(sample: string, t: Table, variables: string[]): DescriptiveRow[] {
  const out: DescriptiveRow[] = [];
  for (const v of variables) {
    const c = t.columns.get(v);
    if (!c || c.kind !== 'number') continue;
    let n = 0;
    let mean = 0;
    let m2 = 0;
    let min = Infinity;
    let max = -Infinity;
    const values = c.values;
    for (let r = 0; r < values.length; r++) {
      const x = values[r];
      if (Number.isNaN(x)) continue;
      n++;
      const d = x - mean;
      mean += d / n;
      m2 += d * (x - mean);
      if (x < min) min = x;
      if (x > max) max = x;
    }
    out.push({ sample, variable: v, n, mean, sd: n > 1 ? Math.sqrt(m2 / (n - 1)) : NaN, min, max });
  }
  return out;
}
