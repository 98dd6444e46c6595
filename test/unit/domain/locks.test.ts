/**
 * A second lock of an endpoint that is locked already joins the first: when and why it was first
 * locked stay visible (`tollgate locks`, the digest, the mails).
 */
import { joinLocks, MAX_LOCK_REASON_LENGTH } from '../../../src/domain/locks.js';
import { LockTable } from '../../../src/decide/locks.js';
import type { LockInfo } from '../../../src/policy/types.js';

const compromise: LockInfo = { endpoint: '1001', since: 1_000, reason: 'password guessed from 203.0.113.9', policy: 'account-compromise' };
const scanner: LockInfo = { endpoint: '1001', since: 60_000, reason: 'scanner User-Agent "friendly-scanner" from 198.51.100.7', policy: 'endpoint-baseline' };

describe('joinLocks', () => {
  test('no lock in force: the new lock stands alone', () => {
    expect(joinLocks(undefined, scanner)).toBe(scanner);
  });

  test('the first since, both reasons and both policies; until unlocked stays so', () => {
    expect(joinLocks(compromise, { ...scanner, until: 3_600_000 })).toEqual({
      endpoint: '1001',
      since: 1_000,
      reason: 'password guessed from 203.0.113.9; scanner User-Agent "friendly-scanner" from 198.51.100.7',
      policy: 'account-compromise, endpoint-baseline',
    });
    // The other way round: the new lock has no end, so neither has the joined one.
    expect(joinLocks({ ...compromise, until: 3_600_000 }, scanner).until).toBeUndefined();
  });

  test('the later until of two locks that end', () => {
    expect(joinLocks({ ...compromise, until: 9_000_000 }, { ...scanner, until: 3_600_000 }).until).toBe(9_000_000);
    expect(joinLocks({ ...compromise, until: 3_600_000 }, { ...scanner, until: 9_000_000 }).until).toBe(9_000_000);
  });

  test('a reason or a policy already listed is not repeated', () => {
    const twice = joinLocks(joinLocks(compromise, scanner), { ...compromise, since: 120_000 });
    expect(twice.reason).toBe('password guessed from 203.0.113.9; scanner User-Agent "friendly-scanner" from 198.51.100.7');
    expect(twice.policy).toBe('account-compromise, endpoint-baseline');
    expect(twice.since).toBe(1_000);
    // A new reason from a policy already listed: the reason is added, the policy is not.
    const again = joinLocks(twice, { ...compromise, since: 180_000, reason: 'password guessed from 192.0.2.44' });
    expect(again.reason).toBe('password guessed from 203.0.113.9; scanner User-Agent "friendly-scanner" from 198.51.100.7; password guessed from 192.0.2.44');
    expect(again.policy).toBe('account-compromise, endpoint-baseline');
  });

  test('a lock taken by hand counts as manual beside a policy; two by hand stay manual', () => {
    const byHand: LockInfo = { endpoint: '1001', since: 30_000, reason: 'phone stolen' };
    expect(joinLocks(compromise, byHand)).toMatchObject({ since: 1_000, reason: 'password guessed from 203.0.113.9; phone stolen', policy: 'account-compromise, manual' });
    expect(joinLocks(byHand, { ...scanner, since: 40_000 })).toMatchObject({ since: 30_000, policy: 'manual, endpoint-baseline' });
    const both = joinLocks(byHand, { endpoint: '1001', since: 40_000, reason: 'left the company' });
    expect(both).toEqual({ endpoint: '1001', since: 30_000, reason: 'phone stolen; left the company' });
  });

  test('a lock that had expired is no lock: the new one replaces it', () => {
    expect(joinLocks({ ...compromise, until: 60_000 }, scanner)).toBe(scanner);
    expect(joinLocks({ ...compromise, until: 60_001 }, scanner).since).toBe(1_000);
  });

  test('the joined reason stays bounded however often the endpoint is locked again', () => {
    let lock = compromise;
    for (let n = 0; n < 50; n++) lock = joinLocks(lock, { ...scanner, since: 60_000 + n, reason: `scanner from 198.51.100.${n}: ${'x'.repeat(200)}` });
    expect(lock.reason.length).toBe(MAX_LOCK_REASON_LENGTH);
    expect(lock.reason.startsWith('password guessed from 203.0.113.9; scanner from 198.51.100.0')).toBe(true);
    expect(lock.reason.endsWith('…')).toBe(true);
    expect(lock.since).toBe(1_000);
  });
});

describe('the replay\'s lock table joins locks as the store does', () => {
  test('a second lock keeps the first since and adds its reason; it expires with the later end', () => {
    const table = new LockTable();
    table.lock({ ...compromise, until: 100_000 });
    table.lock({ ...scanner, until: 200_000 });
    expect(table.lockOf('1001', 150_000)).toEqual({ endpoint: '1001', since: 1_000, until: 200_000, reason: 'password guessed from 203.0.113.9; scanner User-Agent "friendly-scanner" from 198.51.100.7', policy: 'account-compromise, endpoint-baseline' });
    expect(table.lockOf('1001', 200_000)).toBeUndefined();
  });
});
