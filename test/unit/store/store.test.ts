import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store, type OutboxMail } from '../../../src/store/store.js';
import { MIGRATIONS } from '../../../src/store/schema.js';
import type { CostEntry } from '../../../src/policy/types.js';

function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'tollgate-store-')), 'state', 'tollgate.db');
}

const cost = (linkedid: string, endedAt: number, micros: number, extra: Partial<CostEntry> = {}): CostEntry => ({
  linkedid,
  destUniqueid: `${linkedid}.1`,
  endpoint: '1001',
  trunk: 'carrier',
  country: 'CU',
  e164: '+535551234',
  answeredAt: endedAt - 20_000,
  endedAt,
  billableSeconds: 20,
  pricePerMinuteMicros: 1_100_000,
  micros,
  currency: 'USD',
  ...extra,
});

const mail = (dedupeKey: string): OutboxMail => ({ kind: 'alert', dedupeKey, incident: 'inc-1', to: ['noc@example.com'], subject: '[Tollgate][CRITICAL] 1001 → +53 5551234 hung up', text: 'text', html: '<p>html</p>' });

describe('store (a real SQLite file)', () => {
  test('creates its directory and file, in WAL mode, and keeps data across reopening', () => {
    const file = tempDb();
    const store = new Store(file);
    store.recordCost(cost('a', 1_000, 500_000));
    store.close();
    const raw = new Database(file, { readonly: true });
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.prepare('SELECT version FROM schema_version').get()).toEqual({ version: MIGRATIONS.length });
    raw.close();
    const again = new Store(file);
    expect(again.costsSince(0).map((entry) => entry.linkedid)).toEqual(['a']);
    again.close();
  });

  test('a file from a newer Tollgate is refused with a clear message', () => {
    const file = tempDb();
    new Store(file).close();
    const raw = new Database(file);
    raw.prepare('UPDATE schema_version SET version = 99').run();
    raw.close();
    expect(() => new Store(file)).toThrow(`written by a newer Tollgate (schema 99; this one knows ${MIGRATIONS.length})`);
  });

  test('spend ledger: a dial is recorded once; history by time', () => {
    const store = new Store(tempDb());
    expect(store.recordCost(cost('a', 1_000, 500_000))).toBe(true);
    expect(store.recordCost(cost('a', 1_000, 500_000))).toBe(false);
    store.recordCost(cost('b', 3_000, 250_000));
    store.recordCost(cost('c', 2_000, 100_000));
    expect(store.costsSince(2_000).map((entry) => entry.linkedid)).toEqual(['c', 'b']);
    expect(store.costsSince(0)[0]).toEqual(cost('a', 1_000, 500_000));
    expect(store.spentSince(0)).toBe(850_000);
    store.close();
  });

  test('locks: expiry, and an unlock by another process (a second connection) counts at once', () => {
    const file = tempDb();
    const agent = new Store(file);
    agent.lock({ endpoint: '1001', since: 1_000, reason: 'password guessed', policy: 'account-compromise' });
    agent.lock({ endpoint: '1002', since: 1_000, until: 5_000, reason: 'temporary' });
    expect(agent.lockOf('1001', 2_000)).toEqual({ endpoint: '1001', since: 1_000, reason: 'password guessed', policy: 'account-compromise' });
    expect(agent.lockOf('1002', 4_999)?.until).toBe(5_000);
    expect(agent.lockOf('1002', 5_000)).toBeUndefined();
    expect(agent.locks(2_000).map((lock) => lock.endpoint)).toEqual(['1001', '1002']);
    const cli = new Store(file);
    expect(cli.unlock('1001')).toBe(true);
    expect(cli.unlock('1001')).toBe(false);
    cli.close();
    expect(agent.lockOf('1001', 2_000)).toBeUndefined();
    agent.close();
  });

  test('locks: a second lock joins the first (first since, both reasons and policies, later end), across processes; one unlock lifts it', () => {
    const file = tempDb();
    const agent = new Store(file);
    const first = agent.lock({ endpoint: '1001', since: 1_000, reason: 'password guessed from 203.0.113.9', policy: 'account-compromise' });
    expect(first).toEqual({ lock: { endpoint: '1001', since: 1_000, reason: 'password guessed from 203.0.113.9', policy: 'account-compromise' } });
    const second = agent.lock({ endpoint: '1001', since: 60_000, until: 3_660_000, reason: 'scanner User-Agent from 198.51.100.7', policy: 'endpoint-baseline' });
    const joined = { endpoint: '1001', since: 1_000, reason: 'password guessed from 203.0.113.9; scanner User-Agent from 198.51.100.7', policy: 'account-compromise, endpoint-baseline' };
    expect(second).toEqual({ lock: joined, joined: first.lock });
    // The same reason again is not repeated; until unlocked stays so.
    agent.lock({ endpoint: '1001', since: 90_000, until: 3_690_000, reason: 'password guessed from 203.0.113.9', policy: 'account-compromise' });
    expect(agent.lockOf('1001', 100_000)).toEqual(joined);
    expect(agent.lockOf('1001', 10_000_000)).toEqual(joined);
    // Another process (`tollgate lock` by hand) reads and joins the same row.
    const cli = new Store(file);
    expect(cli.lock({ endpoint: '1001', since: 120_000, reason: 'phone stolen' }).lock).toEqual({ ...joined, reason: `${joined.reason}; phone stolen`, policy: 'account-compromise, endpoint-baseline, manual' });
    expect(agent.locks(130_000)).toEqual([{ ...joined, reason: `${joined.reason}; phone stolen`, policy: 'account-compromise, endpoint-baseline, manual' }]);
    expect(cli.unlock('1001')).toBe(true);
    cli.close();
    expect(agent.lockOf('1001', 130_000)).toBeUndefined();

    // Two locks that end: the later end. A lock that had expired is replaced, not joined.
    agent.lock({ endpoint: '1002', since: 1_000, until: 9_000, reason: 'temporary' });
    agent.lock({ endpoint: '1002', since: 2_000, until: 5_000, reason: 'shorter' });
    expect(agent.lockOf('1002', 8_999)).toEqual({ endpoint: '1002', since: 1_000, until: 9_000, reason: 'temporary; shorter' });
    expect(agent.lock({ endpoint: '1002', since: 9_000, until: 20_000, reason: 'again', policy: 'endpoint-baseline' })).toEqual({ lock: { endpoint: '1002', since: 9_000, until: 20_000, reason: 'again', policy: 'endpoint-baseline' } });
    agent.close();
    const reopened = new Store(file);
    expect(reopened.lockOf('1002', 10_000)).toEqual({ endpoint: '1002', since: 9_000, until: 20_000, reason: 'again', policy: 'endpoint-baseline' });
    reopened.close();
  });

  test('outbox: one mail per dedupe key, due order, failures push the next attempt, sent is final', () => {
    const store = new Store(tempDb());
    const first = store.enqueueMail(mail('incident:inc-1:alert'), 1_000);
    expect(first.created).toBe(true);
    expect(store.enqueueMail(mail('incident:inc-1:alert'), 2_000)).toEqual({ id: first.id, created: false });
    const second = store.enqueueMail({ ...mail('digest:2026-11-21'), kind: 'digest' }, 1_500);
    expect(store.dueMails(1_200, 10).map((row) => row.id)).toEqual([first.id]);
    expect(store.dueMails(2_000, 10).map((row) => row.id)).toEqual([first.id, second.id]);
    store.markMailFailed(first.id, 'connect ECONNREFUSED 127.0.0.1:2525', 10_000);
    expect(store.dueMails(2_000, 10).map((row) => row.id)).toEqual([second.id]);
    expect(store.nextMailDue()).toBe(1_500);
    expect(store.mail(first.id)).toMatchObject({ attempts: 1, lastError: 'connect ECONNREFUSED 127.0.0.1:2525', nextAttemptAt: 10_000 });
    store.updateMail(first.id, { subject: 'grown', text: 't2', html: 'h2' });
    store.markMailSent(first.id, '<abc@tollgate>', 11_000);
    store.updateMail(first.id, { subject: 'too late', text: 'x', html: 'x' });
    expect(store.mail(first.id)).toMatchObject({ subject: 'grown', sentAt: 11_000, messageId: '<abc@tollgate>', attempts: 2 });
    expect(store.dueMails(20_000, 10).map((row) => row.id)).toEqual([second.id]);
    expect(store.outboxCounts()).toEqual({ pending: 1, sent: 1 });
    // The failed attempt before the first mail went through is still counted; nothing waits after a failure.
    expect(store.outboxFailures()).toEqual({ failedAttempts: 1, failing: 0 });
    store.markMailFailed(second.id, '421 try later', 30_000);
    store.markMailFailed(second.id, '421 try later', 60_000);
    expect(store.outboxFailures()).toEqual({ failedAttempts: 3, failing: 1 });
    store.close();
  });

  test('incidents, decisions (audit trail) and security counters', () => {
    const store = new Store(tempDb());
    store.saveIncident({ id: 'inc-1', policy: 'p', scope: 'endpoint:1001', firstAt: 1_000, lastAt: 1_000, severity: 'high', findings: 1, levels: ['match'], calls: ['c1'], decided: ['alert:match:high'], sequence: 1, first: { a: 1 }, latest: { a: 1 } });
    store.saveIncident({ id: 'inc-1', policy: 'p', scope: 'endpoint:1001', firstAt: 1_000, lastAt: 5_000, severity: 'critical', findings: 2, levels: ['match'], calls: ['c1', 'c2'], decided: ['alert:match:high', 'hangup:c2'], sequence: 2, first: { a: 1 }, latest: { a: 2 } });
    expect(store.incidentsSince(4_000)).toEqual([expect.objectContaining({ id: 'inc-1', lastAt: 5_000, findings: 2, decided: ['alert:match:high', 'hangup:c2'] })]);
    expect(store.incidentsSince(6_000)).toEqual([]);
    store.recordDecision({ id: 'inc-1/1', incident: 'inc-1', at: 1_000, policy: 'p', kind: 'destination', action: 'hangup', mode: 'enforce', severity: 'high', level: 'match', target: { channels: ['PJSIP/1001-1'] }, finding: { message: 'm' }, result: 'pending' });
    store.completeDecision('inc-1/1', 'done', 'Hangup confirmed for PJSIP/1001-1 (cause 21)', 1_010, 3.5);
    expect(store.decisions({ incident: 'inc-1' })).toEqual([
      expect.objectContaining({ id: 'inc-1/1', result: 'done', detail: 'Hangup confirmed for PJSIP/1001-1 (cause 21)', latencyMs: 3.5, completedAt: 1_010, target: { channels: ['PJSIP/1001-1'] } }),
    ]);
    store.countSecurityEvent('2026-11-21', 'ChallengeResponseFailed', '203.0.113.9', 2);
    store.countSecurityEvent('2026-11-21', 'ChallengeResponseFailed', '203.0.113.9');
    expect(store.securityCounts('2026-11-21')).toEqual([{ kind: 'ChallengeResponseFailed', address: '203.0.113.9', count: 3 }]);
    // A second's worth of counters in one transaction, added to what is there.
    store.countSecurityEvents([
      { day: '2026-11-21', kind: 'ChallengeResponseFailed', address: '203.0.113.9', count: 40 },
      { day: '2026-11-21', kind: 'InvalidAccountID', address: '198.51.100.7', count: 5 },
    ]);
    expect(store.securityCounts('2026-11-21')).toEqual([
      { kind: 'ChallengeResponseFailed', address: '203.0.113.9', count: 43 },
      { kind: 'InvalidAccountID', address: '198.51.100.7', count: 5 },
    ]);
    store.close();
  });

  test('retention purge removes old records and sent mail, keeps unsent mail and locks', () => {
    const store = new Store(tempDb());
    store.recordCost(cost('old', 1_000, 1));
    store.recordCost(cost('new', 9_000, 1));
    const old = store.enqueueMail(mail('old'), 1_000).id;
    store.markMailSent(old, '<old>', 1_000);
    store.enqueueMail(mail('unsent'), 1_000);
    store.countSecurityEvent('2026-01-01', 'InvalidAccountID', '1.2.3.4');
    store.lock({ endpoint: '1001', since: 1_000, reason: 'r' });
    expect(store.purge(5_000, '2026-06-01')).toEqual({ costs: 1, incidents: 0, decisions: 0, mails: 1, security: 1, addresses: 0, threads: 0 });
    expect(store.costsSince(0).map((entry) => entry.linkedid)).toEqual(['new']);
    expect(store.outboxCounts()).toEqual({ pending: 1, sent: 0 });
    expect(store.lockOf('1001', 10_000)).toBeDefined();
    store.close();
  });
});
