/**
 * A bounded least-recently-used cache on a `Map`. A Map iterates in insertion order, so re-inserting
 * an entry on every hit keeps the least recently used entry first, where eviction takes it from.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly maxSize: number) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`LRU cache size must be a positive integer, got ${maxSize}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the cached value and marks it most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Stores a value as most recently used, evicting the least recently used entry when full. */
  set(key: K, value: V): void {
    if (this.entries.has(key)) this.entries.delete(key);
    else if (this.entries.size >= this.maxSize) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }
}
