/**
 * The Locker on the real SQLite file and a real AMI connection to the simulator (AstDB): a second
 * lock of an endpoint that is locked already joins the first, in the store and in AstDB, and says
 * so in its outcome; one unlock lifts it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ASTDB_LOCK_FAMILY, Locker } from '../../../src/act/locks.js';
import { AmiClient } from '../../../src/ami/client.js';
import { ManualClock } from '../../../src/clock.js';
import type { Decision } from '../../../src/decide/decider.js';
import type { Finding } from '../../../src/policy/types.js';
import { AmiSimulator } from '../../../src/sim/index.js';
import { Store } from '../../../src/store/store.js';

const USER = { username: 'fraudwatch', secret: 'fraudwatch-secret' };
const T0 = Date.UTC(2026, 11, 5, 2, 4, 10);

function lockDecision(policy: string, kind: string, message: string, at: number): Decision {
  const finding: Finding = { policy, kind, mode: 'enforce', severity: 'critical', level: 'match', actions: ['lock'], at, message, scope: 'endpoint:1001', endpoint: '1001', evidence: {} };
  return { id: `${policy}-1/1`, incident: `${policy}-1`, action: 'lock', mode: 'enforce', policy, kind, severity: 'critical', level: 'match', at, finding, target: { endpoint: '1001' }, followUp: false };
}

let sim: AmiSimulator;
let ami: AmiClient;
let store: Store;

beforeEach(async () => {
  sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  ami = new AmiClient({ host: '127.0.0.1', port: sim.port, ...USER, events: 'off', pingIntervalMs: 0 });
  ami.start();
  await ami.waitForConnected(5_000);
  store = new Store(join(mkdtempSync(join(tmpdir(), 'tollgate-locker-')), 'tollgate.db'));
});

afterEach(async () => {
  await ami.stop();
  await sim.stop();
  store.close();
});

describe('a second lock of a locked endpoint', () => {
  test('keeps when and why it was first locked, in the store and in AstDB; the outcome says so; one unlock lifts it', async () => {
    const clock = new ManualClock(T0);
    const locker = new Locker({ store, ami, clock });
    const first = await locker.lock(lockDecision('account-compromise', 'security', 'password guessed from 203.0.113.9', T0));
    expect(first.detail).toBe('Locked endpoint 1001 until unlocked: its new outbound calls are refused (mirrored in AstDB as tollgate/lock/1001)');

    clock.advanceBy(600_000);
    const second = await locker.lock(lockDecision('endpoint-baseline', 'baseline', 'scanner User-Agent "friendly-scanner" from 198.51.100.7', T0 + 600_000));
    expect(second.detail).toBe('Endpoint 1001 was locked already (since 2026-12-05T02:04:10.000Z, account-compromise): this reason added, locked until unlocked; its new outbound calls are refused (mirrored in AstDB as tollgate/lock/1001)');
    expect(second.undo).toBe('tollgate unlock 1001');
    expect(store.lockOf('1001', clock.now())).toEqual({
      endpoint: '1001',
      since: T0,
      reason: 'password guessed from 203.0.113.9; scanner User-Agent "friendly-scanner" from 198.51.100.7',
      policy: 'account-compromise, endpoint-baseline',
    });
    expect(sim.astdb.get(ASTDB_LOCK_FAMILY, '1001')).toBe('2026-12-05T02:04:10.000Z account-compromise, endpoint-baseline');

    // A lock for a while, by hand, on top of a lock until unlocked: it stays until unlocked.
    await locker.lockManually('1001', 'phone stolen', 3_600_000);
    expect(store.lockOf('1001', clock.now() + 7_200_000)).toMatchObject({ since: T0, policy: 'account-compromise, endpoint-baseline, manual' });
    expect(store.lockOf('1001', clock.now())?.until).toBeUndefined();

    expect(await locker.unlock('1001')).toEqual({ removed: true, astdb: 'removed from AstDB' });
    expect(store.locks(clock.now())).toEqual([]);
    expect(sim.astdb.get(ASTDB_LOCK_FAMILY, '1001')).toBeUndefined();
  });

  test('two locks that end: the later end, in the outcome and in AstDB', async () => {
    const clock = new ManualClock(T0);
    const locker = new Locker({ store, ami, clock, durationMs: 3_600_000 });
    await locker.lockManually('1001', 'left the company', 86_400_000);
    clock.advanceBy(60_000);
    const second = await locker.lock(lockDecision('account-compromise', 'security', 'password guessed from 203.0.113.9', T0 + 60_000));
    expect(second.detail).toBe('Endpoint 1001 was locked already (since 2026-12-05T02:04:10.000Z, manual): this reason added, locked until 2026-12-06T02:04:10.000Z; its new outbound calls are refused (mirrored in AstDB as tollgate/lock/1001)');
    expect(sim.astdb.get(ASTDB_LOCK_FAMILY, '1001')).toBe('2026-12-05T02:04:10.000Z until 2026-12-06T02:04:10.000Z manual, account-compromise');
    expect(store.lockOf('1001', T0 + 86_399_999)?.reason).toBe('left the company; password guessed from 203.0.113.9');
    expect(store.lockOf('1001', T0 + 86_400_000)).toBeUndefined();
  });
});
