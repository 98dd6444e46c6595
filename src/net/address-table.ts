/**
 * Addresses to entry numbers, for many addresses, kept off the JavaScript heap. A SIP scan comes
 * from a new address with nearly every event: a Map entry per address (its key string, its value
 * object) lives as long as the memory holds it, so the garbage collector copies tens of thousands
 * of them out of the young generation every second — pauses of several milliseconds that a fraud
 * call read meanwhile waits out. Here an address is a few bytes in typed arrays that the collector
 * never walks; what is kept about it lives in the owner's typed arrays, at the same entry number.
 *
 * Bounded: at most `capacity` addresses; past it, the least recently written goes (counted in
 * `evicted`), as a Map written with delete-then-set and trimmed from its start would do.
 *
 * Keys are compared by their UTF-8 bytes (an address is ASCII): exactly up to KEY_BYTES bytes;
 * a longer key (never an IP address) by its length, its first KEY_BYTES bytes and a 64-bit hash,
 * and kept whole on the side for keyOf().
 */

/** Bytes of a key kept: a canonical IPv6 address is at most 39. */
const KEY_BYTES = 48;
export const NO_ENTRY = -1;

export class AddressTable {
  /** Addresses dropped to make room (the least recently written). */
  evicted = 0;
  private readonly keyBytes: Uint8Array;
  private readonly keyLength: Uint32Array;
  private readonly hashLow: Uint32Array;
  private readonly hashHigh: Uint32Array;
  /** Entries in a bucket, chained by number; the free entries are chained the same way from `free`. */
  private readonly buckets: Int32Array;
  private readonly bucketNext: Int32Array;
  /** Least recently written first: a doubly linked list of entry numbers. */
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  private oldestEntry = NO_ENTRY;
  private newestEntry = NO_ENTRY;
  /** Entries never used yet start at `unused`. */
  private unused = 0;
  private free = NO_ENTRY;
  private entries = 0;
  private readonly mask: number;
  /** Keys longer than KEY_BYTES, whole, by entry. */
  private readonly longKeys = new Map<number, string>();
  // The key last hashed (by identity), its bytes (the first KEY_BYTES), length and hash.
  private lookupKey: string | undefined;
  private readonly lookupBytes = new Uint8Array(KEY_BYTES);
  private lookupLength = 0;
  private lookupLow = 0;
  private lookupHigh = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`AddressTable: capacity must be a positive integer, not ${capacity}`);
    this.keyBytes = new Uint8Array(capacity * KEY_BYTES);
    this.keyLength = new Uint32Array(capacity);
    this.hashLow = new Uint32Array(capacity);
    this.hashHigh = new Uint32Array(capacity);
    this.bucketNext = new Int32Array(capacity);
    this.older = new Int32Array(capacity);
    this.newer = new Int32Array(capacity);
    let buckets = 1;
    while (buckets < capacity * 2) buckets *= 2;
    this.buckets = new Int32Array(buckets).fill(NO_ENTRY);
    this.mask = buckets - 1;
  }

  get size(): number {
    return this.entries;
  }

  /** The least recently written entry (NO_ENTRY when empty). */
  get oldest(): number {
    return this.oldestEntry;
  }

  /** The entry of `key`, or NO_ENTRY. */
  find(key: string): number {
    this.hashKey(key);
    const stored = Math.min(this.lookupLength, KEY_BYTES);
    for (let entry = this.buckets[this.lookupLow & this.mask]!; entry !== NO_ENTRY; entry = this.bucketNext[entry]!) {
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
    return NO_ENTRY;
  }

  /**
   * A new entry for `key` (not in the table: find() said so), the most recently written; the least
   * recently written goes first when the table is full. The owner then writes what it keeps.
   */
  insert(key: string): number {
    this.hashKey(key);
    let entry: number;
    if (this.free !== NO_ENTRY) {
      entry = this.free;
      this.free = this.bucketNext[entry]!;
    } else if (this.unused < this.capacity) {
      entry = this.unused++;
    } else {
      entry = this.oldestEntry;
      this.detach(entry);
      this.evicted++;
    }
    const base = entry * KEY_BYTES;
    const stored = Math.min(this.lookupLength, KEY_BYTES);
    for (let index = 0; index < stored; index++) this.keyBytes[base + index] = this.lookupBytes[index]!;
    if (this.lookupLength > KEY_BYTES) this.longKeys.set(entry, key);
    this.keyLength[entry] = this.lookupLength;
    this.hashLow[entry] = this.lookupLow;
    this.hashHigh[entry] = this.lookupHigh;
    const bucket = this.lookupLow & this.mask;
    this.bucketNext[entry] = this.buckets[bucket]!;
    this.buckets[bucket] = entry;
    this.entries++;
    this.append(entry);
    return entry;
  }

  /**
   * The entry of `key`, now the most recently written: the one found (`found`, when the caller
   * looked it up already) or a new one (see insert()).
   */
  write(key: string, found = this.find(key)): number {
    if (found === NO_ENTRY) return this.insert(key);
    this.touch(found);
    return found;
  }

  /** The entry becomes the most recently written. */
  touch(entry: number): void {
    if (entry === this.newestEntry) return;
    this.unlink(entry);
    this.append(entry);
  }

  /** Forgets the entry; its number may be given to another key. */
  remove(entry: number): void {
    this.detach(entry);
    this.bucketNext[entry] = this.free;
    this.free = entry;
  }

  /** The key of an entry in the table. */
  keyOf(entry: number): string {
    const long = this.keyLength[entry]! > KEY_BYTES ? this.longKeys.get(entry) : undefined;
    if (long !== undefined) return long;
    return Buffer.from(this.keyBytes.buffer, this.keyBytes.byteOffset + entry * KEY_BYTES, this.keyLength[entry]!).toString('utf8');
  }

  /** Up to `count` entries, the most recently written first. */
  newest(count: number): number[] {
    const entries: number[] = [];
    for (let entry = this.newestEntry; entry !== NO_ENTRY && entries.length < count; entry = this.older[entry]!) entries.push(entry);
    return entries;
  }

  /** Out of its bucket and of the order; no longer counted. */
  private detach(entry: number): void {
    this.unlink(entry);
    const bucket = this.hashLow[entry]! & this.mask;
    let previous = NO_ENTRY;
    for (let at = this.buckets[bucket]!; at !== NO_ENTRY; previous = at, at = this.bucketNext[at]!) {
      if (at !== entry) continue;
      if (previous === NO_ENTRY) this.buckets[bucket] = this.bucketNext[at]!;
      else this.bucketNext[previous] = this.bucketNext[at]!;
      break;
    }
    if (this.keyLength[entry]! > KEY_BYTES) this.longKeys.delete(entry);
    this.entries--;
  }

  private unlink(entry: number): void {
    const older = this.older[entry]!;
    const newer = this.newer[entry]!;
    if (older === NO_ENTRY) this.oldestEntry = newer;
    else this.newer[older] = newer;
    if (newer === NO_ENTRY) this.newestEntry = older;
    else this.older[newer] = older;
  }

  private append(entry: number): void {
    this.older[entry] = this.newestEntry;
    this.newer[entry] = NO_ENTRY;
    if (this.newestEntry === NO_ENTRY) this.oldestEntry = entry;
    else this.newer[this.newestEntry] = entry;
    this.newestEntry = entry;
  }

  /** The key's UTF-8 bytes (the first KEY_BYTES), its length and two 32-bit hashes (FNV-1a and a murmur-style mix). */
  private hashKey(key: string): void {
    if (key === this.lookupKey) return;
    let low = 0x811c9dc5;
    let high = 0x9747b28c;
    const bytes = /^[\x00-\x7f]*$/.test(key) ? undefined : Buffer.from(key, 'utf8');
    const length = bytes ? bytes.length : key.length;
    for (let index = 0; index < length; index++) {
      const byte = bytes ? bytes[index]! : key.charCodeAt(index);
      if (index < KEY_BYTES) this.lookupBytes[index] = byte;
      low = Math.imul(low ^ byte, 0x01000193);
      high = Math.imul(high ^ byte, 0x5bd1e995);
      high ^= high >>> 15;
    }
    this.lookupKey = key;
    this.lookupLength = length;
    this.lookupLow = low >>> 0;
    this.lookupHigh = high >>> 0;
  }
}
