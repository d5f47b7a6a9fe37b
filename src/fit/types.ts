/**
 * What a fit is: `FitResult`, the machine-readable fit of docs/contract.md §5 (written by
 * `tongban fit --json` and as fits/<model>.json), and `ModelFit`, the result plus what
 * effects and comparisons need (design, estimate, variances).
 */
import type { Design } from '../formula/design.ts';
import type { Table } from '../data/table.ts';
import type { CoefRow } from '../inference/wald.ts';
import type { Estimate } from '../models/estimates.ts';
import type { VcovResult } from '../vcov/registry.ts';
import { z } from 'zod';
import { FAMILY_NAMES, type FamilyName } from './families.ts';
import { VCOV_TYPES } from '../vcov/registry.ts';

/** Version of the fit JSON shape; raised whenever a field is added, renamed or changes meaning. */
export const FIT_SCHEMA_VERSION = 2;

const num = z.number().nullable();
const coefRow = z.object({ term: z.string(), estimate: num, std_error: num, statistic: num, p_value: num, conf_low: num, conf_high: num }).strict();

/** The fit JSON as tongban writes it, for reading fits back (`tongban report --fits`): checked, never trusted. */
export const fitResultSchema = z
  .object({
    schema_version: z.union([z.literal(1), z.literal(FIT_SCHEMA_VERSION)]),
    family: z.enum(FAMILY_NAMES),
    link: z.string(),
    formula: z.string(),
    n: z.number().int().nonnegative(),
    df_residual: num,
    converged: z.boolean(),
    iterations: z.number().int().nonnegative(),
    vcov_type: z.enum(VCOV_TYPES),
    ssc: z.string().nullable(),
    ssc_factor: num,
    clusters: z.record(z.string(), z.number()).nullable(),
    n_dropped: z.number().int().nonnegative(),
    warnings: z.array(z.string()),
    coefficients: z.array(coefRow),
    loglik: num,
    aic: num,
    bic: num,
    deviance: num,
    null_deviance: num,
    theta: num,
    theta_se: num,
    alpha: num,
    parts: z.object({ count: z.array(coefRow), zero: z.array(coefRow) }).strict().nullable(),
    auc: num.optional(),
    pr_auc: num.optional(),
    loglik_null_constant: num.optional(),
  })
  .strict();

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
  /** binary models: area under the ROC curve and under the precision–recall curve (average precision); null otherwise (schema 2) */
  auc: number | null;
  pr_auc: number | null;
  /** NB: log-likelihood of the constant-only NB with its own θ (for Stata's McFadden R²); null otherwise (schema 2) */
  loglik_null_constant: number | null;
}

/** A fitted model: the JSON result plus what effects and comparisons need. */
export interface ModelFit {
  result: FitResult;
  /** the data the model was fitted on (marginal effects re-evaluate its terms) */
  table: Table;
  design: Design;
  estimate: Estimate;
  /** parameters behind the log-likelihood (coefficients, and θ or σ): AIC, BIC, LR tests */
  parameters: number;
  /** one per estimate block */
  vcovs: VcovResult[];
  /** the first block's variance (single-part models: the model's) */
  vcov: VcovResult;
  /**
   * The variance of all blocks' parameters as one vector (blocks in order), for quantities
   * that combine the parts of a hurdle model (marginal effects on E[y]). Robust types use the
   * score rows of both parts on every row, so the cross-part blocks are there; the classical
   * variance is block-diagonal. Computed on first use; single-block models: `vcov`.
   */
  jointVcov(): VcovResult;
}
