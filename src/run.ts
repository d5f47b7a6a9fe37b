/**
 * `tongban run`: the whole job for one data set and year, into <out>/<dataset>/<year>/.
 * Each year writes only into its own folder.
 */
import { basename, join, resolve } from 'node:path';
import { runDyads } from './data/stages.ts';
import { silentReporter, type Reporter } from './util/progress.ts';

export interface RunOptions {
  data: string;
  year: number;
  out: string;
  provinces?: string[];
}

export function runYear(o: RunOptions, rep: Reporter = silentReporter): { outDir: string } {
  const dataset = basename(resolve(o.data));
  const input = join(o.data, String(o.year));
  const outDir = join(o.out, dataset, String(o.year));
  runDyads(input, outDir, { provinces: o.provinces }, rep);
  return { outDir };
}
