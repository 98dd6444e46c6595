/**
 * The AMI client over real TCP (and TLS) against the simulator, which speaks Asterisk 22's wire
 * protocol as recorded in test/fixtures/ami/.
 */
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { AmiClient, type AmiClientOptions } from '../../src/ami/client.js';
import { encodeMessage } from '../../src/ami/codec.js';
import { AmiLoginError, AmiNotConnectedError, AmiResponseError, AmiTimeoutError } from '../../src/ami/errors.js';
import { AmiMessage } from '../../src/ami/message.js';
import { CallTable, type Call } from '../../src/calls/table.js';
import { sourceOfSecurityEvent } from '../../src/calls/normalise.js';
import { CallTracker } from '../../src/calls/tracker.js';
import { systemClock } from '../../src/clock.js';
import { MemoryLogger } from '../../src/log.js';
import { AmiSimulator, loadTranscript } from '../../src/sim/index.js';
import { captureEvents, feedCapture } from '../helpers/feed.js';
import { fixturePath } from '../helpers/fixtures.js';
import { next, until } from '../helpers/wait.js';

// Not the recorders' user names (fraudwatch, tollgate): our own AMI login is told apart from the recorded ones.
const USER = { username: 'tollgate-test', secret: 'correct-horse-battery' };

let sim: AmiSimulator;
const clients: AmiClient[] = [];

beforeEach(async () => {
  sim = new AmiSimulator({ users: [USER], loginFailureCloseMs: 20 });
  await sim.start();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
  await sim.stop();
});

function client(options: Partial<AmiClientOptions> = {}): AmiClient {
  const created = new AmiClient({
    host: '127.0.0.1',
    port: sim.port,
    username: USER.username,
    secret: USER.secret,
    reconnectBaseMs: 20,
    reconnectMaxMs: 200,
    pingIntervalMs: 0,
    ...options,
  });
  clients.push(created);
  return created;
}

async function connected(options: Partial<AmiClientOptions> = {}): Promise<AmiClient> {
  const created = client(options);
  created.start();
  await created.waitForConnected(5000);
  return created;
}

