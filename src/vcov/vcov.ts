/**
 * One variance layer for every estimator. An estimator hands over its bread
 * (inverse information for β) and its score rows; every sandwich — HC, one- and
 * two-way cluster, dyadic — is built here from those two, with the small-sample
 * presets of SPEC §4. A variance request is a value, validated once.
 */
import { matmul, sandwich, scale, symmetricEigen } from '../linalg/dense.ts';
import { UsageError } from '../util/errors.ts';
import { weightedCrossprod } from '../linalg/crossprod.ts';

export const VCOV_TYPES = ['classical', 'oim', 'HC0', 'HC1', 'cluster', 'cluster2', 'dyadic'] as const;
export type VcovType = (typeof VCOV_TYPES)[number];
export const SSC_PRESETS = ['r', 'stata', 'none'] as const;
export type Ssc = (typeof SSC_PRESETS)[number];

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
  /** small-sample rules differ for OLS under the stata preset */
  ols: boolean;
}

/** Group codes 0..G-1 of each fitted row, for clustering. */
export interface Grouping {
  name: string;
  codes: Int32Array;
  G: number;
}

export interface VcovRequest {
  type: VcovType;
  ssc?: Ssc;
  /** cluster: one grouping; cluster2: two */
  clusters?: Grouping[];
  /** dyadic: the two city columns, coded on one shared set of cities */
  dyad?: { i: Int32Array; j: Int32Array; G: number; names: [string, string] };
  /** replace negative eigenvalues of a multi-way result by 0 (explicit request only) */
  fixPsd?: boolean;
}

export interface VcovResult {
  V: Float64Array;
  type: VcovType;
  ssc: Ssc | null;
  /** the overall factor applied (for cluster2: the one applied to the whole meat) */
  sscFactor: number | null;
  clusters: Record<string, number> | null;
  warnings: string[];
}

/** Σ over groups of S_g S_g' for each grouping, and Σ_r u_r u_r', in one pass over the rows. */
function meats(scores: ScoreRows, groupings: Int32Array[], Gs: number[]): { outer: Float64Array; groups: Float64Array[] } {
  const { n, k } = scores;
  const u = new Float64Array(k);
  const sums = Gs.map((G) => new Float64Array(G * k));
  let outer: Float64Array;
  if (scores.scalar) {
    // Σ u u' = X' diag(s²) X, and group sums of s_r x_r
    const { X, s } = scores.scalar;
    outer = weightedCrossprod(X, n, k, s.map((v) => v * v));
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
    outer = new Float64Array(k * k);
    for (let r = 0; r < n; r++) {
      scores.row(r, u);
      for (let a = 0; a < k; a++) {
        const ua = u[a];
        if (ua === 0) continue;
        for (let b = a; b < k; b++) outer[a * k + b] += ua * u[b];
      }
      for (let g = 0; g < groupings.length; g++) {
        const S = sums[g];
        const o = groupings[g][r] * k;
        for (let a = 0; a < k; a++) S[o + a] += u[a];
      }
    }
    for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) outer[b * k + a] = outer[a * k + b];
  }
  const groups = sums.map((S, g) => weightedCrossprod(S, Gs[g], k, null));
  return { outer, groups };
}

/**
 * Codes of the intersection of two groupings (distinct (a, b) pairs present). Typed-array
 * sort and binary search instead of a hash map: millions of dyads are millions of pairs.
 */
