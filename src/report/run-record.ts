/**
 * The run record: what the report stage needs besides the fits (spec labels, levels,
 * models, descriptives, cleaning report), saved as fits/_run.json so that
 * `tongban report` and `compare-years` can re-render without refitting.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CleaningReport } from '../data/clean.ts';
import type { FitResult } from '../fit/types.ts';
import type { DescriptiveRow } from './descriptives.ts';
import type { EffectRow, Prediction } from '../inference/effects.ts';
import type { CurveNullResult } from '../inference/curve-null.ts';
import type { Correlations, VifRow } from '../inference/collinearity.ts';
import type { QapResult } from '../inference/qap.ts';
import type { CityStats, NetworkSummary } from '../inference/network-stats.ts';
import type { WaldTest } from '../inference/wald-test.ts';
import type { Label } from '../specfile/schema.ts';
import type { ResolvedModel } from '../specfile/load.ts';
import type { Spec } from '../specfile/schema.ts';
import { z } from 'zod';
import { FAMILY_NAMES, type FamilyName } from '../fit/families.ts';
import { fitResultSchema } from '../fit/types.ts';
import { id, label, TABLE_FORMATS } from '../specfile/schema.ts';
import { InputError, UsageError } from '../util/errors.ts';
import { SSC_PRESETS, VCOV_TYPES, type VcovType } from '../vcov/registry.ts';
import type { SampleInfo } from '../data/dyads.ts';

export interface RunRecord {
  dataset: string;
  year: number;
  spec: {
    file: string;
    sha256: string;
    name: string;
    title: string | undefined;
    language: Spec['language'];
    stars: Spec['stars'];
    digits: number;
    statistics: Spec['statistics'];
    pseudo_r2: Spec['pseudo_r2'];
    /** the line under each coefficient (runs saved before this field: se) */
    cells?: Spec['cells'];
    /** table formats (runs saved before this field: all but docx) */
    outputs?: Spec['outputs'];
    /** the base map under the network map (absolute path) and its caption */
    map?: Spec['map'];
    /** PNG width and resolution (runs saved before this field: 16 cm, 300 dpi) */
    figures?: Spec['figures'];
    groups: Spec['groups'];
    /** the samples' labels, by id (those that have one) */
    sample_labels?: Record<string, Label>;
    levels: { id: string; label: Spec['levels'][number]['label']; models: string[] }[];
  };
  models: ResolvedModel[];
  /** average marginal effects by model id (models whose spec asks for them) */
  effects: Record<string, EffectRow[]>;
  /** VIFs of each one-part model's covariates, by model id (runs saved before: absent) */
  vif?: Record<string, VifRow[]>;
  /** variables of its level a model leaves out because they take one value in its sample, with the value, by model id (runs saved before: absent) */
  constant_omitted?: Record<string, Record<string, number>>;
  /** correlations of each level's main model's variables, by level id (runs saved before: absent) */
  correlations?: Record<string, Correlations & { model: string }>;
  /** predicted outcomes at values of a variable, by model id */
  predictions: Record<string, Prediction[]>;
  /** the spec's named Wald tests by model id */
  tests: Record<string, (WaldTest & { label: Label })[]>;
  /** QAP p-values by model id (models whose spec asks for them) */
  qap: Record<string, QapResult>;
  /** the spec's multiverse: every specification under every variance choice */
  multiverse?: MultiverseResult;
  /** a panel run (tongban panel --spec): the pair-year table's report */
  panel?: PanelReport;
  /** the cooperation network of the run's pairs (coop = 1), with every city's statistics and name */
  network: {
    summary: NetworkSummary;
    cities: (CityStats & { name: string | null; lon?: number | null; lat?: number | null })[];
    /** the cooperating pairs: positions in `cities` and the pair's items (runs saved before: absent) */
    ties?: [number, number, number | null][];
  } | null;
  descriptives: DescriptiveRow[];
  cleaning: CleaningReport & { sample: SampleInfo };
}

/** One specification under one variance choice. */
export interface MultiverseRow {
  /** 1, 2, … in expansion order (the same for its variance choices) */
  spec: number;
  /** the chosen alternative of every dimension, as text */
  choices: Record<string, string>;
  sample: string;
  family: FamilyName;
  vcov: VcovType;
  formula: string;
  /** the variable of interest of this specification */
  interest: string;
  /** AME of a one-SD change (null when skipped) */
  estimate: number | null;
  std_error: number | null;
  conf_low: number | null;
  conf_high: number | null;
  p_value: number | null;
  /** the SD of the variable of interest on the fitted rows */
  sd: number | null;
  n: number | null;
  aic: number | null;
  converged: boolean | null;
  /** why the specification was not fitted (null: fitted) */
  skipped: string | null;
}

