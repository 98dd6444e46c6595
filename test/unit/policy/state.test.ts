import { describe, expect, it } from '@jest/globals';
import { ExpiringMap, ExpiringSet, LeakyBuckets } from '../../../src/policy/state.js';

describe('ExpiringMap', () => {
  it('forgets an entry ttl after its last write', () => {
    const map = new ExpiringMap<string, number>(1000);
    map.set('a', 1, 0);
    map.set('a', 2, 800);
    expect(map.get('a', 1500)).toBe(2);
    expect(map.get('a', 1800)).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it('when full, drops the stalest entries and keeps the ones written since (second chance), counting evictions', () => {
    const map = new ExpiringMap<string, number>(60_000, 3);
    map.set('a', 1, 0);
    map.set('b', 1, 1);
    map.set('c', 1, 2);
    map.set('a', 2, 3); // a is written again: it is no longer the stalest
    map.set('d', 1, 4);
    expect([...map.values(5)].map(([key]) => key).sort()).toEqual(['a', 'c', 'd']);
    expect(map.evicted).toBe(1);
    expect(map.get('a', 5)).toBe(2);
  });

  it('drops expired entries before live ones and does not count them as evictions', () => {
    const map = new ExpiringMap<string, number>(10, 2);
    map.set('old', 1, 0);
    map.set('live', 1, 20, 1000);
    map.set('new', 1, 21);
    expect(map.get('live', 22)).toBe(1);
    expect(map.get('new', 22)).toBe(1);
    expect(map.evicted).toBe(0);
  });

  it('stays at its bound under a flood of distinct keys, making room a tenth at a time', () => {
    const map = new ExpiringMap<number, number>(3_600_000, 1000);
    for (let key = 0; key < 100_000; key++) map.set(key, key, key);
    expect(map.size).toBeLessThanOrEqual(1000);
    expect(map.get(99_999, 100_000)).toBe(99_999);
    expect(map.get(0, 100_000)).toBeUndefined();
    expect(map.evicted).toBe(100_000 - map.size);
  });
});

describe('expiries in snapshots (stored relative to the first time a container saw)', () => {
  const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);

  it('ExpiringMap: a snapshot gives epoch expiries, and a container restored later expires them at the same instant', () => {
    const map = new ExpiringMap<string, string>(60_000);
    map.set('a', 'x', T0);
    map.set('b', 'y', T0 + 30_000);
    const snapshot = map.snapshot(T0 + 40_000);
    expect(snapshot).toEqual([
      ['a', 'x', T0 + 60_000],
      ['b', 'y', T0 + 90_000],
    ]);
    // The restoring container first sees a later time (its own base): expiries keep their instants.
    const restored = new ExpiringMap<string, string>(60_000);
    restored.set('c', 'z', T0 + 50_000);
    restored.restore(JSON.parse(JSON.stringify(snapshot)), T0 + 50_000);
    expect(restored.get('a', T0 + 59_999)).toBe('x');
    expect(restored.get('a', T0 + 60_000)).toBeUndefined();
    expect(restored.get('b', T0 + 89_999)).toBe('y');
    expect(restored.snapshot(T0 + 89_000)).toEqual([
      ['c', 'z', T0 + 110_000],
      ['b', 'y', T0 + 90_000],
    ]);
  });

  it('ExpiringMap: snapshot limits pick the recently written and the newest by their epoch expiries', () => {
    const map = new ExpiringMap<string, number>(3_600_000);
    for (let index = 0; index < 10; index++) map.set(`k${index}`, index, T0 + index * 60_000);
    const now = T0 + 10 * 60_000;
    expect(map.snapshot(now, { writtenWithinMs: 3 * 60_000 }).map(([key]) => key)).toEqual(['k8', 'k9']);
    expect(map.snapshot(now, { newest: 3 }).map(([key]) => key)).toEqual(['k7', 'k8', 'k9']);
  });

  it('ExpiringSet: the same, and a restored key is not "first time" again before its expiry', () => {
    const set = new ExpiringSet<string>(1000);
    set.add('x', T0);
    set.add('y', T0 + 500);
    const snapshot = set.snapshot(T0 + 600, { newest: 1 });
    expect(snapshot).toEqual([['y', true, T0 + 1500]]);
    const restored = new ExpiringSet<string>(1000);
    restored.restore(snapshot, T0 + 700);
    expect(restored.add('y', T0 + 1499)).toBe(false);
    expect(restored.add('y', T0 + 1500)).toBe(true);
    expect(restored.add('x', T0 + 800)).toBe(true);
  });

  it('works with any clock: times before the first one seen, and fractional times', () => {
    const map = new ExpiringMap<string, number>(100);
    map.set('late', 1, T0);
    map.set('early', 2, T0 - 1_000_000.5);
    expect(map.get('early', T0 - 1_000_000)).toBe(2);
    expect(map.get('early', T0 - 999_900.5)).toBeUndefined();
    expect(map.get('late', T0 + 99.5)).toBe(1);
    expect(map.get('late', T0 + 100)).toBeUndefined();
  });
});

describe('ExpiringSet and LeakyBuckets on top of it', () => {
  it('ExpiringSet says "first time" once per ttl', () => {
    const set = new ExpiringSet<string>(1000);
    expect(set.add('x', 0)).toBe(true);
    expect(set.add('x', 500)).toBe(false);
    expect(set.add('x', 1000)).toBe(true);
  });

  it('a bucket drains with time and overflows past its capacity', () => {
    const buckets = new LeakyBuckets<string>(3, 1);
    for (let i = 0; i < 4; i++) buckets.add('ip', 0);
    expect(buckets.overflowing('ip', 0)).toBe(true);
    expect(buckets.level('ip', 2000)).toBe(2);
    expect(buckets.overflowing('ip', 2000)).toBe(false);
  });
});
