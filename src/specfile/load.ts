/**
 * Reading a spec file (YAML): parsed with line numbers, validated against the schema
 * (schema.ts), every model resolved (`like:` inheritance applied, defaults filled in,
 * its variance request checked by the variance registry). Errors name the file, the
 * line and the field.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import type { FamilyName } from '../fit/families.ts';
import { checkVcovRequest, dyadTableDefaults, isVcovType, VCOV_TYPES, VcovRequestError, type Ssc, type VcovType } from '../vcov/registry.ts';
import { family as familyEntry, FAMILY_NAMES, isFamilyName } from '../fit/families.ts';
import { InputError, UsageError, type Problem } from '../util/errors.ts';
import { specSchema, type Label, type modelSchema, type QapRequest, type Spec } from './schema.ts';
import { QAP_FAMILIES } from '../inference/qap-families.ts';

export interface ResolvedModel {
  id: string;
  level: string;
  label: Label | undefined;
  main: boolean;
  family: FamilyName;
  sample: string;
  formula: string;
  vcov: VcovType;
  cluster?: string[];
  dyad?: [string, string];
  ssc?: Ssc;
  /** repair a non-PSD multi-way variance (explicit request only) */
  fixPsd: boolean;
  /** average marginal effects asked for, and the variables taken as binary for them */
  effects?: 'ame'[];
  binary?: string[];
  /** named Wald tests (table rows) */
  tests?: { label: Label; hypothesis: string }[];
  /** predicted outcomes at values of a variable (a curve in the report) */
  predict?: { variable: string; values: number[]; atmeans?: boolean }[];
  /** QAP / MRQAP permutation p-values */
  qap?: QapRequest;
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
  /** an error at a field of the spec file, naming its line and the field */
  error(path: string[], value: string, expected: string): InputError;
  /** runs f; a UsageError it throws becomes an error at that field of the spec */
  atField<T>(path: string[], value: string, f: () => T | Promise<T>): Promise<T>;
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

