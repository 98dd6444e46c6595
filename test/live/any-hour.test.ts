/**
 * Detection at any hour, live: the shipped policies on the real Asterisk with real SIP traffic, the
 * agent's clock on a Wednesday at 10:00 UTC — office hours, when the hour gives nothing away.
 *
 * - Stolen credentials without a brute force: 1002's password used, right first time, from a
 *   network 1002 never used (127.0.1.1; its phone registers from 127.0.0.1). Its call to London
 *   goes through with an alert; its call to Brazil is hung up before the carrier answers.
 * - A slow drip: 1001, from its usual address, places one short call at a time to different
 *   medium-risk mobiles, a minute apart (under every count limit): the third is hung up.
 *
 * The database is eight days old (the address memory's learning period is over) and knows that
 * 1001 and 1002 log in from 127.0.0.0/24.
 */
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
import { AgentProcess, call, carrierEvents, carrierLog, faketime, rx, stateDir, type LogRecord } from './live.js';

const NOW = '2026-12-09 10:00:00';
const EIGHT_DAYS_EARLIER = Date.parse('2026-12-01T10:00:00Z');

let agent: AgentProcess | undefined;

beforeAll(async () => {
  // The pre-dial gate is another issue's test: here the AMI path alone decides.
  await rx('dialplan set global TOLLGATE_GATE no');
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

afterAll(async () => {
  await rx('dialplan set global TOLLGATE_GATE yes');
});

function seededDatabase(name: string): string {
  const db = join(stateDir(name), 'tollgate.db');
  const store = new Store(db);
  store.setMeta('addresses.since', String(EIGHT_DAYS_EARLIER));
  store.saveAddresses(['1001', '1002'].map((endpoint) => ({ endpoint, network: '127.0.0.0/24', address: '127.0.0.1', firstSeen: EIGHT_DAYS_EARLIER, lastSeen: EIGHT_DAYS_EARLIER, via: 'registration' as const, trusted: false })));
  store.close();
  return db;
}

/** The agent's verdict on the call from `endpoint` to `number`: its risk finding and whether it was hung up. */
async function verdictOn(watcher: AgentProcess, endpoint: string, number: string, from: number): Promise<{ finding?: LogRecord; hungUp: boolean }> {
  const started = await watcher.waitFor((record) => record.msg === 'call started' && record.dialled === number && record.endpoint === endpoint, `the call ${endpoint} → ${number}`, 30_000, from);
  await watcher.waitFor((record) => record.msg === 'call ended' && record.linkedid === started.linkedid, `the end of ${endpoint} → ${number}`, 60_000, from);
  const finding = watcher.find((record) => record.policy === 'international-risk' && record.linkedid === started.linkedid && String(record.msg).startsWith('finding:'), from)[0];
  const hungUp = watcher.find((record) => record.msg === 'decision: hangup' && (record.target as { linkedid?: string } | undefined)?.linkedid === started.linkedid, from).length > 0;
  return { ...(finding ? { finding } : {}), hungUp };
}

test('a password used from a network the phone never used, at office hours: London reported, Brazil hung up before the carrier answers', async () => {
  agent = await AgentProcess.start(seededDatabase('new-address'), faketime(NOW));
  const mark = agent.records.length;
  const carrierMark = carrierLog.mark();

  const london = await call('011442079460123', '1002', { localIp: '127.0.1.1', holdMs: 3000 });
  expect(london.lines).toContain('answered');
  const londonVerdict = await verdictOn(agent, '1002', '011442079460123', mark);
  expect(londonVerdict.hungUp).toBe(false);
  expect(londonVerdict.finding?.msg).toMatch(/risk score 3 \(≥ 2: alert\) — 1002 logged in from 127\.0\.1\.1 \(127\.0\.1\.0\/24\), a network it had never used \(\+3\)$/);

  const brazil = await call('0115511987654321', '1002', { localIp: '127.0.1.1', holdMs: 10_000 });
  expect(brazil.lines).not.toContain('answered');
  const brazilVerdict = await verdictOn(agent, '1002', '0115511987654321', mark);
  expect(brazilVerdict.hungUp).toBe(true);
  expect(brazilVerdict.finding?.msg).toMatch(/risk score 4 \(≥ 4: alert\+hangup\) — BR mobile, medium risk \(\+1\); 1002 logged in from 127\.0\.1\.1/);
  expect(carrierEvents('0115511987654321', carrierMark).filter((line) => line.startsWith('answered'))).toEqual([]);
  expect(carrierEvents('011442079460123', carrierMark).some((line) => line.startsWith('answered'))).toBe(true);

  // What was learnt is in the database: the new network, beside the known one.
  const store = new Store(agent.db);
  expect(store.addressesOf('1002').map((record) => record.network).sort()).toEqual(['127.0.0.0/24', '127.0.1.0/24']);
  store.close();
});

test('a slow drip of short calls to medium-risk mobiles from the usual address, at office hours: the third is hung up', async () => {
  agent = await AgentProcess.start(seededDatabase('drip'), faketime(NOW));
  const mark = agent.records.length;
  const carrierMark = carrierLog.mark();
  const numbers = ['0115511987654321', '01184912345678', '011201001234567'];
  const verdicts: { finding?: LogRecord; hungUp: boolean }[] = [];
  for (const [index, number] of numbers.entries()) {
    // A minute apart: slower than any burst or count limit notices.
    if (index > 0) await new Promise((resolve) => setTimeout(resolve, 35_000));
    const outcome = await call(number, '1001', { holdMs: 5000 });
    verdicts.push(await verdictOn(agent, '1001', number, mark));
    expect({ number, answered: outcome.lines.includes('answered') }).toEqual({ number, answered: index < 2 });
  }
  expect(verdicts.map((verdict) => verdict.hungUp)).toEqual([false, false, true]);
  expect(verdicts[2]!.finding?.msg).toMatch(/risk score 4 \(≥ 4: alert\+hangup\) — EG mobile, medium risk \(\+1\); 2 short answered calls \(≤ 30 s\) to risky numbers from 1001 in the last 1 d, and this one: 3 risk-weighted, over 2 \(\+3\)$/);
  expect(carrierEvents('011201001234567', carrierMark).filter((line) => line.startsWith('answered'))).toEqual([]);
});
