/**
 * Network statistics on the demo data's 2021 cooperation network against igraph
 * (tests/fixtures/network/network_demo.R): 333 cities, 2,377 ties, six components (five
 * isolates), so closeness within components, isolates and the eigenvector of a disconnected
 * graph are exercised. 1e-10 relative; integers exactly. (A connected network: qap-reference.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeDyads } from '../src/stages/dyads.ts';
import { networkFromTable } from '../src/inference/network-stats.ts';
import { expectClose, runCli, tmp } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const r = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'network', 'network_demo.json'), 'utf8'));

describe('the demo network (2021) equals igraph', () => {
  const stage = computeDyads(join(ROOT, 'data', 'demo', '2021'), {});
  const { summary, cities } = networkFromTable(stage.dyads.dyads, { dyad: ['i', 'j'], tie: 'coop', weight: 'items' });
  it('the whole network', () => {
    expect([summary.cities, summary.ties, summary.max_degree, summary.components]).toEqual([r.vertices, r.edges, r.max_degree, r.components]);
    expect(summary.component_sizes).toEqual(r.component_sizes);
    for (const [mine, theirs] of [
      [summary.density, r.density],
      [summary.mean_degree, r.mean_degree],
      [summary.degree_centralization, r.degree_centralization],
      [summary.transitivity, r.transitivity_global],
      [summary.assortativity, r.assortativity_degree],
    ] as [number, number][]) expectClose(mine, theirs, 1e-10);
  });
  it('every city, isolates included', () => {
    const c = r.city;
    const byId = new Map(cities.map((x) => [x.city, x]));
    expect([...byId.keys()].sort()).toEqual(c.id);
    c.id.forEach((id: string, k: number) => {
      const x = byId.get(id)!;
      expect(x.degree, id).toBe(c.degree[k]);
      expectClose(x.strength, c.strength[k], 1e-12, 0, `${id} strength`);
      expectClose(x.betweenness, c.betweenness[k], 1e-10, 1e-9, `${id} betweenness`);
      expectClose(x.betweenness_normalized, c.betweenness_normalized[k], 1e-10, 1e-12, `${id} betweenness normalised`);
      expectClose(x.eigenvector, c.eigen_centrality[k], 1e-10, 1e-10, `${id} eigenvector`);
      if (c.closeness_in_component[k] === null) expect(x.closeness, id).toBeNull();
      else expectClose(x.closeness, c.closeness_in_component[k], 1e-10, 0, `${id} closeness`);
    });
    expect(c.degree.filter((d: number) => d === 0)).toHaveLength(5);
  });
  it('tongban network prints the summary and refuses a tie column that is not 0/1', () => {
    const csv = join(ROOT, 'tests', 'fixtures', 'qap', 'qap_network.csv');
    const ok = runCli(['network', '--data', csv, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).summary).toMatchObject({ cities: 100, ties: 996, components: 1 });
    // a pair listed twice (a stacked table) is refused, naming the cities and rows, not counted as two ties
    const dup = join(tmp(), 'dup.csv');
    const text = readFileSync(csv, 'utf8').trim().split('\n');
    writeFileSync(dup, [...text, text[1]].join('\n') + '\n');
    const twice = runCli(['network', '--data', dup]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/the pair C001–C002 is in rows 2 and 4952: the network needs each pair once/);
    // a weight column that is not there is an error, not a silent count of ties
    expect(runCli(['network', '--data', csv, '--weight', 'itmes']).stderr).toMatch(/--weight itmes: no such column .*did you mean 'items'/);
    const bad = runCli(['network', '--data', csv, '--tie', 'items']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/'items' must be 0 or 1 \(a tie or not\); row \d+ has \d+/);
  });
});

describe("the report's network figures", () => {
  it('partners per city, items per pair and the map: one line per cooperating pair, cities at their coordinates', async () => {
    const { runYear } = await import('../src/stages/run-year.ts');
    const dir = tmp();
    const spec = join(dir, 's.yaml');
    writeFileSync(spec, ['name: s', 'language: en', 'outputs: [md]', 'samples:', '  all: { table: dyads }', 'levels:', '  - id: partner', '    models:', '      - { id: m, family: logit, sample: all, outcome: coop, terms: [log_distance] }'].join('\n') + '\n');
    const { outDir, record } = await runYear({ data: join(ROOT, 'data', 'demo'), year: 2021, out: join(dir, 'out'), spec });
    const net = record!.network!;
    expect(net.ties).toHaveLength(net.summary.ties);
    // every tie is a cooperating pair with its items; the degrees recount from the ties
    const degree = new Array(net.cities.length).fill(0);
    for (const [a, b, items] of net.ties!) {
      degree[a]++;
      degree[b]++;
      expect(items).toBeGreaterThanOrEqual(1);
    }
    expect(degree).toEqual(net.cities.map((c) => c.degree));
    expect(net.cities.every((c) => c.lon != null && c.lat != null)).toBe(true);
    const map = readFileSync(join(outDir, 'plots', 'network_map.svg'), 'utf8');
    expect(map.match(/<line/g)).toHaveLength(net.summary.ties);
    for (const f of ['degree_distribution', 'items_distribution']) expect(readFileSync(join(outDir, 'plots', `${f}.svg`), 'utf8')).toMatch(/<svg[\s\S]*mark-rect/);
    // every figure also as a 300 dpi PNG
    const plots = readdirSync(join(outDir, 'plots'));
    expect(plots.filter((f) => f.endsWith('.png')).sort()).toEqual(plots.filter((f) => f.endsWith('.svg')).map((f) => f.replace(/svg$/, 'png')).sort());
    expect(readFileSync(join(outDir, 'plots', 'network_map.png')).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });
  it("a user's GeoJSON base map under the network, wound for d3 whatever the file's winding, with its caption; a bad file is a spec error", async () => {
    const { runYear } = await import('../src/stages/run-year.ts');
    const dir = tmp();
    // RFC 7946 winding (outer ring anticlockwise): drawn as given, d3 would fill the whole globe
    const box = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Polygon', coordinates: [[[73, 18], [135, 18], [135, 54], [73, 54], [73, 18]]] } }] };
    writeFileSync(join(dir, 'base.geojson'), JSON.stringify(box));
    const lines = ['name: s', 'language: zh', 'outputs: [md]', 'map: { geojson: base.geojson, caption: "审图号：GS(2024)0000号" }', 'samples:', '  all: { table: dyads }', 'levels:', '  - id: partner', '    models:', '      - { id: m, family: logit, sample: all, outcome: coop, terms: [log_distance] }'];
    writeFileSync(join(dir, 's.yaml'), lines.join('\n') + '\n');
    const { outDir } = await runYear({ data: join(ROOT, 'data', 'demo'), year: 2021, out: join(dir, 'out'), spec: join(dir, 's.yaml') });
    const map = readFileSync(join(outDir, 'plots', 'network_map.svg'), 'utf8');
    expect(map).toMatch(/审图号：GS\(2024\)0000号/);
    expect(map).toMatch(/class="mark-shape[^"]*"/);
    // the cities spread over the map (a globe-sized fill would shrink them into a few pixels)
    const cityMarks = /<g class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(map)![1];
    const xs = [...cityMarks.matchAll(/transform="translate\(([\d.]+),[\d.]+\)"/g)].map((m) => Number(m[1]));
    expect(xs.length).toBeGreaterThan(300);
    expect(Math.max(...xs) - Math.min(...xs)).toBeGreaterThan(300);
    // a missing file and a file that is not GeoJSON: errors naming the field and the file
    for (const [file, text, why] of [['none.geojson', null, /no file .*none\.geojson/], ['bad.geojson', '{"type": "Point", "coordinates": [1, 2]}', /GeoJSON of shapes or lines .*has type "Point"/]] as const) {
      if (text) writeFileSync(join(dir, file), text);
      writeFileSync(join(dir, 's2.yaml'), lines.join('\n').replace('base.geojson', file) + '\n');
      await expect(runYear({ data: join(ROOT, 'data', 'demo'), year: 2021, out: join(dir, 'out2'), spec: join(dir, 's2.yaml') })).rejects.toThrow(why);
    }
  });
});

describe('network statistics of a large table on a worker thread', () => {
  it('are those computed here, number for number (1,007,490 pairs of 1,420 cities)', async () => {
    const { networkInBackground, networkStatistics, networkWorkerAnswers, NETWORK_WORKER_ROWS } = await import('../src/inference/network-stats.ts');
    const G = 1420;
    const n = (G * (G - 1)) / 2;
    expect(n).toBeGreaterThanOrEqual(NETWORK_WORKER_ROWS);
    const i = new Int32Array(n);
    const j = new Int32Array(n);
    const tie = new Float64Array(n);
    const weight = new Float64Array(n);
    let r = 0;
    let seed = 12345;
    for (let a = 0; a < G; a++) {
      for (let b = a + 1; b < G; b++, r++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        i[r] = a;
        j[r] = b;
        tie[r] = seed % 100 === 0 ? 1 : 0;
        weight[r] = tie[r] ? 1 + (seed % 37) : 0;
      }
    }
    const cities = Array.from({ length: G }, (_, k) => `c${k}`);
    const here = networkStatistics(cities, i, j, tie, weight);
    const before = process.env.TONGBAN_THREADS;
    delete process.env.TONGBAN_THREADS;
    try {
      const answered = networkWorkerAnswers();
      const there = await networkInBackground({ cities, i, j, tie, weight });
      expect(networkWorkerAnswers()).toBe(answered + 1); // a worker computed it
      expect(there).toEqual(here);
      expect(here.summary.ties).toBeGreaterThan(5000);
    } finally {
      if (before !== undefined) process.env.TONGBAN_THREADS = before;
    }
  }, 60_000);
});
