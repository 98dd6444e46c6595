/**
 * Bounded, time-aware state for policies. Every structure has a size cap and forgets by time, so a
 * flood of distinct keys (a scanner cycling source ports and account names) cannot grow memory
 * without bound. Time always comes from the caller (the engine's clock), never from Date.now().
 */
import { dropOldest } from '../bounded.js';

/** What a snapshot of a large map keeps (a flood fills maps with attackers' addresses). */
export interface SnapshotLimits {
  /** Only entries written within this long before now. */
  writtenWithinMs?: number;
  /** Only the most recently written entries, at most this many. */
  newest?: number;
}

/**
 * The size a full map or set is brought down to. Large ones make room for a tenth at once: walking
 * a Map from its start after many deletions skips their holes, so one entry at a time under a flood
 * of new keys costs O(n) per insert.
 */
function evictionTarget(maxSize: number): number {
  return maxSize >= 1000 ? maxSize - Math.floor(maxSize / 10) : maxSize;
}

/**
 * Entries expiring after the returned time are the ones a snapshot keeps: those written within the
 * last `writtenWithinMs` (they expire after now + ttl - writtenWithinMs) and, of those, the `newest`
 * (the latest expiries: `expiries` lists every entry's, read only when there are more).
 */
function snapshotCutoff(now: number, ttlMs: number, limits: SnapshotLimits, size: number, expiries: () => Float64Array): number {
  let from = limits.writtenWithinMs === undefined ? now : Math.max(now, now + ttlMs - limits.writtenWithinMs);
  if (limits.newest !== undefined && size > limits.newest) {
    const sorted = expiries().sort();
    from = Math.max(from, sorted[sorted.length - limits.newest - 1]!);
  }
  return from;
}

/** A snapshot's `[key, value, expires]` not yet expired at `now`. */
function isLiveSnapshotItem(item: unknown, now: number): item is [unknown, unknown, number] {
  return Array.isArray(item) && item.length === 3 && typeof item[2] === 'number' && item[2] > now;
}

/**
 * Expiry times as stored: milliseconds after the first time the container saw, so they stay small
 * integers. V8 keeps a small integer in the entry itself but boxes any other number (an epoch time
 * in ms) in an object of its own: one more object per entry that every young collection copies
 * while the entry is new. Only the stored form changes; callers see and pass epoch times.
 */
class ExpiryBase {
  private base: number | undefined;

  /** The stored form of `at`. */
  encode(at: number): number {
    this.base ??= at;
    return at - this.base;
  }

  /** `now` on the stored scale (compare stored expiries with it). */
  scaled(now: number): number {
    return this.base === undefined ? 0 : now - this.base;
  }

  /** The epoch time of a stored expiry. */
  decode(stored: number): number {
    return stored + (this.base ?? 0);
  }
}

/**
 * Map whose entries expire `ttlMs` after their last write; when full, the stalest go first.
 *
 * A write to a present key updates it in place (no reinsertion: a flood of updates costs no Map
 * churn and no garbage). Eviction walks from the oldest insertion and gives an entry written since
 * it was inserted a second chance at the back (the CLOCK approximation of least-recently-written).
 */
