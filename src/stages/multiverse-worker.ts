/**
 * Worker thread of a multiverse (stages/multiverse.ts): fits its share of the specifications
 * (evaluateSpecs) on the samples it was sent, says after each, and sends the outcomes.
 */
import { parentPort } from 'node:worker_threads';
import type { Table } from '../data/table.ts';
import { evaluateSpecs, type PlanItem } from './multiverse-fit.ts';

parentPort!.once('message', ({ samples, items }: { samples: [string, Table][]; items: PlanItem[] }) => {
  const outcomes = evaluateSpecs(new Map(samples), items, () => parentPort!.postMessage({ tick: true }));
  parentPort!.postMessage({ outcomes });
});
