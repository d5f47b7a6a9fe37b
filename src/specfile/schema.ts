/**
 * The one spec-file schema: every field a spec file may hold is declared, validated and
 * described here (docs/spec-files.md is the user's page for it). Later features add
 * their fields to this file — a per-model block to `modelSchema`, a top-level block to
 * `specSchema` — and the loader (load.ts) resolves them. Family and variance names come
 * from their registries.
 */
import { z } from 'zod';
import { FAMILY_NAMES } from '../fit/families.ts';
import { SSC_PRESETS, VCOV_TYPES } from '../vcov/registry.ts';

/** ids of models, samples, levels, groups and derived variables */
export const id = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'an id of letters, digits and _ starting with a letter' });
export const label = z.union([z.string(), z.object({ zh: z.string().optional(), en: z.string().optional() }).strict()]);

/** A model's QAP request: the null (dsp: double semi-partialling; y: permute the outcome), permutations, seed, statistic. */
export const qapSchema = z.preprocess(
  // YAML reads the key `null` as the null value, which arrives as the key "": it is the field null
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && '' in v && !('null' in v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k === '' ? 'null' : k, x])) : v),
  z
    .object({
      null: z.enum(['dsp', 'y']).default('dsp'),
      reps: z.number().int().positive().default(1000),
      seed: z.number().int().default(1),
      statistic: z.enum(['z', 'coef']).default('z'),
    })
    .strict(),
);
export type QapRequest = z.output<typeof qapSchema>;

export const modelSchema = z
  .object({
    id,
    label: label.optional(),
    main: z.boolean().optional(),
    like: id.optional(),
    family: z.enum(FAMILY_NAMES).optional(),
    sample: id.optional(),
    formula: z.string().optional(),
    outcome: z.string().optional(),
    terms: z.array(z.string()).optional(),
    zero_terms: z.array(z.string()).optional(),
    vcov: z.enum(VCOV_TYPES).optional(),
    cluster: z.array(z.string()).min(1).optional(),
    dyad: z.tuple([z.string(), z.string()]).optional(),
    ssc: z.enum(SSC_PRESETS).optional(),
    fix_psd: z.boolean().optional(),
    /** effects reported besides the coefficients: average marginal effects (a table and a plot per level) */
    effects: z.array(z.enum(['ame'])).optional(),
    /** 0/1 variables whose AME is the discrete change 0 → 1 (Stata's i.x) */
    binary: z.array(z.string()).optional(),
    /** predicted outcomes at values of a variable (margins, at(); `atmeans: true` for the other variables at their means), drawn as a curve in the report */
    predict: z.array(z.object({ variable: z.string(), values: z.array(z.number()).min(2), atmeans: z.boolean().optional() }).strict()).optional(),
    /** named Wald tests with the model's variance, shown in the table's bottom rows */
    tests: z.array(z.object({ label, hypothesis: z.string().min(1) }).strict()).optional(),
    /** QAP / MRQAP permutation p-values (a line under each SE); needs a complete pair table */
    qap: qapSchema.optional(),
  })
  .strict();

