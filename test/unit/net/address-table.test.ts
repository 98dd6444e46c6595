import { AddressTable, NO_ENTRY } from '../../../src/net/address-table.js';

describe('AddressTable', () => {
  test('a removed address is gone, its entry goes to the next one, and the order of the others holds', () => {
    const table = new AddressTable(3);
    const first = table.insert('203.0.113.1');
    table.insert('203.0.113.2');
    table.insert('203.0.113.3');
    table.remove(table.find('203.0.113.2'));
    expect(table.find('203.0.113.2')).toBe(NO_ENTRY);
    expect(table.size).toBe(2);
    const reused = table.insert('2001:db8::4');
    expect(table.find('2001:db8::4')).toBe(reused);
    expect(table.newest(10).map((entry) => table.keyOf(entry))).toEqual(['2001:db8::4', '203.0.113.3', '203.0.113.1']);
    expect(table.evicted).toBe(0);
    // Full: the least recently written goes, unless it was written again.
    table.touch(first);
    table.insert('198.51.100.5');
    expect(table.evicted).toBe(1);
    expect(table.find('203.0.113.3')).toBe(NO_ENTRY);
    expect(table.keyOf(table.oldest)).toBe('2001:db8::4');
  });

  test('removing every address and filling the table again, many times over, keeps it consistent', () => {
    const table = new AddressTable(64);
    for (let round = 0; round < 50; round++) {
      const keys = Array.from({ length: 64 }, (_, index) => `2001:db8:${round}::${index}`);
      for (const key of keys) table.insert(key);
      expect(table.size).toBe(64);
      for (const key of keys) expect(table.keyOf(table.find(key))).toBe(key);
      for (const key of keys.filter((_, index) => index % 2 === 0)) table.remove(table.find(key));
      for (const key of keys.filter((_, index) => index % 2 === 1)) table.remove(table.find(key));
      expect(table.size).toBe(0);
      expect(table.oldest).toBe(NO_ENTRY);
    }
    expect(table.evicted).toBe(0);
  });
});
