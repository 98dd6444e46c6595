import { readFileSync } from 'node:fs';
import type { SecurityEvent, SecurityEventKind } from '../../../src/calls/events.js';
import { eventTime } from '../../../src/ami/time.js';
import { Normaliser, parseSecurityAddress } from '../../../src/calls/normalise.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { packagePath } from '../../../src/paths.js';
import { cidrContains, formatIp, normaliseIp, parseCidr, parseIp, AddressList } from '../../../src/net/cidr.js';
import { addRecentName, countLive, formatSpan, securityKind, SourceRecord } from '../../../src/policy/kinds/security.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import type { EvalContext, Finding, PolicyInstance } from '../../../src/policy/types.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { replayTranscript } from '../../../src/replay.js';
import { deriveTranscript } from '../../../src/sim/derive.js';
import { captureEvents } from '../../helpers/feed.js';
import { fixturePath } from '../../helpers/fixtures.js';

const BASE = Date.parse('2026-11-23T02:00:00Z');

function load(yaml: string) {
  return parsePolicy(`id: sec\nkind: security\ndescription: test\n${yaml}`, 'sec.yaml');
}

function instance(yaml: string): PolicyInstance {
  const { policy, issues } = load(yaml);
  if (!policy) throw new Error(JSON.stringify(issues));
  return securityKind.create(policy.definition as never, { timezone: 'UTC', currency: 'USD' });
}

function issuesOf(yaml: string): string[] {
  return load(yaml).issues.map((issue) => `${issue.key ?? ''}: ${issue.message}`);
}

let sessionSequence = 0;

function securityEvent(kind: SecurityEventKind, options: { ip?: string; port?: number; account?: string; service?: string; session?: string } = {}): SecurityEvent {
  const event: SecurityEvent = {
    type: 'security',
    at: 0,
    kind,
    severity: kind === 'SuccessfulAuth' || kind === 'ChallengeSent' ? 'Informational' : 'Error',
    service: options.service ?? 'PJSIP',
    accountId: options.account ?? '1001',
    // As the normaliser reads RemoteAddress: the address in its canonical spelling.
    remote: parseSecurityAddress(`IPV4/UDP/${options.ip ?? '203.0.113.9'}/${options.port ?? 5060}`)!,
    details: {},
  };
  event.sessionId = options.session ?? `scan-${++sessionSequence}`;
  return event;
}

/** Evaluates one security event at `now` (the kind reads nothing else of the context for it). */
function feed(policy: PolicyInstance, event: SecurityEvent, now: number): readonly Finding[] {
  const context = { input: { type: 'event', event: { ...event, at: now }, changes: [] }, now, changes: [] } as unknown as EvalContext;
  return policy.evaluate(context);
}

/** The security events of a real capture, normalised, with their EventTV times. */
function captureSecurityEvents(name: string): SecurityEvent[] {
  const normaliser = new Normaliser();
  return captureEvents(name).flatMap((message) => {
    const event = normaliser.normalise(message, eventTime(message) ?? 0);
    return event?.type === 'security' ? [event] : [];
  });
}

