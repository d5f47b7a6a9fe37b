/**
 * The variance kernels. An estimator hands over its bread (inverse information for β)
 * and its score rows (`VariancePieces`); every sandwich — HC, one- and two-way cluster,
 * dyadic — is built here from those two. Which kernel a variance type uses, its labels,
 * the columns it needs and its small-sample factors live in the registry
 * (`registry.ts`); the presets are documented in docs/contract.md §4.
 */
import { matmul, sandwich, symmetricEigen } from '../linalg/dense.ts';
import { accumulateCrossprod, unpackTriangle, weightedCrossprod } from '../linalg/crossprod.ts';

/** Score rows: row(r, out) writes the k-vector of observation r's score into out. */
export interface ScoreRows {
  n: number;
  k: number;
  row(r: number, out: Float64Array): void;
  /** set when every score row is s_r · x_r: lets the meats use the fast cross-product kernel */
  scalar?: { X: Float64Array; s: Float64Array };
}

/** Scores of the form s_r · x_r (GLMs, OLS). */
export function scalarTimesX(X: Float64Array, p: number, s: Float64Array): ScoreRows {
  return {
    n: s.length,
    k: p,
    scalar: { X, s },
    row(r, out) {
      const f = s[r];
      const o = r * p;
      for (let a = 0; a < p; a++) out[a] = f * X[o + a];
    },
  };
}

/** Score rows from a dense row-major n × k matrix. */
export function denseScores(U: Float64Array, n: number, k: number): ScoreRows {
  return {
    n,
    k,
    row(r, out) {
      const o = r * k;
      for (let a = 0; a < k; a++) out[a] = U[o + a];
    },
  };
}

export interface VariancePieces {
  k: number;
  n: number;
  /** sandwich bread, e.g. (X'WX)^{-1}; R's sandwich::bread / n */
  bread: Float64Array;
  /** the model-based variance (classical) */
  classical: Float64Array;
  /** inverse observed information (Stata's default); null when the estimator has none */
  oim: Float64Array | null;
  /** null for estimators that offer no sandwich (Firth, King–Zeng) */
  scores: ScoreRows | null;
}

/** Group codes 0..G-1 of each fitted row, for clustering. */
export interface Grouping {
  name: string;
  codes: Int32Array;
  G: number;
}

/** Σ_r u_r u_r' of score rows, computed once per ScoreRows object (several variances of one fit share it). */
const outers = new WeakMap<ScoreRows, Float64Array>();
export function outerOf(scores: ScoreRows): Float64Array {
  let outer = outers.get(scores);
  if (outer) return outer;
  const { n, k } = scores;
  if (scores.scalar) {
    // Σ u u' = X' diag(s²) X
    const { X, s } = scores.scalar;
    const s2 = new Float64Array(n);
    for (let r = 0; r < n; r++) s2[r] = s[r] * s[r];
    outer = weightedCrossprod(X, n, k, s2);
  } else {
    outer = new Float64Array(k * k);
    const u = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      scores.row(r, u);
      for (let a = 0; a < k; a++) {
        const ua = u[a];
        if (ua === 0) continue;
        for (let b = a; b < k; b++) outer[a * k + b] += ua * u[b];
      }
    }
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) outer[b * k + a] = outer[a * k + b];
  }
  outers.set(scores, outer);
  return outer;
}

/** Σ over groups of S_g S_g' for each grouping (S_g the sum of the score rows of group g), in one pass over the rows. */
export function meats(scores: ScoreRows, groupings: Int32Array[], Gs: number[]): Float64Array[] {
  const { n, k } = scores;
  const sums = Gs.map((G) => new Float64Array(G * k));
  if (scores.scalar) {
    const { X, s } = scores.scalar;
    for (let g = 0; g < groupings.length; g++) {
      const S = sums[g];
      const codes = groupings[g];
      for (let r = 0; r < n; r++) {
        const f = s[r];
        const o = codes[r] * k;
        const x = r * k;
        for (let a = 0; a < k; a++) S[o + a] += f * X[x + a];
      }
    }
  } else {
    const u = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      scores.row(r, u);
      for (let g = 0; g < groupings.length; g++) {
        const S = sums[g];
        const o = groupings[g][r] * k;
        for (let a = 0; a < k; a++) S[o + a] += u[a];
      }
    }
  }
  return sums.map((S, g) => weightedCrossprod(S, Gs[g], k, null));
}

