/**
 * The agent end to end against a real Asterisk 22 (Debian's package, the project's configuration in
 * docker/asterisk/etc) with sipp phones and a sipp carrier that records every call it answers:
 * fraud hung up before the carrier answers, legitimate calls untouched, the dialplan lock check fed
 * by `tollgate lock`, and Asterisk killed (kill -9) or restarted (core restart now) under a live call.
 */
import { join } from 'node:path';
import { AgentProcess, PhoneCall, asteriskLog, call, carrierEvents, carrierLog, cli, coreShowChannels, liveEnv, rx, stateDir, until, type LogRecord } from './live.js';

const UK_PREMIUM = '011449098790123'; // +44 909 879 0123: UK premium rate (block-premium-rate)
const NEW_YORK = '12125550123'; // a national US number: no policy has anything to say

let agent: AgentProcess;
let db: string;

beforeAll(async () => {
  db = join(stateDir('agent'), 'tollgate.db');
  agent = await AgentProcess.start(db);
});

afterAll(async () => {
  await agent?.stop();
});

const findingsAbout = (number: string, from: number): LogRecord[] => agent.find((record) => record.msg.startsWith('finding:') && record.dialled === number, from);
const decisions = (from: number): LogRecord[] => agent.find((record) => record.msg.startsWith('decision:'), from);
const targetOf = (record: LogRecord): { linkedid?: string; endpoint?: string } => (record.target ?? {}) as { linkedid?: string; endpoint?: string };

test('a fraud call (1001 → UK premium rate) is hung up before the carrier answers', async () => {
  const carrierMark = carrierLog.mark();
  const logMark = agent.records.length;

  const outcome = await call(UK_PREMIUM, '1001', { holdMs: 10_000 });

  expect(outcome.lines).toContain('registered 1001');
  expect(outcome.lines).not.toContain('answered');
  expect(outcome.lines.some((line) => line.startsWith('refused '))).toBe(true);
  // The agent's log: the call, a finding about it and the hang-up decision (whichever shipped
  // policy condemns it first), then its end with Tollgate's cause (21, call rejected).
  const started = await agent.waitFor((record) => record.msg === 'call started' && record.dialled === UK_PREMIUM, 'the fraud call in the agent log', 30_000, logMark);
  expect(started.endpoint).toBe('1001');
  await agent.waitFor((record) => record.msg.startsWith('finding:') && record.linkedid === started.linkedid, 'a finding about the fraud call', 30_000, logMark);
  const decision = await agent.waitFor((record) => record.msg === 'decision: hangup' && targetOf(record).linkedid === started.linkedid, 'the hang-up decision', 30_000, logMark);
  expect(decision.mode).toBe('enforce');
  const ended = await agent.waitFor((record) => record.msg === 'call ended' && record.linkedid === started.linkedid, 'the end of the fraud call', 30_000, logMark);
  expect(ended.cause).toBe(21);
  // The carrier never answered it (it may have seen the INVITE ring and be cancelled, no more).
  expect(carrierEvents(UK_PREMIUM, carrierMark)).not.toContain('answered');
});

test('a legitimate call (1001 → a New York number) completes untouched', async () => {
  const carrierMark = carrierLog.mark();
  const logMark = agent.records.length;

  const outcome = await call(NEW_YORK, '1001', { holdMs: 3000 });

  expect(outcome.lines).toEqual(['registered 1001', 'answered', 'hungup-by-phone']);
  await until(() => carrierEvents(NEW_YORK, carrierMark).includes('ended'), 'the carrier to see the call end');
  expect(carrierEvents(NEW_YORK, carrierMark)).toEqual(['invite', 'answered', 'ended']);
  // The agent followed it from start to end, and found nothing to do.
  const started = await agent.waitFor((record) => record.msg === 'call started' && record.dialled === NEW_YORK, 'the call in the agent log', 30_000, logMark);
  expect(started.endpoint).toBe('1001');
  await agent.waitFor((record) => record.msg === 'call answered' && record.linkedid === started.linkedid, 'the answer in the agent log', 30_000, logMark);
  const ended = await agent.waitFor((record) => record.msg === 'call ended' && record.linkedid === started.linkedid, 'the end in the agent log', 30_000, logMark);
  expect(ended.trunk).toBe('carrier');
  expect(findingsAbout(NEW_YORK, logMark)).toEqual([]);
  expect(decisions(logMark)).toEqual([]);
});