/** In: a spec file's path. Out: the validated spec with every model resolved; errors name the line and field. */
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
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new InputError([{ file, expected: `a spec without runaway YAML aliases (${(e as Error).message})` }], `cannot read spec ${file}`);
  }
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
          i.code === 'unrecognized_keys' ? `no unknown fields (${i.keys.join(', ')})` : plainMessage(i.message);
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
    const base = resolve(e.m.like, [...seen, e.m.like]);
    const own = Object.fromEntries(Object.entries(e.m).filter(([, v]) => v !== undefined));
    // main, label and qap (permutations are costly) belong to the model itself, not to its like:
    return { ...base, ...own, main: e.m.main, label: e.m.label, qap: e.m.qap };
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
    const vcov = m.vcov ?? 'classical';
    // on tongban's dyad table the city columns are i and j unless the model names others
    const defaults = table !== undefined && table !== 'cities' ? dyadTableDefaults(vcov) : {};
    const cluster = m.cluster ?? defaults.cluster;
    const dyad = m.dyad ?? defaults.dyad;
    if (m.family) {
      try {
        checkVcovRequest({ type: vcov, cluster, dyad }, { name: m.family, variances: familyEntry(m.family).variances });
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        const what: Record<string, string> = {
          cluster1: 'a cluster: field with one column',
          cluster2: `a cluster: field with two columns (on a dyad sample it defaults to [i, j])`,
          dyad: 'a dyad: [col_i, col_j] field (on a dyad sample it defaults to [i, j])',
        };
        problems.push(problem([...path, 'vcov'], e instanceof VcovRequestError ? `${what[e.needs]} for vcov ${e.type}` : e.message, vcov));
      }
    }
    if (m.qap && m.family && !(QAP_FAMILIES as readonly string[]).includes(m.family)) {
      problems.push(problem([...path, 'qap'], `a family QAP refits (${QAP_FAMILIES.join(', ')}), not ${m.family}`));
    }
    models.push({
      id: mid,
      level: e.level,
      label: m.label,
      main: m.main ?? false,
      family: m.family ?? 'ols', // a placeholder only: a missing family is a problem above, so the spec is refused
      sample: m.sample ?? '',
      formula: formula ?? '',
      vcov,
      cluster,
      dyad,
      ssc: m.ssc,
      fixPsd: m.fix_psd ?? false,
      ...(m.effects?.length ? { effects: m.effects } : {}),
      ...(m.binary?.length ? { binary: m.binary } : {}),
      ...(m.tests?.length ? { tests: m.tests } : {}),
      ...(m.predict?.length ? { predict: m.predict } : {}),
      ...(m.qap ? { qap: m.qap } : {}),
      where: where(path),
      line: locate(doc, lc, file, path).line,
    });
  }
  const mv = spec.multiverse;
  if (mv) {
    const at = ['multiverse'];
    const samples = Object.keys(spec.samples);
    if (!spec.samples[mv.sample]) problems.push(problem([...at, 'sample'], `one of the samples (${samples.join(', ')})`, mv.sample));
    for (const [name, alts] of Object.entries(mv.dimensions)) {
      alts.forEach((a, k) => {
        const p = [...at, 'dimensions', name, k];
        if (name === 'sample' && (typeof a !== 'string' || !spec.samples[a])) problems.push(problem(p, `one of the samples (${samples.join(', ')})`, String(a)));
        if (name === 'family' && (typeof a !== 'string' || !isFamilyName(a))) problems.push(problem(p, `a family (${FAMILY_NAMES.join(', ')})`, String(a)));
        if (name === 'vcov' && (typeof a !== 'string' || !isVcovType(a))) problems.push(problem(p, `a variance type (${VCOV_TYPES.join(', ')})`, String(a)));
        if (name === mv.interest && typeof a !== 'string') problems.push(problem(p, 'one variable (the alternatives of the variable of interest are single measures)', JSON.stringify(a)));
      });
    }
    if (!Object.hasOwn(mv.dimensions, mv.interest) && !mv.terms.includes(mv.interest)) {
      problems.push(problem([...at, 'interest'], `a dimension whose alternatives measure the variable of interest (${Object.keys(mv.dimensions).join(', ')}) or one of the terms`, mv.interest));
    }
  }
  // a base map: a readable GeoJSON file, its path made absolute (relative to the spec)
  if (spec.map) {
    const path = isAbsolute(spec.map.geojson) ? spec.map.geojson : join(dirname(file), spec.map.geojson);
    const problemText = geojsonProblem(path);
    if (problemText) problems.push(problem(['map', 'geojson'], problemText, spec.map.geojson));
    else spec.map = { ...spec.map, geojson: resolvePath(path) };
  }
  if (problems.length) throw new InputError(problems, `invalid spec ${file}`);
  const lineOf = (path: (string | number)[]) => locate(doc, lc, file, path).line;
  const error = (path: string[], value: string, expected: string) =>
    new InputError([{ file, row: lineOf(path), rowLabel: 'line', column: path.join('.'), value, expected }], `invalid spec ${file}`);
  const atField = async <T>(path: string[], value: string, f: () => T | Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof UsageError) throw error(path, value, e.message);
      throw e;
    }
  };
  return { file, text, spec, models, where, lineOf, error, atField };
}

const GEOJSON_TYPES = new Set(['FeatureCollection', 'Feature', 'Polygon', 'MultiPolygon', 'LineString', 'MultiLineString', 'GeometryCollection']);

/** Why a file cannot serve as a base map (null when it can): it must be readable GeoJSON of shapes or lines. */
export function geojsonProblem(path: string): string | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return `a readable GeoJSON file (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `no file ${path}` : (e as Error).message}; a relative path is taken from the spec's folder)`;
  }
  let g: unknown;
  try {
    g = JSON.parse(text);
  } catch (e) {
    return `a GeoJSON file (${path} is not JSON: ${(e as Error).message})`;
  }
  const type = (g as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !GEOJSON_TYPES.has(type)) return `GeoJSON of shapes or lines (type ${[...GEOJSON_TYPES].join(', ')}; ${path} has type ${JSON.stringify(type ?? null)})`;
  return null;
}

/** A schema message in words a spec's author reads ("a number >= 72", "a whole number"), not the validator's. */
function plainMessage(m: string): string {
  const bound = /^Too (small|big): expected (number|string|array) to (?:be|have) ([<>]=?)\s*(\S+?)(?: (characters|items))?$/.exec(m);
  if (bound) {
    const [, , kind, op, n, unit] = bound;
    return kind === 'number' ? `a number ${op} ${n}` : `${kind === 'array' ? 'a list' : 'a text'} with ${op === '>=' ? 'at least' : op === '<=' ? 'at most' : op} ${n} ${(unit ?? (kind === 'array' ? 'items' : 'characters')).replace(/s$/, n === '1' ? '' : 's')}`;
  }
  const rest = m.replace(/^Invalid (input|option): (expected )?/, '');
  if (/^int, received number$/.test(rest)) return 'a whole number';
  return rest;
}
