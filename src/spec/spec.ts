/**
 * Model specification files (YAML), validated with zod. Errors name the file, the line
 * and the field. `loadSpec` returns the spec with every model resolved (`like:`
 * inheritance applied, defaults filled in), ready for the run stage.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { FAMILIES } from '../fit.ts';
import { SSC_PRESETS, VCOV_TYPES } from '../vcov/vcov.ts';
import { InputError, type Problem } from '../util/errors.ts';

const id = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, { message: 'an id of letters, digits and _ starting with a letter' });
const label = z.union([z.string(), z.object({ zh: z.string().optional(), en: z.string().optional() }).strict()]);

const modelSchema = z
  .object({
    id,
    label: label.optional(),
    main: z.boolean().optional(),
    like: id.optional(),
    family: z.enum(FAMILIES).optional(),
    sample: id.optional(),
    formula: z.string().optional(),
    outcome: z.string().optional(),
    terms: z.array(z.string()).optional(),
    zero_terms: z.array(z.string()).optional(),
    vcov: z.enum(VCOV_TYPES).optional(),
    cluster: z.array(z.string()).min(1).max(2).optional(),
    dyad: z.tuple([z.string(), z.string()]).optional(),
    ssc: z.enum(SSC_PRESETS).optional(),
    fix_psd: z.boolean().optional(),
  })
  .strict();

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
          table: z.enum(['cities', 'dyads']),
          subset: z.string().optional(),
          provinces: z.array(z.string()).min(1).optional(),
        })
        .strict(),
    ),
    levels: z.array(z.object({ id, label: label.optional(), models: z.array(modelSchema).min(1) }).strict()).min(1),
  })
  .strict();

export type SpecInput = z.input<typeof specSchema>;
export type Spec = z.output<typeof specSchema>;
export type Label = z.output<typeof label>;

export interface ResolvedModel {
  id: string;
  level: string;
  label: Label | undefined;
  main: boolean;
  family: (typeof FAMILIES)[number];
  sample: string;
  formula: string;
  vcov: (typeof VCOV_TYPES)[number];
  cluster?: string[];
  dyad?: [string, string];
  ssc?: (typeof SSC_PRESETS)[number];
  /** repair a non-PSD multi-way variance (explicit request only) */
  fixPsd: boolean;
  /** where the model is defined: "file:line", and the line alone */
  where: string;
  line: number;
}

export interface LoadedSpec {
  file: string;
  text: string;
  spec: Spec;
  models: ResolvedModel[];
  /** "file:line" of a path in the document, for later errors (unknown variables, …) */
  where(path: (string | number)[]): string;
  /** the line of a path in the document */
  lineOf(path: (string | number)[]): number;
}

export function labelText(l: Label | undefined, lang: 'zh' | 'en', fallback: string): string {
  if (l === undefined) return fallback;
  if (typeof l === 'string') return l;
  return l[lang] ?? l.en ?? l.zh ?? fallback;
}

function locate(doc: Document, lc: LineCounter, file: string, path: (string | number)[]): { line: number; where: string } {
  // the deepest node that exists on the path
  for (let k = path.length; k >= 0; k--) {
    const node = doc.getIn(path.slice(0, k), true);
    if (isNode(node) && node.range) {
      const { line } = lc.linePos(node.range[0]);
      return { line, where: `${file}:${line}` };
    }
  }
  return { line: 1, where: `${file}:1` };
}

export function loadSpec(file: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError([{ file, expected: `a readable spec file (${(e as Error).message})` }]);
  }
  return parseSpec(text, file);
}

