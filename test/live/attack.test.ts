/**
 * An attack as it happens on a real PBX, and the agent killed with SIGKILL in the middle of it:
 * a `friendly-scanner` REGISTER scan guesses 1001's password (account-compromise locks 1001), the
 * attacker places premium-rate calls, the agent dies (kill -9) and is started again on the same
 * database. The lock holds throughout — in the dialplan even while the agent is down — and fraud
 * calls placed after the restart are hung up before the carrier answers.
 */
import { join } from 'node:path';
import { AgentProcess, PASSWORDS, asteriskLog, bruteForce, call, carrierEvents, carrierLog, cli, rx, stateDir } from './live.js';

const PREMIUM_1 = '011449098790124';
const PREMIUM_2 = '011449098790125';
const PREMIUM_3 = '011449098790126';

let agent: AgentProcess | undefined;

/** The agent's hang-up decision about the call from `endpoint` to `number` (whichever policy made it). */
async function hungUp(watcher: AgentProcess, number: string, endpoint: string, from: number): Promise<void> {
  const started = await watcher.waitFor((record) => record.msg === 'call started' && record.dialled === number && record.endpoint === endpoint, `the call ${endpoint} → ${number}`, 30_000, from);
  const decision = await watcher.waitFor((record) => record.msg === 'decision: hangup' && (record.target as { linkedid?: string } | undefined)?.linkedid === started.linkedid, `the hang-up of ${endpoint} → ${number}`, 30_000, from);
  expect(decision.mode).toBe('enforce');
  const ended = await watcher.waitFor((record) => record.msg === 'call ended' && record.linkedid === started.linkedid, `the end of ${endpoint} → ${number}`, 30_000, from);
  expect(ended.cause).toBe(21);
}

afterAll(async () => {
  await agent?.stop();
});

test('SIGKILL mid-attack, restart on the same database: locks hold and fraud calls are still hung up', async () => {
  const db = join(stateDir('attack'), 'tollgate.db');
  const carrierMark = carrierLog.mark();
  agent = await AgentProcess.start(db);
  const first = agent;

  // The scan: wrong guesses, then 1001's guessable password.
  const scan = await bruteForce('1001');
  expect(scan.at(-1)).toBe(`FOUND 1001 ${PASSWORDS['1001']}`);
  expect(scan.filter((line) => line.includes('-> rejected')).length).toBeGreaterThanOrEqual(10);
  // The shipped account-compromise policy: a success right after the failures locks the endpoint
  // (store + AstDB).
  const lock = await first.waitFor((record) => record.msg === 'endpoint 1001 locked', 'the lock of 1001', 30_000);
  expect(lock.policy).toBe('account-compromise');
  // The agent saw every wrong guess as a PJSIP security event from the scanner's address.
  const failures = first.find((record) => record.msg === 'security event' && record.kind === 'ChallengeResponseFailed' && record.account === '1001');
  expect(failures.length).toBeGreaterThanOrEqual(10);
  expect(failures[0]).toMatchObject({ service: 'PJSIP', ip: '127.0.0.1' });
  expect(await rx('database show tollgate/lock')).toContain('/tollgate/lock/1001');

  // The attack: the hijacked phone dials a premium number — refused.
  const hijacked = await call(PREMIUM_1, '1001', { holdMs: 10_000 });
  expect(hijacked.lines).not.toContain('answered');
  expect(hijacked.lines.some((line) => line.startsWith('refused '))).toBe(true);
  // Another phone of the PBX dials premium rate too — hung up by the agent.
  const mark = first.records.length;
  const other = await call(PREMIUM_2, '1002', { holdMs: 10_000 });
  expect(other.lines).not.toContain('answered');
  await hungUp(first, PREMIUM_2, '1002', mark);

  // kill -9 in the middle of it.
  await first.kill();

  // While nobody watches, the AstDB lock still refuses the hijacked phone in the dialplan.
  const asteriskMark = asteriskLog.mark();
  const whileDown = await call(PREMIUM_3, '1001', { holdMs: 10_000 });
  expect(whileDown.lines).toContain('refused 403');
  expect(asteriskLog.since(asteriskMark).some((line) => line.includes('Tollgate: 1001 is locked'))).toBe(true);

  // Restarted on the same database: the lock is still in force (store, AstDB mirror, /status) ...
  agent = await AgentProcess.start(db);
  const second = agent;
  const synced = await second.waitFor((record) => record.msg === 'AstDB locks synchronised', 'the AstDB sync', 30_000);
  expect(synced.locks).toEqual(['1001']);
  expect(await rx('database show tollgate/lock')).toContain('/tollgate/lock/1001');
  expect((await second.status()).locks.map((lock) => lock.endpoint)).toEqual(['1001']);
  expect(await cli(db, 'locks')).toMatch(/^1001 /m);

  // ... the hijacked phone is still refused ...
  const stillLocked = await call(PREMIUM_1, '1001', { holdMs: 10_000 });
  expect(stillLocked.lines).toContain('refused 403');

  // ... and fraud calls placed after the restart are hung up before the carrier answers.
  const afterMark = second.records.length;
  const fraud = await call(PREMIUM_3, '1002', { holdMs: 10_000 });
  expect(fraud.lines).not.toContain('answered');
  expect(fraud.lines.some((line) => line.startsWith('refused '))).toBe(true);
  await hungUp(second, PREMIUM_3, '1002', afterMark);

  // Not one fraud call was answered by the carrier, before, during or after the kill.
  for (const number of [PREMIUM_1, PREMIUM_2, PREMIUM_3]) expect(carrierEvents(number, carrierMark)).not.toContain('answered');
});
