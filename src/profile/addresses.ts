/**
 * Per-endpoint address memory: the networks each endpoint (phone, SIP account) has authenticated
 * and registered from, with first and last seen. A password used from a network the phone has
 * never used is the clearest sign of stolen credentials that no failed guess announced.
 *
 * Written from events (SuccessfulAuth for PJSIP/SIP/IAX2, registrations), read by policies through
 * the evaluation context; persisted by the owner through `drainChanges()` and `restore()`. Time
 * comes from the events (never the wall clock), so replays are deterministic. Bounded: at most
 * MAX_NETWORKS_PER_ENDPOINT networks per endpoint (the least recently seen go first) and
 * MAX_ENDPOINTS endpoints.
 *
 * Addresses are compared by network (an IPv4 /24, an IPv6 /64 by default): a phone whose
 * provider renumbers it inside the same network is not "somewhere new".
 */
import type { DomainEvent } from '../calls/events.js';
import { dropOldest } from '../bounded.js';
import { AddressCounts } from '../net/address-counts.js';
import { formatCidr, formatIp, normaliseIp, parseCidr, parseIp } from '../net/cidr.js';

/** Services whose accounts are endpoints (AMI logins are people and programs, not phones). */
const ENDPOINT_SERVICES: ReadonlySet<string> = new Set(['PJSIP', 'SIP', 'IAX2']);
const MAX_ENDPOINTS = 20_000;
const MAX_NETWORKS_PER_ENDPOINT = 32;
/** An authentication this long before a call's first channel is the call's own (PJSIP: ~1 ms). */
const AUTH_BEFORE_CALL_MS = 10_000;
const MAX_CALLS = 20_000;
const MAX_FAILING_SOURCES = 50_000;
/** How long failed logins from an address are remembered (for "never trust an attacker"). */
const FAILURE_MEMORY_MS = 30 * 86_400_000;
/** A network seen again is written back at most this often (registrations refresh every minute). */
const LAST_SEEN_WRITE_MS = 3_600_000;
/** Failing addresses and call sources a checkpoint keeps (the most recent). */
const CHECKPOINT_ENTRIES = 2000;
const FAILURE_KINDS: ReadonlySet<string> = new Set(['InvalidAccountID', 'ChallengeResponseFailed', 'InvalidPassword', 'FailedACL', 'UnexpectedAddress']);

export type AddressVia = 'auth' | 'registration' | 'trusted';

/** One network an endpoint has used. */
export interface AddressRecord {
  endpoint: string;
  /** `203.0.113.0/24`, `2001:db8:1:2::/64`. */
  network: string;
  /** The last address seen in it. */
  address: string;
  firstSeen: number;
  lastSeen: number;
  via: AddressVia;
  /** Confirmed by an admin (`tollgate trust-address`). */
  trusted: boolean;
}

/** What the memory says about an address an endpoint uses now. */
export interface AddressVerdict {
  endpoint: string;
  address: string;
  network: string;
  /**
   * `learning`: the memory is younger than the learning period (addresses are learnt, not judged);
   * `known`: used before (first seen during the learning period, or settled), or trusted;
   * `new`: first used after the learning period, recently.
   */
  status: 'learning' | 'known' | 'new';
  firstSeen?: number;
  trusted: boolean;
  /** Failed logins from this address (any account) in the last 30 days. */
  failures: number;
}

export interface AddressJudgement {
  /** Memory younger than this judges nothing. */
  learningMs: number;
  /** A network used for this long without an admin objecting is no longer new. */
  settleMs: number;
}

/** The short-lived part of the memory (see AddressMemory.snapshotRecent). */
export interface AddressMemorySnapshot {
  lastAuth: [string, { address: string; at: number }][];
  callSources: [string, { endpoint: string; address: string }][];
  failures: [string, { count: number; last: number }][];
}

/** Trust granted outside the agent (the CLI writes it to the store); consulted for new networks only. */
export interface TrustView {
  isTrusted(endpoint: string, network: string): boolean;
}

export interface AddressMemoryOptions {
  /** When this memory began (first start of the agent, or the first replayed event). */
  since?: number;
  /** @default 24 */
  ipv4Prefix?: number;
  /** @default 64 */
  ipv6Prefix?: number;
  trust?: TrustView;
}

export class AddressMemory {
  private startedAt: number | undefined;
  /** Entries dropped to stay bounded (for /metrics). */
  private evictedHere = 0;

  /** Addresses whose failures are counted now. */
  get failingSources(): number {
    return this.failures.size;
  }