export class ExpiringMap<K, V> {
  /** Each entry's expiry on `time`'s scale (see ExpiryBase). */
  private readonly entries = new Map<K, { value: V; expires: number; rewritten: boolean }>();
  private readonly time = new ExpiryBase();
  /** Entries dropped to make room (not expired ones). */
  evicted = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxSize = 10_000,
  ) {}

  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.time.scaled(now)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: K, value: V, now: number, ttlMs = this.ttlMs): void {
    const expires = this.time.encode(now + ttlMs);
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      entry.expires = expires;
      entry.rewritten = true;
      return;
    }
    this.entries.set(key, { value, expires, rewritten: false });
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
    const scaledNow = this.time.scaled(now);
    for (const [key, entry] of this.entries) if (entry.expires > scaledNow) yield [key, entry.value];
  }

  /**
   * The live entries, stalest first, as plain data (Maps and Sets tagged, see toPlain): what a
   * checkpoint keeps. `encode` turns a value that is not plain data (a class) into some.
   */
  snapshot(now: number, options: SnapshotLimits = {}, encode: (value: V) => unknown = toPlain): [K, unknown, number][] {
    // Entries are updated in place: the most recently written are the ones that expire last.
    const from = this.time.scaled(
      snapshotCutoff(now, this.ttlMs, options, this.entries.size, () => {
        const expiries = new Float64Array(this.entries.size);
        let index = 0;
        for (const entry of this.entries.values()) expiries[index++] = this.time.decode(entry.expires);
        return expiries;
      }),
    );
    const entries: [K, unknown, number][] = [];
    for (const [key, entry] of this.entries) if (entry.expires > from) entries.push([key, encode(entry.value), this.time.decode(entry.expires)]);
    return entries;
  }

  /** Takes back a snapshot's entries (the ones not yet expired at `now`), after whatever it holds. */
  restore(snapshot: unknown, now: number, decode: (plain: unknown) => V = fromPlain as (plain: unknown) => V): void {
    if (!Array.isArray(snapshot)) return;
    for (const item of snapshot) {
      if (!isLiveSnapshotItem(item, now)) continue;
      this.entries.delete(item[0] as K);
      this.entries.set(item[0] as K, { value: decode(item[1]), expires: this.time.encode(item[2]), rewritten: false });
    }
    if (this.entries.size > this.maxSize) this.evict(now);
  }

  private evict(now: number): void {
    const target = evictionTarget(this.maxSize);
    const scaledNow = this.time.scaled(now);
    let budget = this.entries.size;
    // Keys, then a lookup: iterating [key, entry] pairs allocates a pair per entry walked.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= target || budget-- <= 0) break;
      const entry = this.entries.get(key)!;
      this.entries.delete(key);
      if (entry.expires <= scaledNow) continue;
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

/**
 * Remembers that something happened (a finding for a call) for a while: "fire once".
 *
 * Every call leaves a key in several of these for a day, so a key costs only its expiry (no entry
 * object per key, as ExpiringMap needs, and a small integer: see ExpiryBase). A key is never
 * rewritten while present, so eviction is simply the oldest insertion first; snapshots are
 * ExpiringMap's (`[key, true, expires]`).
 */
export class ExpiringSet<K> {
  /** Each key's expiry on `time`'s scale. */
  private readonly expiries = new Map<K, number>();
  private readonly time = new ExpiryBase();
  /** Keys dropped to make room (not expired ones). */
  evicted = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxSize = 10_000,
  ) {}

  get size(): number {
    return this.expiries.size;
  }

  /** Adds `key`; true when it was not there yet (the first time). */
  add(key: K, now: number): boolean {
    if (this.has(key, now)) return false;
    this.expiries.set(key, this.time.encode(now + this.ttlMs));
    if (this.expiries.size > this.maxSize) this.evict(now);
    return true;
  }

  has(key: K, now: number): boolean {
    const expires = this.expiries.get(key);
    if (expires === undefined) return false;
    if (expires <= this.time.scaled(now)) {
      this.expiries.delete(key);
      return false;
    }
    return true;
  }

  delete(key: K): void {
    this.expiries.delete(key);
  }

  snapshot(now: number, limits: SnapshotLimits = {}): unknown {
    const from = this.time.scaled(snapshotCutoff(now, this.ttlMs, limits, this.expiries.size, () => Float64Array.from(this.expiries.values(), (expires) => this.time.decode(expires))));
    const entries: [K, true, number][] = [];
    for (const [key, expires] of this.expiries) if (expires > from) entries.push([key, true, this.time.decode(expires)]);
    return entries;
  }

  restore(snapshot: unknown, now: number): void {
    if (!Array.isArray(snapshot)) return;
    for (const item of snapshot) {
      if (!isLiveSnapshotItem(item, now)) continue;
      this.expiries.delete(item[0] as K);
      this.expiries.set(item[0] as K, this.time.encode(item[2]));
    }
    if (this.expiries.size > this.maxSize) this.evict(now);
  }

  private evict(now: number): void {
    // The oldest insertions first.
    const target = evictionTarget(this.maxSize);
    const scaledNow = this.time.scaled(now);
    for (const [key, expires] of this.expiries) {
      if (this.expiries.size <= target) break;
      this.expiries.delete(key);
      if (expires > scaledNow) this.evicted++;
    }
  }
}

const NO_VALUES: readonly string[] = [];

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

  /** The values recorded in the window, without a copy: read them before the next add(). */
  peek(key: K, now: number): readonly string[] {
    return this.prune(key, now)?.values ?? NO_VALUES;
  }

  /** The values recorded in the window (duplicates kept). */
  values(key: K, now: number): string[] {
    return this.prune(key, now)?.values.slice() ?? [];
  }

  snapshot(now: number): unknown {
    return this.keys.snapshot(now);
  }

  restore(snapshot: unknown, now: number): void {
    this.keys.restore(snapshot, now);
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

  snapshot(now: number, limits?: SnapshotLimits): unknown {
    return this.keys.snapshot(now, limits);
  }

  restore(snapshot: unknown, now: number): void {
    this.keys.restore(snapshot, now);
  }
}

