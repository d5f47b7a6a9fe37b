/**
 * "Did you mean …?" for names a user types: variables, families, variance types, options.
 * Known synonyms from Stata and R first (nbreg → negbin, robust → HC1), then the closest
 * candidate by edit distance (fastest-levenshtein), if it is close enough to be a typo.
 */
import { distance } from 'fastest-levenshtein';

/** Names researchers bring from Stata and R, and what tongban calls them. */
const SYNONYMS: Record<string, string> = {
  nbreg: 'negbin',
  nb: 'negbin',
  'glm.nb': 'negbin',
  nb2: 'negbin',
  logistic: 'logit',
  binomial: 'logit',
  regress: 'ols',
  reg: 'ols',
  lm: 'ols',
  linear: 'ols',
  hurdle: 'hurdle-negbin',
  firth: 'firth-logit',
  brglm: 'firth-logit',
  zeroinfl: 'zinb',
  robust: 'HC1',
  hc0: 'HC0',
  hc1: 'HC1',
  hc: 'HC1',
  cl: 'cluster',
  vcovcl: 'cluster',
  twoway: 'cluster2',
  'two-way': 'cluster2',
  dyad: 'dyadic',
  oim: 'oim',
  'negative-binomial': 'negbin',
  negativebinomial: 'negbin',
  gaussian: 'ols',
  sandwich: 'HC1',
  'cluster-robust': 'cluster',
  clustered: 'cluster',
  'dyadic-robust': 'dyadic',
  stat: 'statistic',
};

/** Names of methods tongban does not offer, which edit distance would turn into a different one. */
const NOT_OFFERED = new Set(['hc2', 'hc3', 'hc4', 'hc4m', 'hc5', 'ztp', 'zip', 'zinb-poisson', 'hurdle-poisson', 'tobit', 'gamma', 'quasipoisson']);

/** The candidate the user probably meant, or null. */
export function closest(word: string, candidates: readonly string[]): string | null {
  const syn = SYNONYMS[word.toLowerCase()];
  if (syn && candidates.includes(syn)) return syn;
  if (NOT_OFFERED.has(word.toLowerCase())) return null;
  const lower = candidates.find((c) => c.toLowerCase() === word.toLowerCase());
  if (lower) return lower;
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // a typo: at most a third of the word wrong (two edits allowed: a swapped pair of letters)
  return best !== null && bestD <= Math.max(2, Math.floor(word.length / 3)) && bestD < word.length ? best : null;
}

/** " (did you mean 'x'?)" or "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c ? ` (did you mean '${c}'?)` : '';
}
