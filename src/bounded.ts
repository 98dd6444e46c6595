/**
 * Bounded collections make room in batches: deleting one key at a time from the front of a Map or
 * Set under a flood of new keys walks the holes earlier deletions left, O(n) per insert.
 */

/** Deletes the `count` oldest (first inserted) keys in one walk; `onDrop` sees each key before it goes. */
export function dropOldest<K>(collection: { keys(): IterableIterator<K>; delete(key: K): boolean }, count: number, onDrop?: (key: K) => void): void {
  let left = Math.max(1, Math.floor(count));
  for (const key of collection.keys()) {
    onDrop?.(key);
    collection.delete(key);
    if (--left === 0) break;
  }
}