  /** Entries dropped to stay bounded (for /metrics). */
  get evicted(): number {
    return this.evictedHere + this.failures.evicted;
  }
  private readonly byEndpoint = new Map<string, Map<string, AddressRecord>>();
  private readonly changed = new Map<string, AddressRecord>();
  private readonly lastWritten = new Map<string, number>();
  /** The latest authentication per endpoint (address, time). */
  private readonly lastAuth = new Map<string, { address: string; at: number }>();
  /** The address each recent call came from (linkedid → address). */
  private readonly callSources = new Map<string, { endpoint: string; address: string }>();
  /** Failed logins per address: a scan's million addresses, so off the heap (see AddressCounts). */
  private readonly failures = new AddressCounts(MAX_FAILING_SOURCES);
  private readonly ipv4Prefix: number;
  private readonly ipv6Prefix: number;
  private readonly trust: TrustView | undefined;

  constructor(options: AddressMemoryOptions = {}) {
    this.startedAt = options.since;
    this.ipv4Prefix = options.ipv4Prefix ?? 24;
    this.ipv6Prefix = options.ipv6Prefix ?? 64;
    this.trust = options.trust;
  }

  /** When the memory began; undefined until the first event (replay starts it then). */
  get since(): number | undefined {
    return this.startedAt;
  }

  /** Learns from one event (successful logins and registrations); failures are counted per address. */
  observe(event: DomainEvent, now: number): void {
    if (event.type !== 'security' && event.type !== 'registration') return;
    // The memory begins with the first login or registration it sees (a replay's first events may carry no time).
    this.startedAt ??= now;
    if (event.type === 'security') {
      if (!ENDPOINT_SERVICES.has(event.service.toUpperCase())) return;
      const ip = event.remote && !event.remote.invalid ? event.remote.ip : undefined;
      if (!ip) return;
      if (event.kind === 'SuccessfulAuth') {
        const endpoint = event.accountId.trim();
        if (!endpoint || endpoint === '<unknown>') return;
        this.learn(endpoint, ip, now, 'auth');
        this.lastAuth.set(endpoint, { address: ip, at: now });
        if (this.lastAuth.size > MAX_ENDPOINTS) this.evictedHere += dropOldest(this.lastAuth, MAX_ENDPOINTS / 10);
      } else if (FAILURE_KINDS.has(event.kind)) {
        this.countFailure(ip, now);
      }
    } else if (event.type === 'registration') {
      if (!event.ip || /^(removed|unregistered|unreachable)$/i.test(event.status)) return;
      const ip = normaliseIp(event.ip);
      if (ip) this.learn(event.endpoint, ip, now, 'registration');
    }
  }

  /** A call started: remember the address its endpoint just authenticated from, if it did. */
  attachCall(linkedid: string, endpoint: string, createdAt: number): void {
    const auth = this.lastAuth.get(endpoint);
    if (!auth || createdAt - auth.at > AUTH_BEFORE_CALL_MS || auth.at - createdAt > 1000) return;
    this.callSources.set(linkedid, { endpoint, address: auth.address });
    if (this.callSources.size > MAX_CALLS) this.evictedHere += dropOldest(this.callSources, MAX_CALLS / 10);
  }

  /** A call the call table forgot is never asked about again. */
  forgetCall(linkedid: string): void {
    this.callSources.delete(linkedid);
  }

  /** The address a call came from (its endpoint's authentication just before it), if known. */
  sourceOf(linkedid: string): { endpoint: string; address: string } | undefined {
    return this.callSources.get(linkedid);
  }

  /** Judges an address an endpoint uses now. */
  judge(endpoint: string, address: string, now: number, judgement: AddressJudgement): AddressVerdict {
    const network = this.networkOf(address);
    const record = this.byEndpoint.get(endpoint)?.get(network);
    const failures = this.failuresOf(address, now);
    const verdict: AddressVerdict = { endpoint, address, network, status: 'known', trusted: record?.trusted ?? false, failures };
    if (record) verdict.firstSeen = record.firstSeen;
    const since = this.startedAt ?? now;
    if (now - since < judgement.learningMs) {
      verdict.status = 'learning';
      return verdict;
    }
    if (record?.trusted) return verdict;
    if (!record || record.firstSeen >= since + judgement.learningMs) {
      const settled = record !== undefined && now - record.firstSeen >= judgement.settleMs;
      if (!settled && this.trust?.isTrusted(endpoint, network)) {
        if (record) record.trusted = true;
        verdict.trusted = true;
        return verdict;
      }
      if (!settled) verdict.status = 'new';
    }
    return verdict;
  }

  /** Marks a network as confirmed by an admin (the CLI writes the same to the store). */
  trustAddress(endpoint: string, address: string, now: number): AddressRecord {
    const record = this.learn(endpoint, normaliseIp(address) ?? address, now, 'trusted');
    record.trusted = true;
    this.changed.set(`${endpoint}|${record.network}`, record);
    return record;
  }

