/**
 * What a fit is: `FitResult`, the machine-readable fit of docs/contract.md §5 (written by
 * `tongban fit --json` and as fits/<model>.json), and `ModelFit`, the result plus what
 * effects and comparisons need (design, estimate, variances).
 */
import type { Design } from '../formula/design.ts';
import type { CoefRow } from '../inference/wald.ts';
import type { Estimate } from '../models/estimates.ts';
import type { VcovResult } from '../vcov/registry.ts';
import type { FamilyName } from './families.ts';

/** Version of the fit JSON shape; raised whenever a field is added, renamed or changes meaning. */
export const FIT_SCHEMA_VERSION = 1;

export interface FitResult {
  schema_version: number;
  family: FamilyName;
  link: string;
  formula: string;
  n: number;
  df_residual: number;
  converged: boolean;
  iterations: number;
  vcov_type: string;
  ssc: string | null;
  ssc_factor: number | null;
  clusters: Record<string, number> | null;
  n_dropped: number;
  warnings: string[];
  coefficients: CoefRow[];
  loglik: number;
  aic: number;
  bic: number;
  deviance: number | null;
  null_deviance: number | null;
  theta: number | null;
  theta_se: number | null;
  alpha: number | null;
  parts: { count: CoefRow[]; zero: CoefRow[] } | null;
}

/** A fitted model: the JSON result plus what effects and comparisons need. */
export interface ModelFit {
  result: FitResult;
  design: Design;
  estimate: Estimate;
  /** parameters behind the log-likelihood (coefficients, and θ or σ): AIC, BIC, LR tests */
  parameters: number;
  /** one per estimate block */
  vcovs: VcovResult[];
  /** the first block's variance (single-part models: the model's) */
  vcov: VcovResult;
}
