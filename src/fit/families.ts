/**
 * The family registry: every model family tongban fits, once. An entry says how the
 * family is estimated (`estimate`: design → Estimate, from src/models/), what outcome it
 * takes, how many parts it has, whether its statistics are z or t, its names in tables
 * (zh/en), its ratio reading (OR/IRR), which expected outcomes its marginal effects
 * are taken of, the GLM family behind its per-row likelihood (for Vuong tests),
 * which comparisons apply to it, and which variance types it offers. Nothing outside
 * this file switches on a family's name. Adding a family = its model file + one entry
 * here (docs/architecture.md walks through it).
 */
import type { Design, DesignPart } from '../formula/design.ts';
import {
  firthEstimate,
  glmEstimate,
  glmInput,
  hurdleEstimate,
  negbinEstimate,
  olsEstimate,
  relogitEstimate,
  zinbEstimate,
  ztnbEstimate,
  type Estimate,
} from '../models/estimates.ts';
import { binomial, links, negbin, poisson, type Family, type Link } from '../models/family.ts';
import { HURDLE_MEANS, linkMean, ZINB_MEANS, ZTNB_MEANS, type MeanOutcome } from '../models/means.ts';
import { VCOV_TYPES, type SmallSampleRule, type VcovType } from '../vcov/registry.ts';

/** What the outcome must be: 0/1; a count ≥ 0; a count ≥ 1; any number. */
export type ResponseKind = 'binary' | 'count' | 'positive-count' | 'continuous';
export type Ratio = 'OR' | 'IRR';

export interface FamilyEntry {
  /** the name in tables and on the console */
  label: { zh: string; en: string };
  response: ResponseKind;
  /** 2: a count part and a zero part (formula `y ~ count terms | zero terms`) */
  parts: 1 | 2;
  /** test statistic of the coefficients: t with n − p degrees of freedom, or z */
  statistic: 'z' | 't';
  /** parameters counted in AIC/BIC and LR tests besides the coefficients (θ of NB models, σ of OLS) */
  auxParams: number;
  /** whether prior weights and offsets are supported */
  weightsAndOffsets: boolean;
  /** exp(β) reading of a single-part model (null: none) */
  ratio: Ratio | null;
  /** exp(β) reading of each part of a two-part model */
  partRatios: { count: Ratio; zero: Ratio } | null;
  /**
   * the expected outcomes whose marginal effects and predictions are offered (the first is the
   * model's own mean; a hurdle adds P(y > 0) and E[y | y > 0]); null: none
   */
  means: readonly MeanOutcome[] | null;
  /** McFadden's pseudo-R² from the deviances (null deviance at the same dispersion) */
  pseudoR2: boolean;
  /** the GLM family whose density gives the per-row log-likelihood from fitted means; null when the estimator keeps its own */
  density: ((theta: number | null) => Family) | null;
  /**
   * comparisons: the family this one nests at a boundary (NB: Poisson at α = 0), and the
   * families it is Vuong-tested against (names of other entries; checked when this module loads)
   */
  nestsAtBoundary: string | null;
  vuongAgainst: readonly string[];
  /** variance types this family's estimator supports */
  variances: readonly VcovType[];
  /** which small-sample rule the stata preset applies (see the variance registry) */
  smallSample: SmallSampleRule;
  estimate(design: Design): Estimate;
}

const first = (d: Design): [ReturnType<typeof glmInput>, DesignPart] => [glmInput(d, d.parts[0]), d.parts[0]];
const glm = (fam: () => Family) => (d: Design) => {
  const [inp, part] = first(d);
  return glmEstimate(inp, part, fam());
};
/** a 0/1 outcome through a binomial link: the link of its AMEs and of its per-row density */
const binaryThrough = (link: Link) =>
  ({ response: 'binary', means: linkMean(link), density: () => binomial(link) }) as const;
/** defaults shared by most entries; each entry states what differs */
const base = {
  parts: 1,
  statistic: 'z',
  auxParams: 0,
  weightsAndOffsets: true,
  ratio: null,
  partRatios: null,
  means: null,
  pseudoR2: true,
  density: null,
  nestsAtBoundary: null,
  vuongAgainst: [],
  variances: VCOV_TYPES,
  smallSample: 'ml',
} as const;

