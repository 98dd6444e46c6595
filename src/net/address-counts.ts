/**
 * A count and a time per address, for many addresses, kept off the JavaScript heap. A SIP scan
 * comes from a new address with nearly every event: a Map entry per address (its key string, its
 * value object) lives as long as the memory holds it, so the garbage collector copied tens of
 * thousands of them out of the young generation every second — pauses of several milliseconds
 * that a fraud call read meanwhile waited out. Here an address is a few bytes in typed arrays that
 * the collector never walks.
 *
 * Bounded: at most `capacity` addresses; past it, the least recently written goes (counted in
 * `evicted`), as a Map written with delete-then-set and trimmed from its start would do.
 *
 * Keys are compared by their UTF-8 bytes (an address is ASCII): exactly up to KEY_BYTES bytes;
 * a longer key (never an IP address) by its length, its first KEY_BYTES bytes and a 64-bit hash,
 * and kept whole on the side for newestEntries().
 */

/** Bytes of a key kept: a canonical IPv6 address is at most 39. */
const KEY_BYTES = 48;
const NONE = -1;

export interface AddressCount {
  count: number;
  last: number;
}

export class AddressCounts {
  /** Addresses dropped to make room (the least recently written). */
  evicted = 0;
  private readonly keyBytes: Uint8Array;
  private readonly keyLength: Uint32Array;
  private readonly hashLow: Uint32Array;
  private readonly hashHigh: Uint32Array;
  private readonly counts: Float64Array;
  private readonly lasts: Float64Array;
  /** Entries in a bucket, chained by index. */
  private readonly buckets: Int32Array;
  private readonly bucketNext: Int32Array;
  /** Least recently written first: a doubly linked list of entry indexes. */
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  private oldest = NONE;
  private newest = NONE;
  /** Entries never used yet start here. */
  private unused = 0;
  private entries = 0;
  /** Keys longer than KEY_BYTES, whole, by entry. */
  private readonly longKeys = new Map<number, string>();
  private readonly mask: number;
  // The key being looked up, as bytes, and its hash (set by hashKey; one key at a time).
  private lookupBytes = new Uint8Array(KEY_BYTES);
  private lookupLength = 0;
  private lookupLow = 0;
  private lookupHigh = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`AddressCounts: capacity must be a positive integer, not ${capacity}`);
    this.keyBytes = new Uint8Array(capacity * KEY_BYTES);
    this.keyLength = new Uint32Array(capacity);
    this.hashLow = new Uint32Array(capacity);
    this.hashHigh = new Uint32Array(capacity);
    this.counts = new Float64Array(capacity);
    this.lasts = new Float64Array(capacity);
    this.bucketNext = new Int32Array(capacity);
    this.older = new Int32Array(capacity);
    this.newer = new Int32Array(capacity);
    let buckets = 1;
    while (buckets < capacity * 2) buckets *= 2;
    this.buckets = new Int32Array(buckets).fill(NONE);
    this.mask = buckets - 1;
  }

  get size(): number {
    return this.entries;
  }

  /** The address's count and last time; undefined when it is not kept. */
  get(key: string): AddressCount | undefined {
    const entry = this.find(key);
    return entry === NONE ? undefined : { count: this.counts[entry]!, last: this.lasts[entry]! };
  }

  /** Writes the address's count and time; it becomes the most recently written. */
  set(key: string, count: number, last: number): void {
    let entry = this.find(key);
    if (entry === NONE) entry = this.insert(key);
    else this.unlink(entry);
    this.counts[entry] = count;
    this.lasts[entry] = last;
    this.append(entry);
  }

  /**
   * One more for the address at `now` — counting from one again when its last was `forgetMs` or
   * more ago — and it becomes the most recently written.
   */
  add(key: string, now: number, forgetMs: number): void {
    let entry = this.find(key);
    if (entry === NONE) {
      entry = this.insert(key);
      this.counts[entry] = 1;
    } else {
      this.unlink(entry);
      this.counts[entry] = now - this.lasts[entry]! < forgetMs ? this.counts[entry]! + 1 : 1;
    }
    this.lasts[entry] = now;
    this.append(entry);
  }

  /** The `count` most recently written, least recent first (what a checkpoint keeps). */
  newestEntries(count: number): [string, AddressCount][] {
    const entries: [string, AddressCount][] = [];
    for (let entry = this.newest; entry !== NONE && entries.length < count; entry = this.older[entry]!) entries.push([this.keyOf(entry), { count: this.counts[entry]!, last: this.lasts[entry]! }]);
    return entries.reverse();
  }

  /** The entry of `key`, or NONE; leaves the key's bytes and hash in the lookup fields. */
  private find(key: string): number {
    this.hashKey(key);
    const stored = Math.min(this.lookupLength, KEY_BYTES);
    for (let entry = this.buckets[this.lookupLow & this.mask]!; entry !== NONE; entry = this.bucketNext[entry]!) {
      if (this.hashLow[entry] !== this.lookupLow || this.hashHigh[entry] !== this.lookupHigh || this.keyLength[entry] !== this.lookupLength) continue;
      const base = entry * KEY_BYTES;
      let same = true;
      for (let index = 0; index < stored; index++) {
        if (this.keyBytes[base + index] !== this.lookupBytes[index]) {
          same = false;
          break;
        }
      }
      if (same) return entry;
    }
    return NONE;
  }

  /** An entry for `key`, just looked up (find), in its bucket; the least recently written goes when full. */
  private insert(key: string): number {
    let entry: number;
    if (this.unused < this.capacity) {
      entry = this.unused++;
    } else {
      entry = this.oldest;
      this.unlink(entry);
      this.removeFromBucket(entry);
      this.entries--;
      this.evicted++;
    }
    const base = entry * KEY_BYTES;
    const stored = Math.min(this.lookupLength, KEY_BYTES);
    for (let index = 0; index < stored; index++) this.keyBytes[base + index] = this.lookupBytes[index]!;
    if (this.lookupLength > KEY_BYTES) this.longKeys.set(entry, key);
    else if (this.longKeys.size > 0) this.longKeys.delete(entry);
    this.keyLength[entry] = this.lookupLength;
    this.hashLow[entry] = this.lookupLow;
    this.hashHigh[entry] = this.lookupHigh;
    const bucket = this.lookupLow & this.mask;
    this.bucketNext[entry] = this.buckets[bucket]!;
    this.buckets[bucket] = entry;
    this.entries++;
    return entry;
  }

  private removeFromBucket(entry: number): void {
    const bucket = this.hashLow[entry]! & this.mask;
    let previous = NONE;
    for (let at = this.buckets[bucket]!; at !== NONE; previous = at, at = this.bucketNext[at]!) {
      if (at !== entry) continue;
      if (previous === NONE) this.buckets[bucket] = this.bucketNext[at]!;
      else this.bucketNext[previous] = this.bucketNext[at]!;
      return;
    }
  }

  private unlink(entry: number): void {
    const older = this.older[entry]!;
    const newer = this.newer[entry]!;
    if (older === NONE) this.oldest = newer;
    else this.newer[older] = newer;
    if (newer === NONE) this.newest = older;
    else this.older[newer] = older;
  }

  private append(entry: number): void {
    this.older[entry] = this.newest;
    this.newer[entry] = NONE;
    if (this.newest === NONE) this.oldest = entry;
    else this.newer[this.newest] = entry;
    this.newest = entry;
  }

  private keyOf(entry: number): string {
    const long = this.keyLength[entry]! > KEY_BYTES ? this.longKeys.get(entry) : undefined;
    if (long !== undefined) return long;
    const base = entry * KEY_BYTES;
    return Buffer.from(this.keyBytes.buffer, this.keyBytes.byteOffset + base, Math.min(this.keyLength[entry]!, KEY_BYTES)).toString('utf8');
  }

  /** The key's UTF-8 bytes (the first KEY_BYTES), its length and two 32-bit hashes (FNV-1a and a murmur-style mix). */
  private hashKey(key: string): void {
    let low = 0x811c9dc5;
    let high = 0x9747b28c;
    let length = 0;
    const ascii = /^[\x00-\x7f]*$/.test(key);
    const bytes = ascii ? undefined : Buffer.from(key, 'utf8');
    const total = bytes ? bytes.length : key.length;
    for (let index = 0; index < total; index++) {
      const byte = bytes ? bytes[index]! : key.charCodeAt(index);
      if (length < KEY_BYTES) this.lookupBytes[length] = byte;
      length++;
      low = Math.imul(low ^ byte, 0x01000193);
      high = Math.imul(high ^ byte, 0x5bd1e995);
      high ^= high >>> 15;
    }
    this.lookupLength = length;
    this.lookupLow = low >>> 0;
    this.lookupHigh = high >>> 0;
  }
}