test('tollgate lock 1002: its calls are refused, by the dialplan lock check even with the agent stopped; unlock lets them through', async () => {
  const carrierMark = carrierLog.mark();

  // Locked by hand while the agent runs: the store and the AstDB mirror.
  const locked = await cli(db, 'lock', '1002', '--reason', 'live test');
  expect(locked).toContain('mirrored in AstDB as tollgate/lock/1002');
  expect(await rx('database show tollgate/lock')).toContain('/tollgate/lock/1002');
  expect((await agent.status()).locks.map((lock) => lock.endpoint)).toEqual(['1002']);
  const refused = await call('12125550140', '1002', { holdMs: 10_000 });
  expect(refused.lines).toContain('registered 1002');
  expect(refused.lines).toContain('refused 403');
  expect(carrierEvents('12125550140', carrierMark)).toEqual([]);

  // With the agent stopped, [tollgate-check] alone refuses it, before Dial(): Asterisk says so, and
  // the carrier gets no INVITE. (With the agent up, its own hang-up usually wins the race.)
  await agent.stop();
  const asteriskMark = asteriskLog.mark();
  const byDialplan = await call('12125550141', '1002', { holdMs: 10_000 });
  expect(byDialplan.lines).toEqual(['registered 1002', 'refused 403']);
  await until(() => asteriskLog.since(asteriskMark).some((line) => line.includes('Tollgate: 1002 is locked')), 'the lock check in Asterisk full.log');
  expect(carrierEvents('12125550141', carrierMark)).toEqual([]);

  // Unlocked (the CLI reaches AstDB itself): calls go through the dialplan again ...
  const unlocked = await cli(db, 'unlock', '1002');
  expect(unlocked).toContain('1002 unlocked');
  expect(await rx('database show tollgate/lock')).not.toContain('/tollgate/lock/1002');
  const through = await call('12125550142', '1002', { holdMs: 2000 });
  expect(through.lines).toEqual(['registered 1002', 'answered', 'hungup-by-phone']);

  // ... and past the agent, started again on the same database.
  agent = await AgentProcess.start(db);
  expect((await agent.status()).locks).toEqual([]);
  const logMark = agent.records.length;
  const watched = await call('12125550143', '1002', { holdMs: 2000 });
  expect(watched.lines).toEqual(['registered 1002', 'answered', 'hungup-by-phone']);
  await agent.waitFor((record) => record.msg === 'call ended' && record.dialled === '12125550143', 'the call in the agent log', 30_000, logMark);
  expect(decisions(logMark)).toEqual([]);
  await until(() => carrierEvents('12125550143', carrierMark).includes('ended'), 'the carrier to see the call end');
  for (const number of ['12125550142', '12125550143']) expect(carrierEvents(number, carrierMark)).toEqual(['invite', 'answered', 'ended']);
});

