/**
 * GLM families and links as R defines them (including R's clamping near 0 and 1),
 * plus what the observed information needs (d²μ/dη²).
 */
import gammaln from '@stdlib/math-base-special-gammaln';
import normalQuantile from '@stdlib/stats-base-dists-normal-quantile';
import { binomialLogDensity, plogis } from '../util/math.ts';
import { phi } from '../util/phi.ts';

const EPS = 2.220446049250313e-16;
export const INV_SQRT_2PI = 0.3989422804014327;
export const PROBIT_THRESH = 8.125890664701906; // -qnorm(.Machine$double.eps)

export interface Link {
  name: 'logit' | 'probit' | 'cloglog' | 'log' | 'identity';
  fun(mu: number): number;
  inv(eta: number): number;
  /** dμ/dη */
  muEta(eta: number): number;
  /** d²μ/dη² (for the observed information) */
  muEta2(eta: number): number;
}

export const links: Record<Link['name'], Link> = {
  logit: {
    name: 'logit',
    fun: (mu) => Math.log(mu / (1 - mu)),
    inv: (eta) => {
      const t = eta < -30 ? EPS : eta > 30 ? 1 / EPS : Math.exp(eta);
      return t / (1 + t);
    },
    muEta: (eta) => {
      const a = Math.abs(eta);
      if (a > 30) return EPS;
      const e = Math.exp(-a);
      return e / ((1 + e) * (1 + e));
    },
    muEta2: (eta) => {
      const mu = plogis(eta);
      return mu * (1 - mu) * (1 - 2 * mu);
    },
  },
  probit: {
    name: 'probit',
    fun: (mu) => normalQuantile(mu, 0, 1),
    inv: (eta) => {
      const e = Math.min(Math.max(eta, -PROBIT_THRESH), PROBIT_THRESH);
      return phi(e);
    },
    muEta: (eta) => Math.max(INV_SQRT_2PI * Math.exp(-0.5 * eta * eta), EPS),
    muEta2: (eta) => -eta * INV_SQRT_2PI * Math.exp(-0.5 * eta * eta),
  },
  cloglog: {
    name: 'cloglog',
    fun: (mu) => Math.log(-Math.log(1 - mu)),
    inv: (eta) => Math.max(Math.min(-Math.expm1(-Math.exp(eta)), 1 - EPS), EPS),
    muEta: (eta) => {
      const e = Math.min(eta, 700);
      return Math.max(Math.exp(e) * Math.exp(-Math.exp(e)), EPS);
    },
    muEta2: (eta) => {
      const e = Math.exp(eta);
      return e * Math.exp(-e) * (1 - e);
    },
  },
  log: {
    name: 'log',
    fun: Math.log,
    inv: (eta) => Math.max(Math.exp(eta), EPS),
    muEta: (eta) => Math.max(Math.exp(eta), EPS),
    muEta2: (eta) => Math.exp(eta),
  },
  identity: {
    name: 'identity',
    fun: (mu) => mu,
    inv: (eta) => eta,
    muEta: () => 1,
    muEta2: () => 0,
  },
};

export interface Family {
  name: 'binomial' | 'poisson' | 'negbin';
  link: Link;
  /** NB2 size; Infinity for other families */
  theta: number;
  variance(mu: number): number;
  /** dV/dμ */
  varianceDeriv(mu: number): number;
  /** unit deviance d(y, μ) (times the prior weight outside) */
  devResid(y: number, mu: number): number;
  /** log density of one observation */
  logDensity(y: number, mu: number): number;
  /** R's mustart */
  muStart(y: number, w: number): number;
}

const ylogy = (y: number, mu: number) => (y > 0 ? y * Math.log(y / mu) : 0);

export function binomial(link: Link): Family {
  return {
    name: 'binomial',
    link,
    theta: Infinity,
    variance: (mu) => mu * (1 - mu),
    varianceDeriv: (mu) => 1 - 2 * mu,
    devResid: (y, mu) => 2 * (ylogy(y, mu) + ylogy(1 - y, 1 - mu)),
    logDensity: binomialLogDensity,
    muStart: (y, w) => (w * y + 0.5) / (w + 1),
  };
}

export function poisson(): Family {
  return {
    name: 'poisson',
    link: links.log,
    theta: Infinity,
    variance: (mu) => mu,
    varianceDeriv: () => 1,
    devResid: (y, mu) => 2 * (ylogy(y, mu) - (y - mu)),
    logDensity: (y, mu) => (y === 0 ? -mu : y * Math.log(mu) - mu - gammaln(y + 1)),
    muStart: (y) => y + 0.1,
  };
}