/**
 * One shared copy of texts that recur from finding to finding (a signal's text, an allow hint, a
 * message's tail): a finding is kept until the next one of its incident replaces it, long enough
 * to be promoted to the old generation, so a text it shares with the others costs nothing there.
 * The fresh copy a caller built dies young. Bounded: the oldest text goes when it is full.
 */
export class TextInterner {
  private readonly texts = new Map<string, string>();

  constructor(private readonly maxSize = 512) {}

  intern(text: string): string {
    const known = this.texts.get(text);
    if (known !== undefined) return known;
    if (this.texts.size >= this.maxSize) dropOldest(this.texts, this.maxSize / 10);
    this.texts.set(text, text);
    return text;
  }
}

// ───────────────────────────── checkpoints ─────────────────────────────

/** State that can be written down as plain data and taken back after a restart. */
export interface Checkpointable {
  snapshot(now: number): unknown;
  restore(snapshot: unknown, now: number): void;
}

/**
 * The snapshot()/restore() of a policy instance made of named state containers: the snapshot is
 * `{ name: container snapshot }`; restore gives each container its part (an unknown name, or a
 * container the snapshot lacks, is left as it is: a policy that gained a rule starts it empty).
 */
export function checkpointed(containers: Record<string, Checkpointable | undefined>): Checkpointable {
  return {
    snapshot(now) {
      const parts: Record<string, unknown> = {};
      for (const [name, container] of Object.entries(containers)) if (container) parts[name] = container.snapshot(now);
      return parts;
    },
    restore(snapshot, now) {
      if (!isRecord(snapshot)) return;
      for (const [name, container] of Object.entries(containers)) if (container && name in snapshot) container.restore(snapshot[name], now);
    },
  };
}

/**
 * A container whose snapshot keeps only its most recently written entries: state keyed by source
 * address, which a flood from many addresses fills to its cap. A restart then forgets the least
 * recently active attackers' counts (they start again from zero), never a compromise or an endpoint.
 */
export function limited(container: { snapshot(now: number, limits?: SnapshotLimits): unknown; restore(snapshot: unknown, now: number): void } | undefined, limits: SnapshotLimits): Checkpointable | undefined {
  if (!container) return undefined;
  return { snapshot: (now) => container.snapshot(now, limits), restore: (snapshot, now) => container.restore(snapshot, now) };
}

/**
 * What a checkpoint keeps of state keyed by call (what was judged, what fired): the calls started
 * most recently — every call still up at a restart on any PBX this agent suits, not the day's
 * thousands of ended calls that can never come again.
 */
export const BY_CALL: SnapshotLimits = { newest: 5000 };

/**
 * The forgetCall() of a policy whose state kept per call is these containers, keyed by linkedid:
 * a call the call table forgot leaves each of them (see PolicyInstance.forgetCall).
 */
export function forgottenWithCall(...containers: { delete(linkedid: string): void }[]): { forgetCall(call: { linkedid: string }): void } {
  return {
    forgetCall(call) {
      for (const container of containers) container.delete(call.linkedid);
    },
  };
}

/**
 * A value as JSON-safe plain data: Maps and Sets become `{ "@map": [[k, v], …] }` and
 * `{ "@set": [v, …] }` (recursively); fromPlain turns them back.
 */
export function toPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Map) return { '@map': [...value].map(([key, item]) => [toPlain(key), toPlain(item)]) };
  if (value instanceof Set) return { '@set': [...value].map(toPlain) };
  if (Array.isArray(value)) return value.map(toPlain);
  const plain: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) plain[key] = toPlain(item);
  return plain;
}

export function fromPlain(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(fromPlain);
  const record = value as Record<string, unknown>;
  if (Array.isArray(record['@map'])) return new Map((record['@map'] as [unknown, unknown][]).map(([key, item]) => [fromPlain(key), fromPlain(item)]));
  if (Array.isArray(record['@set'])) return new Set((record['@set'] as unknown[]).map(fromPlain));
  const plain: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(record)) plain[key] = fromPlain(item);
  return plain;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