/** The formats a table can be written in: Markdown, CSV, LaTeX, HTML and Word. */
export const TABLE_FORMATS = ['md', 'csv', 'tex', 'html', 'docx'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** An alternative of a multiverse dimension: a term, a list of terms ([] = none), or a sample/family/vcov name. */
const alternative = z.union([z.string().min(1), z.array(z.string().min(1))]);

/**
 * A multiverse (specification curve): a base model and named choice dimensions whose product
 * is fitted. Dimensions named `sample`, `family` and `vcov` choose those settings; any other
 * dimension's alternatives are terms. `interest` names the variable of interest, or a dimension
 * whose alternatives are alternative measures of it.
 */
export const multiverseSchema = z
  .object({
    sample: id,
    outcome: z.string().min(1),
    family: z.enum(FAMILY_NAMES).default('logit'),
    vcov: z.enum(VCOV_TYPES).default('classical'),
    interest: z.string().min(1),
    /** terms in every specification */
    terms: z.array(z.string().min(1)).default([]),
    dimensions: z.record(id, z.array(alternative).min(1, { message: 'at least one alternative' })),
    /** combinations to leave out: each entry names a choice per dimension */
    exclude: z.array(z.record(id, alternative)).default([]),
    /** most specifications before the run is refused (raise it on purpose) */
    limit: z.number().int().positive().default(1000),
    /** the permutation test of the whole curve under the null of no effect (inference/curve-null.ts) */
    curve_null: z
      .object({
        reps: z.number().int().positive(),
        seed: z.number().int().default(1),
        /** a point counts as significant below this p-value */
        alpha: z.number().gt(0).lt(1).default(0.05),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Multiverse = z.output<typeof multiverseSchema>;

export const specSchema = z
  .object({
    name: id,
    title: z.string().optional(),
    language: z.enum(['zh', 'en']).default('en'),
    stars: z
      .tuple([z.number(), z.number(), z.number()])
      .refine(([a, b, c]) => a > b && b > c && c > 0 && a < 1, { message: 'three decreasing p-value thresholds, e.g. [0.1, 0.05, 0.01]' })
      .default([0.1, 0.05, 0.01]),
    digits: z.number().int().min(1).max(8).default(3),
    /** extra rows at the bottom of the regression tables: auc, pr_auc (binary models) */
    statistics: z.array(z.enum(['auc', 'pr_auc'])).default([]),
    /** McFadden R² of NB models: null model at the same θ (glm.nb) or constant-only with its own θ (Stata) */
    pseudo_r2: z.enum(['same_theta', 'constant_only']).default('same_theta'),
    /** the line under each coefficient in the regression tables: se (default), statistic (z or t) or ci (95% interval) */
    cells: z.enum(['se', 'statistic', 'ci']).default('se'),
    /** the formats every table is written in (default: all) */
    outputs: z.array(z.enum(TABLE_FORMATS)).min(1).default([...TABLE_FORMATS]),
    /**
     * a base map under the network map: a GeoJSON file (path relative to the spec; e.g. an officially
     * approved map) and a caption line for it (e.g. its approval number 审图号); tongban ships no borders
     */
    map: z.object({ geojson: z.string().min(1), caption: label.optional() }).strict().optional(),
    /** the PNG figures beside the SVGs: physical width (cm) and resolution (dpi) */
    figures: z
      .object({ width_cm: z.number().min(2).max(60).default(16), dpi: z.number().int().min(72).max(1200).default(300) })
      .strict()
      .default({ width_cm: 16, dpi: 300 }),
    monadic: z.array(z.string()).optional(),
    derived: z
      .object({ cities: z.record(id, z.string()).optional(), dyads: z.record(id, z.string()).optional() })
      .strict()
      .default({}),
    groups: z
      .array(z.object({ id, label: label.optional(), variables: z.record(z.string(), label) }).strict())
      .default([]),
    samples: z.record(
      id,
      z
        .object({
          /** pair_years, pair_years_stacked: the panel tables, in `tongban panel --spec` runs */
          table: z.enum(['cities', 'dyads', 'pair_years', 'pair_years_stacked']),
          /** the sample's name in tables (descriptives); default its id */
          label: label.optional(),
          subset: z.string().optional(),
          provinces: z.array(z.string()).min(1).optional(),
        })
        .strict(),
    ),
    levels: z.array(z.object({ id, label: label.optional(), models: z.array(modelSchema).min(1) }).strict()).default([]),
    multiverse: multiverseSchema.optional(),
  })
  .strict()
  .refine((s) => s.levels.length > 0 || s.multiverse, { message: 'levels (with models) or a multiverse', path: ['levels'] });

export type Spec = z.output<typeof specSchema>;
export type Label = z.output<typeof label>;

export function labelText(l: Label | undefined, lang: 'zh' | 'en', fallback: string): string {
  if (l === undefined) return fallback;
  if (typeof l === 'string') return l;
  return l[lang] ?? l.en ?? l.zh ?? fallback;
}