/** intersections already made, by the two groupings' code arrays (permutation nulls recompute a two-way variance thousands of times on the same clusters) */
const intersections = new WeakMap<Int32Array, WeakMap<Int32Array, Grouping>>();

/**
 * Codes of the intersection of two groupings (distinct (a, b) pairs present). Typed-array
 * sort and binary search instead of a hash map: millions of dyads are millions of pairs.
 */
export function intersect(a: Grouping, b: Grouping): Grouping {
  let byB = intersections.get(a.codes);
  const known = byB?.get(b.codes);
  if (known && known.name === `${a.name}:${b.name}`) return known;
  const made = intersectCodes(a, b);
  if (!byB) intersections.set(a.codes, (byB = new WeakMap()));
  byB.set(b.codes, made);
  return made;
}

function intersectCodes(a: Grouping, b: Grouping): Grouping {
  const n = a.codes.length;
  const keys = new Float64Array(n);
  for (let r = 0; r < n; r++) keys[r] = a.codes[r] * b.G + b.codes[r];
  const sorted = keys.slice().sort();
  let G = 0;
  for (let r = 0; r < n; r++) if (r === 0 || sorted[r] !== sorted[r - 1]) sorted[G++] = sorted[r];
  const unique = sorted.subarray(0, G);
  const codes = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let lo = 0;
    let hi = G - 1;
    const k = keys[r];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (unique[mid] < k) lo = mid + 1;
      else hi = mid;
    }
    codes[r] = lo;
  }
  return { name: `${a.name}:${b.name}`, codes, G };
}

export function countPresent(i: Int32Array, j: Int32Array, G: number): number {
  const seen = new Uint8Array(G);
  for (let r = 0; r < i.length; r++) {
    seen[i[r]] = 1;
    seen[j[r]] = 1;
  }
  return seen.reduce((s, x) => s + x, 0);
}

/**
 * Aronow–Samii–Assenova dyadic-robust variance: B M B with
 * M = Σ_c S_c S_c' − Σ_p U_p U_p', S_c = Σ of u_r over rows containing city c, U_p = Σ of u_r
 * over the rows of pair p. With one row per pair (a year's dyad table) U_p = u_r: today's
 * dyadic meat. With a pair in several rows (a pair-year table) rows sharing a city are
 * dependent in any years, and the second sum removes the double count of the rows that share
 * both cities. Two passes over the rows: one sums the score rows into S_c, one forms the
 * second sum (with the cross-product kernel when each pair has one row and the scores are s_r · x_r).
 */
export function dyadicVcov(scores: ScoreRows, bread: Float64Array, i: Int32Array, j: Int32Array, G: number): Float64Array {
  const { n, k } = scores;
  // S_c: sum of the score rows of the dyads that contain city c (both ends of each dyad)
  const S = new Float64Array(G * k);
  const u = new Float64Array(k);
  for (let r = 0; r < n; r++) {
    scores.row(r, u);
    const oi = i[r] * k;
    const oj = j[r] * k;
    for (let a = 0; a < k; a++) {
      S[oi + a] += u[a];
      S[oj + a] += u[a];
    }
  }
  const M = weightedCrossprod(S, G, k, null);
  // minus Σ_p U_p U_p' over pairs: a pair's rows (one per year in a pair-year table) share both
  // cities and were counted twice above; with one row per pair, U_p is the row's score
  const pairs = pairCodesOf(i, j, G);
  let outer: Float64Array;
  if (pairs.P === n) outer = outerOf(scores);
  else outer = pairOuter(scores, pairs);
  for (let q = 0; q < k * k; q++) M[q] -= outer[q];
  return sandwich(bread, M, k);
}

/** Pairs per block of pairOuter: a multiple of four. */
export const PAIR_BLOCK = 1 << 14;

/**
 * Σ_p U_p U_p' over the pairs (U_p: the sum of the score rows of pair p, in row order), a block
 * of PAIR_BLOCK pairs at a time: U of every pair at once is P × k doubles (0.5 GB for a county
 * panel's 4 M pairs). The blocks go through the cross-product kernel in pair order, so the sums
 * are those of one call on all of U, bit for bit.
 */
