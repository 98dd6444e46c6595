/**
 * A bounded cache that keeps the recently used entries, on a `Map` (which iterates in insertion
 * order). A hit only marks its entry used: re-inserting it on every hit, as a strict LRU does,
 * churns the map's table in the old generation on every call. Eviction walks from the oldest
 * insertion and gives a used entry a second chance at the back (the CLOCK approximation of LRU).
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; used: boolean }>();

  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`LRU cache size must be a positive integer, got ${maxSize}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the cached value and marks it used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (!entry.used) entry.used = true;
    return entry.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Stores a value (marked used when it replaces one), evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.used = true;
      return;
    }
    if (this.entries.size >= this.maxSize) this.evictOne();
    this.entries.set(key, { value, used: false });
  }

  clear(): void {
    this.entries.clear();
  }

  private evictOne(): void {
    // Bounded: after one pass every entry has lost its mark, so the second pass evicts.
    for (let pass = 0; pass <= this.entries.size; pass++) {
      const oldest = this.entries.entries().next();
      if (oldest.done) return;
      const [key, entry] = oldest.value;
      this.entries.delete(key);
      if (!entry.used) return;
      entry.used = false;
      this.entries.set(key, entry);
    }
  }
}
