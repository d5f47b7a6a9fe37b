/**
 * dyadCodes codes a table's id columns once and renumbers subsets from that coding: the
 * answer must be the one coding each call's rows by their text gives (the codes order the
 * clusters of the dyadic variance, so a different numbering would change its last bits).
 */
import { describe, expect, it } from 'vitest';
import { dyadCodes } from '../src/fit/fit-model.ts';
import { denseCodes, numColumn, strColumn, type Table } from '../src/data/table.ts';
import { Rng } from '../src/util/random.ts';

/** The coding by text of the given rows (the implementation before the kept full coding), as the reference. */
function byText(table: Table, [ni, nj]: [string, string], rows: Int32Array) {
  const text = (name: string) => {
    const c = table.columns.get(name)!;
    return (r: number) => (c.kind === 'number' ? String(c.values[r]) : c.levels[c.codes[r]]);
  };
  const ti = text(ni);
  const tj = text(nj);
  const coder = denseCodes<string>();
  const i = new Int32Array(rows.length);
  const j = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    i[k] = coder.code(ti(rows[k]));
    j[k] = coder.code(tj(rows[k]));
    if (i[k] === j[k]) throw new Error(`dyad columns ${ni}, ${nj}: row ${rows[k] + 2} pairs a city with itself`);
  }
  return { i: Array.from(i), j: Array.from(j), G: coder.size(), cities: coder.keys };
}

function table(n: number, rng: Rng, numeric: boolean, selfPairs: boolean): Table {
  const city = () => Math.floor(rng.uniform() * 40);
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < n; r++) {
    const x = city();
    let y = city();
    if (y === x && !(selfPairs && rng.uniform() < 0.3)) y = (x + 1) % 40;
    a.push(x);
    b.push(y);
  }
  // numeric ids include −0 and 0, which read as the same city ("0"), as text would
  const num = (v: number[]) => numColumn(Float64Array.from(v, (x) => (x === 0 && rng.uniform() < 0.5 ? -0 : x)));
  const str = (v: number[]) => strColumn(v.map((x) => `c${String(x).padStart(3, '0')}`));
  return { nrow: n, names: ['i', 'j'], columns: new Map([['i', numeric ? num(a) : str(a)], ['j', numeric ? num(b) : str(b)]]) } as Table;
}

describe('dyadCodes: the kept coding of all rows, renumbered for subsets', () => {
  const rng = new Rng(7);
  it.each([
    ['text ids', false],
    ['numeric ids', true],
  ])('%s: every row, and random subsets, as coding their text gives', (_, numeric) => {
    for (let t = 0; t < 30; t++) {
      const n = 50 + Math.floor(rng.uniform() * 400);
      const tab = table(n, rng, numeric as boolean, t % 3 === 0);
      const all = Int32Array.from({ length: n }, (_, r) => r);
      const keep = t % 2 === 0 ? 0.5 : 0.95;
      const subsets = [all, all.filter(() => rng.uniform() < keep), all.filter((r) => r > 3), all.slice(0, n - 1), all.slice(1)];
      for (const rows of subsets) {
        let want: ReturnType<typeof byText> | Error;
        try {
          want = byText(tab, ['i', 'j'], rows);
        } catch (e) {
          want = e as Error;
        }
        if (want instanceof Error) {
          expect(() => dyadCodes(tab, ['i', 'j'], rows)).toThrow(want.message);
          continue;
        }
        const got = dyadCodes(tab, ['i', 'j'], rows);
        expect({ i: Array.from(got.i), j: Array.from(got.j), G: got.G, cities: got.cities }).toEqual(want);
      }
    }
  });
});