describe('connecting and logging in', () => {
  test('reads the banner, logs in with Events: on and receives events', async () => {
    const ami = client();
    const events: AmiMessage[] = [];
    ami.on('event', (message) => events.push(message));
    ami.start();
    const [info] = await next<[{ version: string; reconnect: boolean }]>(ami, 'connected');
    expect(info).toEqual({ version: '11.0.0', reconnect: false });
    expect(ami.amiVersion).toBe('11.0.0');
    const login = sim.actions.find((action) => action.name === 'Login')!;
    expect(login.message.get('Username')).toBe(USER.username);
    expect(login.message.get('Events')).toBe('on');
    // FullyBooted and our own SuccessfulAuth, as a real Asterisk sends them.
    await until(() => events.some((message) => message.name === 'SuccessfulAuth'), 'SuccessfulAuth');
    expect(events.map((message) => message.name)).toEqual(expect.arrayContaining(['FullyBooted', 'SuccessfulAuth']));
  });

  test('a refused login is a loud, named error; retried slowly, never in a tight loop', async () => {
    const logger = new MemoryLogger();
    const ami = client({ secret: 'wrong-secret-value', loginRetryMs: 400, logger });
    const failures: AmiLoginError[] = [];
    ami.on('loginFailed', (error) => failures.push(error));
    const started = Date.now();
    ami.start();
    await until(() => failures.length >= 2, 'two login attempts', 5000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(failures[0]).toBeInstanceOf(AmiLoginError);
    expect(failures[0]!.message).toBe(
      `AMI login as "${USER.username}" at 127.0.0.1:${sim.port} was refused (Authentication failed). Check ami.username / ami.secret (TOLLGATE_AMI_USERNAME / TOLLGATE_AMI_SECRET) against manager.conf, and that manager.conf's permit/deny for that user allows this host.`,
    );
    expect(ami.connected).toBe(false);
    // 400 ms between attempts: at most 3 logins in the time it took to see 2 failures (+ slack).
    expect(sim.actions.filter((action) => action.name === 'Login').length).toBeLessThanOrEqual(Math.ceil(elapsed / 400) + 1);
    expect(logger.entries.some((entry) => entry.level === 'fatal' && entry.msg?.includes('was refused'))).toBe(true);
    expect(logger.text()).not.toContain('wrong-secret-value');
  });

  test('the secret is never logged, even at trace level', async () => {
    const logger = new MemoryLogger();
    const ami = await connected({ logger });
    await ami.action('Ping');
    await sim.dropConnections();
    await until(() => ami.connected && ami.stats.connects === 2, 'reconnect');
    expect(logger.entries.length).toBeGreaterThan(0);
    expect(logger.text()).not.toContain(USER.secret);
  });

  test('TLS: connects through a TLS front end with a private CA; refuses an unknown certificate', async () => {
    const key = readFileSync(fixturePath('tls', 'key.pem'));
    const cert = readFileSync(fixturePath('tls', 'cert.pem'));
    // A TLS terminator in front of the simulator, as Asterisk's tlsenable=yes listener would be.
    const front = tls.createServer({ key, cert }, (secure) => {
      const plain = net.connect(sim.port, '127.0.0.1');
      secure.pipe(plain).pipe(secure);
      secure.on('error', () => plain.destroy());
      plain.on('error', () => secure.destroy());
      secure.on('close', () => plain.destroy());
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as net.AddressInfo).port;
    try {
      const trusted = await connected({ port, tls: { ca: cert } });
      const pong = await trusted.action('Ping');
      expect(pong.response.get('Ping')).toBe('Pong');
      await trusted.stop();

      const untrusted = client({ port, tls: true, connectTimeoutMs: 1000 });
      const disconnected = next<[{ reason: string }]>(untrusted, 'disconnected');
      untrusted.start();
      const [info] = await disconnected;
      expect(info.reason).toMatch(/self[- ]signed|certificate/i);
      expect(untrusted.connected).toBe(false);
      await untrusted.stop();
    } finally {
      await new Promise((resolve) => front.close(resolve));
    }
  });
});

describe('actions', () => {
  test('answers are matched by ActionID, even when several are in flight', async () => {
    const ami = await connected();
    const [a, b, c] = await Promise.all([ami.action('Ping'), ami.action('DBPut', { Family: 'tollgate', Key: 'x', Val: '1' }), ami.action('Ping')]);
    expect(a.response.get('Ping')).toBe('Pong');
    expect(b.response.get('Message')).toBe('Updated database successfully');
    expect(c.response.get('Ping')).toBe('Pong');
    const ids = sim.actions.filter((action) => action.name !== 'Login').map((action) => action.actionId);
    expect(new Set(ids).size).toBe(3);
  });

  test('Response: Error rejects with the message Asterisk gave', async () => {
    const ami = await connected();
    const failure = ami.action('Hangup', { Channel: 'PJSIP/carrier-deadbeef', Cause: 21 });
    await expect(failure).rejects.toBeInstanceOf(AmiResponseError);
    await expect(failure).rejects.toThrow('AMI action Hangup failed: No such channel');
  });

  test('a list action (CoreShowChannels) resolves with its items and the Complete event', async () => {
    sim.addCall({ from: '1001', to: '011535551234' });
    sim.addCall({ from: '1002', to: '00442079460000' });
    const ami = await connected();
    const result = await ami.action('CoreShowChannels');
    expect(result.response.get('EventList')).toBe('start');
    expect(result.events).toHaveLength(4);
    expect(result.events.every((item) => item.name === 'CoreShowChannel')).toBe(true);
    expect(result.complete?.get('ListItems')).toBe('4');
  });

  test('an unanswered action times out; the connection stays usable', async () => {
    const ami = await connected();
    sim.silentActions.add('CoreShowChannels');
    await expect(ami.action('CoreShowChannels', {}, { timeoutMs: 150 })).rejects.toBeInstanceOf(AmiTimeoutError);
    expect(ami.connected).toBe(true);
    expect((await ami.action('Ping')).response.get('Ping')).toBe('Pong');
  });

  test('actions are refused while disconnected, never queued for later', async () => {
    const ami = client();
    await expect(ami.action('Hangup', { Channel: 'PJSIP/1001-00000001' })).rejects.toBeInstanceOf(AmiNotConnectedError);
  });

  test('every pending action is rejected the moment the connection drops', async () => {
    const ami = await connected();
    sim.silentActions.add('CoreShowChannels');
    const pending = [ami.action('CoreShowChannels', {}, { timeoutMs: 10_000 }), ami.action('CoreShowChannels', {}, { timeoutMs: 10_000 })];
    await sim.waitForAction((action) => action.name === 'CoreShowChannels');
    const started = Date.now();
    await sim.dropConnections();
    for (const result of await Promise.allSettled(pending)) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(AmiNotConnectedError);
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('values with CR/LF cannot inject a second action', async () => {
    const ami = await connected();
    await ami.action('DBPut', { Family: 'tollgate', Key: 'k', Val: 'v\r\n\r\nAction: Originate\r\nChannel: PJSIP/evil' });
    expect(sim.actions.some((action) => action.name === 'Originate')).toBe(false);
    expect(sim.astdb.get('tollgate', 'k')).toBe('vAction: OriginateChannel: PJSIP/evil');
  });
});

describe('resilience', () => {
  test('a byte-by-byte feed over TCP is decoded exactly', async () => {
    const ami = await connected();
    const received: AmiMessage[] = [];
    ami.on('event', (message) => received.push(message));
    const text = 'Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/1001-00000001\r\nUniqueid: 1.1\r\nCallerIDName: Zoë\r\n\r\n';
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i++) {
      sim.sendRaw(bytes.subarray(i, i + 1));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => received.some((message) => message.name === 'Newchannel'), 'Newchannel');
    const message = received.find((candidate) => candidate.name === 'Newchannel')!;
    expect(message.fields).toEqual([
      ['Event', 'Newchannel'],
      ['Privilege', 'call,all'],
      ['Channel', 'PJSIP/1001-00000001'],
      ['Uniqueid', '1.1'],
      ['CallerIDName', 'Zoë'],
    ]);
  });

  test('10 000 garbage frames: no crash, all counted, events still flow', async () => {
    const ami = await connected();
    const received: string[] = [];
    ami.on('event', (message) => received.push(message.name));
    let junk = '';
    for (let i = 0; i < 10_000; i++) junk += `garbage frame ${i} \u0000\u0001 no colon here\r\n\r\n`;
    sim.sendRaw(junk);
    sim.emitEvent({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'after-garbage' });
    await until(() => received.includes('UserEvent'), 'the event after the garbage');
    expect(ami.stats.garbage).toBe(10_000);
    expect(ami.connected).toBe(true);
  });

  test('the server closing mid-message: the fragment is discarded, counted, and the client reconnects', async () => {
    const ami = await connected();
    const disconnected = next(ami, 'disconnected');
    await sim.dropConnections({ midMessage: true });
    await disconnected;
    await until(() => ami.connected, 'reconnect');
    expect(ami.stats.truncated).toBe(1);
    expect(ami.stats.connects).toBe(2);
    expect((await ami.action('Ping')).response.get('Ping')).toBe('Pong');
  });

  test('a half-open connection (no Pong) is detected after two missed pings and replaced', async () => {
    const ami = await connected({ pingIntervalMs: 60 });
    sim.answerPings = false;
    const [info] = await next<[{ reason: string }]>(ami, 'disconnected', 5000);
    expect(info.reason).toBe('no answer to 2 Pings');
    const pingsBeforeDrop = sim.actions.filter((action) => action.name === 'Ping').length;
    expect(pingsBeforeDrop).toBe(2);
    sim.answerPings = true;
    await until(() => ami.connected, 'reconnect');
    // With Pongs back the connection stays up across several intervals.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(ami.connected).toBe(true);
    expect(ami.stats.connects).toBe(2);
  });

  test('reconnects forever with exponential backoff and jitter, capped', async () => {
    const ami = await connected({ reconnectBaseMs: 10, reconnectMaxMs: 80, random: () => 1 });
    const delays: number[] = [];
    ami.on('disconnected', (info) => delays.push(info.retryInMs));
    await sim.stop();
    await until(() => delays.length >= 6, 'six reconnect attempts', 5000);
    // random() = 1 → the full exponential delay: 10, 20, 40, 80, 80, …
    expect(delays.slice(0, 6)).toEqual([10, 20, 40, 80, 80, 80]);
    const jittered = client({ reconnectBaseMs: 100, reconnectMaxMs: 100, random: () => 0 });
    const first = next<[{ retryInMs: number }]>(jittered, 'disconnected');
    jittered.start();
    // random() = 0 → half of it: jitter spreads reconnect storms of many agents.
    expect((await first)[0].retryInMs).toBe(50);
    await sim.start();
    await until(() => ami.connected, 'reconnect after the server came back', 5000);
  });

  test('slow consumers: events beyond the bound are dropped, counted and reported; the session survives', async () => {
    const ami = await connected({ maxQueuedMessages: 200, dispatchBudgetMs: 1 });
    let seen = 0;
    ami.on('event', (message) => {
      if (message.name !== 'UserEvent') return;
      seen++;
      const until = Date.now() + 1;
      while (Date.now() < until) {
        /* a deliberately slow consumer */
      }
    });
    const overflow = next<[{ dropped: number }]>(ami, 'overflow');
    let burst = '';
    for (let i = 0; i < 3000; i++) burst += encodeMessage(AmiMessage.from({ Event: 'UserEvent', Privilege: 'user,all', Seq: String(i) }));
    sim.sendRaw(burst);
    const [info] = await overflow;
    expect(info.dropped).toBeGreaterThan(0);
    await until(() => seen + ami.stats.droppedEvents >= 3000, 'every event delivered or counted as dropped', 15_000);
    expect(seen + ami.stats.droppedEvents).toBe(3000);
    expect(ami.connected).toBe(true);
    expect((await ami.action('Ping')).response.get('Ping')).toBe('Pong');
  });

  test('slow consumers under a scan: security refusals are shed first (counted by name), call events and successes all arrive, nothing to reconcile', async () => {
    const ami = await connected({ maxQueuedBeforeShedding: 100, dispatchBudgetMs: 1 });
    const calls: number[] = [];
    let successes = 0;
    let refusals = 0;
    ami.on('event', (message) => {
      if (message.name === 'Newchannel') calls.push(Number(message.get('Seq')));
      else if (message.name === 'SuccessfulAuth') successes++;
      else if (message.name === 'ChallengeResponseFailed') refusals++;
      else return;
      const until = Date.now() + 1;
      while (Date.now() < until) {
        /* a deliberately slow consumer */
      }
    });
    const shedInfo: number[] = [];
    ami.on('shed', (info) => shedInfo.push(info.count));
    let overflowed = false;
    ami.on('overflow', () => (overflowed = true));
    let burst = '';
    for (let i = 0; i < 2000; i++) {
      burst += encodeMessage(AmiMessage.from({ Event: 'ChallengeResponseFailed', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: `s${i}`, RemoteAddress: 'IPV4/UDP/203.0.113.9/5060' }));
      if (i % 100 === 0) burst += encodeMessage(AmiMessage.from({ Event: 'Newchannel', Privilege: 'call,all', Channel: `PJSIP/1001-${i}`, Uniqueid: `1.${i}`, Linkedid: `1.${i}`, Seq: String(i) }));
      if (i % 500 === 0) burst += encodeMessage(AmiMessage.from({ Event: 'SuccessfulAuth', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: `ok${i}`, RemoteAddress: 'IPV4/UDP/198.51.100.7/5060' }));
    }
    sim.sendRaw(burst);
    await until(() => calls.length === 20 && successes === 4 && refusals + ami.stats.shedSecurityEvents === 2000, 'every call event and success delivered, every refusal delivered or shed', 15_000);
    expect(calls).toEqual(Array.from({ length: 20 }, (_, index) => index * 100));
    expect(ami.stats.shedSecurityEvents).toBeGreaterThan(0);
    expect(shedInfo.reduce((sum, count) => sum + count, 0)).toBe(ami.stats.shedSecurityEvents);
    expect(ami.stats.droppedEvents).toBe(0);
    expect(overflowed).toBe(false);
    expect(ami.connected).toBe(true);
  });

  test('calls first within one read: refusals come after the call events beside them, and every refusal before a success still comes before it', async () => {
    const ami = await connected();
    const order: string[] = [];
    ami.on('event', (message) => {
      if (message.name === 'Newchannel' || message.name === 'ChallengeResponseFailed' || message.name === 'SuccessfulAuth') order.push(`${message.name}:${message.get('Seq')}`);
    });
    const refusal = (seq: number) => encodeMessage(AmiMessage.from({ Event: 'ChallengeResponseFailed', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: `s${seq}`, RemoteAddress: 'IPV4/UDP/203.0.113.9/5060', Seq: String(seq) }));
    const call = (seq: number) => encodeMessage(AmiMessage.from({ Event: 'Newchannel', Privilege: 'call,all', Channel: `PJSIP/1001-${seq}`, Uniqueid: `1.${seq}`, Linkedid: `1.${seq}`, Seq: String(seq) }));
    const success = (seq: number) => encodeMessage(AmiMessage.from({ Event: 'SuccessfulAuth', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: `ok${seq}`, RemoteAddress: 'IPV4/UDP/203.0.113.9/5060', Seq: String(seq) }));
    // One write, read at once: refusal 1, call 2, refusal 3, success 4, call 5, refusal 6.
    sim.sendRaw(refusal(1) + call(2) + refusal(3) + success(4) + call(5) + refusal(6));
    await until(() => order.length === 6, 'all six events delivered');
    expect(order).toEqual(['Newchannel:2', 'ChallengeResponseFailed:1', 'ChallengeResponseFailed:3', 'SuccessfulAuth:4', 'Newchannel:5', 'ChallengeResponseFailed:6']);
  });

  test('keyed by source address, a success waits only for the refusals of its own address; the others stay behind the call events', async () => {
    const ami = await connected();
    ami.orderSuccessesBySource(sourceOfSecurityEvent);
    const order: string[] = [];
    ami.on('event', (message) => {
      if (message.name === 'Newchannel' || message.name === 'ChallengeResponseFailed' || message.name === 'SuccessfulAuth') order.push(`${message.name}:${message.get('Seq')}`);
    });
    const from = (address: string) => `IPV4/UDP/${address}/5060`;
    const refusal = (seq: number, address: string) => encodeMessage(AmiMessage.from({ Event: 'ChallengeResponseFailed', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: `s${seq}`, RemoteAddress: from(address), Seq: String(seq) }));
    const call = (seq: number) => encodeMessage(AmiMessage.from({ Event: 'Newchannel', Privilege: 'call,all', Channel: `PJSIP/1001-${seq}`, Uniqueid: `1.${seq}`, Linkedid: `1.${seq}`, Seq: String(seq) }));
    const success = (seq: number, address: string, port = 5060) => encodeMessage(AmiMessage.from({ Event: 'SuccessfulAuth', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: `ok${seq}`, RemoteAddress: `IPV4/UDP/${address}/${port}`, Seq: String(seq) }));
    // The scanner (198.51.100.7) and the guesser (203.0.113.9) in one read; the guesser's success
    // (from another port: the address is what counts), then the phone's call.
    sim.sendRaw(refusal(1, '198.51.100.7') + refusal(2, '203.0.113.9') + refusal(3, '198.51.100.7') + refusal(4, '203.0.113.9') + success(5, '203.0.113.9', 40112) + call(6) + refusal(7, '203.0.113.9'));
    await until(() => order.length === 7, 'all seven events delivered');
    expect(order).toEqual(['ChallengeResponseFailed:2', 'ChallengeResponseFailed:4', 'SuccessfulAuth:5', 'Newchannel:6', 'ChallengeResponseFailed:1', 'ChallengeResponseFailed:3', 'ChallengeResponseFailed:7']);

    // A success whose address cannot be read still follows every refusal before it.
    order.length = 0;
    const unreadable = encodeMessage(AmiMessage.from({ Event: 'SuccessfulAuth', Privilege: 'security,all', Service: 'PJSIP', AccountID: '1001', SessionID: 'ok9', RemoteAddress: 'somewhere', Seq: '10' }));
    sim.sendRaw(refusal(8, '198.51.100.7') + refusal(9, '203.0.113.9') + unreadable + call(11));
    await until(() => order.length === 4, 'all four events delivered');
    expect(order).toEqual(['ChallengeResponseFailed:8', 'ChallengeResponseFailed:9', 'SuccessfulAuth:10', 'Newchannel:11']);
  });

  test('a listener that throws does not break the session', async () => {
    const ami = await connected();
    const seen: string[] = [];
    ami.on('event', () => {
      throw new Error('faulty consumer');
    });
    ami.on('event', (message) => seen.push(message.name));
    sim.emitEvent({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'x' });
    await until(() => seen.includes('UserEvent'), 'event delivered to the healthy listener');
    expect(ami.stats.listenerErrors).toBeGreaterThan(0);
    expect(ami.connected).toBe(true);
  });

  test('stop() logs off and stops reconnecting', async () => {
    const ami = await connected();
    await ami.stop();
    expect(sim.actions.some((action) => action.name === 'Logoff')).toBe(true);
    await sim.waitForSessions(0, { exact: true, loggedIn: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sim.sessionCount).toBe(0);
    expect(ami.state).toBe('stopped');
  });
});

describe('live call table over TCP', () => {
  const captures = readdirSync(fixturePath('ami')).filter((name) => name.endsWith('.ami'));

  test.each(captures)('%s replayed through the simulator over TCP gives the same calls and security events as read from the file', async (name) => {
    const ami = await connected();
    const table = new CallTable();
    const tracker = new CallTracker({ table, clock: systemClock, reconcileIntervalMs: 0 });
    const security: string[] = [];
    let sentinel = false;
    tracker.on('event', (event) => {
      // Our own AMI login is not part of the recording.
      if (event.type === 'security' && !(event.service === 'AMI' && event.accountId === USER.username)) security.push(`${event.kind}:${event.accountId}:${event.remote?.ip}`);
    });
    ami.on('event', (message) => {
      if (message.get('UserEvent') === 'end-of-replay') sentinel = true;
    });
    tracker.attach(ami);
    const result = await sim.replay(await loadTranscript(fixturePath('ami', name)), { speed: Infinity });
    sim.emitEvent({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'end-of-replay' });
    await until(() => sentinel, 'the end of the replay');

    const expected = feedCapture(name);
    const summary = (calls: Call[]) =>
      calls
        .map((call) => [call.linkedid, call.sourceEndpoint, call.dialled, call.outboundTrunk, call.legs.size, call.answeredAt !== undefined, call.live, call.cause?.cause])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(result.sent).toBe(captureEvents(name).length);
    expect(summary([...table.recentCalls(), ...table.liveCalls()])).toEqual(summary([...expected.table.recentCalls(), ...expected.table.liveCalls()]));
    expect(security).toEqual(expected.security.map((event) => `${event.kind}:${event.accountId}:${event.remote?.ip}`));
    tracker.detach();
  });

  test('attached to the connection, the tracker has a success judged after its own address\'s failures in the same read, and a call before a scanner\'s', async () => {
    const ami = await connected();
    const tracker = new CallTracker({ table: new CallTable(), clock: systemClock, reconcileIntervalMs: 0 });
    const order: string[] = [];
    tracker.on('event', (event) => {
      if (event.type === 'security' && !(event.service === 'AMI' && event.accountId === USER.username)) order.push(`${event.kind}:${event.remote?.ip}`);
      else if (event.type === 'channel.created') order.push(`call:${event.channel.channel}`);
    });
    // What the connection hands over, in order: the scanner's failure is not even read before the call.
    const read: string[] = [];
    ami.on('event', (message) => {
      if (message.name !== 'Newchannel' && message.get('Privilege') !== 'security,all') return;
      read.push(message.name === 'Newchannel' ? 'call' : `${message.name}:${message.get('SessionID')}`);
    });
    tracker.attach(ami);
    const security = (name: string, seq: number, address: string) => encodeMessage(AmiMessage.from({ Event: name, Privilege: 'security,all', EventTV: '2026-12-05T10:00:00.000+0000', Severity: 'Error', Service: 'PJSIP', EventVersion: '1', AccountID: '1001', SessionID: `s${seq}`, LocalAddress: 'IPV4/UDP/127.0.0.1/5060', RemoteAddress: `IPV4/UDP/${address}/5060` }));
    const call = encodeMessage(AmiMessage.from({ Event: 'Newchannel', Privilege: 'call,all', Channel: 'PJSIP/1001-00000001', ChannelState: '0', ChannelStateDesc: 'Down', CallerIDNum: '1001', Context: 'from-internal', Exten: '0053721234567', Priority: '1', Uniqueid: '1.1', Linkedid: '1.1' }));
    sim.sendRaw(security('InvalidPassword', 1, '198.51.100.7') + security('InvalidPassword', 2, '203.0.113.9') + security('InvalidPassword', 3, '203.0.113.9') + security('SuccessfulAuth', 4, '203.0.113.9') + call);
    await until(() => order.length === 5, 'all five events delivered');
    expect(order).toEqual(['InvalidPassword:203.0.113.9', 'InvalidPassword:203.0.113.9', 'SuccessfulAuth:203.0.113.9', 'call:PJSIP/1001-00000001', 'InvalidPassword:198.51.100.7']);
    expect(read).toEqual(['InvalidPassword:s2', 'InvalidPassword:s3', 'SuccessfulAuth:s4', 'call', 'InvalidPassword:s1']);
    tracker.detach();
  });

  test('a server restart with calls up: reconciliation adds calls that started and closes calls that ended', async () => {
    const staying = sim.addCall({ from: '1001', to: '011535551234' });
    const ending = sim.addCall({ from: '1002', to: '00442079460000' });
    const ami = await connected();
    const table = new CallTable();
    const tracker = new CallTracker({ table, clock: systemClock, reconcileIntervalMs: 0 });
    const reconciled: { added: number; closed: number }[] = [];
    tracker.on('reconciled', (summary) => reconciled.push(summary));
    tracker.attach(ami);
    await until(() => reconciled.length === 1, 'first reconciliation');
    expect(table.liveCalls().map((call) => call.dialled).sort()).toEqual(['00442079460000', '011535551234']);
    expect(table.liveCalls().every((call) => call.startedDuringOutage)).toBe(true);

    // While Asterisk restarts (and we are away), one call ends and another starts: no events reach us.
    const restarting = sim.restart({ downtimeMs: 150 });
    await next(ami, 'disconnected');
    sim.removeChannel(ending.caller.uniqueid);
    sim.removeChannel(ending.callee.uniqueid);
    const started = sim.addCall({ from: '1001', to: '0053721234567' });
    await restarting;

    await until(() => reconciled.length === 2, 'reconciliation after the reconnect', 5000);
    expect(reconciled[1]).toMatchObject({ added: 1, closed: 1 });
    const live = table.liveCalls();
    expect(live.map((call) => call.linkedid).sort()).toEqual([staying.linkedid, started.linkedid].sort());
    expect(table.getCall(started.linkedid)!.startedDuringOutage).toBe(true);
    expect(table.getCall(started.linkedid)!.dialled).toBe('0053721234567');
    const closed = table.getCall(ending.linkedid)!;
    expect(closed.live).toBe(false);
    expect(closed.closedByReconcile).toBe(true);
    tracker.detach();
  });
});
