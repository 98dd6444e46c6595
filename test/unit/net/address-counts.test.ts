import { AddressCounts } from '../../../src/net/address-counts.js';

const DAY = 86_400_000;

/** What AddressCounts replaces: a Map written with delete-then-set, its first keys dropped past the capacity. */
class ReferenceCounts {
  readonly map = new Map<string, { count: number; last: number }>();
  evicted = 0;
  constructor(private readonly capacity: number) {}
  add(key: string, now: number, forgetMs: number): void {
    const entry = this.map.get(key);
    this.map.delete(key);
    this.map.set(key, { count: entry && now - entry.last < forgetMs ? entry.count + 1 : 1, last: now });
    this.trim();
  }
  set(key: string, count: number, last: number): void {
    this.map.delete(key);
    this.map.set(key, { count, last });
    this.trim();
  }
  private trim(): void {
    while (this.map.size > this.capacity) {
      this.map.delete(this.map.keys().next().value!);
      this.evicted++;
    }
  }
}

describe('AddressCounts', () => {
  test('counts per address, starts again after the forget time, and forgets the least recently written first', () => {
    const counts = new AddressCounts(3);
    counts.add('203.0.113.9', 1000, DAY);
    counts.add('203.0.113.9', 2000, DAY);
    counts.add('2001:db8::1', 3000, DAY);
    counts.add('198.51.100.7', 4000, DAY);
    expect(counts.get('203.0.113.9')).toEqual({ count: 2, last: 2000 });
    expect(counts.get('203.0.113.99')).toBeUndefined();
    // Written again: now the most recent, so the IPv6 address is the one that goes for a fourth.
    counts.add('203.0.113.9', 5000, DAY);
    counts.add('192.0.2.1', 6000, DAY);
    expect(counts.get('2001:db8::1')).toBeUndefined();
    expect(counts.evicted).toBe(1);
    expect(counts.size).toBe(3);
    expect(counts.newestEntries(10).map(([key]) => key)).toEqual(['198.51.100.7', '203.0.113.9', '192.0.2.1']);
    // A failure a day and more after the last one counts from one again.
    counts.add('198.51.100.7', 4000 + DAY, DAY);
    expect(counts.get('198.51.100.7')).toEqual({ count: 1, last: 4000 + DAY });
  });

  test('the newest entries come least recent first, as many as asked; set() restores them in that order', () => {
    const counts = new AddressCounts(100);
    for (let index = 0; index < 10; index++) counts.add(`198.51.100.${index}`, index, DAY);
    const newest = counts.newestEntries(4);
    expect(newest).toEqual([6, 7, 8, 9].map((index) => [`198.51.100.${index}`, { count: 1, last: index }]));
    const restored = new AddressCounts(3);
    for (const [key, { count, last }] of newest) restored.set(key, count, last);
    expect(restored.newestEntries(10).map(([key]) => key)).toEqual(['198.51.100.7', '198.51.100.8', '198.51.100.9']);
    expect(restored.get('198.51.100.9')).toEqual({ count: 1, last: 9 });
  });

  test('keys are told apart by every byte: non-ASCII ones, and long ones that share their first 48 bytes', () => {
    const counts = new AddressCounts(10);
    const long = 'x'.repeat(60);
    counts.add(`${long}a`, 1, DAY);
    counts.add(`${long}b`, 2, DAY);
    counts.add(`${long}b`, 3, DAY);
    counts.add('2001:db8::1%eth0', 4, DAY);
    counts.add('2001:db8::1%éth0', 5, DAY);
    expect(counts.get(`${long}a`)).toEqual({ count: 1, last: 1 });
    expect(counts.get(`${long}b`)).toEqual({ count: 2, last: 3 });
    expect(counts.get(long)).toBeUndefined();
    expect(counts.get('2001:db8::1%eth0')).toEqual({ count: 1, last: 4 });
    expect(counts.get('2001:db8::1%éth0')).toEqual({ count: 1, last: 5 });
    expect(counts.newestEntries(3)).toEqual([
      [`${long}b`, { count: 2, last: 3 }],
      ['2001:db8::1%eth0', { count: 1, last: 4 }],
      ['2001:db8::1%éth0', { count: 1, last: 5 }],
    ]);
  });

  test('behaves as the Map it replaces through a scan of 100 000 writes over 20 000 addresses', () => {
    const capacity = 5000;
    const counts = new AddressCounts(capacity);
    const reference = new ReferenceCounts(capacity);
    let seed = 7;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let step = 0; step < 100_000; step++) {
      const key = `2001:db8:${Math.floor(random() * 20_000).toString(16)}::1`;
      const now = step * 10;
      if (random() < 0.02) {
        const count = 1 + Math.floor(random() * 9);
        counts.set(key, count, now);
        reference.set(key, count, now);
      } else {
        counts.add(key, now, 300_000);
        reference.add(key, now, 300_000);
      }
    }
    expect(counts.size).toBe(reference.map.size);
    expect(counts.evicted).toBe(reference.evicted);
    expect(counts.newestEntries(capacity)).toEqual([...reference.map]);
    for (const [key, value] of reference.map) expect(counts.get(key)).toEqual(value);
  });

  test('a capacity that is not a positive integer is refused', () => {
    expect(() => new AddressCounts(0)).toThrow(/positive integer/);
    expect(() => new AddressCounts(2.5)).toThrow(/positive integer/);
  });
});
