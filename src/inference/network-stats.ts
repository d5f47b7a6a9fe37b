/**
 * The cooperation network's own statistics, as igraph computes them on the undirected simple
 * graph whose vertices are all the cities of the pair table (isolates included) and whose
 * edges are the pairs with a tie (coop = 1): size, density, degrees, Freeman degree
 * centralisation (normalised by the star graph's (n − 1)(n − 2), igraph's `loops = FALSE`),
 * global transitivity, degree assortativity, components; per city: degree, strength (the sum
 * of a weight over its ties), betweenness (Brandes; raw and divided by (n − 1)(n − 2)/2),
 * eigenvector centrality (scaled to a maximum of 1) and closeness within its component
 * (1 / the sum of distances to the other cities of the component; null for an isolate).
 * Every centrality uses the unweighted graph.
 */
import { UsageError } from '../util/errors.ts';
import type { Table } from '../data/table.ts';
import { dyadCodes } from '../fit/fit-model.ts';
import { pairCodes } from '../vcov/vcov.ts';
import { answerOf, tryStartWorker } from '../util/workers.ts';

export interface NetworkSummary {
  cities: number;
  ties: number;
  density: number;
  mean_degree: number;
  max_degree: number;
  degree_centralization: number;
  transitivity: number | null;
  assortativity: number | null;
  components: number;
  component_sizes: number[];
}

export interface CityStats {
  city: string;
  degree: number;
  strength: number;
  betweenness: number;
  betweenness_normalized: number;
  eigenvector: number;
  closeness: number | null;
  component: number;
}

/** Compressed adjacency lists of an undirected simple graph on n vertices. */
interface Graph {
  n: number;
  start: Int32Array;
  adj: Int32Array;
}

function graphOf(n: number, from: Int32Array, to: Int32Array): Graph {
  const deg = new Int32Array(n);
  for (let e = 0; e < from.length; e++) {
    deg[from[e]]++;
    deg[to[e]]++;
  }
  const start = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) start[v + 1] = start[v] + deg[v];
  const fill = start.slice(0, n);
  const adj = new Int32Array(start[n]);
  for (let e = 0; e < from.length; e++) {
    adj[fill[from[e]]++] = to[e];
    adj[fill[to[e]]++] = from[e];
  }
  return { n, start, adj };
}

/** Component label of every vertex (0, 1, … in order of their first vertex) by breadth-first search. */
function components(g: Graph): Int32Array {
  const comp = new Int32Array(g.n).fill(-1);
  const queue = new Int32Array(g.n);
  let c = 0;
  for (let s = 0; s < g.n; s++) {
    if (comp[s] >= 0) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    comp[s] = c;
    while (head < tail) {
      const v = queue[head++];
      for (let k = g.start[v]; k < g.start[v + 1]; k++) {
        const w = g.adj[k];
        if (comp[w] < 0) {
          comp[w] = c;
          queue[tail++] = w;
        }
      }
    }
    c++;
  }
  return comp;
}

/**
 * Brandes' betweenness (each unordered pair counted once, as igraph's undirected betweenness)
 * and, from the same searches, the sum of distances to the reachable vertices (for closeness).
 */
function brandes(g: Graph): { betweenness: Float64Array; distSum: Float64Array } {
  const n = g.n;
  // the graph's arrays and each vertex's values in locals: the loops below are the run's
  // longest at county scale (2,846 searches over 350,000 adjacency entries each)
  const { start, adj } = g;
  const bc = new Float64Array(n);
  const distSum = new Float64Array(n);
  const sigma = new Float64Array(n);
  const dist = new Int32Array(n);
  const delta = new Float64Array(n);
  const order = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    sigma.fill(0);
    dist.fill(-1);
    delta.fill(0);
    sigma[s] = 1;
    dist[s] = 0;
    let head = 0;
    let tail = 0;
    order[tail++] = s;
    let sum = 0;
    while (head < tail) {
      const v = order[head++];
      const next = dist[v] + 1;
      const sv = sigma[v];
      sum += next - 1;
      for (let k = start[v], end = start[v + 1]; k < end; k++) {
        const w = adj[k];
        const dw = dist[w];
        if (dw < 0) {
          dist[w] = next;
          order[tail++] = w;
          sigma[w] += sv;
        } else if (dw === next) sigma[w] += sv;
      }
    }
    distSum[s] = sum;
    // accumulate dependencies in order of decreasing distance
    for (let q = tail - 1; q > 0; q--) {
      const w = order[q];
      const prev = dist[w] - 1;
      const sw = sigma[w];
      const dw = 1 + delta[w];
      for (let k = start[w], end = start[w + 1]; k < end; k++) {
        const v = adj[k];
        if (dist[v] === prev) delta[v] += (sigma[v] / sw) * dw;
      }
      bc[w] += delta[w];
    }
  }
  // every pair was counted from both ends
  for (let v = 0; v < n; v++) bc[v] /= 2;
  return { betweenness: bc, distSum };
}