  /** Every network an endpoint has used, most recently seen first. */
  addressesOf(endpoint: string): AddressRecord[] {
    return [...(this.byEndpoint.get(endpoint)?.values() ?? [])].sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** Whether records were learnt or moved since the last drainChanges(). */
  get hasChanges(): boolean {
    return this.changed.size > 0;
  }

  /** Records learnt or moved since the last call (for the store). */
  drainChanges(): AddressRecord[] {
    if (this.changed.size === 0) return [];
    const records = [...this.changed.values()].map((record) => ({ ...record }));
    this.changed.clear();
    return records;
  }

  /** Takes back what the store remembered (start of the agent). */
  restore(records: Iterable<AddressRecord>, since: number | undefined): void {
    if (since !== undefined) this.startedAt = since;
    for (const record of records) {
      const networks = this.networksOf(record.endpoint);
      networks.set(record.network, { ...record });
      this.lastWritten.set(`${record.endpoint}|${record.network}`, record.lastSeen);
    }
  }

  /**
   * What the address table in the store does not keep, as plain data: each endpoint's latest login
   * (the source of the call it is about to place), the sources of recent calls, and the failed
   * logins per address (an address that attacked is never trusted). Checkpointed by the owner.
   */
  snapshotRecent(): AddressMemorySnapshot {
    // Failing addresses and call sources: the most recent (a scan from a million addresses fills the first).
    return { lastAuth: [...this.lastAuth], callSources: newest(this.callSources, CHECKPOINT_ENTRIES), failures: this.failures.newestEntries(CHECKPOINT_ENTRIES) };
  }

  /** Takes back a snapshotRecent() written before a restart (after restore()). */
  restoreRecent(snapshot: Partial<AddressMemorySnapshot>): void {
    for (const [endpoint, auth] of snapshot.lastAuth ?? []) this.lastAuth.set(endpoint, auth);
    for (const [linkedid, source] of snapshot.callSources ?? []) this.callSources.set(linkedid, source);
    for (const [address, failures] of snapshot.failures ?? []) this.failures.set(address, failures.count, failures.last);
    if (this.lastAuth.size > MAX_ENDPOINTS) dropOldest(this.lastAuth, this.lastAuth.size - MAX_ENDPOINTS);
    if (this.callSources.size > MAX_CALLS) dropOldest(this.callSources, this.callSources.size - MAX_CALLS);
  }

  /** `203.0.113.7` → `203.0.113.0/24`. */
  networkOf(address: string): string {
    const parsed = parseIp(address);
    if (!parsed) return address;
    const block = parseCidr(`${formatIp(parsed)}/${parsed.family === 4 ? this.ipv4Prefix : this.ipv6Prefix}`);
    return block ? formatCidr(block) : address;
  }

  private learn(endpoint: string, address: string, now: number, via: AddressVia): AddressRecord {
    const network = this.networkOf(address);
    const networks = this.networksOf(endpoint);
    const key = `${endpoint}|${network}`;
    let record = networks.get(network);
    if (record) {
      record.lastSeen = Math.max(record.lastSeen, now);
      record.address = address;
      networks.delete(network);
      networks.set(network, record);
      if (now - (this.lastWritten.get(key) ?? 0) >= LAST_SEEN_WRITE_MS) this.markChanged(key, record, now);
      return record;
    }
    record = { endpoint, network, address, firstSeen: now, lastSeen: now, via, trusted: false };
    networks.set(network, record);
    this.markChanged(key, record, now);
    if (networks.size > MAX_NETWORKS_PER_ENDPOINT) {
      // The least recently seen untrusted network goes first.
      for (const [name, candidate] of networks) {
        if (!candidate.trusted) {
          networks.delete(name);
          break;
        }
      }
    }
    return record;
  }

  private networksOf(endpoint: string): Map<string, AddressRecord> {
    let networks = this.byEndpoint.get(endpoint);
    if (!networks) {
      networks = new Map();
      this.byEndpoint.set(endpoint, networks);
      if (this.byEndpoint.size > MAX_ENDPOINTS) this.evictedHere += dropOldest(this.byEndpoint, MAX_ENDPOINTS / 10);
    }
    return networks;
  }

  private markChanged(key: string, record: AddressRecord, now: number): void {
    this.changed.set(key, record);
    this.lastWritten.set(key, now);
  }

  private countFailure(address: string, now: number): void {
    this.failures.add(address, now, FAILURE_MEMORY_MS);
  }

  private failuresOf(address: string, now: number): number {
    const entry = this.failures.get(address);
    return entry && now - entry.last < FAILURE_MEMORY_MS ? entry.count : 0;
  }
}

/** The last `count` entries of a map (insertion order: the most recently written last). */
function newest<K, V>(map: ReadonlyMap<K, V>, count: number): [K, V][] {
  let skip = map.size - count;
  const entries: [K, V][] = [];
  for (const entry of map) if (skip-- <= 0) entries.push(entry);
  return entries;
}
