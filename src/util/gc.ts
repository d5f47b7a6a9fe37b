/**
 * A full garbage collection on request, for the few places where a county-scale table has just
 * become garbage and the next one is about to be built: V8 otherwise collects the old one only
 * after the new one is in memory too (a panel year's dyad table is 1.3 GB). Node exposes
 * `gc` only behind --expose-gc; the flag is set at run time, once.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Tables with fewer rows are not worth a full collection (it takes tens of milliseconds). */
export const GC_MIN_ROWS = 1_000_000;

let gc: (() => void) | null | undefined;

/** Collects garbage now if a table of `rows` rows has just been let go (a no-op for smaller ones). */
export function collectAfter(rows: number): void {
  if (rows < GC_MIN_ROWS) return;
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
