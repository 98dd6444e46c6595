/** Address helpers for bindaddr / permit values. */
import net from 'node:net';

/** `0.0.0.0`, `::`, `[::]` (with or without a port): every interface. An empty value means the driver default. */
export function isAnyAddress(value: string): boolean {
  let host = value.trim();
  const bracket = /^\[([^\]]*)\](?::\d+)?$/.exec(host);
  if (bracket) host = bracket[1]!;
  else if (/^[\d.]+:\d+$/.test(host)) host = host.split(':')[0]!;
  return host === '0.0.0.0' || host === '::' || host === '0:0:0:0:0:0:0:0';
}

/** Prefix length of `permit`/`deny` values: `198.51.100.0/24`, `198.51.100.0/255.255.255.0`, `::1/128`, a bare address. */
export function prefixLength(value: string): number | undefined {
  const [address, mask] = value.trim().split('/');
  const family = net.isIP(address ?? '');
  if (!family) return undefined;
  if (mask === undefined || mask === '') return family === 4 ? 32 : 128;
  if (/^\d+$/.test(mask)) return Number(mask);
  if (net.isIPv4(mask)) return mask.split('.').reduce((bits, octet) => bits + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
  return undefined;
}

/** 127.0.0.0/8 or ::1 (with or without a port). */
export function isLoopback(value: string): boolean {
  let host = value.trim();
  const bracket = /^\[([^\]]*)\](?::\d+)?$/.exec(host);
  if (bracket) host = bracket[1]!;
  else if (/^[\d.]+:\d+$/.test(host)) host = host.split(':')[0]!;
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}
