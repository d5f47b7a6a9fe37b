/**
 * Coefficient plots: estimates with confidence intervals, one colour per model, as
 * vega-lite specs rendered to SVG in Node (no browser, no canvas). vega is loaded
 * lazily: it costs a noticeable start-up time.
 */
import type { TidyRow } from './tidy.ts';
import { PLOT_FONT } from './png.ts';

/** A vega-lite spec rendered to SVG in Node (vega is loaded on first use: it costs start-up time). */
async function renderSvg(spec: object): Promise<string> {
  const vega = await import('vega');
  const vl = await import('vega-lite');
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

export interface PlotPoint {
  model: string;
  term: string;
  estimate: number;
  conf_low: number;
  conf_high: number;
  /** the coefficients' scale (logit, probit, log of a count, …): one panel each when they differ */
  panel?: string;
}

export function plotPoints(
  rows: TidyRow[],
  modelLabel: (id: string) => string,
  termLabel: (t: string) => string,
  panelOf?: (r: TidyRow) => string,
  partLabel: (part: 'count' | 'zero') => string = (part) => ` (${part})`,
): PlotPoint[] {
  return rows
    .filter((r) => r.term !== '(Intercept)' && r.estimate !== null && r.conf_low !== null && r.conf_high !== null && Number.isFinite(r.conf_low) && Number.isFinite(r.conf_high))
    .map((r) => ({
      model: modelLabel(r.model) + (r.part ? partLabel(r.part) : ''),
      term: termLabel(r.term),
      estimate: r.estimate!,
      conf_low: r.conf_low!,
      conf_high: r.conf_high!,
      ...(panelOf ? { panel: panelOf(r) } : {}),
    }));
}

/**
 * Space between a two-column legend's columns: vega sizes the columns by Latin glyph widths, and
 * a Chinese label (twice as wide) would run into the next column's symbol.
 */
const legendPadding = (labels: string[]) => 10 + Math.max(0, ...labels.map((l) => [...l].filter((ch) => /[\u2E80-\uFFEF]/.test(ch)).length * 5));

/** Approximate width in pixels of a label at 11px: CJK glyphs are about twice as wide as Latin ones. */
const textWidth = (s: string) => [...s].reduce((w, ch) => w + (/[\u2E80-\uFFEF]/.test(ch) ? 11 : 6), 0);

/**
 * Coefficients with intervals, one colour per model (a palette readable for up to 10 models), terms
 * in `order` (the table's) when given; models on different scales (logit and probit, a hurdle's
 * count and zero parts) in panels side by side, each with its own axis.
 */
export async function coefficientPlotSvg(points: PlotPoint[], title: string, xTitle: string, order?: string[]): Promise<string> {
  const present = new Set(points.map((p) => p.term));
  const terms = order ? [...order.filter((t) => present.has(t)), ...[...present].filter((t) => !order.includes(t))] : [...present];
  const models = [...new Set(points.map((p) => p.model))];
  const panels = [...new Set(points.map((p) => p.panel ?? ''))];
  const colour = { field: 'model', type: 'nominal', sort: models, title: null, scale: { scheme: 'tableau10' }, legend: { orient: 'bottom', columns: 2, columnPadding: legendPadding(models) } };
  const layers = {
    width: panels.length > 1 ? Math.max(220, Math.floor(560 / panels.length)) : 520,
    height: terms.length * (5 * models.length + 12),
    encoding: {
      y: { field: 'term', type: 'nominal', sort: terms, title: null },
      yOffset: { field: 'model', type: 'nominal', sort: models },
      color: colour,
    },
    layer: [
      { mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, encoding: { x: { datum: 0 }, y: null, yOffset: null, color: null } },
      { mark: { type: 'rule', strokeWidth: 1.5 }, encoding: { x: { field: 'conf_low', type: 'quantitative', title: xTitle }, x2: { field: 'conf_high' } } },
      { mark: { type: 'point', filled: true, size: 30 }, encoding: { x: { field: 'estimate', type: 'quantitative' } } },
    ],
  };
  const common = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values: points.map((p) => ({ ...p, panel: p.panel ?? '' })) },
    // vega estimates text widths without a canvas and underestimates CJK glyphs: reserve room
    padding: { left: Math.ceil(Math.max(...terms.map(textWidth)) * 0.6) + 5, top: 5, right: 5, bottom: 5 },
    config: { font: PLOT_FONT, axis: { labelLimit: 320 } },
  };
  const spec =
    panels.length > 1
      ? { ...common, facet: { column: { field: 'panel', type: 'nominal', sort: panels, title: null } }, spec: layers, resolve: { scale: { x: 'independent' } } }
      : { ...common, ...layers };
  return renderSvg(spec);
}

