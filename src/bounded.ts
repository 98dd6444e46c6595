/**
 * Collections on the hot paths. Bounded ones make room in batches: deleting one key at a time from
 * the front of a Map or Set under a flood of new keys walks the holes earlier deletions left, O(n)
 * per insert. Short lists are made on first use, sized to fit.
 */

/** Deletes the `count` oldest (first inserted) keys in one walk; `onDrop` sees each key before it goes. Returns how many went. */
export function dropOldest<K>(collection: { keys(): IterableIterator<K>; delete(key: K): boolean }, count: number, onDrop?: (key: K) => void): number {
  const wanted = Math.max(1, Math.floor(count));
  let dropped = 0;
  for (const key of collection.keys()) {
    onDrop?.(key);
    collection.delete(key);
    if (++dropped === wanted) break;
  }
  return dropped;
}

/**
 * `list` with `item` at its end; made on first use. Most lists on the hot paths hold one item, and
 * `[]` then push() reserves room for 17.
 */
export function appended<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}

/**
 * Adds one to `key`'s count in a flat `[key, count, key, count]` list (a few keys at most: one
 * small array, not a Map, per source of a scan).
 */
export function countInPairs(pairs: (string | number)[], key: string): void {
  const at = pairs.indexOf(key);
  if (at >= 0 && at % 2 === 0) pairs[at + 1] = (pairs[at + 1] as number) + 1;
  else pairs.push(key, 1);
}
