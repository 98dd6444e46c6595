/**
 * A count and a time per address, off the JavaScript heap (see AddressTable): the address
 * memory's failed logins, kept for a scan's hundreds of thousands of addresses.
 */
import { AddressTable, NO_ENTRY } from './address-table.js';

export interface AddressCount {
  count: number;
  last: number;
}

export class AddressCounts {
  private readonly table: AddressTable;
  private readonly counts: Float64Array;
  private readonly lasts: Float64Array;

  constructor(readonly capacity: number) {
    this.table = new AddressTable(capacity);
    this.counts = new Float64Array(capacity);
    this.lasts = new Float64Array(capacity);
  }

  get size(): number {
    return this.table.size;
  }

  /** Addresses dropped to make room (the least recently written). */
  get evicted(): number {
    return this.table.evicted;
  }

  /** The address's count and last time; undefined when it is not kept. */
  get(key: string): AddressCount | undefined {
    const entry = this.table.find(key);
    return entry === NO_ENTRY ? undefined : { count: this.counts[entry]!, last: this.lasts[entry]! };
  }

  /** Writes the address's count and time; it becomes the most recently written. */
  set(key: string, count: number, last: number): void {
    this.write(this.table.write(key), count, last);
  }

  /**
   * One more for the address at `now` — counting from one again when its last was `forgetMs` or
   * more ago — and it becomes the most recently written.
   */
  add(key: string, now: number, forgetMs: number): void {
    const found = this.table.find(key);
    const counting = found !== NO_ENTRY && now - this.lasts[found]! < forgetMs;
    this.write(this.table.write(key, found), counting ? this.counts[found]! + 1 : 1, now);
  }

  /** The `count` most recently written, least recent first (what a checkpoint keeps). */
  newestEntries(count: number): [string, AddressCount][] {
    return this.table
      .newest(count)
      .reverse()
      .map((entry) => [this.table.keyOf(entry), { count: this.counts[entry]!, last: this.lasts[entry]! }]);
  }

  private write(entry: number, count: number, last: number): void {
    this.counts[entry] = count;
    this.lasts[entry] = last;
  }
}
