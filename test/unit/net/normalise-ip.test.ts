import { describe, expect, it } from '@jest/globals';
import { formatIp, normaliseIp, parseIp } from '../../../src/net/cidr.js';

/** The general path: parse to bytes, format (normaliseIp takes shortcuts for the common spellings). */
const general = (text: string): string | undefined => {
  const address = parseIp(text);
  return address ? formatIp(address) : undefined;
};

describe('normaliseIp: RFC 5952 spellings', () => {
  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:DB8::A', '2001:db8::a'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['2001:db8::1', '2001:db8::1'],
  ])('%s → %s', (text, canonical) => {
    expect(normaliseIp(text)).toBe(canonical);
    expect(formatIp(parseIp(text)!)).toBe(canonical);
  });
});

describe('normaliseIp: the shortcuts agree with the general parser', () => {
  it.each([
    '2001:db8::1', '2001:DB8:0:0::9', '2001:db8::0:9', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8',
    '2001:0db8:0000:0000:0000:ff00:0042:8329', '1:0:0:2:0:0:0:3', '::ffff:198.51.100.4', '::ffff:c633:6404', '[2001:db8::9]', 'fe80::1%eth0',
    '1:2:3:4:5:6:7:8:9', ':1:2::', '1:::2', '12345::', '1:2:3:4:5:6:7', '::1:2:3:4:5:6:7:8', 'g::1', ':', '1:',
    '2001:db8:0:1:1:1:1:1', '2001:db8::1:0:0:1', '2001:db8:0:0:1::1', '2001:db8::1:0:0:0:1', '1:0::', 'abcd:ef01::', '2001:db8:0:0:0:0:0:1',
    '198.51.100.4', '010.1.1.1', '256.1.1.1', '1.2.3', '0.0.0.0', '255.255.255.255',
  ])('%s', (text) => {
    expect(normaliseIp(text)).toBe(general(text));
  });

  it('on 20 000 generated addresses, and the result is a fixed point', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 20_000; i++) {
      const groups = Array.from({ length: 8 }, () => (next() % 10 < 4 ? 0 : next() % 65536));
      const text = groups.map((group) => group.toString(16)).join(':');
      const canonical = general(text);
      expect(normaliseIp(text)).toBe(canonical);
      expect(normaliseIp(canonical!)).toBe(canonical);
    }
  });
});
