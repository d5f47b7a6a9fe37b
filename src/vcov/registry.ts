/**
 * The variance registry: every variance type tongban offers, once. An entry says what
 * the type is called (zh/en, short for a table's SE row and long for its notes), which
 * columns a request must name, its default small-sample preset, and how it is computed
 * from an estimator's `VariancePieces` (a sandwich refuses estimators without score rows). A request is
 * checked in `checkVcovRequest` and nowhere else (command line, spec files and
 * `fitModel` all call it). Adding a variance type = its kernel in vcov.ts + one entry
 * here (docs/architecture.md walks through it).
 */
import { sandwich, scale } from '../linalg/dense.ts';
import { UsageError } from '../util/errors.ts';
import { checkPsd, countPresent, dyadicVcov, intersect, meats, outerOf, type Grouping, type VariancePieces } from './vcov.ts';

export const SSC_PRESETS = ['r', 'stata', 'none'] as const;
export type Ssc = (typeof SSC_PRESETS)[number];

/**
 * How the `stata` preset scales a sandwich: Stata applies the (n−1)/(n−k) factor to
 * linear regression only ('linear'); for ML estimators it does not ('ml'). The family
 * registry says which rule a family follows.
 */
export type SmallSampleRule = 'ml' | 'linear';

/** What a variance computation gets besides the estimator's pieces. */
export interface VcovInputs {
  ssc?: Ssc;
  /** the family's small-sample rule (from the family registry) */
  rule: SmallSampleRule;
  /** cluster: one grouping; cluster2: two */
  clusters?: Grouping[];
  /** dyadic: the two city columns, coded on one shared set of cities */
  dyad?: { i: Int32Array; j: Int32Array; G: number; names: [string, string] };
  /** replace negative eigenvalues of a multi-way result by 0 (explicit request only) */
  fixPsd?: boolean;
}

export type VcovRequest = VcovInputs & { type: VcovType };

export interface VcovResult {
  V: Float64Array;
  /** a VcovType */
  type: string;
  ssc: Ssc | null;
  /** the overall factor applied (for cluster2: the one applied to the whole meat) */
  sscFactor: number | null;
  clusters: Record<string, number> | null;
  warnings: string[];
}

type Lang = 'zh' | 'en';

export interface VarianceType {
  /** short name for a table's SE row */
  short: Record<Lang, string>;
  /** the sentence of a table note; `clusters` lists the cluster counts, e.g. "cities 333" */
  note(lang: Lang, clusters: string): string;
  /** columns a request must name: none, one or two cluster columns, or the dyad's two city columns */
  needs: 'none' | 'cluster1' | 'cluster2' | 'dyad';
  /** the small-sample preset when the request names none; null: no small-sample factor */
  defaultSsc: Ssc | null;
  /** `ssc` is the request's preset, or this entry's default */
  compute(pieces: VariancePieces, req: VcovInputs, ssc: Ssc): VcovResult;
}

const gg = (G: number) => G / (G - 1);
const noScores = (type: string): never => {
  throw new UsageError(`--vcov ${type} is not available for this estimator (no score rows); use classical or oim`);
};
const atLeastTwo = (g: Grouping) => {
  if (g.G < 2) throw new UsageError(`--cluster ${g.name}: only ${g.G} cluster in the fitted rows; need at least 2`);
};
/** Cluster-robust variances are unreliable with few clusters (Cameron & Miller 2015: fewer than ~30–50). */
const FEW_CLUSTERS = 30;
const fewClusters = (gs: Grouping[]): string[] =>
  gs.filter((g) => g.G < FEW_CLUSTERS).map((g) => `only ${g.G} clusters in '${g.name}': cluster-robust standard errors are unreliable with fewer than about ${FEW_CLUSTERS}`);
const addScaled = (acc: Float64Array, m: Float64Array, f: number) => {
  for (let q = 0; q < acc.length; q++) acc[q] += f * m[q];
};

