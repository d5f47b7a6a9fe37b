/**
 * Column-oriented tables on typed arrays: no data-frame dependency, no per-row objects.
 * Numeric columns are Float64Array with NaN for missing; string columns are
 * dictionary-encoded (codes into `levels`, -1 for missing).
 */
export interface NumColumn {
  kind: 'number';
  values: Float64Array;
}
export interface StrColumn {
  kind: 'string';
  codes: Int32Array;
  levels: string[];
}
export type Column = NumColumn | StrColumn;

export interface Table {
  nrow: number;
  /** column names in order */
  names: string[];
  columns: Map<string, Column>;
}

export function numColumn(values: Float64Array): NumColumn {
  return { kind: 'number', values };
}

/** Dense codes 0, 1, 2, … for keys in order of first appearance; `keys` lists them by code. */
export function denseCodes<K>(): { code(key: K): number; size(): number; keys: K[] } {
  const index = new Map<K, number>();
  const keys: K[] = [];
  return {
    keys,
    size: () => keys.length,
    code(key) {
      let c = index.get(key);
      if (c === undefined) {
        c = keys.push(key) - 1;
        index.set(key, c);
      }
      return c;
    },
  };
}

/** Dictionary-encodes an array of strings ('' or null = missing). */
export function strColumn(values: ArrayLike<string | null>): StrColumn {
  const coder = denseCodes<string>();
  const codes = new Int32Array(values.length);
  for (let r = 0; r < values.length; r++) {
    const v = values[r];
    codes[r] = v === null || v === '' ? -1 : coder.code(v);
  }
  return { kind: 'string', codes, levels: coder.keys };
}

export function makeTable(nrow: number, cols: [string, Column][]): Table {
  const columns = new Map<string, Column>();
  for (const [name, col] of cols) {
    const len = col.kind === 'number' ? col.values.length : col.codes.length;
    if (len !== nrow) throw new Error(`column ${name} has ${len} rows, expected ${nrow}`);
    columns.set(name, col);
  }
  return { nrow, names: cols.map(([n]) => n), columns };
}

export function setColumn(t: Table, name: string, col: Column): void {
  if (!t.columns.has(name)) t.names.push(name);
  t.columns.set(name, col);
}

export function getNum(t: Table, name: string): Float64Array {
  const c = t.columns.get(name);
  if (!c) throw new Error(`no column '${name}'`);
  if (c.kind !== 'number') throw new Error(`column '${name}' is not numeric`);
  return c.values;
}

export function getStr(t: Table, name: string): StrColumn {
  const c = t.columns.get(name);
  if (!c) throw new Error(`no column '${name}'`);
  if (c.kind !== 'string') throw new Error(`column '${name}' is not a string column`);
  return c;
}

/** Shortest text that reads back as the same double; '' for missing. */
export function formatNumber(x: number): string {
  if (Number.isNaN(x)) return '';
  if (Object.is(x, -0)) return '0';
  return String(x);
}

/** The same rows with only the named columns (those present), sharing their arrays. */
export function selectColumns(t: Table, names: Iterable<string>): Table {
  const want = new Set(names);
  return makeTable(
    t.nrow,
    t.names.filter((n) => want.has(n)).map((n) => [n, t.columns.get(n)!]),
  );
}

/** Whether a column has a missing value (NaN, or text without a value) among its first `n` rows. */
export function hasMissing(c: Column, n = c.kind === 'number' ? c.values.length : c.codes.length): boolean {
  if (c.kind === 'number') {
    for (let r = 0; r < n; r++) if (Number.isNaN(c.values[r])) return true;
  } else for (let r = 0; r < n; r++) if (c.codes[r] < 0) return true;
  return false;
}

/** Rows [from, to) of a column, as a view (no copy). */
export function sliceColumn(c: Column, from: number, to: number): Column {
  return c.kind === 'number' ? numColumn(c.values.subarray(from, to)) : { kind: 'string', codes: c.codes.subarray(from, to), levels: c.levels };
}

/** Takes the named columns out of the table, in place (a table others hold loses them too). */
export function dropColumns(t: Table, names: Iterable<string>): void {
  for (const name of names) t.columns.delete(name);
  t.names = t.names.filter((n) => t.columns.has(n));
}

/** Keeps the rows where keep[r] is true. */
export function filterRows(t: Table, keep: Uint8Array): Table {
  let n = 0;
  for (let r = 0; r < t.nrow; r++) if (keep[r]) n++;
  const idx = new Int32Array(n);
  for (let r = 0, k = 0; r < t.nrow; r++) if (keep[r]) idx[k++] = r;
  return takeRows(t, idx);
}

export function takeRows(t: Table, idx: Int32Array): Table {
  const cols: [string, Column][] = t.names.map((name) => {
    const c = t.columns.get(name)!;
    if (c.kind === 'number') {
      const v = new Float64Array(idx.length);
      for (let k = 0; k < idx.length; k++) v[k] = c.values[idx[k]];
      return [name, numColumn(v)];
    }
    const codes = new Int32Array(idx.length);
    for (let k = 0; k < idx.length; k++) codes[k] = c.codes[idx[k]];
    return [name, { kind: 'string', codes, levels: c.levels }];
  });
  return makeTable(idx.length, cols);
}