/** One point of a predicted-outcome curve: a model, a value of the variable, the prediction and its interval. */
export interface CurvePoint {
  model: string;
  at: number;
  estimate: number;
  conf_low: number;
  conf_high: number;
}

/** Predicted outcome against one variable (margins, at()), one line and interval band per model. */
export async function predictionCurveSvg(points: CurvePoint[], title: string, xTitle: string, yTitle: string): Promise<string> {
  const models = [...new Set(points.map((p) => p.model))];
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 480,
    height: 260,
    data: { values: points },
    encoding: {
      x: { field: 'at', type: 'quantitative', title: xTitle },
      color: { field: 'model', type: 'nominal', sort: models, title: null, legend: { orient: 'bottom', columns: 2, columnPadding: legendPadding(models) } },
    },
    layer: [
      { mark: { type: 'area', opacity: 0.15 }, encoding: { y: { field: 'conf_low', type: 'quantitative', title: yTitle }, y2: { field: 'conf_high' } } },
      { mark: { type: 'line', point: true }, encoding: { y: { field: 'estimate', type: 'quantitative' } } },
    ],
    config: { font: PLOT_FONT },
  };
  return renderSvg(spec);
}

/** One fitted specification of a specification curve: its rank, effect, interval and choices. */
export interface CurveSpec {
  estimate: number;
  conf_low: number;
  conf_high: number;
  significant: boolean;
  /** dimension → chosen alternative */
  choices: Record<string, string>;
}

/**
 * The specification curve (Simonsohn, Simmons & Nelson 2020): estimates ranked from smallest to
 * largest with their intervals above, and below, one row per dimension and alternative with a
 * mark where a specification made that choice. The lower panel's height grows with the number of
 * alternatives, so labels never overlap; the x axis has no labels (ranks).
 */
export async function specificationCurveSvg(specs: CurveSpec[], dims: { name: string; label: string; alternatives: string[] }[], title: string, yTitle: string): Promise<string> {
  const ranked = [...specs].sort((a, b) => a.estimate - b.estimate).map((s, k) => ({ ...s, rank: k + 1 }));
  const rows = dims.flatMap((d) => d.alternatives.map((a) => `${d.label}: ${a}`));
  const marks = ranked.flatMap((s) => dims.map((d) => ({ rank: s.rank, row: `${d.label}: ${s.choices[d.name]}`, significant: s.significant })));
  const width = Math.max(360, Math.min(900, ranked.length * 4));
  const colour = { field: 'significant', type: 'nominal', scale: { domain: [true, false], range: ['#1f5aa6', '#9aa4b1'] }, legend: null };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    vconcat: [
      {
        width,
        height: 220,
        data: { values: ranked },
        layer: [
          { mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, encoding: { y: { datum: 0 } } },
          { mark: { type: 'rule', opacity: 0.6 }, encoding: { x: { field: 'rank', type: 'quantitative', axis: null }, y: { field: 'conf_low', type: 'quantitative', title: yTitle }, y2: { field: 'conf_high' }, color: colour } },
          { mark: { type: 'point', filled: true, size: 16 }, encoding: { x: { field: 'rank', type: 'quantitative', axis: null }, y: { field: 'estimate', type: 'quantitative' }, color: colour } },
        ],
      },
      {
        width,
        height: rows.length * 14,
        data: { values: marks },
        mark: { type: 'tick', thickness: 1.5, size: 10 },
        encoding: {
          x: { field: 'rank', type: 'quantitative', title: null, axis: { labels: false, ticks: false } },
          y: { field: 'row', type: 'nominal', sort: rows, title: null, axis: { labelLimit: 480 } },
          color: colour,
        },
      },
    ],
    padding: 5,
    config: { font: PLOT_FONT },
  };
  return renderSvg(spec);
}

/**
 * The observed specification curve against the permutation null (Simonsohn et al. 2020, Fig. 3
 * kind): the tested specifications' effects ranked, and at each rank the 2.5–97.5% band and the
 * median of the ranked effects over the null's draws.
 */