export function pairOuter(scores: ScoreRows, pairs: { codes: Int32Array; P: number }): Float64Array {
  const { n, k } = scores;
  const { codes, P } = pairs;
  // each pair's rows in row order (a counting sort by pair code)
  const start = new Int32Array(P + 1);
  for (let r = 0; r < n; r++) start[codes[r] + 1]++;
  for (let q = 0; q < P; q++) start[q + 1] += start[q];
  const rows = new Int32Array(n);
  const next = start.slice(0, P);
  for (let r = 0; r < n; r++) rows[next[codes[r]]++] = r;
  const tri = new Float64Array((k * (k + 1)) / 2);
  const U = new Float64Array(Math.min(PAIR_BLOCK, P) * k);
  const u = new Float64Array(k);
  for (let p0 = 0; p0 < P; p0 += PAIR_BLOCK) {
    const p1 = Math.min(P, p0 + PAIR_BLOCK);
    U.fill(0);
    for (let q = p0; q < p1; q++) {
      const o = (q - p0) * k;
      for (let t = start[q]; t < start[q + 1]; t++) {
        scores.row(rows[t], u);
        for (let a = 0; a < k; a++) U[o + a] += u[a];
      }
    }
    accumulateCrossprod(tri, U, p1 - p0, k, null);
  }
  return unpackTriangle(tri, k);
}

/** pairCodes already made, by the code arrays (the models on one table share its dyad coding, fit-model.ts) */
const pairCodesMade = new WeakMap<Int32Array, { j: Int32Array; G: number; made: { codes: Int32Array; P: number } }>();
function pairCodesOf(i: Int32Array, j: Int32Array, G: number): { codes: Int32Array; P: number } {
  const known = pairCodesMade.get(i);
  if (known && known.j === j && known.G === G) return known.made;
  const made = pairCodes(i, j, G);
  pairCodesMade.set(i, { j, G, made });
  return made;
}

/** Dense codes of the unordered pairs {i, j} of the rows, and how many there are. */
export function pairCodes(i: Int32Array, j: Int32Array, G: number): { codes: Int32Array; P: number } {
  const codes = new Int32Array(i.length);
  let P = 0;
  if (G * G <= 64_000_000) {
    // a code per cell of the G × G pair grid (−1: not seen): no hashing
    const grid = new Int32Array(G * G).fill(-1);
    for (let r = 0; r < i.length; r++) {
      const key = Math.min(i[r], j[r]) * G + Math.max(i[r], j[r]);
      if (grid[key] < 0) grid[key] = P++;
      codes[r] = grid[key];
    }
    return { codes, P };
  }
  const index = new Map<number, number>();
  for (let r = 0; r < i.length; r++) {
    const key = Math.min(i[r], j[r]) * G + Math.max(i[r], j[r]);
    let c = index.get(key);
    if (c === undefined) index.set(key, (c = P++));
    codes[r] = c;
  }
  return { codes, P };
}

/** Eigenvalue check of a multi-way variance; repair (negative eigenvalues → 0) only on request. */
export function checkPsd(V: Float64Array, k: number, fix: boolean, label: string): { V: Float64Array; warnings: string[] } {
  const { values, vectors } = symmetricEigen(V, k);
  const maxAbs = Math.max(...Array.from(values, Math.abs));
  const min = values[0];
  if (!(min < -1e-12 * maxAbs)) return { V, warnings: [] };
  const neg = Array.from(values).filter((x) => x < -1e-12 * maxAbs).length;
  if (!fix) {
    return {
      V,
      warnings: [
        `the ${label} variance matrix is not positive semi-definite: smallest eigenvalue ${min.toPrecision(6)} (${neg} negative); standard errors may be unreliable (repair on request: --fix-psd, or fix_psd: true in a spec)`,
      ],
    };
  }
  const L = new Float64Array(k * k);
  for (let c = 0; c < k; c++) L[c * k + c] = Math.max(values[c], 0);
  const Qt = new Float64Array(k * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) Qt[c * k + r] = vectors[r * k + c];
  const fixed = matmul(matmul(vectors, L, k), Qt, k);
  return {
    V: fixed,
    warnings: [
      `the ${label} variance matrix was not positive semi-definite (smallest eigenvalue ${min.toPrecision(6)}); repaired on request by setting ${neg} negative eigenvalue${neg > 1 ? 's' : ''} to 0`,
    ],
  };
}
