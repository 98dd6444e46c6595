/**
 * Mail threads: which findings are one attack, which alerts get a mail of their own, and that a
 * thread survives a restart (kept in a real SQLite file).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MailThreads } from '../../../src/act/mail/threads.js';
import type { Finding } from '../../../src/policy/types.js';
import { Store } from '../../../src/store/store.js';

const AT = Date.UTC(2026, 10, 21, 2, 4, 10);

function finding(overrides: Partial<Finding>): Finding {
  return { policy: 'p', kind: 'security', mode: 'enforce', severity: 'high', level: 'brute-force', actions: ['alert'], at: AT, message: 'm', scope: 's', evidence: {}, ...overrides };
}

const scan = finding({ policy: 'sip-brute-force', ip: '203.0.113.9', scope: 'ip:203.0.113.9', evidence: { attempts: 21 } });
const guessed = finding({ policy: 'account-compromise', level: 'compromise', severity: 'critical', ip: '203.0.113.9', endpoint: '1001', scope: 'endpoint:1001', at: AT + 1_000, evidence: { firstFailure: new Date(AT - 4_000).toISOString() } });
const call = (linkedid: string, at: number): Finding =>
  finding({
    policy: 'international-risk',
    kind: 'call-risk',
    level: 'score-4',
    endpoint: '1001',
    scope: 'endpoint:1001',
    at,
    call: { linkedid, uniqueid: linkedid, channel: 'PJSIP/1001-1', channels: ['PJSIP/1001-1'], endpoint: '1001', context: 'from-internal', direction: 'outbound', startedAt: at, ratePerMinute: '2.00', currency: 'USD' },
  });

function memoryThreads(quietMs = 60_000): MailThreads {
  return new MailThreads({ store: { saveThread: () => undefined, openThreads: () => [] }, quietMs });
}

describe('mail threads', () => {
  test('the scan, the password it guessed and the calls of that endpoint are one thread; another endpoint is another', () => {
    const threads = memoryThreads();
    const thread = threads.threadFor(scan, 'inc-scan');
    threads.note(thread, scan, 'inc-scan', []);
    expect(threads.threadFor(guessed, 'inc-guessed')).toBe(thread);
    threads.note(thread, guessed, 'inc-guessed', []);
    // The call carries no address: it joins through the endpoint the guessed password added.
    expect(threads.threadFor(call('c1', AT + 2_000), 'inc-call')).toBe(thread);
    expect(thread.attackers).toEqual(['203.0.113.9']);
    expect(thread.compromised).toEqual([{ endpoint: '1001', ip: '203.0.113.9', at: AT + 1_000, firstFailureAt: AT - 4_000 }]);
    const other = threads.threadFor(finding({ policy: 'daily-spend-cap', kind: 'spend', endpoint: '1002', scope: 'endpoint:1002', at: AT + 3_000 }), 'inc-spend');
    expect(other).not.toBe(thread);
    expect(other.id).toBe('inc-spend');
  });

  test('quiet for the quiet time: the attack is over, its summary due, and a new finding opens a new thread', () => {
    const threads = memoryThreads(60_000);
    const thread = threads.threadFor(scan, 'inc-scan');
    threads.note(thread, scan, 'inc-scan', []);
    expect(threads.due(AT + 59_999)).toEqual([]);
    expect(threads.due(AT + 60_000)).toEqual([thread]);
    expect(threads.threadFor({ ...scan, at: AT + 60_000 }, 'inc-later')).not.toBe(thread);
  });

  test('a mail for what is new; the same outcome again folds into the thread', () => {
    const threads = memoryThreads();
    const thread = threads.threadFor(scan, 'inc-scan');
    const decide = (alert: { linkedid?: string; outcome: string; severity: Finding['severity'] }) => {
      const verdict = threads.verdict(thread, alert);
      threads.record(thread, verdict, alert);
      return verdict;
    };
    expect(decide({ outcome: 'brute-force: not blocked (no firewall hook)', severity: 'high' })).toBe('first');
    expect(decide({ outcome: 'compromise: locked', severity: 'critical' })).toBe('follow-up');
    expect(decide({ linkedid: 'c1', outcome: 'hung up', severity: 'critical' })).toBe('follow-up');
    // Another call hung up, no more severe: folded. The same call again with the same outcome: folded.
    expect(decide({ linkedid: 'c2', outcome: 'hung up', severity: 'high' })).toBe('fold');
    expect(decide({ linkedid: 'c1', outcome: 'hung up', severity: 'critical' })).toBe('fold');
    // A call not stopped, or a failure, always gets its mail; the same call with a new outcome too.
    expect(decide({ linkedid: 'c3', outcome: 'reported, not hung up', severity: 'high' })).toBe('follow-up');
    expect(decide({ linkedid: 'c3', outcome: 'hung up', severity: 'high' })).toBe('follow-up');
    expect(decide({ linkedid: 'c4', outcome: 'hang-up FAILED', severity: 'high' })).toBe('follow-up');
    expect(thread.mailed.count).toBe(6);
    expect(thread.folded).toBe(2);
    expect(threads.worthSummary(thread)).toBe(true);
  });

  test('kept in the store: a restart takes the open thread back, a summarized one stays closed', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-threads-')), 'tollgate.db');
    const store = new Store(file);
    const threads = new MailThreads({ store, quietMs: 60_000 });
    const open = threads.threadFor(scan, 'inc-scan');
    threads.note(open, scan, 'inc-scan', []);
    threads.record(open, 'first', { outcome: 'brute-force: reported', severity: 'high' });
    threads.save(open);
    const closed = threads.threadFor(finding({ policy: 'daily-spend-cap', kind: 'spend', endpoint: '1002', scope: 'endpoint:1002' }), 'inc-spend');
    threads.close(closed, AT + 120_000);
    store.close();

    const reopened = new Store(file);
    const again = new MailThreads({ store: reopened, quietMs: 60_000 });
    expect(again.restore()).toBe(1);
    const [restored] = again.openThreads();
    expect(restored).toMatchObject({ id: 'inc-scan', attackers: ['203.0.113.9'], failedLogins: { '203.0.113.9': 21 }, mailed: { count: 1 } });
    // A finding after the restart joins it and is not the thread's first mail.
    const joined = again.threadFor(guessed, 'inc-guessed');
    expect(joined.id).toBe('inc-scan');
    expect(again.verdict(joined, { outcome: 'compromise: locked', severity: 'critical' })).toBe('follow-up');
    reopened.close();
  });
});