export const FAMILIES = {
  poisson: {
    ...base,
    label: { zh: '泊松', en: 'Poisson' },
    response: 'count',
    ratio: 'IRR',
    means: linkMean(links.log),
    density: () => poisson(),
    estimate: glm(poisson),
  },
  negbin: {
    ...base,
    label: { zh: '负二项', en: 'NB2' },
    response: 'count',
    auxParams: 1,
    ratio: 'IRR',
    means: linkMean(links.log),
    density: (theta) => negbin(theta!),
    nestsAtBoundary: 'poisson',
    estimate: (d) => negbinEstimate(...first(d)),
  },
  logit: {
    ...base,
    label: { zh: 'Logit', en: 'Logit' },
    ...binaryThrough(links.logit),
    ratio: 'OR',
    estimate: glm(() => binomial(links.logit)),
  },
  probit: {
    ...base,
    label: { zh: 'Probit', en: 'Probit' },
    ...binaryThrough(links.probit),
    estimate: glm(() => binomial(links.probit)),
  },
  cloglog: {
    ...base,
    label: { zh: 'Cloglog', en: 'Cloglog' },
    ...binaryThrough(links.cloglog),
    estimate: glm(() => binomial(links.cloglog)),
  },
  'firth-logit': {
    ...base,
    label: { zh: 'Firth logit', en: 'Firth logit' },
    ...binaryThrough(links.logit),
    ratio: 'OR',
    estimate: (d) => firthEstimate(...first(d)),
  },
  relogit: {
    ...base,
    label: { zh: '稀有事件 logit', en: 'Rare-events logit' },
    ...binaryThrough(links.logit),
    ratio: 'OR',
    estimate: (d) => relogitEstimate(...first(d)),
  },
  ztnb: {
    ...base,
    label: { zh: '零截断负二项', en: 'ZTNB' },
    response: 'positive-count',
    auxParams: 1,
    weightsAndOffsets: false,
    ratio: 'IRR',
    means: ZTNB_MEANS,
    pseudoR2: false,
    estimate: (d) => ztnbEstimate(...first(d)),
  },
  'hurdle-negbin': {
    ...base,
    label: { zh: '门槛负二项', en: 'Hurdle NB' },
    response: 'count',
    parts: 2,
    auxParams: 1,
    weightsAndOffsets: false,
    partRatios: { count: 'IRR', zero: 'OR' },
    means: HURDLE_MEANS,
    pseudoR2: false,
    estimate: (d) => hurdleEstimate(d, d.parts[0], d.parts[1] ?? d.parts[0]),
  },
  zinb: {
    ...base,
    label: { zh: '零膨胀负二项', en: 'ZINB' },
    response: 'count',
    parts: 2,
    auxParams: 1,
    weightsAndOffsets: false,
    partRatios: { count: 'IRR', zero: 'OR' },
    means: ZINB_MEANS,
    pseudoR2: false,
    vuongAgainst: ['negbin'],
    estimate: (d) => zinbEstimate(d, d.parts[0], d.parts[1] ?? d.parts[0]),
  },
  ols: {
    ...base,
    label: { zh: 'OLS', en: 'OLS' },
    response: 'continuous',
    statistic: 't',
    auxParams: 1,
    means: linkMean(links.identity),
    pseudoR2: false,
    smallSample: 'linear',
    estimate: (d) => olsEstimate(...first(d)),
  },
} satisfies Record<string, FamilyEntry>;

export type FamilyName = keyof typeof FAMILIES;
export const FAMILY_NAMES = Object.keys(FAMILIES) as [FamilyName, ...FamilyName[]];

/** The registry entry of a family (typed as the general entry). */
export const family = (name: FamilyName): FamilyEntry => FAMILIES[name];

/** Whether a text names a registered family. */
export const isFamilyName = (s: string): s is FamilyName => Object.hasOwn(FAMILIES, s);

for (const [name, f] of Object.entries(FAMILIES) as [string, FamilyEntry][]) {
  for (const other of [f.nestsAtBoundary, ...f.vuongAgainst]) {
    if (other !== null && !isFamilyName(other)) throw new Error(`family registry: ${name} refers to unknown family ${other}`);
  }
}