/**
 * The leading eigenvector of the adjacency matrix, scaled to a maximum of 1, by power
 * iteration on A + I (same eigenvectors; the shift keeps a bipartite component's −λ from
 * oscillating) until the largest change is below 1e-13. A graph without ties: all 1 (igraph).
 */
function eigenvector(g: Graph): Float64Array {
  const n = g.n;
  if (g.adj.length === 0) return new Float64Array(n).fill(1);
  let x = new Float64Array(n);
  for (let v = 0; v < n; v++) x[v] = g.start[v + 1] - g.start[v]; // degrees: a start inside the leading component
  let y = new Float64Array(n);
  for (let it = 0; it < 100_000; it++) {
    let max = 0;
    for (let v = 0; v < n; v++) {
      let s = x[v];
      for (let k = g.start[v]; k < g.start[v + 1]; k++) s += x[g.adj[k]];
      y[v] = s;
      if (s > max) max = s;
    }
    let change = 0;
    for (let v = 0; v < n; v++) {
      y[v] /= max;
      change = Math.max(change, Math.abs(y[v] - x[v]));
    }
    [x, y] = [y, x];
    if (change < 1e-13) break;
  }
  return x;
}

/**
 * The network of the pairs with a tie among `cities` (codes 0..n−1 of `names`): `a`, `b` are the
 * two cities of each pair, `tie` its 0/1 tie, `weight` what strength sums (null: 1 per tie).
 */
export function networkStatistics(names: string[], a: Int32Array, b: Int32Array, tie: Float64Array, weight: Float64Array | null): { summary: NetworkSummary; cities: CityStats[] } {
  const n = names.length;
  const from: number[] = [];
  const to: number[] = [];
  const strength = new Float64Array(n);
  for (let r = 0; r < tie.length; r++) {
    if (tie[r] !== 1) continue;
    from.push(a[r]);
    to.push(b[r]);
    const w = weight ? weight[r] : 1;
    strength[a[r]] += w;
    strength[b[r]] += w;
  }
  const g = graphOf(n, Int32Array.from(from), Int32Array.from(to));
  const m = from.length;
  const deg = Int32Array.from({ length: n }, (_, v) => g.start[v + 1] - g.start[v]);
  let maxDeg = 0;
  for (let v = 0; v < n; v++) maxDeg = Math.max(maxDeg, deg[v]);
  let centr = 0;
  for (let v = 0; v < n; v++) centr += maxDeg - deg[v];

  // triangles through each vertex (marking the neighbours of v), and connected triples
  const mark = new Int32Array(n).fill(-1);
  let triangles2 = 0;
  let triples = 0;
  for (let v = 0; v < n; v++) {
    for (let k = g.start[v]; k < g.start[v + 1]; k++) mark[g.adj[k]] = v;
    for (let k = g.start[v]; k < g.start[v + 1]; k++) {
      const w = g.adj[k];
      for (let q = g.start[w]; q < g.start[w + 1]; q++) if (mark[g.adj[q]] === v) triangles2++;
    }
    triples += (deg[v] * (deg[v] - 1)) / 2;
  }
  // triangles2 counts each triangle 6 times (3 vertices × 2 directions); transitivity = 3T / triples
  const transitivity = triples > 0 ? triangles2 / 2 / triples : null;

  // degree assortativity over the edges, each counted in both directions (Newman 2002)
  let sxy = 0;
  let sx = 0;
  let sxx = 0;
  for (let e = 0; e < m; e++) {
    const j = deg[from[e]];
    const k = deg[to[e]];
    sxy += j * k;
    sx += (j + k) / 2;
    sxx += (j * j + k * k) / 2;
  }
  const mean = sx / m;
  const den = sxx / m - mean * mean;
  const assortativity = m > 0 && den > 0 ? (sxy / m - mean * mean) / den : null;

  const comp = components(g);
  const nComp = comp.reduce((mx, c) => Math.max(mx, c + 1), 0);
  const sizes = new Array<number>(nComp).fill(0);
  for (let v = 0; v < n; v++) sizes[comp[v]]++;
  const { betweenness, distSum } = brandes(g);
  const ev = eigenvector(g);
  const pairsNorm = ((n - 1) * (n - 2)) / 2;
  const cities: CityStats[] = names.map((city, v) => ({
    city,
    degree: deg[v],
    strength: strength[v],
    betweenness: betweenness[v],
    betweenness_normalized: pairsNorm > 0 ? betweenness[v] / pairsNorm : 0,
    eigenvector: ev[v],
    closeness: distSum[v] > 0 ? 1 / distSum[v] : null,
    component: comp[v] + 1,
  }));
  return {
    summary: {
      cities: n,
      ties: m,
      density: n > 1 ? (2 * m) / (n * (n - 1)) : 0,
      mean_degree: n ? (2 * m) / n : 0,
      max_degree: maxDeg,
      degree_centralization: n > 2 ? centr / ((n - 1) * (n - 2)) : 0,
      transitivity,
      assortativity,
      components: nComp,
      component_sizes: [...sizes].sort((x, y) => y - x),
    },
    cities,
  };
}