export function parseSpec(text: string, file: string): LoadedSpec {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new InputError(
      doc.errors.map((e) => ({ file, row: lc.linePos(e.pos[0]).line, rowLabel: 'line' as const, expected: `valid YAML (${e.message.split('\n')[0]})` })),
      `cannot read spec ${file}`,
    );
  }
  const raw = doc.toJS();
  const res = specSchema.safeParse(raw);
  const problem = (path: (string | number)[], expected: string, value?: unknown): Problem => ({
    file,
    row: locate(doc, lc, file, path).line,
    rowLabel: 'line',
    column: path.join('.') || '(top level)',
    value: value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value),
    expected,
  });
  if (!res.success) {
    throw new InputError(
      res.error.issues.map((i) => {
        const path = i.path as (string | number)[];
        const value = path.length ? doc.getIn(path) : undefined;
        const msg =
          i.code === 'unrecognized_keys' ? `no unknown fields (${i.keys.join(', ')})` : i.message.replace(/^Invalid (input|option): (expected )?/, '');
        return problem(path, msg, isNode(value) ? undefined : value);
      }),
      `invalid spec ${file}`,
    );
  }
  const spec = res.data;
  const where = (path: (string | number)[]) => locate(doc, lc, file, path).where;
  const problems: Problem[] = [];
  const byId = new Map<string, { m: z.output<typeof modelSchema>; path: (string | number)[]; level: string }>();
  spec.levels.forEach((lv, li) =>
    lv.models.forEach((m, mi) => {
      const path = ['levels', li, 'models', mi];
      if (byId.has(m.id)) problems.push(problem([...path, 'id'], `a model id used once (also at ${where(byId.get(m.id)!.path)})`, m.id));
      byId.set(m.id, { m, path, level: lv.id });
    }),
  );
  const resolve = (mid: string, seen: string[]): z.output<typeof modelSchema> => {
    const e = byId.get(mid)!;
    if (!e.m.like) return e.m;
    if (seen.includes(e.m.like)) {
      problems.push(problem([...e.path, 'like'], `no cycle of like: (${[...seen, e.m.like].join(' -> ')})`, e.m.like));
      return e.m;
    }
    if (!byId.has(e.m.like)) {
      problems.push(problem([...e.path, 'like'], `the id of another model (known: ${[...byId.keys()].join(', ')})`, e.m.like));
      return e.m;
    }
    const base = resolve(e.m.like, [...seen, mid]);
    const own = Object.fromEntries(Object.entries(e.m).filter(([, v]) => v !== undefined));
    return { ...base, ...own, main: e.m.main, label: e.m.label };
  };
  const models: ResolvedModel[] = [];
  for (const [mid, e] of byId) {
    const m = resolve(mid, [mid]);
    const path = e.path;
    if (!m.family) problems.push(problem([...path], 'a family (directly or through like:)'));
    if (!m.sample) problems.push(problem([...path], 'a sample (directly or through like:)'));
    else if (!spec.samples[m.sample]) {
      problems.push(problem([...path, 'sample'], `one of the samples (${Object.keys(spec.samples).join(', ')})`, m.sample));
    }
    let formula = m.formula;
    if (!formula) {
      if (!m.outcome || !m.terms?.length) problems.push(problem([...path], 'a formula, or an outcome with terms'));
      else {
        formula = `${m.outcome} ~ ${m.terms.join(' + ')}`;
        if (m.zero_terms?.length) formula += ` | ${m.zero_terms.join(' + ')}`;
      }
    }
    const table = m.sample ? spec.samples[m.sample]?.table : undefined;
    let vcov = m.vcov ?? 'classical';
    let cluster = m.cluster;
    let dyad = m.dyad;
    if (vcov === 'dyadic' && !dyad) {
      if (table === 'dyads') dyad = ['i', 'j'];
      else problems.push(problem([...path, 'vcov'], 'dyadic variance on a dyad sample (or a dyad: [col_i, col_j] field)', vcov));
    }
    if (vcov === 'cluster2' && !cluster && table === 'dyads') cluster = ['i', 'j'];
    if ((vcov === 'cluster' || vcov === 'cluster2') && !cluster) {
      problems.push(problem([...path, 'vcov'], `a cluster: field for ${vcov}`, vcov));
      vcov = 'classical';
    }
    models.push({
      id: mid,
      level: e.level,
      label: m.label,
      main: m.main ?? false,
      family: m.family ?? 'ols',
      sample: m.sample ?? '',
      formula: formula ?? '',
      vcov,
      cluster,
      dyad,
      ssc: m.ssc,
      fixPsd: m.fix_psd ?? false,
      where: where(path),
      line: locate(doc, lc, file, path).line,
    });
  }
  if (problems.length) throw new InputError(problems, `invalid spec ${file}`);
  return { file, text, spec, models, where, lineOf: (path) => locate(doc, lc, file, path).line };
}