describe('addresses and CIDR blocks', () => {
  test('IPv4 and IPv6 addresses parse to bytes; brackets and zones are ignored', () => {
    expect(parseIp('203.0.113.9')).toEqual({ family: 4, bytes: Uint8Array.from([203, 0, 113, 9]) });
    expect(formatIp(parseIp('[2001:DB8:0:0:0:0:0:1]')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('fe80::1%eth0')!)).toBe('fe80::1');
    expect(formatIp(parseIp('::')!)).toBe('::');
    expect(formatIp(parseIp('1::')!)).toBe('1::');
    expect(formatIp(parseIp('64:ff9b::192.0.2.33')!)).toBe('64:ff9b::c000:221');
  });

  test('RFC 5952 text: the longest zero run is shortened, the first of equals, never a single group', () => {
    expect(normaliseIp('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(normaliseIp('2001:db8:0:0:1:0:0:0')).toBe('2001:db8:0:0:1::');
    expect(normaliseIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
  });

  test('an IPv4-mapped IPv6 address is the IPv4 address it carries', () => {
    expect(normaliseIp('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normaliseIp('::FFFF:c000:0207')).toBe('192.0.2.7');
    expect(new AddressList([parseCidr('192.0.2.0/24')!]).match('::ffff:192.0.2.7')).toBeDefined();
  });

  test('malformed addresses are refused, not guessed', () => {
    for (const text of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '010.0.0.1', '1.2.3.-1', 'a.b.c.d', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', ':1::', '12345::', '1:2:3:4:5:6:7::8', 'example.com']) {
      expect({ text, parsed: parseIp(text) }).toEqual({ text, parsed: undefined });
    }
  });

  test('CIDR blocks: prefix bits are compared exactly, host bits are masked, a bare address is one host', () => {
    const office = parseCidr('198.18.2.0/23')!;
    expect(cidrContains(office, parseIp('198.18.2.1')!)).toBe(true);
    expect(cidrContains(office, parseIp('198.18.3.254')!)).toBe(true);
    expect(cidrContains(office, parseIp('198.18.4.1')!)).toBe(false);
    expect(cidrContains(office, parseIp('198.18.1.255')!)).toBe(false);
    expect(parseCidr('100.1.2.3/8')).toEqual(parseCidr('100.0.0.0/8'));
    expect(parseCidr('203.0.113.7')).toMatchObject({ family: 4, prefix: 32 });
    expect(parseCidr('2001:db8::1')).toMatchObject({ family: 6, prefix: 128 });
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('198.51.100.1')!)).toBe(true);
    const site = parseCidr('2001:db8:1::/48')!;
    expect(cidrContains(site, parseIp('2001:db8:1:ffff::1')!)).toBe(true);
    expect(cidrContains(site, parseIp('2001:db8:2::1')!)).toBe(false);
    expect(cidrContains(parseCidr('2001:db8::/33')!, parseIp('2001:db8:7fff::1')!)).toBe(true);
    expect(cidrContains(parseCidr('2001:db8::/33')!, parseIp('2001:db8:8000::1')!)).toBe(false);
  });

  test('an IPv4 block never holds an IPv6 address, nor the reverse', () => {
    expect(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('2001:db8::1')!)).toBe(false);
    expect(cidrContains(parseCidr('::/0')!, parseIp('192.0.2.1')!)).toBe(false);
  });

  test('a mapped IPv6 block is the IPv4 block it covers; bad prefixes are refused', () => {
    expect(parseCidr('::ffff:100.0.0.0/104')).toEqual(parseCidr('100.0.0.0/8'));
    for (const text of ['100.0.0.0/33', '2001:db8::/129', '100.0.0.0/', '100.0.0.0/8/8', '100.0.0.0/x', '::ffff:100.0.0.0/64', 'lan']) {
      expect({ text, parsed: parseCidr(text) }).toEqual({ text, parsed: undefined });
    }
  });
});

/** Counts attempts as the policy does: in the record of each source address. */
class AttemptCounter {
  private readonly sources = new Map<string, SourceRecord>();

  record(event: SecurityEvent, ip: string, now: number): boolean {
    let source = this.sources.get(ip);
    if (source === undefined) this.sources.set(ip, (source = new SourceRecord(event.service, undefined, now)));
    return source.countAttempt(event, now);
  }
}

describe('attempts: each counted once, however often Asterisk reports it', () => {
  test('PJSIP: an unknown account reported twice plus a ChallengeResponseFailed for <unknown> is one attempt', () => {
    const counter = new AttemptCounter();
    const session = { session: '1-24487@127.0.0.1', port: 5071 };
    expect(counter.record(securityEvent('InvalidAccountID', { ...session, account: '9999' }), '203.0.113.9', BASE)).toBe(true);
    expect(counter.record(securityEvent('InvalidAccountID', { ...session, account: '9999' }), '203.0.113.9', BASE + 1)).toBe(false);
    expect(counter.record(securityEvent('ChallengeResponseFailed', { ...session, account: '<unknown>' }), '203.0.113.9', BASE + 1)).toBe(false);
  });

  test('a phone retrying a stale password keeps its Call-ID, and every retry still counts', () => {
    const counter = new AttemptCounter();
    const phone = { session: 'stale-phone@192.0.2.20', port: 5060 };
    const counted = [0, 1, 2, 3].map((retry) => counter.record(securityEvent('ChallengeResponseFailed', phone), '192.0.2.20', BASE + retry * 30_000));
    expect(counted).toEqual([true, true, true, true]);
  });

  test('a scanner reusing one Call-ID for an unknown account cannot hide its attempts', () => {
    const counter = new AttemptCounter();
    const scan = { session: 'one-call-id', account: '9999' };
    let attempts = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      for (const kind of ['InvalidAccountID', 'InvalidAccountID', 'ChallengeResponseFailed'] as const) {
        if (counter.record(securityEvent(kind, scan), '203.0.113.9', BASE + attempt * 100)) attempts++;
      }
    }
    expect(attempts).toBe(5);
  });

  test('AMI: a reused SessionID (a freed pointer) on another connection is another attempt', () => {
    const counter = new AttemptCounter();
    const pointer = '0x7fc4e4114460';
    expect(counter.record(securityEvent('InvalidAccountID', { service: 'AMI', session: pointer, port: 47020, account: 'admin' }), '127.0.0.1', BASE)).toBe(true);
    expect(counter.record(securityEvent('InvalidAccountID', { service: 'AMI', session: pointer, port: 47022, account: 'nosuchuser' }), '127.0.0.1', BASE + 1301)).toBe(true);
  });

  test('the real captures: 78 PJSIP failure events are 42 attempts; 7 AMI refusals are 7', () => {
    const count = (name: string) => {
      const counter = new AttemptCounter();
      const failures = captureSecurityEvents(name).filter((event) => !['ChallengeSent', 'SuccessfulAuth'].includes(event.kind));
      return { events: failures.length, attempts: failures.filter((event) => counter.record(event, event.remote!.ip, event.at)).length };
    };
    // 20 wrong 1001 passwords + 2 unidentified + 18 × (InvalidAccountID ×2 + ChallengeResponseFailed) for 9999 + 2 sipsak probes.
    expect(count('register-bruteforce.ami')).toEqual({ events: 20 + 2 + 18 * 3 + 2, attempts: 20 + 2 + 18 + 2 });
    expect(count('ami-failed-login.ami')).toEqual({ events: 7, attempts: 7 });
  });

  test('bounded: past 16 sessions of one address the stalest is forgotten (its next report counts again)', () => {
    const counter = new AttemptCounter();
    const first = securityEvent('InvalidAccountID', { session: 'first', account: '9999' });
    expect(counter.record(first, '203.0.113.9', BASE)).toBe(true);
    for (let index = 0; index < 15; index++) counter.record(securityEvent('InvalidAccountID', { session: `flood-${index}` }), '203.0.113.9', BASE + 1);
    expect(counter.record(first, '203.0.113.9', BASE + 2)).toBe(false);
    counter.record(securityEvent('InvalidAccountID', { session: 'flood-15' }), '203.0.113.9', BASE + 3);
    expect(counter.record(first, '203.0.113.9', BASE + 4)).toBe(true);
  });

  test('a session is forgotten a minute after its last report', () => {
    const counter = new AttemptCounter();
    const report = securityEvent('InvalidAccountID', { session: 'slow', account: '9999' });
    expect(counter.record(report, '203.0.113.9', BASE)).toBe(true);
    expect(counter.record(report, '203.0.113.9', BASE + 59_999)).toBe(false);
    expect(counter.record(report, '203.0.113.9', BASE + 59_999 + 60_000)).toBe(true);
  });
});

describe('recent account names', () => {
  test('counts distinct names within the window, holding at most its limit', () => {
    const add = (list: (string | number)[] | undefined, name: string, now: number) => addRecentName(list, name, now + 60_000, now, 3);
    let names = add(undefined, '1001', BASE);
    names = add(names, '1001', BASE + 1_000);
    names = add(names, '1002', BASE + 2_000);
    expect(countLive(names, BASE + 2_000)).toBe(2);
    for (let index = 0; index < 10_000; index++) names = add(names, `x${index}`, BASE + 3_000);
    expect(names).toHaveLength(6);
    expect(countLive(names, BASE + 3_000)).toBe(3);
    expect(countLive(names, BASE + 3_000 + 60_000)).toBe(0);
  });
});

describe('brute force: the leaky bucket', () => {
  const bruteForce = 'bruteForce: { capacity: 20, leakEvery: 5s, actions: [alert, firewall] }\n';

  test('one failure per leakEvery never overflows, however long it goes on', () => {
    const policy = instance(bruteForce);
    const findings = Array.from({ length: 2_000 }, (_, index) => feed(policy, securityEvent('ChallengeResponseFailed'), BASE + index * 5_000)).flat();
    expect(findings).toEqual([]);
  });

  test('slightly faster overflows exactly when n − 0.2·t first exceeds the capacity', () => {
    // Every 4.85 s: after n attempts the level is n − 0.2·4.85·(n − 1) = 0.03·n + 0.97: 19.99 at
    // n = 634, 20.02 at n = 635 — the first above 20.
    const policy = instance(bruteForce);
    const fired: number[] = [];
    for (let attempt = 1; attempt <= 800; attempt++) {
      if (feed(policy, securityEvent('ChallengeResponseFailed'), BASE + (attempt - 1) * 4_850).length > 0) fired.push(attempt);
    }
    expect(fired).toEqual([635]);
  });

  test('a burst of exactly the capacity is tolerated; one more fires, with ip and scope for the firewall', () => {
    const policy = instance(bruteForce);
    const burst = Array.from({ length: 20 }, (_, index) => feed(policy, securityEvent('ChallengeResponseFailed'), BASE + index)).flat();
    expect(burst).toEqual([]);
    const [finding, ...rest] = feed(policy, securityEvent('ChallengeResponseFailed'), BASE + 20);
    expect(rest).toEqual([]);
    expect(finding).toMatchObject({ level: 'brute-force', scope: 'ip:203.0.113.9', ip: '203.0.113.9', actions: ['alert', 'firewall'], severity: 'high' });
  });

  test('a 10 000-attempt scan gives one finding per rule per repeatAfter, with the running totals', () => {
    const policy = instance(`repeatAfter: 30m\n${bruteForce}enumeration: { distinctAccounts: 20, window: 10m, actions: [alert, firewall] }\n`);
    const findings: Finding[] = [];
    // 10 000 attempts at 5 a second (33 min 20 s), cycling 500 accounts and 1 000 source ports.
    for (let index = 0; index < 10_000; index++) {
      const event = securityEvent('ChallengeResponseFailed', { account: String(1000 + (index % 500)), port: 5000 + (index % 1000) });
      findings.push(...feed(policy, event, BASE + index * 200));
    }
    // The 20th attempt names the 20th account; the 21st lifts the bucket to 21 − 0.2·4 = 20.2.
    // 30 minutes (9 000 attempts) after each finding the scan is still going: once more each.
    expect(findings.map((finding) => [finding.level, finding.evidence.attempts])).toEqual([
      ['enumeration', 20],
      ['brute-force', 21],
      ['enumeration', 9_020],
      ['brute-force', 9_021],
    ]);
    expect(findings[2]!.evidence).toMatchObject({ distinctAccounts: 64, distinctAccountsAtLeast: true, sampleAccounts: ['1000', '1001', '1002', '1003', '1004', '1005', '1006', '1007', '1008', '1009'] });
  });

  test('a scan from thousands of addresses, one attempt each, does not make the policy forget an address that keeps failing', () => {
    const policy = instance('bruteForce: { capacity: 5, leakEvery: 1h }\n');
    const fired: number[] = [];
    let now = BASE;
    // Two attempts make it a known source; then 25 000 scanning addresses (more than the newcomers
    // kept) before each of the next.
    for (let attempt = 1; attempt <= 6; attempt++) {
      if (attempt > 2) for (let other = 0; other < 25_000; other++) feed(policy, securityEvent('InvalidAccountID', { ip: `2001:db8:${attempt}::${other.toString(16)}` }), ++now);
      if (feed(policy, securityEvent('ChallengeResponseFailed', { ip: '198.51.100.7' }), ++now).length > 0) fired.push(attempt);
    }
    expect(fired).toEqual([6]);
    expect(policy.memory!().evicted).toBeGreaterThan(75_000);
  });

  test('a newcomer\'s one failure counts when it comes back as it would have: its session, port, account and bucket', () => {
    // Kept off the heap, or (an account name past U+00FF) as a record: the same either way.
    for (const account of ['1001', 'ñandú-Ω']) {
      const policy = instance('bruteForce: { capacity: 1, leakEvery: 1h }\nenumeration: { distinctAccounts: 2, window: 10m }\n');
      const ip = account === '1001' ? '198.51.100.7' : '198.51.100.8';
      expect(feed(policy, securityEvent('InvalidAccountID', { ip, account, session: 's1', port: 40000 }), BASE)).toEqual([]);
      // The same attempt reported again (PJSIP reports an unknown account twice): no new attempt, same name.
      expect(feed(policy, securityEvent('InvalidAccountID', { ip, account, session: 's1', port: 40000 }), BASE + 1)).toEqual([]);
      // The same session id from another port is another attempt; and a second name.
      const findings = feed(policy, securityEvent('ChallengeResponseFailed', { ip, account: '1002', session: 's1', port: 40001 }), BASE + 2);
      expect(findings).toMatchObject([
        { level: 'brute-force', evidence: { attempts: 2, reports: 3, distinctAccounts: 2, sampleAccounts: [account, '1002'], firstSeen: new Date(BASE).toISOString() } },
        { level: 'enumeration', evidence: { accountsInWindow: 2 } },
      ]);
    }
  });

  test('a newcomer\'s success is judged on its one failure (failuresBefore: 1)', () => {
    const policy = instance('compromise: { failuresBefore: 1, window: 2m, actions: [alert] }\n');
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '198.51.100.9', account: '1003' }), BASE)).toEqual([]);
    expect(feed(policy, securityEvent('SuccessfulAuth', { ip: '198.51.100.9', account: '1003' }), BASE + 500)).toMatchObject([{ level: 'compromise', endpoint: '1003', evidence: { accountFailures: 1 } }]);
    // Its run was taken: a second success is nothing.
    expect(feed(policy, securityEvent('SuccessfulAuth', { ip: '198.51.100.9', account: '1003' }), BASE + 600)).toEqual([]);
  });

  test('addresses are grouped by their canonical form (IPv6 spellings, IPv4-mapped)', () => {
    const policy = instance('bruteForce: { capacity: 2, leakEvery: 1h }\n');
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '2001:DB8:0:0::9' }), BASE)).toEqual([]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '2001:db8::0:9' }), BASE + 1)).toEqual([]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '[2001:db8::9]' }), BASE + 2)).toMatchObject([{ ip: '2001:db8::9', scope: 'ip:2001:db8::9' }]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '::ffff:198.51.100.4' }), BASE)).toEqual([]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '198.51.100.4' }), BASE + 1)).toEqual([]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '::ffff:198.51.100.4' }), BASE + 2)).toMatchObject([{ ip: '198.51.100.4' }]);
  });

  test('trusted addresses and other services are never judged; successes are never failures', () => {
    const policy = instance('services: [pjsip]\ntrustedAddresses: [198.18.1.0/24, "2001:db8:1::/48"]\nbruteForce: { capacity: 1, leakEvery: 1h }\n');
    const quiet = [
      ...[0, 1, 2].map((index) => securityEvent('ChallengeResponseFailed', { ip: `198.18.1.${40 + index}` })),
      ...[0, 1, 2].map(() => securityEvent('ChallengeResponseFailed', { ip: '2001:db8:1:5::40' })),
      ...[0, 1, 2].map(() => securityEvent('InvalidPassword', { service: 'AMI' })),
      ...[0, 1, 2].map(() => securityEvent('SuccessfulAuth')),
      ...[0, 1, 2].map(() => securityEvent('ChallengeSent')),
    ];
    expect(quiet.flatMap((event, index) => feed(policy, event, BASE + index))).toEqual([]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '198.18.2.40' }), BASE + 20)).toEqual([]);
    expect(feed(policy, securityEvent('ChallengeResponseFailed', { ip: '198.18.2.40' }), BASE + 21)).toHaveLength(1);
  });
});

