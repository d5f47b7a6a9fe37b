// Worker entry when running from the TypeScript sources (tests, tsx): registers tsx's loader in
// this thread (a worker does not inherit the --import loader), then loads the worker module named
// in workerData.entry. From dist/ each worker is its own bundle and this file is not used.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