export async function curveNullSvg(curve: { rank: number; observed: number; low: number; mid: number; high: number }[], title: string, yTitle: string, labels: { observed: string; null: string; rank: string }): Promise<string> {
  const colour = { field: 'series', type: 'nominal', scale: { domain: [labels.observed, labels.null], range: ['#1f5aa6', '#9aa4b1'] }, title: null, legend: { orient: 'top-left', labelLimit: 400 } };
  const lines = curve.flatMap((c) => [
    { rank: c.rank, value: c.observed, series: labels.observed },
    { rank: c.rank, value: c.mid, series: labels.null },
  ]);
  const x = { field: 'rank', type: 'quantitative', title: labels.rank, axis: { tickMinStep: 1 } };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: Math.max(360, Math.min(700, curve.length * 8)),
    height: 220,
    layer: [
      { data: { values: curve }, mark: { type: 'area', color: '#9aa4b1', opacity: 0.3 }, encoding: { x, y: { field: 'low', type: 'quantitative', title: yTitle }, y2: { field: 'high' } } },
      { mark: { type: 'rule', color: '#999', strokeDash: [3, 3] }, encoding: { y: { datum: 0 } } },
      { data: { values: lines }, mark: { type: 'line', point: { filled: true, size: 14 } }, encoding: { x, y: { field: 'value', type: 'quantitative' }, color: colour } },
    ],
    config: { font: PLOT_FONT },
  };
  return renderSvg(spec);
}

/**
 * A histogram of counts (partners per city, items per cooperating pair): one bar per value when
 * there are few, else up to 40 bins; `log`: bins of equal width in log10 of the value (positive
 * values; a long right tail such as items per pair), the axis labelled in the values themselves.
 */
export async function distributionSvg(values: number[], title: string, xTitle: string, yTitle: string, o: { log?: boolean } = {}): Promise<string> {
  const distinct = new Set(values).size;
  const integers = values.every(Number.isInteger);
  // a loop, not Math.max(...values): a county-scale network has too many pairs for the call stack
  let max = -Infinity;
  let min = Infinity;
  for (const v of values) {
    if (v > max) max = v;
    if (v < min) min = v;
  }
  const x = o.log
    ? { field: 'lv', type: 'quantitative', bin: { maxbins: 30 }, title: xTitle, axis: { values: [0, 1, 2, 3, 4, 5].filter((e) => e <= Math.log10(max) + 0.5), labelExpr: "format(pow(10, datum.value), ',')" } }
    : integers && max - min <= 60
      ? { field: 'value', type: 'ordinal', title: xTitle, axis: { labelAngle: 0, values: distinct > 30 ? [...new Set(values)].sort((a, b) => a - b).filter((v) => v % 5 === 0) : undefined } }
      : { field: 'value', type: 'quantitative', bin: { maxbins: 40 }, title: xTitle };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 200,
    data: { values: values.map((value) => ({ value })) },
    ...(o.log ? { transform: [{ filter: 'datum.value > 0' }, { calculate: 'log(datum.value) / LN10', as: 'lv' }] } : {}),
    mark: { type: 'bar', color: '#1f5aa6' },
    encoding: { x, y: { aggregate: 'count', type: 'quantitative', title: yTitle } },
    config: { font: PLOT_FONT },
  };
  return renderSvg(spec);
}

/**
 * A GeoJSON with its polygon rings wound as vega's d3-geo wants them (outer rings clockwise,
 * holes anticlockwise, in longitude–latitude), whatever the file's winding: RFC 7946 files wind
 * the other way, and d3 then draws the polygon's complement, the whole globe. A copy; the
 * signed area is planar, right for any ring smaller than a hemisphere.
 */
export function rewoundForD3(g: unknown): unknown {
  const area = (ring: number[][]) => {
    let s = 0;
    for (let k = 0, n = ring.length; k < n; k++) {
      const [x1, y1] = ring[k];
      const [x2, y2] = ring[(k + 1) % n];
      s += x1 * y2 - x2 * y1;
    }
    return s / 2;
  };
  const wind = (ring: number[][], clockwise: boolean) => (area(ring) < 0 === clockwise ? ring : [...ring].reverse());
  const polygon = (rings: number[][][]) => rings.map((r, k) => wind(r, k === 0));
  const geometry = (x: { type: string; coordinates?: unknown; geometries?: unknown[] } | null): unknown => {
    if (!x) return x;
    if (x.type === 'Polygon') return { ...x, coordinates: polygon(x.coordinates as number[][][]) };
    if (x.type === 'MultiPolygon') return { ...x, coordinates: (x.coordinates as number[][][][]).map(polygon) };
    if (x.type === 'GeometryCollection') return { ...x, geometries: (x.geometries as never[]).map(geometry) };
    return x;
  };
  const o = g as { type: string; features?: { geometry: never }[]; geometry?: never };
  if (o.type === 'FeatureCollection') return { ...o, features: o.features!.map((f) => ({ ...f, geometry: geometry(f.geometry) })) };
  if (o.type === 'Feature') return { ...o, geometry: geometry(o.geometry!) };
  return geometry(o as never);
}