export interface MultiverseResult {
  dimensions: string[];
  rows: MultiverseRow[];
  /** combinations left out by `exclude:` */
  excluded: number;
  /** the permutation test of the whole curve (`curve_null:` in the spec) */
  null?: CurveNullResult;
}

/** What `tongban panel` built: the risk sets by year and what was left out (pair_years_report.json). */
export interface PanelReport {
  years: number[];
  lag: 0 | 1;
  origin: number;
  /** the folder whose agreements give the signing dates */
  dates_from: number;
  by_year: { year: number; pairs_at_risk: number; events: number; pairs_dropped: number }[];
  signed_before_first_year: number;
  undated_pairs_left_out: number;
  /**
   * pairs an earlier year's agreements file dates differently from the latest file (or lists as
   * signed, undated, while the latest file's first date is after that year); the latest is used
   */
  date_disagreements: { year: number; pairs: number; examples: string[] }[];
  /** cities not in every year folder used (their pairs are dropped in the years they are missing) */
  cities_not_in_every_year: { city: string; missing_in: number[] }[];
}


const count = z.number().int().nonnegative();
const text = z.string().max(10_000);

/** The run record as tongban writes it, for reading it back: ids by the spec's pattern (they become file names), numbers as numbers. */
const runRecordSchema = z
  .object({
    dataset: text,
    year: z.number().int(),
    spec: z
      .object({
        file: text,
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        name: id,
        title: text.optional(),
        language: z.enum(['zh', 'en']),
        stars: z.tuple([z.number(), z.number(), z.number()]),
        digits: z.number().int().min(1).max(8),
        statistics: z.array(z.enum(['auc', 'pr_auc'])).default([]),
        pseudo_r2: z.enum(['same_theta', 'constant_only']).default('same_theta'),
        outputs: z.array(z.enum(TABLE_FORMATS)).optional(),
        cells: z.enum(['se', 'statistic', 'ci']).optional(),
        figures: z.object({ width_cm: z.number(), dpi: z.number() }).strict().optional(),
        map: z.object({ geojson: text, caption: label.optional() }).strict().optional(),
        groups: z.array(z.object({ id, label: label.optional(), variables: z.record(z.string(), label) }).strict()),
        sample_labels: z.record(id, label).optional(),
        levels: z.array(z.object({ id, label: label.optional(), models: z.array(id) }).strict()),
      })
      .strict(),
    models: z.array(
      z
        .object({
          id,
          level: id,
          label: label.optional(),
          main: z.boolean(),
          family: z.enum(FAMILY_NAMES),
          sample: id,
          formula: text,
          vcov: z.enum(VCOV_TYPES),
          cluster: z.array(text).optional(),
          dyad: z.tuple([text, text]).optional(),
          ssc: z.enum(SSC_PRESETS).optional(),
          fixPsd: z.boolean(),
          effects: z.array(z.enum(['ame'])).optional(),
          binary: z.array(text).optional(),
          tests: z.array(z.object({ label, hypothesis: text }).strict()).optional(),
          predict: z.array(z.object({ variable: text, values: z.array(z.number()), atmeans: z.boolean().optional() }).strict()).optional(),
          qap: z.object({ null: z.enum(['dsp', 'y']), reps: count, seed: z.number().int(), statistic: z.enum(['z', 'coef']) }).strict().optional(),
          where: text,
          line: count,
        })
        .strict(),
    ),
    effects: z
      .record(
        id,
        z.array(
          z
            .object({ term: text, estimate: z.number().nullable(), std_error: z.number().nullable(), statistic: z.number().nullable(), p_value: z.number().nullable(), conf_low: z.number().nullable(), conf_high: z.number().nullable(), effect: text, part: z.string().nullable() })
            .strict(),
        ),
      )
      .default({}),
    vif: z.record(id, z.array(z.object({ term: text, vif: z.number().nullable() }).strict())).optional(),
    constant_omitted: z.record(id, z.record(text, z.number())).optional(),
    correlations: z
      .record(id, z.object({ model: id, variables: z.array(text), n: count, r: z.array(z.array(z.number().nullable())), p: z.array(z.array(z.number().nullable())) }).strict())
      .optional(),
    predictions: z
      .record(id, z.array(z.object({ variable: text, at: z.number(), estimate: z.number(), std_error: z.number(), conf_low: z.number(), conf_high: z.number() }).strict()))
      .default({}),
    tests: z
      .record(
        id,
        z.array(
          z
            .object({
              label,
              hypothesis: text,
              df: count,
              statistic: z.number().nullable(),
              p_value: z.number().nullable(),
              f: z.object({ statistic: z.number().nullable(), df1: count, df2: count, p_value: z.number().nullable() }).strict().nullable(),
              vcov_type: text,
            })
            .strict(),
        ),
      )
      .default({}),
    qap: z
      .record(
        id,
        z
          .object({
            null: z.enum(['dsp', 'y']),
            statistic: z.enum(['z', 'coef']),
            reps: count,
            seed: z.number().int(),
            coefficients: z.array(z.object({ term: text, statistic: z.number().nullable(), p_two_sided: z.number().nullable(), p_greater: z.number().nullable(), p_less: z.number().nullable() }).strict()),
            warnings: z.array(text),
          })
          .strict(),
      )
      .default({}),
    multiverse: z.looseObject({ dimensions: z.array(text), rows: z.array(z.looseObject({ spec: count })), excluded: count }).optional(),
    panel: z.looseObject({ years: z.array(z.number().int()), by_year: z.array(z.looseObject({ year: z.number().int() })) }).optional(),
    network: z
      .object({
        summary: z
          .object({
            cities: count,
            ties: count,
            density: z.number(),
            mean_degree: z.number(),
            max_degree: count,
            degree_centralization: z.number(),
            transitivity: z.number().nullable(),
            assortativity: z.number().nullable(),
            components: count,
            component_sizes: z.array(count),
          })
          .strict(),
        cities: z.array(
          z
            .object({
              city: text,
              name: text.nullable(),
              degree: count,
              strength: z.number(),
              betweenness: z.number(),
              betweenness_normalized: z.number(),
              eigenvector: z.number(),
              closeness: z.number().nullable(),
              component: count,
              lon: z.number().nullable().optional(),
              lat: z.number().nullable().optional(),
            })
            .strict(),
        ),
        ties: z.array(z.tuple([count, count, z.number().nullable()])).optional(),
      })
      .strict()
      .nullable()
      .default(null),
    descriptives: z.array(z.object({ sample: id, variable: text, n: count, mean: z.number().nullable(), sd: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable() }).strict()),
    cleaning: z.looseObject({
      cities: count,
      agreement_rows: count,
      agreement_pairs: count,
      batches_merged: z.array(z.unknown()),
      reversed_rows: count,
      warnings: z.array(text),
      sample: z.looseObject({ cities: count, dyads: count, coop_dyads: count }),
    }),
  })
  .strict();

