/**
 * The garbage collector's settings for a long-running agent. A SIP scan from a million addresses
 * makes short-lived per-address state by the hundred megabytes; with V8's default heap growing
 * (up to four times the live heap before a full collection) the old generation fills with that
 * garbage and RSS passes 350 MiB while the live heap is ~55 MiB. Growing by a quarter of the live
 * heap instead keeps RSS near 200–220 MiB; full collections come more often, each on a smaller heap
 * (measured: no loss of judged events per second).
 */
import { setFlagsFromString } from 'node:v8';

/** Heap growth after a full collection, in percent of the live heap (V8's default adapts up to 300). */
export const HEAP_GROWING_PERCENT = 25;

let tuned = false;

/** Once per process; V8 reads the setting each time it sizes the old generation after a collection. */
export function tuneHeapForLongRunningAgent(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}