test('Asterisk killed and restarted under a live call: the agent reconnects and its call table matches CoreShowChannels again', async () => {
  const before = '12125550150';
  const after = '12125550151';
  const carrierMark = carrierLog.mark();

  // A call is up when Asterisk dies (kill -9: no Hangup event will ever come for it).
  const doomed = new PhoneCall(before, '1001', { holdMs: 600_000 });
  await until(() => carrierEvents(before, carrierMark).includes('answered'), 'the carrier to answer the first call');
  const upBefore = await until(async () => (await agent.status()).liveCalls.find((live) => live.dialled === before && live.answeredSeconds >= 0 && live.trunk === 'carrier'), 'the call in /status');
  const channelsBefore = await coreShowChannels();
  expect(channelsBefore.map((channel) => channel.linkedid)).toContain(upBefore.linkedid);

  const logMark = agent.records.length;
  await liveEnv('asterisk-kill');
  await agent.waitFor((record) => record.msg === 'AMI connection lost; reconnecting', 'the agent to notice Asterisk is gone', 30_000, logMark);
  doomed.kill();
  await liveEnv('asterisk-start');

  // Reconnected, and the reconciliation closed the call that died with Asterisk.
  const reconnected = await agent.waitFor((record) => record.msg === 'connected to Asterisk AMI' && record.reconnect === true, 'the reconnect', 60_000, logMark);
  const reconciled = await agent.waitFor((record) => record.msg === 'call table reconciled with CoreShowChannels' && record.reason === 'connected', 'the reconciliation after the reconnect', 30_000, agent.records.indexOf(reconnected));
  expect(reconciled).toMatchObject({ listed: 0, closed: 1, liveCalls: 0 });
  const closed = await agent.waitFor((record) => record.msg === 'call ended' && record.linkedid === upBefore.linkedid, 'the dead call closed', 30_000, logMark);
  expect(closed.closedByReconcile).toBe(true);
  const status = await agent.status();
  expect(status.ami.state).toBe('connected');
  expect(status.liveCalls).toEqual([]);
  expect(await coreShowChannels()).toEqual([]);
  expect((await agent.get('/healthz')).status).toBe(200);

  // Calls go on after the restart, and the table follows them exactly.
  const next = new PhoneCall(after, '1001', { holdMs: 600_000 });
  try {
    await until(() => carrierEvents(after, carrierMark).includes('answered'), 'the carrier to answer the call after the restart');
    const channels = await until(async () => {
      const listed = await coreShowChannels();
      return listed.length === 2 ? listed : undefined; // the phone's leg and the carrier's
    }, 'both legs in CoreShowChannels');
    const live = await until(async () => {
      const calls = (await agent.status()).liveCalls;
      return calls.length === 1 && calls[0]!.trunk === 'carrier' ? calls : undefined;
    }, 'the new call in /status');
    expect(new Set(channels.map((channel) => channel.linkedid))).toEqual(new Set(live.map((entry) => entry.linkedid)));
    expect(live[0]).toMatchObject({ endpoint: '1001', dialled: after, direction: 'outbound' });
  } finally {
    next.kill();
  }
  // The phone is gone without a BYE: hang the call up from Asterisk so the next test starts clean.
  await rx('channel request hangup all');
  await until(async () => (await coreShowChannels()).length === 0, 'Asterisk to clear its channels');
  await until(async () => (await agent.status()).liveCalls.length === 0, 'the agent to see the call end');
});

test('Asterisk restarted gracefully (core restart now) under a live call: the agent follows the call out, reconnects and agrees with CoreShowChannels', async () => {
  const number = '12125550160';
  const carrierMark = carrierLog.mark();
  const phone = new PhoneCall(number, '1001', { holdMs: 600_000 });
  try {
    await until(() => carrierEvents(number, carrierMark).includes('answered'), 'the carrier to answer');
    const live = await until(async () => (await agent.status()).liveCalls.find((entry) => entry.dialled === number), 'the call in /status');

    const logMark = agent.records.length;
    await rx('core restart now').catch(() => undefined); // the CLI connection may drop with it
    await agent.waitFor((record) => record.msg === 'AMI connection lost; reconnecting', 'the agent to see Asterisk go', 60_000, logMark);
    const reconnected = await agent.waitFor((record) => record.msg === 'connected to Asterisk AMI' && record.reconnect === true, 'the reconnect', 60_000, logMark);
    await agent.waitFor((record) => record.msg === 'call table reconciled with CoreShowChannels' && record.reason === 'connected', 'the reconciliation after the reconnect', 30_000, agent.records.indexOf(reconnected));
    // The call is over, whether the agent saw its Hangup events before the shutdown or closed it when reconciling.
    await agent.waitFor((record) => record.msg === 'call ended' && record.linkedid === live.linkedid, 'the call closed', 30_000, logMark);
    expect(await coreShowChannels()).toEqual([]);
    expect((await agent.status()).liveCalls).toEqual([]);
    expect((await agent.get('/healthz')).status).toBe(200);
  } finally {
    phone.kill();
  }

  // And the agent still guards the restarted PBX.
  const carrierAfter = carrierLog.mark();
  const fraud = await call(UK_PREMIUM, '1002', { holdMs: 10_000 });
  expect(fraud.lines).not.toContain('answered');
  expect(carrierEvents(UK_PREMIUM, carrierAfter)).not.toContain('answered');
});
