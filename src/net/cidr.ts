/**
 * IPv4 and IPv6 addresses and CIDR blocks, for allow-lists such as `trustedAddresses`.
 *
 * Addresses are compared as bytes, never as text: `2001:DB8::1`, `2001:db8:0:0::1` and
 * `[2001:db8::1]` are one address, and an IPv4-mapped IPv6 address (`::ffff:192.0.2.7`, what a
 * dual-stack socket reports for an IPv4 peer) is the IPv4 address it carries.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  /** 4 bytes for IPv4, 16 for IPv6. */
  bytes: Uint8Array;
}

export interface CidrBlock extends IpAddress {
  /** Leading bits that must match (0–32 or 0–128). */
  prefix: number;
}

const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** Parses an IPv4 or IPv6 address (brackets and an IPv6 zone such as `%eth0` are ignored). */
export function parseIp(text: string): IpAddress | undefined {
  let value = text.trim();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  const zone = value.indexOf('%');
  if (zone >= 0) value = value.slice(0, zone);
  if (!value.includes(':')) {
    const bytes = parseIpv4(value);
    return bytes ? { family: 4, bytes } : undefined;
  }
  const bytes = parseIpv6(value);
  if (!bytes) return undefined;
  if (IPV4_MAPPED_PREFIX.every((byte, index) => bytes[index] === byte)) return { family: 4, bytes: bytes.slice(12) };
  return { family: 6, bytes };
}

/** Canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address.family === 4) return [...address.bytes].join('.');
  for (let index = 0; index < 8; index++) GROUPS[index] = (address.bytes[2 * index]! << 8) | address.bytes[2 * index + 1]!;
  findZeroRun();
  return spellGroups();
}

/** The canonical text of `text` as an address, or undefined when it is not one. */
export function normaliseIp(text: string): string | undefined {
  // Every security event's address passes here: the common spellings take a path that builds no bytes.
  if (CANONICAL_IPV4.test(text)) return text;
  const fast = plainIpv6(text);
  if (fast !== undefined) return fast;
  const address = parseIp(text);
  return address ? formatIp(address) : undefined;
}

const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const GROUPS = new Uint16Array(8);

/**
 * RFC 5952 text of a plain IPv6 address (hex groups and at most one `::`), or undefined for any
 * other spelling (brackets, zone, embedded IPv4, IPv4-mapped, invalid), which the general parser takes.
 */
function plainIpv6(text: string): string | undefined {
  const length = text.length;
  if (length < 2 || length > 39) return undefined;
  let count = 0;
  let gap = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= length; i++) {
    const code = i < length ? text.charCodeAt(i) : 58; // a final ':' ends the last group
    if (code === 58) {
      if (i < length && i + 1 < length && text.charCodeAt(i + 1) === 58) {
        if (gap >= 0) return undefined;
        if (digits > 0) {
          if (count === 8) return undefined;
          GROUPS[count++] = value;
        } else if (i !== 0) return undefined;
        gap = count;
        i++;
        value = 0;
        digits = 0;
        if (i + 1 === length) break;
        continue;
      }
      if (digits === 0) return undefined;
      if (count === 8) return undefined;
      GROUPS[count++] = value;
      value = 0;
      digits = 0;
      continue;
    }
    let nibble: number;
    if (code >= 48 && code <= 57) nibble = code - 48;
    else if (code >= 97 && code <= 102) nibble = code - 87;
    else if (code >= 65 && code <= 70) nibble = code - 55;
    else return undefined;
    if (++digits > 4) return undefined;
    value = (value << 4) | nibble;
  }
  if (gap < 0 ? count !== 8 : count > 7) return undefined;
  if (gap >= 0) {
    const missing = 8 - count;
    GROUPS.copyWithin(gap + missing, gap, count);
    GROUPS.fill(0, gap, gap + missing);
  }
  // IPv4-mapped addresses are IPv4: the general path says so.
  if (GROUPS[0] === 0 && GROUPS[1] === 0 && GROUPS[2] === 0 && GROUPS[3] === 0 && GROUPS[4] === 0 && GROUPS[5] === 0xffff) return undefined;
  findZeroRun();
  // Asterisk writes addresses in this form already: the text itself, with nothing built.
  if (spellsGroups(text)) return text;
  return spellGroups();
}

/** Where the `::` of GROUPS goes (RFC 5952: the longest run of zero groups, the first of equals, never a single one); -1 for none. */
let zeroRunStart = -1;
let zeroRunLength = 1;