export function intersect(a: Grouping, b: Grouping): Grouping {
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

const addScaled = (acc: Float64Array, m: Float64Array, f: number) => {
  for (let q = 0; q < acc.length; q++) acc[q] += f * m[q];
};

export function computeVcov(pieces: VariancePieces, req: VcovRequest): VcovResult {
  const { n, k, bread } = pieces;
  const scores = (): ScoreRows => {
    if (!pieces.scores) throw new UsageError(`--vcov ${req.type} is not available for this estimator (no score rows); use classical or oim`);
    return pieces.scores;
  };
  const warnings: string[] = [];
  const gg = (G: number) => G / (G - 1);
  const adjK = (n - 1) / (n - k);
  const ssc: Ssc = req.ssc ?? (req.type === 'dyadic' ? 'none' : 'r');
  switch (req.type) {
    case 'classical':
      return { V: pieces.classical, type: req.type, ssc: null, sscFactor: null, clusters: null, warnings };
    case 'oim':
      if (!pieces.oim) throw new UsageError('--vcov oim is not available for this estimator');
      return { V: pieces.oim, type: req.type, ssc: null, sscFactor: null, clusters: null, warnings };
    case 'HC0':
    case 'HC1': {
      const { outer } = meats(scores(), [], []);
      let f = 1;
      if (req.type === 'HC1') f = ssc === 'none' ? 1 : ssc === 'stata' && !pieces.ols ? n / (n - 1) : n / (n - k);
      return {
        V: scale(sandwich(bread, outer, k), f),
        type: req.type,
        ssc: req.type === 'HC1' ? ssc : null,
        sscFactor: f,
        clusters: null,
        warnings,
      };
    }
    case 'cluster': {
      const g = req.clusters?.[0];
      if (!g || req.clusters!.length !== 1) throw new UsageError('--vcov cluster needs one --cluster column');
      if (g.G < 2) throw new UsageError(`--cluster ${g.name}: only ${g.G} cluster in the fitted rows; need at least 2`);
      const { groups } = meats(scores(), [g.codes], [g.G]);
      const f = ssc === 'none' ? 1 : ssc === 'stata' && !pieces.ols ? gg(g.G) : gg(g.G) * adjK;
      return { V: scale(sandwich(bread, groups[0], k), f), type: req.type, ssc, sscFactor: f, clusters: { [g.name]: g.G }, warnings };
    }
    case 'cluster2': {
      const cl = req.clusters;
      if (!cl || cl.length !== 2) throw new UsageError('--vcov cluster2 needs two --cluster columns, e.g. --cluster i,j');
      const [a, b] = cl;
      for (const g of cl) if (g.G < 2) throw new UsageError(`--cluster ${g.name}: only ${g.G} cluster in the fitted rows; need at least 2`);
      const ab = intersect(a, b);
      const { groups } = meats(scores(), [a.codes, b.codes, ab.codes], [a.G, b.G, ab.G]);
      const per = ssc === 'none' ? [1, 1, 1] : [gg(a.G), gg(b.G), ab.G > 1 ? gg(ab.G) : 1];
      const meat = new Float64Array(k * k);
      addScaled(meat, groups[0], per[0]);
      addScaled(meat, groups[1], per[1]);
      addScaled(meat, groups[2], -per[2]);
      const f = ssc === 'r' ? adjK : 1;
      const V = scale(sandwich(bread, meat, k), f);
      const psd = checkPsd(V, k, req.fixPsd ?? false, 'two-way cluster');
      warnings.push(...psd.warnings);
      return { V: psd.V, type: req.type, ssc, sscFactor: f, clusters: { [a.name]: a.G, [b.name]: b.G, [ab.name]: ab.G }, warnings };
    }
    case 'dyadic': {
      const d = req.dyad;
      if (!d) throw new UsageError('--vcov dyadic needs --dyad <col_i>,<col_j>');
      const V = dyadicVcov(scores(), bread, d.i, d.j, d.G);
      const present = countPresent(d.i, d.j, d.G);
      const f = ssc === 'none' ? 1 : gg(present);
      const Vs = scale(V, f);
      const psd = checkPsd(Vs, k, req.fixPsd ?? false, 'dyadic');
      warnings.push(...psd.warnings);
      return { V: psd.V, type: req.type, ssc, sscFactor: f, clusters: { cities: present }, warnings };
    }
  }
}

function countPresent(i: Int32Array, j: Int32Array, G: number): number {
  const seen = new Uint8Array(G);
  for (let r = 0; r < i.length; r++) {
    seen[i[r]] = 1;
    seen[j[r]] = 1;
  }
  return seen.reduce((s, x) => s + x, 0);
}

/**
 * Aronow–Samii–Assenova dyadic-robust variance: B M B with
 * M = Σ_c S_c S_c' − Σ_d u_d u_d', S_c = Σ of u_d over dyads containing city c. One pass.
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
  const { outer } = meats(scores, [], []);
  for (let q = 0; q < k * k; q++) M[q] -= outer[q];
  return sandwich(bread, M, k);
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