/**
 * The network of a pair table: its cities (every id in the two city columns, so cities
 * without a tie are vertices too when the table has all pairs), the ties where `tie` is 1,
 * strength summed over `weight` (null: number of ties).
 */
export function networkFromTable(t: Table, o: { dyad: [string, string]; tie: string; weight: string | null }): { summary: NetworkSummary; cities: CityStats[] } {
  const x = networkInput(t, o);
  return networkStatistics(x.cities, x.i, x.j, x.tie, x.weight);
}

/** What networkStatistics takes: the cities, each row's two city codes, the tie indicator and the weight. */
export interface NetworkInput {
  cities: string[];
  i: Int32Array;
  j: Int32Array;
  tie: Float64Array;
  weight: Float64Array | null;
}

/** The network's input from a pair table, checked: ties 0 or 1, each pair in one row. */
export function networkInput(t: Table, o: { dyad: [string, string]; tie: string; weight: string | null }): NetworkInput {
  const num = (name: string) => {
    const c = t.columns.get(name);
    if (!c || c.kind !== 'number') throw new UsageError(`'${name}' is not a numeric column of the pair table (columns: ${t.names.join(', ')})`);
    return c.values;
  };
  const tie = num(o.tie);
  for (let r = 0; r < t.nrow; r++) {
    if (tie[r] !== 0 && tie[r] !== 1) throw new UsageError(`'${o.tie}' must be 0 or 1 (a tie or not); row ${r + 2} has ${tie[r]}`);
  }
  const weight = o.weight ? num(o.weight) : null;
  const { i, j, cities, G } = dyadCodes(t, o.dyad, Int32Array.from({ length: t.nrow }, (_, r) => r));
  // a simple graph: each pair once (a stacked or pair-year table lists a pair in several rows)
  const { codes, P } = pairCodes(i, j, G);
  if (P < t.nrow) {
    const first = new Int32Array(P).fill(-1);
    for (let r = 0; r < t.nrow; r++) {
      const before = first[codes[r]];
      if (before >= 0) {
        throw new UsageError(
          `the pair ${cities[i[r]]}–${cities[j[r]]} is in rows ${before + 2} and ${r + 2}: the network needs each pair once (for a stacked or pair-year table, keep one year with --subset, e.g. "year == 2022")`,
        );
      }
      first[codes[r]] = r;
    }
  }
  return { cities, i, j, tie, weight };
}

/** Pair tables of at least this many rows get their network statistics on a worker thread. */
export const NETWORK_WORKER_ROWS = 1_000_000;

let workerAnswers = 0;
/** How many networks a worker thread has computed in this process (for tests). */
export const networkWorkerAnswers = (): number => workerAnswers;

/**
 * networkStatistics on a worker thread when the table is large (the same function, so the same
 * numbers): Brandes' betweenness takes 8 s at county scale, and a run fits its models meanwhile.
 * Smaller tables, TONGBAN_THREADS=1, or a worker that cannot start: here, at once.
 */
export function networkInBackground(x: NetworkInput): Promise<{ summary: NetworkSummary; cities: CityStats[] }> {
  const w = x.i.length >= NETWORK_WORKER_ROWS ? tryStartWorker('network-worker', new URL('./network-worker.ts', import.meta.url), import.meta.url) : null;
  if (!w) return Promise.resolve(networkStatistics(x.cities, x.i, x.j, x.tie, x.weight));
  w.postMessage(x);
  return answerOf<{ summary: NetworkSummary; cities: CityStats[] }>(w, 'network').then((r) => {
    workerAnswers++;
    return r;
  });
}