describe('checkpoints', () => {
  const rules = 'bruteForce: { capacity: 5, leakEvery: 1h, actions: [alert, firewall] }\n';

  /** Five failures from one address over two accounts, one of them reported twice (same session). */
  function halfAnAttack(policy: PolicyInstance): void {
    for (let index = 0; index < 5; index++) feed(policy, securityEvent('ChallengeResponseFailed', { account: index % 2 ? '1002' : '1001', session: `attack-${index}` }), BASE + index * 1_000);
    feed(policy, securityEvent('InvalidPassword', { account: '1001', session: 'attack-4' }), BASE + 4_100);
  }

  test('the attack goes on being counted after a restore: the sixth attempt fires with every account and service', () => {
    const before = instance(rules);
    halfAnAttack(before);
    const snapshot = JSON.parse(JSON.stringify(before.snapshot!(BASE + 5_000)));
    const after = instance(rules);
    after.restore!(snapshot, BASE + 5_000);
    const [finding] = feed(after, securityEvent('ChallengeResponseFailed', { account: '1003', session: 'attack-5' }), BASE + 5_000);
    expect(finding).toMatchObject({ level: 'brute-force', evidence: { attempts: 6, reports: 7, services: ['PJSIP'], distinctAccounts: 3, sampleAccounts: ['1001', '1002', '1003'] } });
  });

  test('a checkpoint written by an earlier version (separate maps per address, Sets of accounts, a Map of counts per session) is read the same way', () => {
    const ip = '203.0.113.9';
    // halfAnAttack as versions before one record per address wrote it (repeatAfter 1h, capacity 5, leakEvery 1h).
    const earlierSnapshot = {
      activity: [[ip, { firstSeen: BASE, lastSeen: BASE + 4_100, attempts: 5, reports: 6, services: { '@set': ['PJSIP'] }, accounts: { '@set': ['1001', '1002'] }, accountsCapped: false }, BASE + 4_100 + 3_600_000]],
      attempts: [[`PJSIP|${ip}|5060|attack-4`, { '@map': [['ChallengeResponseFailed', 1], ['InvalidPassword', 1]] }, BASE + 4_100 + 60_000]],
      buckets: [[ip, { level: 5 - 4 / 3600, at: BASE + 4_000 }, BASE + 4_000 + 6 * 3_600_000]],
      bruteForceFired: [],
    };
    const before = instance(rules);
    halfAnAttack(before);
    const current = instance(rules);
    current.restore!(JSON.parse(JSON.stringify(before.snapshot!(BASE + 5_000))), BASE + 5_000);
    const earlier = instance(rules);
    earlier.restore!(earlierSnapshot, BASE + 5_000);
    // Another report of an attempt already counted, then a new attempt: the same findings from both.
    const next = [securityEvent('InvalidAccountID', { account: '1001', session: 'attack-4' }), securityEvent('ChallengeResponseFailed', { account: '1003', session: 'attack-5' })];
    const fromEarlier = next.flatMap((event, index) => feed(earlier, event, BASE + 5_000 + index));
    expect(fromEarlier).toEqual(next.flatMap((event, index) => feed(current, event, BASE + 5_000 + index)));
    expect(fromEarlier).toMatchObject([{ level: 'brute-force', evidence: { attempts: 6, reports: 8, services: ['PJSIP'], distinctAccounts: 3, sampleAccounts: ['1001', '1002', '1003'] } }]);
  });

  test('an earlier checkpoint\'s failure runs and recent account names go on after a restore', () => {
    const ip = '203.0.113.9';
    const policyText = 'enumeration: { distinctAccounts: 3, window: 10m }\ncompromise: { failuresBefore: 3, window: 2m, actions: [alert, lock] }\n';
    const earlierSnapshot = {
      accountsBySource: [[ip, [['1001', true, BASE + 600_000], ['1002', true, BASE + 601_000]], BASE + 601_000]],
      failureRuns: [[`PJSIP|${ip}|1001`, { times: [BASE, BASE + 1_000, BASE + 2_000], total: 3, firstAt: BASE }, BASE + 122_000]],
    };
    const restored = instance(policyText);
    restored.restore!(earlierSnapshot, BASE + 3_000);
    expect(feed(restored, securityEvent('SuccessfulAuth', { account: '1001', ip }), BASE + 3_000)).toMatchObject([{ level: 'compromise', endpoint: '1001', evidence: { accountFailures: 3 } }]);
    expect(feed(restored, securityEvent('ChallengeResponseFailed', { account: '1003', ip }), BASE + 4_000)).toMatchObject([{ level: 'enumeration', evidence: { accountsInWindow: 3 } }]);
  });

  test('an address seen failing once (a newcomer) is still known after a restore', () => {
    const before = instance('bruteForce: { capacity: 1, leakEvery: 1h }\n');
    expect(feed(before, securityEvent('ChallengeResponseFailed', { session: 'one' }), BASE)).toEqual([]);
    const after = instance('bruteForce: { capacity: 1, leakEvery: 1h }\n');
    after.restore!(JSON.parse(JSON.stringify(before.snapshot!(BASE + 1_000))), BASE + 1_000);
    expect(feed(after, securityEvent('ChallengeResponseFailed', { session: 'two' }), BASE + 1_000)).toMatchObject([{ level: 'brute-force', evidence: { attempts: 2 } }]);
  });

  test('failure runs and recent account names survive a checkpoint of this version', () => {
    const policyText = 'enumeration: { distinctAccounts: 3, window: 10m }\ncompromise: { failuresBefore: 3, window: 2m, actions: [alert, lock] }\n';
    const before = instance(policyText);
    feed(before, securityEvent('ChallengeResponseFailed', { account: '1001' }), BASE);
    feed(before, securityEvent('ChallengeResponseFailed', { account: '1001' }), BASE + 1_000);
    feed(before, securityEvent('ChallengeResponseFailed', { account: '1002' }), BASE + 1_500);
    feed(before, securityEvent('ChallengeResponseFailed', { account: '1001' }), BASE + 2_000);
    const after = instance(policyText);
    after.restore!(JSON.parse(JSON.stringify(before.snapshot!(BASE + 3_000))), BASE + 3_000);
    expect(feed(after, securityEvent('SuccessfulAuth', { account: '1001' }), BASE + 3_000)).toMatchObject([{ level: 'compromise', evidence: { accountFailures: 3, addressAttempts: 4, addressAccounts: ['1001', '1002'] } }]);
    expect(feed(after, securityEvent('ChallengeResponseFailed', { account: '1003' }), BASE + 4_000)).toMatchObject([{ level: 'enumeration', evidence: { accountsInWindow: 3 } }]);
  });
});

