/**
 * Cleaning a year folder (docs/data-format.md): read it, validate every file with the zod
 * cell schemas, merge agreement batches, derive the city covariates, and describe
 * what was done in a cleaning report. Nothing is written here: src/stages/clean.ts and
 * src/stages/dyads.ts write the files.
 */
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ProblemList, InputError } from '../util/errors.ts';
import { readCsvRaw, rowNumber, rawToTable, type RawCsv } from './csv.ts';
import type { Encoding } from './csv-columns.ts';
import {
  agreementsColumns,
  citiesColumns,
  flowsColumns,
  regionsColumns,
  type ColumnRule,
} from './schemas.ts';
import { makeTable, numColumn, strColumn, type Column, type Table } from './table.ts';

export interface MergedAgreement {
  /** city indices (into the cities table), with ids[a] < ids[b] */
  a: number;
  b: number;
  items: number;
  /** earliest known date, '' when no row of the pair is dated */
  firstSigned: string;
  /** spreadsheet rows of agreements.csv that make up this pair */
  rows: number[];
}

export interface CleaningReport {
  input: string;
  files: { file: string; present: boolean; rows: number }[];
  cities: number;
  agreement_rows: number;
  agreement_pairs: number;
  batches_merged: { city_a: string; city_b: string; rows: number[]; items: number; first_signed: string }[];
  reversed_rows: number;
  flow_rows: number;
  region_memberships: number;
  regions: string[];
  derived: string[];
  warnings: string[];
}

export interface CleanData {
  cities: Table;
  /** city ids in input order (index = row of `cities`) */
  ids: string[];
  agreements: MergedAgreement[];
  flows: { origin: Int32Array; destination: Int32Array; flow: Float64Array } | null;
  regions: { city: Int32Array; region: Int32Array; names: string[] } | null;
  report: CleaningReport;
}

interface Validated {
  text: Map<string, string[]>;
  num: Map<string, Float64Array>;
}

/** Checks columns and every cell against the rules; collects all problems. */
function validate(raw: RawCsv, rules: ColumnRule[], problems: ProblemList): Validated {
  const text = new Map<string, string[]>();
  const num = new Map<string, Float64Array>();
  for (const rule of rules) {
    const c = raw.header.indexOf(rule.name);
    if (c < 0) {
      if (rule.required) {
        problems.add({
          file: raw.file,
          row: 1,
          column: rule.name,
          expected: `a column '${rule.name}' (columns found: ${raw.header.join(', ')})`,
        });
      }
      continue;
    }
    const outText: string[] = new Array(raw.rows.length);
    let outNum: Float64Array | null = null;
    // ids and counts repeat a lot in large files: parse each distinct text once
    const cache = new Map<string, ReturnType<typeof rule.schema.safeParse>>();
    for (let k = 0; k < raw.rows.length; k++) {
      const cell = raw.rows[k][c] ?? '';
      let res = cache.get(cell);
      if (res === undefined) {
        res = rule.schema.safeParse(cell);
        if (cache.size < 1_000_000) cache.set(cell, res);
      }
      if (!res.success) {
        problems.add({
          file: raw.file,
          row: rowNumber(k),
          column: rule.name,
          value: cell,
          expected: res.error.issues[0]?.message ?? 'a valid value',
        });
        continue;
      }
      if (typeof res.data === 'number') {
        outNum ??= new Float64Array(raw.rows.length);
        outNum[k] = res.data;
      } else {
        outText[k] = res.data as string;
      }
    }
    if (outNum) num.set(rule.name, outNum);
    else text.set(rule.name, outText);
  }
  return { text, num };
}

/**
 * A year folder's file: its path when it is a readable regular file, null when there is
 * nothing by that name (optional files), and an error for anything else — a dangling or
 * looping symlink, a folder, a device, a file that cannot be read, or one larger than a
 * table can be held in memory — so a broken file never counts as "no flows".
 */
function inputFile(dir: string, name: string, required: boolean): string | null {
  const p = join(dir, name);
  let link;
  try {
    link = lstatSync(p);
  } catch {
    if (required) throw new InputError([{ file: p, expected: 'this required file to exist' }]);
    return null;
  }
  let st;
  try {
    st = statSync(p);
  } catch (e) {
    throw new InputError([{ file: p, expected: `a readable file (${link.isSymbolicLink() ? 'a symbolic link to nothing, or a loop of links' : (e as Error).message})` }]);
  }
  if (!st.isFile()) throw new InputError([{ file: p, expected: `a regular file (this is ${st.isDirectory() ? 'a folder' : 'a device or other special file'})` }]);
  try {
    accessSync(p, constants.R_OK);
  } catch (e) {
    throw new InputError([{ file: p, expected: `a readable file (${(e as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (e as Error).message})` }]);
  }
  return p;
}

