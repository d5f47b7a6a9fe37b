/** Small scalar helpers shared by the estimators, effects and the simulator. */

/** The logistic function 1 / (1 + e^−x) (R's plogis). */
export const plogis = (x: number): number => 1 / (1 + Math.exp(-x));

/** Log density of a binomial observation y ∈ [0, 1] with mean μ (y·log μ + (1 − y)·log(1 − μ); exact at 0 and 1). */
export const binomialLogDensity = (y: number, mu: number): number =>
  y === 1 ? Math.log(mu) : y === 0 ? Math.log1p(-mu) : y * Math.log(mu) + (1 - y) * Math.log1p(-mu);