function findZeroRun(): void {
  zeroRunStart = -1;
  zeroRunLength = 1;
  for (let start = 0; start < 8; ) {
    if (GROUPS[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && GROUPS[end] === 0) end++;
    if (end - start > zeroRunLength) {
      zeroRunStart = start;
      zeroRunLength = end - start;
    }
    start = end;
  }
}

/** The RFC 5952 text of GROUPS (after findZeroRun). */
function spellGroups(): string {
  let out = '';
  for (let index = 0; index < 8; index++) {
    if (index === zeroRunStart) {
      out += '::';
      index += zeroRunLength - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(':')) out += ':';
    out += GROUPS[index]!.toString(16);
  }
  return out;
}

/** Whether `text` is exactly spellGroups()'s text, compared character by character (nothing built). */
function spellsGroups(text: string): boolean {
  let at = 0;
  for (let index = 0; index < 8; index++) {
    if (index === zeroRunStart) {
      if (text.charCodeAt(at) !== 58 || text.charCodeAt(at + 1) !== 58) return false;
      at += 2;
      index += zeroRunLength - 1;
      continue;
    }
    if (at > 0 && text.charCodeAt(at - 1) !== 58) {
      if (text.charCodeAt(at) !== 58) return false;
      at++;
    }
    const group = GROUPS[index]!;
    for (let shift = group >= 0x1000 ? 12 : group >= 0x100 ? 8 : group >= 0x10 ? 4 : 0; shift >= 0; shift -= 4) {
      const nibble = (group >> shift) & 15;
      if (text.charCodeAt(at++) !== (nibble < 10 ? 48 + nibble : 87 + nibble)) return false;
    }
  }
  return at === text.length;
}

/**
 * `198.51.100.0/24`, `2001:db8::/32`, or a bare address (a single host). Host bits after the prefix
 * are ignored (`100.1.2.3/8` is `100.0.0.0/8`), as iptables does.
 */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (!address) return undefined;
  const written = text.slice(0, slash >= 0 ? slash : undefined).trim();
  const writtenAsIpv6 = written.includes(':');
  const maxPrefix = writtenAsIpv6 ? 128 : 32;
  let prefix = maxPrefix;
  if (slash >= 0) {
    const digits = text.slice(slash + 1).trim();
    if (!/^\d{1,3}$/.test(digits)) return undefined;
    prefix = Number(digits);
    if (prefix > maxPrefix) return undefined;
  }
  if (writtenAsIpv6 && address.family === 4) {
    // `::ffff:100.0.0.0/104` is IPv4 100.0.0.0/8; a shorter prefix reaches outside the mapped range.
    if (prefix < 96) return undefined;
    prefix -= 96;
  }
  return { family: address.family, bytes: masked(address.bytes, prefix), prefix };
}

export function formatCidr(block: CidrBlock): string {
  return `${formatIp(block)}/${block.prefix}`;
}

export function cidrContains(block: CidrBlock, address: IpAddress): boolean {
  if (block.family !== address.family) return false;
  const whole = block.prefix >> 3;
  for (let index = 0; index < whole; index++) if (block.bytes[index] !== address.bytes[index]) return false;
  const rest = block.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((block.bytes[whole]! ^ address.bytes[whole]!) & mask) === 0;
}

/** A list of CIDR blocks; `match` names the first block holding an address. */
export class AddressList {
  constructor(private readonly blocks: readonly CidrBlock[]) {}

  get size(): number {
    return this.blocks.length;
  }

  match(ip: string): CidrBlock | undefined {
    if (this.blocks.length === 0) return undefined;
    const address = parseIp(ip);
    if (!address) return undefined;
    return this.blocks.find((block) => cidrContains(block, address));
  }
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let index = 0; index < 4; index++) {
    const part = parts[index]!;
    // No leading zeros: inet_aton would read `010` as octal 8, and an allow-list must not guess.
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const value = Number(part);
    if (value > 255) return undefined;
    bytes[index] = value;
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups: number[] = [];
  const parseGroups = (parts: string[], isLast: boolean): boolean => {
    for (let index = 0; index < parts.length; index++) {
      const part = parts[index]!;
      if (isLast && index === parts.length - 1 && part.includes('.')) {
        const ipv4 = parseIpv4(part);
        if (!ipv4) return false;
        groups.push((ipv4[0]! << 8) | ipv4[1]!, (ipv4[2]! << 8) | ipv4[3]!);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return false;
      groups.push(Number.parseInt(part, 16));
    }
    return true;
  };
  if (!parseGroups(head, halves.length === 1)) return undefined;
  const headCount = groups.length;
  if (!parseGroups(tail, true)) return undefined;
  const tailGroups = groups.splice(headCount);
  if (halves.length === 1) {
    if (groups.length !== 8) return undefined;
  } else {
    // `::` stands for at least one zero group.
    const missing = 8 - groups.length - tailGroups.length;
    if (missing < 1) return undefined;
    groups.push(...new Array<number>(missing).fill(0));
  }
  groups.push(...tailGroups);
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 0xff;
  });
  return bytes;
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const result = bytes.slice();
  for (let index = 0; index < result.length; index++) {
    const keptBits = Math.max(0, Math.min(8, prefix - index * 8));
    result[index] = result[index]! & ((0xff << (8 - keptBits)) & 0xff);
  }
  return result;
}