/** At most this many ties are drawn on the network map (the national demo has about 2,200). */
export const MAP_TIES = 5000;

/** The ties the map draws: all, or the MAP_TIES with the most items (no items counts as 1; equal items in the given order). */
export function tiesToDraw<T extends [number, number, number | null]>(ties: T[]): T[] {
  if (ties.length <= MAP_TIES) return ties;
  return ties
    .map((t, k) => [t, k] as const)
    .sort((a, b) => (b[0][2] ?? 1) - (a[0][2] ?? 1) || a[1] - b[1])
    .slice(0, MAP_TIES)
    .map(([t]) => t);
}

/**
 * The cooperation network on a map (the kind of the book's Figure 1.1): cities at their longitude
 * and latitude (Mercator), sized by their number of partners, and a line for every cooperating pair
 * (the MAP_TIES with the most items when there are more), wider and darker the more items it
 * covers. Borders only from a user's GeoJSON `base` (tongban ships no map data).
 */
export async function networkMapSvg(
  cities: { name: string; lon: number; lat: number; degree: number }[],
  allTies: [number, number, number | null][],
  title: string,
  sizeTitle: string,
  base?: { geojson: unknown; caption?: string },
  lang: 'zh' | 'en' = 'en',
): Promise<string> {
  // A county-scale network has ~160,000 ties: drawn all, the SVG is 60 MB (and report.html with
  // it) and the map a solid blot. Above MAP_TIES the pairs with the most items are drawn (equal
  // items in the record's order), and the subtitle says how many of how many.
  const ties = tiesToDraw(allTies);
  const n = (x: number) => x.toLocaleString('en-US');
  const subtitle =
    ties.length < allTies.length
      ? lang === 'zh'
        ? `绘出事项最多的 ${n(ties.length)} 对（共 ${n(allTies.length)} 对合作城市）`
        : `The ${n(ties.length)} pairs with the most items are drawn (of ${n(allTies.length)} cooperating pairs)`
      : undefined;
  // lines weighted by the pair's items (wider and darker for more items)
  const lines = ties.map(([a, b, items]) => ({ lon: cities[a].lon, lat: cities[a].lat, lon2: cities[b].lon, lat2: cities[b].lat, items: items ?? 1 }));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: subtitle ? { text: title, subtitle } : title,
    width: 560,
    height: 460,
    projection: { type: 'mercator' },
    layer: [
      // a user's base map (e.g. an officially approved one) under everything, its caption at the bottom left
      ...(base
        ? [
            {
              data: { values: rewoundForD3(base.geojson), format: (base.geojson as { type?: string }).type === 'FeatureCollection' ? { type: 'json', property: 'features' } : { type: 'json' } },
              mark: { type: 'geoshape', fill: '#f4f4f2', stroke: '#9a9a9a', strokeWidth: 0.4 },
            },
          ]
        : []),
      ...(base?.caption
        ? [{ data: { values: [{}] }, mark: { type: 'text', align: 'left', baseline: 'bottom', fontSize: 10, color: '#444' }, encoding: { x: { value: 0 }, y: { value: 460 }, text: { value: base.caption } } }]
        : []),
      {
        data: { values: lines },
        mark: { type: 'rule', color: '#1f5aa6' },
        encoding: {
          longitude: { field: 'lon', type: 'quantitative' },
          latitude: { field: 'lat', type: 'quantitative' },
          longitude2: { field: 'lon2' },
          latitude2: { field: 'lat2' },
          strokeWidth: { field: 'items', type: 'quantitative', scale: { type: 'sqrt', range: [0.3, 2.4] }, legend: null },
          strokeOpacity: { field: 'items', type: 'quantitative', scale: { type: 'sqrt', range: [0.06, 0.35] }, legend: null },
        },
      },
      {
        data: { values: cities },
        mark: { type: 'circle', color: '#c0392b', opacity: 0.8, stroke: 'white', strokeWidth: 0.3 },
        encoding: {
          longitude: { field: 'lon', type: 'quantitative' },
          latitude: { field: 'lat', type: 'quantitative' },
          size: { field: 'degree', type: 'quantitative', title: sizeTitle, scale: { range: [4, 160] }, legend: { orient: 'bottom', direction: 'horizontal' } },
        },
      },
    ],
    config: { font: PLOT_FONT, view: { stroke: null } },
  };
  return renderSvg(spec);
}
