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
