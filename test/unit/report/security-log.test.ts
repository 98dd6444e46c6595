import { ManualClock } from '../../../src/clock.js';
import type { SecurityEvent } from '../../../src/calls/events.js';
import { MemoryLogger } from '../../../src/log.js';
import { SecurityLog } from '../../../src/report/security-log.js';
import { feedCapture } from '../../helpers/feed.js';

function failure(ip: string, account: string, at: number, kind: SecurityEvent['kind'] = 'ChallengeResponseFailed'): SecurityEvent {
  return { type: 'security', at, kind, severity: 'Error', service: 'PJSIP', accountId: account, remote: { family: 'IPV4', transport: 'UDP', ip, port: 5060 }, details: {} };
}

const atInfo = (logger: MemoryLogger) => logger.entries.filter((entry) => entry.level !== 'debug');

describe('security events in the log', () => {
  test('a flood from one address: a line when it starts, one a minute while it goes on, one when it stops — every event at debug only', () => {
    const clock = new ManualClock(1_000_000);
    const logger = new MemoryLogger();
    const log = new SecurityLog({ log: logger, clock });
    for (let index = 0; index < 5000; index++) {
      clock.advanceBy(20); // 50 a second for 100 s
      log.record(failure('203.0.113.9', `${1000 + (index % 50)}`, clock.now(), index % 3 === 0 ? 'InvalidAccountID' : 'ChallengeResponseFailed'));
      if (index % 250 === 0) log.tick();
    }
    clock.advanceBy(61_000);
    log.tick();
    clock.advanceBy(61_000);
    log.tick();
    expect(logger.entries.filter((entry) => entry.level === 'debug')).toHaveLength(5000);
    const lines = atInfo(logger).map((entry) => entry.msg);
    expect(lines[0]).toBe('security: 203.0.113.9 started failing to authenticate (PJSIP InvalidAccountID, account 1000)');
    expect(lines.filter((line) => /failures in the last \d+ s/.test(line!))).toHaveLength(2);
    expect(lines.at(-1)).toBe('security: 203.0.113.9 stopped (5000 failures in all)');
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(atInfo(logger)[1]!.obj).toMatchObject({ ip: '203.0.113.9', counts: { InvalidAccountID: expect.any(Number), ChallengeResponseFailed: expect.any(Number) } });
    expect((atInfo(logger)[1]!.obj as { accounts: string[] }).accounts).toHaveLength(10);
  });

  test('a scan from many addresses: 20 named a minute, the rest in one line; the addresses followed stay bounded', () => {
    const clock = new ManualClock(0);
    const logger = new MemoryLogger();
    const log = new SecurityLog({ log: logger, clock, maxSources: 1000 });
    for (let index = 0; index < 20_000; index++) log.record(failure(`198.18.${index >> 8}.${index & 255}`, '1001', clock.now()));
    expect(log.followed).toBeLessThanOrEqual(1000);
    expect(log.stats).toMatchObject({ events: 20_000, sources: 20_000 });
    expect(log.stats.evicted).toBeGreaterThanOrEqual(19_000);
    clock.advanceBy(61_000);
    log.tick();
    const lines = atInfo(logger).map((entry) => entry.msg!);
    expect(lines.filter((line) => line.includes('started failing to authenticate'))).toHaveLength(20);
    expect(lines.find((line) => line.startsWith('security: failures from many addresses'))).toMatch(/^security: failures from many addresses: 19980 more started failing in the last 61 s; \d+ quieter ones \(\d+ failures\) dropped from this log's view to stay within 1000 addresses$/);
    // And the ones still followed are summarised as usual: the log holds a few lines per minute, not one per address.
    expect(lines.length).toBeLessThan(1100);
  });

  test('an address that failed once is summarised a period later and said stopped a period after that; failing again, it is followed as the others', () => {
    const clock = new ManualClock(0);
    const logger = new MemoryLogger();
    const log = new SecurityLog({ log: logger, clock, maxSources: 100 });
    log.record(failure('203.0.113.1', '1001', clock.now(), 'InvalidAccountID'));
    clock.advanceBy(1000);
    log.record(failure('203.0.113.2', '<unknown>', clock.now()));
    log.record(failure('203.0.113.2', '1002', clock.now()));
    expect(log.followed).toBe(2);
    clock.advanceBy(60_000);
    log.tick();
    clock.advanceBy(61_000);
    log.tick();
    const lines = atInfo(logger).map((entry) => entry.msg!);
    expect(lines).toEqual([
      'security: 203.0.113.1 started failing to authenticate (PJSIP InvalidAccountID, account 1001)',
      'security: 203.0.113.2 started failing to authenticate (PJSIP ChallengeResponseFailed, account <unknown>)',
      'security: 203.0.113.1: 1 failures in the last 61 s (InvalidAccountID ×1; accounts 1001)',
      'security: 203.0.113.2: 2 failures in the last 60 s (ChallengeResponseFailed ×2; accounts 1002)',
      'security: 203.0.113.2 stopped (2 failures in all)',
      'security: 203.0.113.1 stopped (1 failures in all)',
    ]);
    expect(log.followed).toBe(0);
  });

  test('addresses that failed once and were pushed out by newer ones are counted in the many-addresses line', () => {
    const clock = new ManualClock(0);
    const logger = new MemoryLogger();
    const log = new SecurityLog({ log: logger, clock, maxSources: 10 });
    for (let index = 0; index < 30; index++) log.record(failure(`198.18.0.${index}`, '1001', clock.now()));
    expect(log.followed).toBe(10);
    expect(log.stats.evicted).toBe(20);
    log.flush();
    const lines = atInfo(logger).map((entry) => entry.msg!);
    expect(lines.find((line) => line.startsWith('security: failures from many addresses'))).toBe("security: failures from many addresses: 10 more started failing in the last 0 s; 20 quieter ones (20 failures) dropped from this log's view to stay within 10 addresses");
    expect(lines.filter((line) => / stopped \(1 failures in all\)$/.test(line))).toHaveLength(10);
  });

  test('the real scan capture: successes and challenges are not failures; one source, one start line', () => {
    const fed = feedCapture('register-bruteforce.ami');
    const clock = new ManualClock(0);
    const logger = new MemoryLogger();
    const log = new SecurityLog({ log: logger, clock });
    for (const event of fed.security) log.record(event);
    log.flush();
    const lines = atInfo(logger).map((entry) => entry.msg);
    expect(lines[0]).toMatch(/^security: 127\.0\.0\.1 started failing to authenticate \(PJSIP ChallengeResponseFailed, account 1001\)$/);
    expect(lines[1]).toMatch(/^security: 127\.0\.0\.1: 78 failures in the last \d+ s \(ChallengeResponseFailed ×42, InvalidAccountID ×36; accounts 1001, 9999\)$/);
    expect(lines[2]).toBe('security: 127.0.0.1 stopped (78 failures in all)');
  });
});