/**
 * In: a year folder (cities.csv, agreements.csv, optional flows.csv and regions.csv).
 * Out: the validated city table with derived covariates, merged agreements, flows,
 * regions and the cleaning report. Throws an InputError listing every problem.
 */
export function cleanYear(inputDir: string, encoding: Encoding = 'utf8'): CleanData {
  const citiesPath = inputFile(inputDir, 'cities.csv', true)!;
  const agreementsPath = inputFile(inputDir, 'agreements.csv', true)!;
  const flowsPath = inputFile(inputDir, 'flows.csv', false);
  const regionsPath = inputFile(inputDir, 'regions.csv', false);
  const warnings: string[] = [];
  const problems = new ProblemList();

  // ---- cities
  const citiesRaw = readCsvRaw(citiesPath, { encoding });
  const cv = validate(citiesRaw, citiesColumns, problems);
  const ids = cv.text.get('city_id') ?? [];
  const index = new Map<string, number>();
  ids.forEach((id, k) => {
    if (id === undefined) return;
    const prev = index.get(id);
    if (prev !== undefined) {
      problems.add({
        file: citiesPath,
        row: rowNumber(k),
        column: 'city_id',
        value: id,
        expected: `a unique city id (already on row ${rowNumber(prev)})`,
      });
    } else index.set(id, k);
  });

  // ---- agreements
  const agrRaw = readCsvRaw(agreementsPath, { allowHeaderOnly: true, encoding });
  const av = validate(agrRaw, agreementsColumns, problems);
  const lookup = (raw: RawCsv, col: string, values: string[] | undefined, k: number): number => {
    const id = values?.[k];
    if (id === undefined) return -1;
    const c = index.get(id);
    if (c === undefined && ids.length) {
      problems.add({ file: raw.file, row: rowNumber(k), column: col, value: id, expected: 'a city_id listed in cities.csv' });
      return -1;
    }
    return c ?? -1;
  };
  const pairs = new Map<number, MergedAgreement>();
  let reversed = 0;
  const nCity = ids.length;
  const aCol = av.text.get('city_a');
  const bCol = av.text.get('city_b');
  const itemsCol = av.num.get('items');
  const signedCol = av.text.get('signed');
  for (let k = 0; k < agrRaw.rows.length; k++) {
    let a = lookup(agrRaw, 'city_a', aCol, k);
    let b = lookup(agrRaw, 'city_b', bCol, k);
    if (aCol?.[k] !== undefined && aCol[k] === bCol?.[k]) {
      problems.add({
        file: agreementsPath,
        row: rowNumber(k),
        column: 'city_b',
        value: bCol[k],
        expected: 'a city different from city_a (a city cannot sign with itself)',
      });
      continue;
    }
    if (a < 0 || b < 0 || !itemsCol || Number.isNaN(itemsCol[k])) continue;
    if (ids[a] > ids[b]) {
      [a, b] = [b, a];
      reversed++;
    }
    const key = a * nCity + b;
    const signed = signedCol?.[k] ?? '';
    const m = pairs.get(key);
    if (!m) pairs.set(key, { a, b, items: itemsCol[k], firstSigned: signed, rows: [rowNumber(k)] });
    else {
      m.items += itemsCol[k];
      if (signed !== '' && (m.firstSigned === '' || signed < m.firstSigned)) m.firstSigned = signed;
      m.rows.push(rowNumber(k));
    }
  }

  // ---- flows (optional)
  let flows: CleanData['flows'] = null;
  let flowRows = 0;
  if (flowsPath) {
    const fr = readCsvRaw(flowsPath, { allowHeaderOnly: true, encoding });
    const fv = validate(fr, flowsColumns, problems);
    const o = new Int32Array(fr.rows.length);
    const d = new Int32Array(fr.rows.length);
    const f = fv.num.get('flow') ?? new Float64Array(fr.rows.length);
    // duplicate origin -> destination rows: a bitmap over city pairs (a Map for very large N)
    const bitmap = nCity <= 8000 ? new Uint8Array(nCity * nCity) : null;
    const seen = new Map<number, number>();
    const firstRow = (key: number, upTo: number) => {
      for (let k = 0; k < upTo; k++) if (o[k] * nCity + d[k] === key) return k;
      return -1;
    };
    const oc = fv.text.get('origin');
    const dc = fv.text.get('destination');
    for (let k = 0; k < fr.rows.length; k++) {
      o[k] = lookup(fr, 'origin', oc, k);
      d[k] = lookup(fr, 'destination', dc, k);
      if (o[k] < 0 || d[k] < 0) continue;
      if (o[k] === d[k]) {
        problems.add({
          file: flowsPath,
          row: rowNumber(k),
          column: 'destination',
          value: dc![k],
          expected: 'a city different from origin (flows are between two cities)',
        });
        continue;
      }
      const key = o[k] * nCity + d[k];
      let prev: number | undefined;
      if (bitmap) {
        if (bitmap[key]) prev = firstRow(key, k);
        else bitmap[key] = 1;
      } else {
        prev = seen.get(key);
        if (prev === undefined) seen.set(key, k);
      }
      if (prev !== undefined) {
        problems.add({
          file: flowsPath,
          row: rowNumber(k),
          column: 'origin',
          value: `${oc![k]} -> ${dc![k]}`,
          expected: `one row per origin -> destination (already on row ${rowNumber(prev)})`,
        });
      }
    }
    flows = { origin: o, destination: d, flow: f };
    flowRows = fr.rows.length;
  }

  // ---- regions (optional)
  let regions: CleanData['regions'] = null;
  let regionNames: string[] = [];
  if (regionsPath) {
    const rr = readCsvRaw(regionsPath, { allowHeaderOnly: true, encoding });
    const rv = validate(rr, regionsColumns, problems);
    const cityIdx = new Int32Array(rr.rows.length);
    const regionCol = strColumn(rv.text.get('region') ?? []);
    const cc = rv.text.get('city_id');
    const seen = new Set<string>();
    const keep: number[] = [];
    for (let k = 0; k < rr.rows.length; k++) {
      cityIdx[k] = lookup(rr, 'city_id', cc, k);
      if (cityIdx[k] < 0 || regionCol.codes[k] < 0) continue;
      const key = `${cityIdx[k]}\u0000${regionCol.codes[k]}`;
      if (seen.has(key)) {
        warnings.push(`${rr.file} row ${rowNumber(k)}: city ${cc![k]} listed twice in region '${regionCol.levels[regionCol.codes[k]]}'; the repeat is ignored`);
        continue;
      }
      seen.add(key);
      keep.push(k);
    }
    regionNames = regionCol.levels;
    regions = {
      city: Int32Array.from(keep, (k) => cityIdx[k]),
      region: Int32Array.from(keep, (k) => regionCol.codes[k]),
      names: regionNames,
    };
  }

  problems.throwIfAny(`invalid input in ${inputDir}`);

  // ---- derived covariates
  const cities = rawToTable(citiesRaw, new Set(['city_id', 'city_name', 'province']));
  for (const [name, v] of cv.num) cities.columns.set(name, numColumn(v));
  const n = ids.length;
  const col = (name: string): Float64Array | null => cv.num.get(name) ?? null;
  const population = col('population')!;
  const outflow = col('outflow')!;
  const gdp = col('gdp')!;
  const revenue = col('budget_revenue')!;
  const expenditure = col('budget_expenditure')!;
  const registered = col('registered_population');
  const derive = (f: (k: number) => number) => Float64Array.from({ length: n }, (_, k) => f(k));
  const derived: [string, Column][] = [
    ['log_population', numColumn(derive((k) => Math.log(population[k])))],
    ['log_outflow', numColumn(derive((k) => Math.log1p(outflow[k])))],
  ];
  if (registered) derived.push(['outflow_rate', numColumn(derive((k) => outflow[k] / registered[k]))]);
  derived.push(
    ['log_gdp', numColumn(derive((k) => Math.log(gdp[k])))],
    ['gdp_per_capita', numColumn(derive((k) => gdp[k] / population[k]))],
    ['log_gdp_per_capita', numColumn(derive((k) => Math.log(gdp[k] / population[k])))],
    ['fiscal_ratio', numColumn(derive((k) => revenue[k] / expenditure[k]))],
    [
      'log_budget_revenue',
      numColumn(derive((k) => (revenue[k] > 0 ? Math.log(revenue[k]) : NaN))),
    ],
  );
  // regional strategies each city belongs to (0 without regions.csv)
  const nRegions = new Float64Array(n);
  if (regions) for (const c of regions.city) nRegions[c]++;
  derived.push(['n_regions', numColumn(nRegions)]);
  const zeroRevenue = Array.from(revenue).filter((x) => x === 0).length;
  if (zeroRevenue > 0) {
    warnings.push(`${zeroRevenue} cit${zeroRevenue === 1 ? 'y has' : 'ies have'} budget_revenue = 0: log_budget_revenue is missing for ${zeroRevenue === 1 ? 'it' : 'them'}`);
  }
  for (const [name, c] of derived) {
    if (cities.columns.has(name)) warnings.push(`cities.csv already has a column '${name}'; it is replaced by the derived value`);
    cities.columns.set(name, c);
    if (!cities.names.includes(name)) cities.names.push(name);
  }
  for (const rule of citiesColumns) {
    const v = cv.num.get(rule.name);
    if (!v) continue;
    const missing = v.reduce((s, x) => s + (Number.isNaN(x) ? 1 : 0), 0);
    if (missing > 0) warnings.push(`cities.csv: ${missing} missing value${missing === 1 ? '' : 's'} in '${rule.name}'`);
  }
  if (!cv.num.has('lon') || !cv.num.has('lat')) warnings.push('cities.csv has no lon/lat: distance columns will be empty');
  // names a spreadsheet would run as formulas: the data files keep them exactly, so say so
  for (const col of ['city_id', 'city_name', 'province']) {
    const v = cv.text.get(col) ?? [];
    const risky = v.map((x, k) => [x, k] as const).filter(([x]) => x !== undefined && /^[=+\-@\t\r]/.test(x));
    if (risky.length) {
      const [x, k] = risky[0];
      warnings.push(`cities.csv ${col}: ${risky.length} value${risky.length > 1 ? 's start' : ' starts'} with = + - @ (e.g. row ${rowNumber(k)}: ${JSON.stringify(x!.slice(0, 40))}); a spreadsheet opening cities_clean.csv or dyads.csv may run ${risky.length > 1 ? 'them' : 'it'} as a formula (tongban's own tables neutralise such cells)`);
    }
  }
  // dates after the end of the folder's year (judged by the folder's name, never the clock)
  const folderYear = /^\d{4}$/.test(basename(inputDir)) ? Number(basename(inputDir)) : null;
  if (folderYear !== null) {
    const late = [...pairs.values()].filter((m) => m.firstSigned !== '' && m.firstSigned > `${folderYear}-12-31`);
    if (late.length) {
      warnings.push(`agreements.csv: ${late.length} pair${late.length > 1 ? 's were' : ' was'} first signed after ${folderYear}-12-31, the end of this folder's year (e.g. rows ${late[0].rows.join(', ')}: ${late[0].firstSigned}); is the folder or the date right?`);
    }
  }
  if (!flowsPath) warnings.push('no flows.csv: flow = 0 for every dyad');
  if (!regionsPath) warnings.push('no regions.csv: same_region = 0 for every dyad');

  const agreements = [...pairs.values()].sort((x, y) =>
    ids[x.a] === ids[y.a] ? (ids[x.b] < ids[y.b] ? -1 : 1) : ids[x.a] < ids[y.a] ? -1 : 1,
  );
  const report: CleaningReport = {
    input: inputDir,
    files: [
      { file: 'cities.csv', present: true, rows: citiesRaw.rows.length },
      { file: 'agreements.csv', present: true, rows: agrRaw.rows.length },
      { file: 'flows.csv', present: flowsPath !== null, rows: flowRows },
      { file: 'regions.csv', present: regionsPath !== null, rows: regions?.city.length ?? 0 },
    ],
    cities: n,
    agreement_rows: agrRaw.rows.length,
    agreement_pairs: agreements.length,
    batches_merged: agreements
      .filter((m) => m.rows.length > 1)
      .map((m) => ({ city_a: ids[m.a], city_b: ids[m.b], rows: m.rows, items: m.items, first_signed: m.firstSigned })),
    reversed_rows: reversed,
    flow_rows: flowRows,
    region_memberships: regions?.city.length ?? 0,
    regions: regionNames,
    derived: derived.map(([name]) => name),
    warnings,
  };
  return { cities, ids, agreements, flows, regions, report };
}