/** HC0/HC1: the sandwich with Σ u_r u_r' as meat. */
function hc(type: 'HC0' | 'HC1'): VarianceType['compute'] {
  return (pieces, req, ssc) => {
    const { n, k } = pieces;
    const outer = outerOf(pieces.scores ?? noScores(type));
    let f = 1;
    if (type === 'HC1') f = ssc === 'none' ? 1 : ssc === 'stata' && req.rule === 'ml' ? n / (n - 1) : n / (n - k);
    return { V: scale(sandwich(pieces.bread, outer, k), f), type, ssc: type === 'HC1' ? ssc : null, sscFactor: f, clusters: null, warnings: [] };
  };
}

export const VARIANCES = {
  classical: {
    short: { zh: '常规', en: 'Classical' },
    note: (lang) => (lang === 'zh' ? '常规标准误' : 'classical (model-based)'),
    needs: 'none',
    defaultSsc: null,
    compute: (pieces) => ({ V: pieces.classical, type: 'classical', ssc: null, sscFactor: null, clusters: null, warnings: [] }),
  },
  oim: {
    short: { zh: 'OIM', en: 'OIM' },
    note: (lang) => (lang === 'zh' ? '观测信息矩阵标准误' : 'observed information (OIM)'),
    needs: 'none',
    defaultSsc: null,
    compute: (pieces) => {
      if (!pieces.oim) throw new UsageError('--vcov oim is not available for this estimator');
      return { V: pieces.oim, type: 'oim', ssc: null, sscFactor: null, clusters: null, warnings: [] };
    },
  },
  HC0: {
    short: { zh: '稳健 HC0', en: 'Robust HC0' },
    note: (lang) => (lang === 'zh' ? '稳健标准误 HC0' : 'robust HC0'),
    needs: 'none',
    defaultSsc: null,
    compute: hc('HC0'),
  },
  HC1: {
    short: { zh: '稳健 HC1', en: 'Robust HC1' },
    note: (lang) => (lang === 'zh' ? '稳健标准误 HC1' : 'robust HC1'),
    needs: 'none',
    defaultSsc: 'r',
    compute: hc('HC1'),
  },
  cluster: {
    short: { zh: '聚类', en: 'Clustered' },
    note: (lang, cl) => (lang === 'zh' ? `聚类稳健标准误（${cl}）` : `clustered (${cl})`),
    needs: 'cluster1',
    defaultSsc: 'r',
    compute: (pieces, req, ssc) => {
      const { n, k } = pieces;
      const g = req.clusters![0];
      atLeastTwo(g);
      const groups = meats(pieces.scores ?? noScores('cluster'), [g.codes], [g.G]);
      const f = ssc === 'none' ? 1 : ssc === 'stata' && req.rule === 'ml' ? gg(g.G) : gg(g.G) * ((n - 1) / (n - k));
      return { V: scale(sandwich(pieces.bread, groups[0], k), f), type: 'cluster', ssc, sscFactor: f, clusters: { [g.name]: g.G }, warnings: fewClusters([g]) };
    },
  },
  cluster2: {
    short: { zh: '双向聚类', en: 'Two-way' },
    note: (lang, cl) => (lang === 'zh' ? `双向聚类标准误（${cl}）` : `two-way clustered (${cl})`),
    needs: 'cluster2',
    defaultSsc: 'r',
    compute: (pieces, req, ssc) => {
      const { n, k } = pieces;
      const [a, b] = req.clusters!;
      atLeastTwo(a);
      atLeastTwo(b);
      const ab = intersect(a, b);
      const scores = pieces.scores ?? noScores('cluster2');
      // when every row is its own (a, b) cell — a pair table clustered by its two cities — that meat is Σ u u'
      const groups = ab.G === n ? [...meats(scores, [a.codes, b.codes], [a.G, b.G]), outerOf(scores)] : meats(scores, [a.codes, b.codes, ab.codes], [a.G, b.G, ab.G]);
      const per = ssc === 'none' ? [1, 1, 1] : [gg(a.G), gg(b.G), ab.G > 1 ? gg(ab.G) : 1];
      const meat = new Float64Array(k * k);
      addScaled(meat, groups[0], per[0]);
      addScaled(meat, groups[1], per[1]);
      addScaled(meat, groups[2], -per[2]);
      const f = ssc === 'r' ? (n - 1) / (n - k) : 1;
      const psd = checkPsd(scale(sandwich(pieces.bread, meat, k), f), k, req.fixPsd ?? false, 'two-way cluster');
      return { V: psd.V, type: 'cluster2', ssc, sscFactor: f, clusters: { [a.name]: a.G, [b.name]: b.G, [ab.name]: ab.G }, warnings: [...fewClusters([a, b]), ...psd.warnings] };
    },
  },
  dyadic: {
    short: { zh: '二元组稳健', en: 'Dyadic' },
    note: (lang, cl) => (lang === 'zh' ? `二元组稳健标准误（Aronow 等 2015；${cl}）` : `dyadic-robust (Aronow et al. 2015; ${cl})`),
    needs: 'dyad',
    defaultSsc: 'none',
    compute: (pieces, req, ssc) => {
      const d = req.dyad!;
      const V = dyadicVcov(pieces.scores ?? noScores('dyadic'), pieces.bread, d.i, d.j, d.G);
      const present = countPresent(d.i, d.j, d.G);
      const f = ssc === 'none' ? 1 : gg(present);
      const psd = checkPsd(scale(V, f), pieces.k, req.fixPsd ?? false, 'dyadic');
      return { V: psd.V, type: 'dyadic', ssc, sscFactor: f, clusters: { cities: present }, warnings: psd.warnings };
    },
  },
} satisfies Record<string, VarianceType>;

