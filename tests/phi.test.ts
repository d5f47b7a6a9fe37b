/**
 * The probit's Φ (src/util/phi.ts) against @stdlib's normal cdf, whose arithmetic it repeats:
 * the same bits, over every branch of erfc and the special values.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { describe, expect, it } from 'vitest';
import { phi } from '../src/util/phi.ts';
import { Rng } from '../src/util/random.ts';

describe('phi', () => {
  it("gives @stdlib's cdf(x, 0, 1) bit for bit", () => {
    const rng = new Rng(41);
    const values = [0, -0, NaN, Infinity, -Infinity, 1e-300, -1e-300, 1e-17, 0.25, -0.25, 0.84375 * Math.SQRT2, 1.25 * Math.SQRT2, 2.857142857142857 * Math.SQRT2, 6 * Math.SQRT2, 28 * Math.SQRT2, 8.125890664701906, -8.125890664701906, 40, -40];
    // every branch: |x/√2| below 1e-17, 0.84375, 1.25, 2.857, 6 and 28, and beyond; uniform and on a log scale
    for (let k = 0; k < 1_000_000; k++) values.push((rng.uniform() - 0.5) * 90, (rng.uniform() < 0.5 ? -1 : 1) * 10 ** (rng.uniform() * 22 - 20));
    let differ = 0;
    let first = '';
    for (const x of values) {
      const a = phi(x);
      const b = normalCdf(x, 0, 1);
      if (!Object.is(a, b)) {
        differ++;
        first ||= `x = ${x}: ${a} vs ${b}`;
      }
    }
    expect(differ, first).toBe(0);
  });
});