/**
 * Adds `degree` and `items_total` to a cities table, counting only agreements whose
 * both cities are in the sample (inSample[k] = 1).
 */
function networkTotals(data: CleanData, inSample?: Uint8Array): { degree: Float64Array; itemsTotal: Float64Array } {
  const n = data.ids.length;
  const degree = new Float64Array(n);
  const itemsTotal = new Float64Array(n);
  for (const m of data.agreements) {
    if (inSample && (!inSample[m.a] || !inSample[m.b])) continue;
    degree[m.a]++;
    degree[m.b]++;
    itemsTotal[m.a] += m.items;
    itemsTotal[m.b] += m.items;
  }
  return { degree, itemsTotal };
}

export function citiesCleanTable(data: CleanData, inSample?: Uint8Array): Table {
  const { degree, itemsTotal } = networkTotals(data, inSample);
  const t = data.cities;
  const cols: [string, Column][] = t.names
    .filter((name) => name !== 'degree' && name !== 'items_total')
    .map((name) => [name, t.columns.get(name)!]);
  cols.push(['degree', numColumn(degree)], ['items_total', numColumn(itemsTotal)]);
  return makeTable(t.nrow, cols);
}

/** The cleaning report as Markdown, for people. */
export function reportMarkdown(r: CleaningReport, o: { lang?: 'zh' | 'en'; name?: (id: string) => string; warning?: (w: string) => string } = {}): string {
  const zh = o.lang === 'zh';
  const city = (id: string) => {
    const n = o.name?.(id);
    return (n ? `${id} ${n}` : id).replace(/\|/g, '\\|');
  };
  const warning = o.warning ?? ((w: string) => w);
  const none = zh ? '无。' : 'None.';
  const lines = zh
    ? [
        `# 数据清理报告`,
        ``,
        `输入：\`${r.input}\``,
        ``,
        `| 文件 | 是否存在 | 数据行数 |`,
        `|---|---|---:|`,
        ...r.files.map((f) => `| ${f.file} | ${f.present ? '是' : '否'} | ${f.rows} |`),
        ``,
        `- 城市：${r.cities}`,
        `- 协议记录：${r.agreement_rows} 行，合并为 ${r.agreement_pairs} 个城市对`,
        `- 分批签署的城市对：${r.batches_merged.length}`,
        `- 城市对顺序颠倒的记录（city_a > city_b）：${r.reversed_rows}`,
        `- 人口流动记录：${r.flow_rows}；区域战略归属：${r.region_memberships} 条，${r.regions.length} 个区域`,
        `- 派生变量：${r.derived.join('、')}`,
        ``,
        `## 警告`,
        ``,
      ]
    : [
        `# Cleaning report`,
        ``,
        `Input: \`${r.input}\``,
        ``,
        `| file | present | data rows |`,
        `|---|---|---:|`,
        ...r.files.map((f) => `| ${f.file} | ${f.present ? 'yes' : 'no'} | ${f.rows} |`),
        ``,
        `- cities: ${r.cities}`,
        `- agreement rows: ${r.agreement_rows}, merged into ${r.agreement_pairs} city pairs`,
        `- pairs signed in several batches: ${r.batches_merged.length}`,
        `- rows listing the pair in reverse order (city_a > city_b): ${r.reversed_rows}`,
        `- flow rows: ${r.flow_rows}; region memberships: ${r.region_memberships} in ${r.regions.length} regions`,
        `- derived covariates: ${r.derived.join(', ')}`,
        ``,
        `## Warnings`,
        ``,
      ];
  lines.push(...(r.warnings.length ? r.warnings.map((w) => `- ${warning(w)}`) : [none]), ``, zh ? `## 分批签署后合并的城市对` : `## Batches merged`, ``);
  if (r.batches_merged.length === 0) lines.push(none);
  else {
    lines.push(zh ? '| 城市 a | 城市 b | agreements.csv 中的行 | 事项数（合计） | 首次签署 |' : '| city_a | city_b | rows of agreements.csv | items (sum) | first signed |', '|---|---|---|---:|---|');
    for (const b of r.batches_merged) {
      lines.push(`| ${city(b.city_a)} | ${city(b.city_b)} | ${b.rows.join(', ')} | ${b.items} | ${b.first_signed} |`);
    }
  }
  return lines.join('\n') + '\n';
}