export type VcovType = keyof typeof VARIANCES;
export const VCOV_TYPES = Object.keys(VARIANCES) as [VcovType, ...VcovType[]];

/** Whether a text names a registered variance type. */
export const isVcovType = (s: string): s is VcovType => Object.hasOwn(VARIANCES, s);

/** A request as a user states it: a type and the columns it names. */
export interface VcovChoice {
  type: VcovType;
  cluster?: string[];
  dyad?: [string, string];
}

/**
 * The one check of a variance request (before any data is read): the type is offered by
 * the family and names the columns it needs. Returns the columns a fitted row must have.
 */
export function checkVcovRequest(c: VcovChoice, family: { name: string; variances: readonly VcovType[] }): string[] {
  if (!family.variances.includes(c.type)) {
    throw new UsageError(`--vcov ${c.type} is not available for ${family.name}; use ${family.variances.join(' or ')}`);
  }
  const needs = VARIANCES[c.type].needs;
  const fail = (what: string): never => {
    throw new VcovRequestError(c.type, needs, `--vcov ${c.type} ${what}`);
  };
  if (needs === 'cluster1' && c.cluster?.length !== 1) fail(c.cluster?.length ? 'takes one --cluster column (cluster2 takes two)' : 'needs --cluster <col>');
  if (needs === 'cluster2' && c.cluster?.length !== 2) fail('takes two --cluster columns, e.g. --cluster i,j');
  if (needs === 'dyad' && !c.dyad) fail('needs --dyad <col_i>,<col_j>');
  return varianceIds(c);
}

/**
 * The id columns a variance reads (and a fitted row must have): its cluster columns, its dyad
 * columns, or none — a `cluster:` beside classical SEs (inherited through `like:`) is not read.
 * Unchecked: checkVcovRequest says when the columns a type needs are missing.
 */
export function varianceIds(c: VcovChoice): string[] {
  const needs = VARIANCES[c.type].needs;
  if (needs === 'none') return [];
  if (needs === 'dyad') return [...(c.dyad ?? [])];
  return [...(c.cluster ?? [])];
}

/** A variance request that lacks the columns its type needs (callers word it for their setting). */
export class VcovRequestError extends UsageError {
  constructor(
    readonly type: VcovType,
    readonly needs: VarianceType['needs'],
    message: string,
  ) {
    super(message);
  }
}

/** The columns a variance type reads by default on tongban's dyad table (i, j), if any. */
export function dyadTableDefaults(type: VcovType): Pick<VcovChoice, 'cluster' | 'dyad'> {
  const needs = VARIANCES[type].needs;
  if (needs === 'dyad') return { dyad: ['i', 'j'] };
  if (needs === 'cluster2') return { cluster: ['i', 'j'] };
  return {};
}

/** The variance of one parameter block, by the registry entry of the requested type. */
export function computeVcov(pieces: VariancePieces, req: VcovRequest): VcovResult {
  const entry: VarianceType = VARIANCES[req.type];
  return entry.compute(pieces, req, req.ssc ?? entry.defaultSsc ?? 'none');
}