describe('compromise', () => {
  const compromise = 'compromise: { failuresBefore: 3, window: 2m, actions: [alert, lock] }\n';
  const fail = (account = '1001', ip = '203.0.113.9') => securityEvent('ChallengeResponseFailed', { account, ip });
  const success = (account = '1001', ip = '203.0.113.9', service = 'PJSIP') => securityEvent('SuccessfulAuth', { account, ip, service });

  test('a success after failuresBefore failures for that account from that address names the endpoint', () => {
    const policy = instance(compromise);
    [0, 1, 2].forEach((index) => feed(policy, fail(), BASE + index * 1_000));
    expect(feed(policy, success(), BASE + 5_000)).toMatchObject([
      { level: 'compromise', severity: 'critical', endpoint: '1001', account: '1001', ip: '203.0.113.9', scope: 'endpoint:1001', actions: ['alert', 'lock'], evidence: { accountFailures: 3 } },
    ]);
  });

  test('a success ends the run: the next success from there is no second compromise', () => {
    const policy = instance(compromise);
    [0, 1, 2].forEach((index) => feed(policy, fail(), BASE + index));
    expect(feed(policy, success(), BASE + 10)).toHaveLength(1);
    expect(feed(policy, success(), BASE + 20)).toEqual([]);
  });

  test('not a compromise: too few failures, failures older than the window, another account, another address', () => {
    const few = instance(compromise);
    [0, 1].forEach((index) => feed(few, fail(), BASE + index));
    expect(feed(few, success(), BASE + 10)).toEqual([]);

    const old = instance(compromise);
    [0, 1, 2].forEach((index) => feed(old, fail(), BASE + index * 1_000));
    // The first failure is now more than 2 minutes old: only 2 remain within the window.
    expect(feed(old, success(), BASE + 120_500)).toEqual([]);

    // A stale phone (1002) failing behind the same router does not make 1001's login suspect.
    const otherAccount = instance(compromise);
    [0, 1, 2].forEach((index) => feed(otherAccount, fail('1002'), BASE + index));
    expect(feed(otherAccount, success('1001'), BASE + 10)).toEqual([]);

    const otherAddress = instance(compromise);
    [0, 1, 2].forEach((index) => feed(otherAddress, fail('1001', '203.0.113.9'), BASE + index));
    expect(feed(otherAddress, success('1001', '198.51.100.7'), BASE + 10)).toEqual([]);
  });

  test('the agent logging in (AMI) is a success like any other: no failures before it, nothing to report', () => {
    // The real AMI capture: the agent's own login first, then 5 wrong secrets for its very account.
    const policy = instance(compromise);
    const events = captureSecurityEvents('ami-failed-login.ami');
    expect(events[0]).toMatchObject({ kind: 'SuccessfulAuth', service: 'AMI', accountId: 'fraudwatch' });
    expect(events.flatMap((event) => feed(policy, event, event.at))).toEqual([]);
  });

  test('a guessed AMI secret is critical but names no endpoint: nothing to lock', () => {
    const policy = instance(compromise);
    [0, 1, 2].forEach((index) => feed(policy, securityEvent('InvalidPassword', { service: 'AMI', account: 'manager' }), BASE + index));
    const [finding] = feed(policy, success('manager', '203.0.113.9', 'AMI'), BASE + 10);
    expect(finding).toMatchObject({ level: 'compromise', account: 'manager', scope: 'account:AMI/manager' });
    expect(finding!.endpoint).toBeUndefined();
  });
});

