/**
 * Bounded, time-aware state for policies. Every structure has a size cap and forgets by time, so a
 * flood of distinct keys (a scanner cycling source ports and account names) cannot grow memory
 * without bound. Time always comes from the caller (the engine's clock), never from Date.now().
 */

/**
 * Map whose entries expire `ttlMs` after their last write; when full, the stalest go first.
 *
 * A write to a present key updates it in place (no reinsertion: a flood of updates costs no Map
 * churn and no garbage). Eviction walks from the oldest insertion and gives an entry written since
 * it was inserted a second chance at the back (the CLOCK approximation of least-recently-written).
 */
export class ExpiringMap<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number; rewritten: boolean }>();
  /** Entries dropped to make room (not expired ones). */
  evicted = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxSize = 10_000,
  ) {}

  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, now: number, ttlMs = this.ttlMs): void {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.expires = now + ttlMs;
      entry.rewritten = true;
      return;
    }
    this.entries.set(key, { value, expires: now + ttlMs, rewritten: false });
    if (this.entries.size > this.maxSize) this.evict(now);
  }

  has(key: K, now: number): boolean {
    return this.get(key, now) !== undefined;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Live entries, oldest insertion first. */
  *values(now: number): IterableIterator<[K, V]> {
    for (const [key, entry] of this.entries) if (entry.expires > now) yield [key, entry.value];
  }

  private evict(now: number): void {
    // Large maps make room for a tenth at once: walking a Map from its start after many deletions
    // skips their holes, so one entry at a time under a flood of new keys costs O(n) per insert.
    const target = this.maxSize >= 1000 ? this.maxSize - Math.floor(this.maxSize / 10) : this.maxSize;
    let budget = this.entries.size;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= target || budget-- <= 0) break;
      this.entries.delete(key);
      if (entry.expires <= now) continue;
      if (entry.rewritten) {
        entry.rewritten = false;
        this.entries.set(key, entry);
      } else {
        this.evicted++;
      }
    }
    // Every entry had its second chance: the stalest go now.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target) break;
      this.entries.delete(key);
      this.evicted++;
    }
  }
}

/** Remembers that something happened (a finding for a call) for a while: "fire once". */
export class ExpiringSet<K> {
  private readonly map: ExpiringMap<K, true>;

  constructor(ttlMs: number, maxSize = 10_000) {
    this.map = new ExpiringMap(ttlMs, maxSize);
  }

  get size(): number {
    return this.map.size;
  }

  get evicted(): number {
    return this.map.evicted;
  }

  /** Adds `key`; true when it was not there yet (the first time). */
  add(key: K, now: number): boolean {
    if (this.map.has(key, now)) return false;
    this.map.set(key, true, now);
    return true;
  }

  has(key: K, now: number): boolean {
    return this.map.has(key, now);
  }
}

/** Events per key within a sliding window (timestamps kept, at most `maxPerKey` per key). */
export class SlidingWindow<K> {
  private readonly keys: ExpiringMap<K, { times: number[]; values: string[] }>;

  constructor(
    private readonly windowMs: number,
    maxKeys = 10_000,
    private readonly maxPerKey = 10_000,
  ) {
    this.keys = new ExpiringMap(windowMs, maxKeys);
  }

  /** Records one event (with an optional value, e.g. the dialled number) and returns the count in the window. */
  add(key: K, now: number, value = ''): number {
    const entry = this.prune(key, now) ?? { times: [], values: [] };
    entry.times.push(now);
    entry.values.push(value);
    if (entry.times.length > this.maxPerKey) {
      entry.times.shift();
      entry.values.shift();
    }
    this.keys.set(key, entry, now);
    return entry.times.length;
  }

  count(key: K, now: number): number {
    return this.prune(key, now)?.times.length ?? 0;
  }

  /** The values recorded in the window (duplicates kept). */
  values(key: K, now: number): string[] {
    return this.prune(key, now)?.values.slice() ?? [];
  }

  private prune(key: K, now: number): { times: number[]; values: string[] } | undefined {
    const entry = this.keys.get(key, now);
    if (!entry) return undefined;
    const cutoff = now - this.windowMs;
    let drop = 0;
    while (drop < entry.times.length && entry.times[drop]! <= cutoff) drop++;
    if (drop > 0) {
      entry.times.splice(0, drop);
      entry.values.splice(0, drop);
    }
    return entry;
  }
}

/**
 * Leaky bucket per key (CrowdSec's model): each event adds 1, the level drains at
 * `leakPerSecond`; the bucket "overflows" when the level exceeds `capacity`.
 */
export class LeakyBuckets<K> {
  /** The buckets themselves (size and evictions are reported). */
  readonly keys: ExpiringMap<K, { level: number; at: number }>;

  constructor(
    private readonly capacity: number,
    private readonly leakPerSecond: number,
    maxKeys = 10_000,
  ) {
    // A bucket drains completely after capacity / leak seconds: forget it then.
    const drainMs = Math.ceil(((capacity + 1) / Math.max(leakPerSecond, 1e-9)) * 1000);
    this.keys = new ExpiringMap(drainMs, maxKeys);
  }

  /** Pours one event in; returns the level after it. */
  add(key: K, now: number, amount = 1): number {
    const level = this.level(key, now) + amount;
    this.keys.set(key, { level, at: now }, now);
    return level;
  }

  level(key: K, now: number): number {
    const bucket = this.keys.get(key, now);
    if (!bucket) return 0;
    return Math.max(0, bucket.level - ((now - bucket.at) / 1000) * this.leakPerSecond);
  }

  overflowing(key: K, now: number): boolean {
    return this.level(key, now) > this.capacity;
  }

  reset(key: K): void {
    this.keys.delete(key);
  }
}