/** NB2 with size theta: Var = μ + μ²/θ (MASS::negative.binomial). */
export function negbin(theta: number): Family {
  return {
    name: 'negbin',
    link: links.log,
    theta,
    variance: (mu) => mu + (mu * mu) / theta,
    varianceDeriv: (mu) => 1 + (2 * mu) / theta,
    devResid: (y, mu) => 2 * (ylogy(y, mu) - (y + theta) * Math.log((y + theta) / (mu + theta))),
    logDensity: (y, mu) =>
      gammaln(theta + y) - gammaln(theta) - gammaln(y + 1) + theta * Math.log(theta) +
      (y > 0 ? y * Math.log(mu) : 0) - (theta + y) * Math.log(theta + mu),
    muStart: (y) => y + 0.1,
  };
}

/** What a worker thread needs to rebuild a family (functions do not cross threads). */
export interface FamilyKey {
  name: Family['name'];
  link: Link['name'];
  theta: number;
}

export const familyKey = (f: Family): FamilyKey => ({ name: f.name, link: f.link.name, theta: f.theta });

/** The family of a FamilyKey: the same constructors, so the same arithmetic. */
export function familyFromKey(d: FamilyKey): Family {
  const f = d.name === 'binomial' ? binomial(links[d.link]) : d.name === 'poisson' ? poisson() : negbin(d.theta);
  if (f.link.name !== d.link) throw new Error(`internal: no ${d.name} family with the ${d.link} link`);
  return f;
}

/**
 * The IRLS working quantities for all rows at once: μ, working weight w = pw μ'²/V and
 * working residual (y − μ)/μ'; returns the deviance. One tight loop per family/link
 * (no per-row dynamic dispatch), the hot spot of every GLM fit. `from`/`to` restrict it to a
 * range of rows (the deviance is then of those rows), and `devRow` receives each row's term
 * of the deviance, for a caller that sums the rows of two threads in row order.
 */
export function workingValues(
  family: Family,
  eta: Float64Array,
  y: Float64Array,
  pw: Float64Array | null,
  mu: Float64Array,
  w: Float64Array,
  res: Float64Array,
  from = 0,
  to = eta.length,
  devRow: Float64Array | null = null,
): number {
  let dev = 0;
  const key = `${family.name}/${family.link.name}`;
  if (key === 'binomial/logit') {
    for (let r = from; r < to; r++) {
      const e = eta[r];
      let m: number;
      let d: number;
      if (e < -30) {
        m = EPS / (1 + EPS);
        d = EPS;
      } else if (e > 30) {
        m = 1 / (1 + EPS);
        d = EPS;
      } else {
        const t = Math.exp(-Math.abs(e));
        const s = 1 / (1 + t);
        m = e >= 0 ? s : t * s;
        d = t * s * s;
      }
      mu[r] = m;
      const yr = y[r];
      const p = pw ? pw[r] : 1;
      const v = m * (1 - m);
      w[r] = (p * d * d) / v;
      res[r] = (yr - m) / d;
      const dr = p * 2 * (yr === 1 ? -Math.log(m) : yr === 0 ? -Math.log1p(-m) : ylogy(yr, m) + ylogy(1 - yr, 1 - m));
      dev += dr;
      if (devRow) devRow[r] = dr;
    }
    return dev;
  }
  if (key === 'poisson/log' || key === 'negbin/log') {
    const theta = family.theta;
    const isNb = family.name === 'negbin';
    for (let r = from; r < to; r++) {
      const m = Math.max(Math.exp(eta[r]), EPS);
      mu[r] = m;
      const yr = y[r];
      const p = pw ? pw[r] : 1;
      const v = isNb ? m + (m * m) / theta : m;
      w[r] = (p * m * m) / v;
      res[r] = (yr - m) / m;
      const dr = p * (isNb ? 2 * (ylogy(yr, m) - (yr + theta) * Math.log((yr + theta) / (m + theta))) : 2 * (ylogy(yr, m) - (yr - m)));
      dev += dr;
      if (devRow) devRow[r] = dr;
    }
    return dev;
  }
  if (key === 'binomial/probit') {
    // links.probit's inv and muEta, and the binomial deviance, inline (a probit fit's hot loop)
    for (let r = from; r < to; r++) {
      const e = eta[r];
      const m = phi(Math.min(Math.max(e, -PROBIT_THRESH), PROBIT_THRESH));
      mu[r] = m;
      const d = Math.max(INV_SQRT_2PI * Math.exp(-0.5 * e * e), EPS);
      const yr = y[r];
      const p = pw ? pw[r] : 1;
      w[r] = (p * d * d) / (m * (1 - m));
      res[r] = (yr - m) / d;
      const dr = p * 2 * (ylogy(yr, m) + ylogy(1 - yr, 1 - m));
      dev += dr;
      if (devRow) devRow[r] = dr;
    }
    return dev;
  }
  const link = family.link;
  for (let r = from; r < to; r++) {
    const e = eta[r];
    const m = link.inv(e);
    mu[r] = m;
    const d = link.muEta(e);
    const p = pw ? pw[r] : 1;
    w[r] = (p * d * d) / family.variance(m);
    res[r] = (y[r] - m) / d;
    const dr = p * family.devResid(y[r], m);
    dev += dr;
    if (devRow) devRow[r] = dr;
  }
  return dev;
}