describe('calls after a compromise (replayed)', () => {
  const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
  const rates = loadRateTable(packagePath('config', 'rates.example.csv'));
  const shipped = parsePolicy(readFileSync(packagePath('policies', 'account-compromise.yaml'), 'utf8'), 'account-compromise.yaml').policy!;

  function replay(cubaReplace: Record<string, string>, start: string) {
    const transcript = deriveTranscript(
      {
        steps: [
          { from: 'register-bruteforce.ami' },
          { from: 'intl-call-cuba.timestamped.ami', replace: cubaReplace, start },
        ],
      },
      fixturePath('ami'),
    );
    return replayTranscript(transcript, { trunks: ['carrier'], policies: [shipped], classifier, rates }).findings.map((finding) => [finding.level, finding.endpoint]);
  }

  test('a call from another endpoint a minute later is left alone', () => {
    expect(replay({ '1001': '1002' }, '2026-11-21T11:01:17Z')).toEqual([['compromise', '1001']]);
  });

  test('the compromised endpoint calling 14 minutes later is still hung up, 16 minutes later no longer', () => {
    expect(replay({}, '2026-11-21T11:14:17Z')).toEqual([['compromise', '1001'], ['call-after-compromise', '1001']]);
    expect(replay({}, '2026-11-21T11:16:17Z')).toEqual([['compromise', '1001']]);
  });
});

