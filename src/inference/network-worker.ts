/**
 * Worker thread of the network statistics (network-stats.ts, networkInBackground): computes
 * them for one network and answers { result } or { error }.
 */
import { parentPort } from 'node:worker_threads';
import { networkStatistics, type NetworkInput } from './network-stats.ts';

parentPort!.once('message', (x: NetworkInput) => {
  try {
    parentPort!.postMessage({ result: networkStatistics(x.cities, x.i, x.j, x.tie, x.weight) });
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).stack ?? String(e) });
  }
});
