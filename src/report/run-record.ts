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
import type { ResolvedModel } from '../specfile/load.ts';
import type { Spec } from '../specfile/schema.ts';
import { UsageError } from '../util/errors.ts';
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
    groups: Spec['groups'];
    levels: { id: string; label: Spec['levels'][number]['label']; models: string[] }[];
  };
  models: ResolvedModel[];
  descriptives: DescriptiveRow[];
  cleaning: CleaningReport & { sample: SampleInfo };
}

/** Reads the fits and run record that `tongban run` saved in a fits folder. */
export function readFits(dir: string): { record: RunRecord; fits: Map<string, FitResult> } {
  const recordPath = join(dir, '_run.json');
  if (!existsSync(recordPath)) throw new UsageError(`${dir} holds no _run.json: point --fits at the fits/ folder that tongban run wrote`);
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as RunRecord;
  const fits = new Map<string, FitResult>();
  const present = new Set(readdirSync(dir));
  for (const m of record.models) {
    if (!present.has(`${m.id}.json`)) throw new UsageError(`${dir}: the fit of model ${m.id} (${m.id}.json) is missing`);
    fits.set(m.id, JSON.parse(readFileSync(join(dir, `${m.id}.json`), 'utf8')) as FitResult);
  }
  return { record, fits };
}
