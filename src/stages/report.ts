/**
 * Stage 4, report: the run record and the fits → tidy/glance rows, tables, plots and
 * report.html (by the report layer, src/report/render.ts), plus the manifest that hashes
 * every input and output of the run.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FitResult } from '../fit/types.ts';
import { renderReport } from '../report/render.ts';
import type { LoadedSpec } from '../specfile/load.ts';
import type { OutputFiles } from '../util/output.ts';
import type { SampleInfo } from '../data/dyads.ts';
import type { ModelsStageResult } from './models.ts';
import type { RunRecord } from '../report/run-record.ts';
import { VERSION } from '../util/version.ts';
import type { CleaningReport } from '../data/clean.ts';
import type { Table } from '../data/table.ts';
import { networkInBackground, networkInput } from '../inference/network-stats.ts';

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The run record of a spec run (saved as fits/_run.json). */
export function runRecord(
  loaded: LoadedSpec,
  run: { dataset: string; year: number },
  models: ModelsStageResult,
  cleaning: CleaningReport & { sample: SampleInfo },
  network: RunRecord['network'] = null,
): RunRecord {
  const spec = loaded.spec;
  return {
    dataset: run.dataset,
    year: run.year,
    spec: {
      file: basename(loaded.file),
      sha256: sha256(loaded.text),
      name: spec.name,
      title: spec.title,
      language: spec.language,
      stars: spec.stars,
      digits: spec.digits,
      statistics: spec.statistics,
      pseudo_r2: spec.pseudo_r2,
      outputs: spec.outputs,
      cells: spec.cells,
      figures: spec.figures,
      map: spec.map,
      groups: spec.groups,
      sample_labels: Object.fromEntries(Object.entries(spec.samples).flatMap(([id, s]) => (s.label === undefined ? [] : [[id, s.label]]))),
      levels: spec.levels.map((l) => ({ id: l.id, label: l.label, models: l.models.map((m) => m.id) })),
    },
    models: loaded.models.map((m) => ({ ...m, where: `${basename(loaded.file)}:${m.line}` })),
    effects: Object.fromEntries(models.effects),
    vif: Object.fromEntries(models.vif),
    constant_omitted: Object.fromEntries(models.constantOmitted),
    correlations: Object.fromEntries(models.correlations),
    tests: Object.fromEntries(models.tests),
    predictions: Object.fromEntries(models.predictions),
    qap: Object.fromEntries(models.qap),
    descriptives: models.descriptives,
    cleaning,
    network,
  };
}

/** The dyad columns runNetwork reads. */
export const NETWORK_COLUMNS = ['i', 'j', 'coop', 'items'] as const;

/**
 * The cooperation network of a run's pair table (ties: coop = 1; strength: items), every city
 * with its name from the city table. The checks, names and ties are made now; the statistics
 * (Brandes' betweenness: 8 s at county scale) on a worker thread for a large table, so a run
 * starts this before fitting its models and awaits it after.
 */
export function runNetwork(dyads: Table, cities: Table): Promise<NonNullable<RunRecord['network']>> {
  const input = networkInput(dyads, { dyad: ['i', 'j'], tie: 'coop', weight: dyads.columns.has('items') ? 'items' : null });
  const stats = networkInBackground(input);
  const ids = cities.columns.get('city_id');
  const names = cities.columns.get('city_name');
  const nameOf = new Map<string, string>();
  if (ids && names && ids.kind === 'string' && names.kind === 'string') {
    for (let r = 0; r < cities.nrow; r++) nameOf.set(ids.levels[ids.codes[r]], names.levels[names.codes[r]]);
  }
  // coordinates for the map (when the cities file has lon/lat)
  const lon = cities.columns.get('lon');
  const lat = cities.columns.get('lat');
  const at = new Map<string, [number, number]>();
  if (ids && ids.kind === 'string' && lon?.kind === 'number' && lat?.kind === 'number') {
    for (let r = 0; r < cities.nrow; r++) if (Number.isFinite(lon.values[r]) && Number.isFinite(lat.values[r])) at.set(ids.levels[ids.codes[r]], [lon.values[r], lat.values[r]]);
  }
  // the ties (cooperating pairs) by the cities' positions in the list (the statistics keep that order), with their items
  const index = new Map(input.cities.map((c, k) => [c, k]));
  const text = (name: string) => {
    const c = dyads.columns.get(name)!;
    return (r: number) => (c.kind === 'number' ? String(c.values[r]) : c.levels[c.codes[r]]);
  };
  const ti = text('i');
  const tj = text('j');
  const coop = dyads.columns.get('coop');
  const items = dyads.columns.get('items');
  const ties: [number, number, number | null][] = [];
  if (coop?.kind === 'number') {
    for (let r = 0; r < dyads.nrow; r++) {
      if (coop.values[r] !== 1) continue;
      const it = items?.kind === 'number' && Number.isFinite(items.values[r]) ? items.values[r] : null;
      ties.push([index.get(ti(r))!, index.get(tj(r))!, it]);
    }
  }
  return stats.then((net) => ({
    summary: net.summary,
    cities: net.cities.map((c) => ({ ...c, name: nameOf.get(c.city) ?? null, lon: at.get(c.city)?.[0] ?? null, lat: at.get(c.city)?.[1] ?? null })),
    ties,
  }));
}

/** Every file of the report stage: fits/*.json, fits/_run.json, tables, plots, report.html. */
export async function reportFiles(record: RunRecord, fits: Map<string, FitResult>, warn: (message: string) => void = () => {}): Promise<OutputFiles> {
  const files: OutputFiles = new Map();
  for (const [id, fit] of fits) files.set(`fits/${id}.json`, JSON.stringify(fit, null, 2) + '\n');
  files.set('fits/_run.json', JSON.stringify(record, null, 2) + '\n');
  for (const [name, content] of await renderReport(record, fits, warn)) files.set(name, content);
  return files;
}

export interface ManifestInfo {
  dataset: string;
  year: number;
  dataDir: string;
  inputDir: string;
  spec: { file: string | undefined; sha256: string } | null;
  provinces: string[] | null;
  startedAt: string;
}

/** manifest.json: inputs and outputs by SHA-256 (outputs hashed as they are written), versions, seeds, times. */
export function manifest(m: ManifestInfo): (hashes: Map<string, string>) => string {
  const inputs = ['cities.csv', 'agreements.csv', 'flows.csv', 'regions.csv']
    .map((f) => join(m.inputDir, f))
    .filter(existsSync)
    .map((p) => ({ file: p, sha256: sha256(readFileSync(p)) }));
  return (hashes) =>
    JSON.stringify(
      {
        tongban_version: VERSION,
        node_version: process.version,
        dataset: m.dataset,
        year: m.year,
        data_dir: m.dataDir,
        spec: m.spec,
        provinces: m.provinces,
        inputs,
        outputs: [...hashes].map(([file, h]) => ({ file, sha256: h })),
        seeds: {
          glm_warm_start_subsample: '0x2545f491 (xorshift32; fixed, so fits are deterministic)',
          demo_data: m.dataset === 'demo' ? 20211231 : null,
        },
        started_at: m.startedAt,
        finished_at: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n';
}