/** A JSON file of a fits folder, parsed and checked against its schema; problems name the file and the field. */
function readChecked<T>(path: string, schema: z.ZodType<T>, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError([{ file: path, expected: `${what} as JSON (${(e as Error).message})` }], `cannot read ${path}`);
  }
  const res = schema.safeParse(raw);
  if (!res.success) {
    throw new InputError(
      res.error.issues.slice(0, 20).map((i) => ({ file: path, column: i.path.join('.') || '(top level)', expected: `${what}: ${i.message}` })),
      `${path} is not a fit file tongban wrote (or it was edited)`,
    );
  }
  return res.data;
}

/** Reads the fits and run record that `tongban run` saved in a fits folder, checking both. */
export function readFits(dir: string): { record: RunRecord; fits: Map<string, FitResult> } {
  const recordPath = join(dir, '_run.json');
  if (!existsSync(recordPath)) throw new UsageError(`${dir} holds no _run.json: point --fits at the fits/ folder that tongban run wrote`);
  const record = readChecked(recordPath, runRecordSchema, 'the run record') as unknown as RunRecord;
  const fits = new Map<string, FitResult>();
  const present = new Set(readdirSync(dir));
  for (const m of record.models) {
    if (!present.has(`${m.id}.json`)) throw new UsageError(`${dir}: the fit of model ${m.id} (${m.id}.json) is missing`);
    fits.set(m.id, readChecked(join(dir, `${m.id}.json`), fitResultSchema, 'a fit') as FitResult);
  }
  for (const l of record.spec.levels) {
    for (const id of l.models) if (!fits.has(id)) throw new InputError([{ file: recordPath, column: `spec.levels.${l.id}`, value: id, expected: 'a model listed in models' }]);
  }
  return { record, fits };
}