describe('policy files', () => {
  test('the shipped files load', () => {
    for (const id of ['sip-brute-force', 'account-compromise']) {
      const file = packagePath('policies', `${id}.yaml`);
      expect(parsePolicy(readFileSync(file, 'utf8'), file).issues).toEqual([]);
    }
  });

  test('defaults: policy actions for rules without their own, critical compromises, an hour between repeats', () => {
    const { policy } = load('actions: [alert, firewall]\nbruteForce: {}\ncompromise: {}\n');
    expect(policy!.definition).toMatchObject({ repeatAfter: 3600, trustedAddresses: [], bruteForce: { capacity: 20, leakEvery: 5 }, compromise: { failuresBefore: 10, window: 120 } });
  });

  test('clear errors for what cannot work', () => {
    expect(issuesOf('severity: high\n')).toEqual([expect.stringContaining('say what to detect: bruteForce, enumeration and/or compromise')]);
    expect(issuesOf('bruteForce: { actions: [alert, hangup] }\n')).toEqual(['bruteForce.actions: hangup needs a call: use it in compromise.callActions']);
    expect(issuesOf('actions: [lock]\nenumeration: {}\n')).toEqual(['actions: enumeration has no actions of its own and takes these, but lock needs an endpoint: only compromise names one']);
    expect(issuesOf('compromise: { callsWithin: 15m }\n')).toEqual([expect.stringContaining('compromise.callsWithin: say what to do with those calls')]);
    expect(issuesOf('compromise: { callActions: [hangup] }\n')).toEqual([expect.stringContaining('compromise.callActions: callActions need callsWithin')]);
    expect(issuesOf('match: { endpoints: ["1001"] }\nbruteForce: {}\n')).toEqual([expect.stringContaining('match: match and exceptions select calls')]);
    expect(issuesOf('trustedAddresses: [198.18.1.0/33]\nbruteForce: {}\n')).toEqual([expect.stringContaining('"198.18.1.0/33" is not an address or CIDR block')]);
    expect(issuesOf('services: [SKYPE]\nbruteForce: {}\n')).toEqual([expect.stringMatching(/^services\[0\]: /)]);
    expect(issuesOf('bruteForce: { capacity: 20, leakPerSecond: 0.2 }\n')).toEqual([expect.stringMatching(/^bruteForce\.leakPerSecond: unknown key/)]);
    expect(issuesOf('enumeration: { distinctAccounts: 1 }\n')).toEqual([expect.stringMatching(/^enumeration\.distinctAccounts: /)]);
  });
});

test('spans for messages', () => {
  expect([formatSpan(2_205), formatSpan(60_776), formatSpan(4 * 60_000), formatSpan(3 * 3_600_000)]).toEqual(['2.2 s', '61 s', '4 min', '3 h']);
});
