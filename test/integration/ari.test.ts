/**
 * The ARI client and events WebSocket over real HTTP / WebSocket (and TLS) on loopback, against
 * the fake ARI, which answers as the recordings in test/fixtures/ari/ show Asterisk 22.10.1 does.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { AriClient, type AriClientOptions } from '../../src/ari/client.js';
import { AriError } from '../../src/ari/errors.js';
import { AriEvents, type AriEventsOptions } from '../../src/ari/events.js';
import type { AriChannel, AriEvent, ChannelDestroyedEvent, StasisStartEvent } from '../../src/ari/types.js';
import { MemoryLogger } from '../../src/log.js';
import { FakeAri, fiveCallsChannels, type FakeAriOptions } from '../helpers/fake-ari.js';
import { fixturePath } from '../helpers/fixtures.js';
import { next, until } from '../helpers/wait.js';

const USER = 'tollgate';
const PASSWORD = 'Ari-Pa55word-never-logged';
const VIEWER = { username: 'viewer', password: 'viewer-Pa55word-never-logged', readOnly: true };
const SECRETS = [PASSWORD, VIEWER.password, 'wrong-Pa55word-never-logged'];
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

/** Every log line of every client in this file, checked for secrets at the end. */
const logger = new MemoryLogger();
/** Every error any test saw, checked for secrets at the end. */
const seenErrors: unknown[] = [];

let fake: FakeAri;
const clients: AriClient[] = [];
const streams: AriEvents[] = [];
const extraServers: FakeAri[] = [];

async function startFake(options: FakeAriOptions = {}): Promise<FakeAri> {
  const server = new FakeAri({ users: [{ username: USER, password: PASSWORD }, VIEWER], ...options });
  await server.start();
  return server;
}

beforeEach(async () => {
  fake = await startFake();
});

afterEach(async () => {
  await Promise.all(streams.splice(0).map((stream) => stream.stop()));
  for (const client of clients.splice(0)) client.close();
  await Promise.all([fake, ...extraServers.splice(0)].map((server) => server.stop()));
});

function client(options: Partial<AriClientOptions> = {}, server: FakeAri = fake): AriClient {
  const created = new AriClient({ url: server.url, username: USER, password: PASSWORD, app: 'tollgate', timeoutMs: 5000, logger, ...options });
  clients.push(created);
  return created;
}

function events(options: Partial<AriEventsOptions> = {}, server: FakeAri = fake): AriEvents {
  const created = new AriEvents({
    url: server.url,
    username: USER,
    password: PASSWORD,
    app: 'tollgate',
    reconnectBaseMs: 20,
    reconnectMaxMs: 200,
    pingIntervalMs: 0,
    logger,
    ...options,
  });
  streams.push(created);
  return created;
}

async function connectedEvents(options: Partial<AriEventsOptions> = {}, server: FakeAri = fake): Promise<AriEvents> {
  const created = events(options, server);
  created.start();
  await created.waitForConnected(10_000);
  return created;
}

/** The rejection of `promise` (which must reject), remembered for the secrets check. */
async function rejection(promise: Promise<unknown>): Promise<AriError> {
  try {
    await promise;
  } catch (error) {
    seenErrors.push(error);
    expect(error).toBeInstanceOf(AriError);
    return error as AriError;
  }
  throw new Error('expected a rejection');
}

/** Collects every emission of `name` into an array. */
function collect<T>(emitter: AriEvents, name: string): T[] {
  const seen: T[] = [];
  emitter.on(name as 'event', (value: unknown) => seen.push(value as T));
  return seen;
}

/** A raw HTTP request to the fake (to check its answers byte for byte). */
function raw(method: string, path: string, auth = `Basic ${BASIC}`): Promise<{ status: number; statusMessage: string; headers: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port: fake.port, method, path, headers: { Authorization: auth }, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, statusMessage: response.statusMessage ?? '', headers: response.rawHeaders, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const PHONE_LEG = '1795258862.6'; // PJSIP/1001-00000006, dialling 0112526155555
const CARRIER_LEG = '1795258862.7'; // PJSIP/carrier-00000007

describe('hangup', () => {
  test('204 → hung-up; the channel is gone and ChannelDestroyed arrives with cause 21', async () => {
    const stream = await connectedEvents();
    const destroyed = next<[ChannelDestroyedEvent]>(stream, 'ChannelDestroyed', 10_000);
    const ari = client();

    await expect(ari.hangup(PHONE_LEG, { reasonCode: 21 })).resolves.toEqual({ outcome: 'hung-up' });

    const request = fake.requests.find((candidate) => candidate.method === 'DELETE')!;
    expect(request).toMatchObject({ path: `/ari/channels/${PHONE_LEG}`, query: { reason_code: '21' }, auth: 'basic', username: USER, authorized: true, status: 204 });
    const [event] = await destroyed;
    expect(event).toMatchObject({ type: 'ChannelDestroyed', application: 'tollgate', cause: 21, cause_txt: 'Call Rejected' });
    expect(event.channel).toEqual(fiveCallsChannels().find((channel) => channel.id === PHONE_LEG));
    expect(event.channel.name).toBe('PJSIP/1001-00000006');
    expect(event.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const left = await ari.channels();
    expect(left.map((channel) => channel.id)).not.toContain(PHONE_LEG);
    expect(left).toHaveLength(9);
    expect(ari.stats).toMatchObject({ hangups: 1, failures: 0 });
  });

  test('reason=congestion → cause 34 (as the recorded carrier-leg kill)', async () => {
    const stream = await connectedEvents();
    const destroyed = next<[ChannelDestroyedEvent]>(stream, 'ChannelDestroyed', 10_000);
    await expect(client().hangup(CARRIER_LEG, { reason: 'congestion' })).resolves.toEqual({ outcome: 'hung-up' });
    expect(fake.requests.at(-1)).toMatchObject({ method: 'DELETE', query: { reason: 'congestion' } });
    const [event] = await destroyed;
    expect(event).toMatchObject({ cause: 34, cause_txt: 'Circuit/channel congestion', channel: { id: CARRIER_LEG, name: 'PJSIP/carrier-00000007' } });
  });

  test('without a reason Asterisk clears normally (16); a bridged peer leg ends first with 16', async () => {
    await fake.stop();
    fake = await startFake({ bridged: [[PHONE_LEG, CARRIER_LEG]] });
    const stream = await connectedEvents();
    const destroyed = collect<ChannelDestroyedEvent>(stream, 'ChannelDestroyed');
    await expect(client().hangup(PHONE_LEG, { reasonCode: 21 })).resolves.toEqual({ outcome: 'hung-up' });
    await until(() => destroyed.length === 2, 'both legs destroyed', 10_000);
    expect(destroyed.map((event) => [event.channel.id, event.cause])).toEqual([
      [CARRIER_LEG, 16],
      [PHONE_LEG, 21],
    ]);
    await expect(client().hangup('1795258862.4')).resolves.toEqual({ outcome: 'hung-up' });
    expect(fake.requests.at(-1)!.query).toEqual({});
    await until(() => destroyed.length === 3, 'third leg destroyed', 10_000);
    expect(destroyed[2]).toMatchObject({ cause: 16, cause_txt: 'Normal Clearing' });
  });

  test('a missing channel → not-found, from the recorded 404 (which the fake reproduces byte for byte)', async () => {
    const recorded = readFileSync(fixturePath('ari', 'delete-nonexistent.http.txt'), 'utf8');
    const [head, body] = recorded.split('\r\n\r\n') as [string, string];
    const [statusLine, ...headerLines] = head.split('\r\n');
    const recordedHeaders = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));

    const answer = await raw('DELETE', '/ari/channels/1795258999.99?reason_code=21');
    expect(`HTTP/1.1 ${answer.status} ${answer.statusMessage}`).toBe(statusLine);
    expect(answer.body).toBe(body);
    const headers: Record<string, string> = {};
    for (let i = 0; i < answer.headers.length; i += 2) headers[answer.headers[i]!] = answer.headers[i + 1]!;
    for (const name of ['Server', 'Cache-Control', 'Content-type', 'Content-Length']) expect(headers[name]).toBe(recordedHeaders[name]);
    expect(headers.Date).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    // Same names, same spelling (`Content-type`), same order; Node adds only its Connection headers.
    expect(Object.keys(headers).filter((name) => name in recordedHeaders)).toEqual(Object.keys(recordedHeaders));

    const ari = client();
    await expect(ari.hangup('1795258999.99', { reasonCode: 21 })).resolves.toEqual({ outcome: 'not-found' });
    expect(ari.stats).toMatchObject({ hangups: 0, hangupsNotFound: 1, failures: 0 });
  });

  test('reason and reasonCode together, and bad input, are refused before anything is sent', async () => {
    const ari = client();
    const before = fake.requests.length;
    const both = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21, reason: 'congestion' }));
    expect(both.kind).toBe('invalid-request');
    expect(both.status).toBeUndefined();
    expect(both.message).toMatch(/either reasonCode \(21\) or reason \("congestion"\), not both/);
    for (const bad of [{ reasonCode: 0 }, { reasonCode: 128 }, { reasonCode: 21.5 }, { reason: 'bogus' as 'busy' }]) {
      expect((await rejection(ari.hangup(PHONE_LEG, bad))).kind).toBe('invalid-request');
    }
    expect((await rejection(ari.hangup(''))).message).toMatch(/channel id is empty/);
    expect((await rejection(ari.hangup('1.1\r\nX-Injected: 1'))).message).toMatch(/control characters/);
    expect(fake.requests.length).toBe(before);
    expect(fake.hasChannel(PHONE_LEG)).toBe(true);

    // Which is what Asterisk would have said (checked after its 404 test, as resource_channels.c does).
    const answer = await raw('DELETE', `/ari/channels/${PHONE_LEG}?reason=congestion&reason_code=21`);
    expect([answer.status, answer.body]).toEqual([400, `{"message":"The reason and reason_code can't both be specified"}`]);
    expect(fake.hasChannel(PHONE_LEG)).toBe(true);
  });

  test('a channel name works too (Asterisk looks names up before ids); it is path-encoded', async () => {
    await expect(client().hangup('PJSIP/carrier-0000000d', { reasonCode: 21 })).resolves.toEqual({ outcome: 'hung-up' });
    expect(fake.requests.at(-1)!.path).toBe('/ari/channels/PJSIP%2Fcarrier-0000000d');
    await until(() => !fake.hasChannel('1795258863.13'), 'carrier-0000000d gone', 10_000);
  });

  test('ten hang-ups at once, on a few kept-alive connections', async () => {
    const stream = await connectedEvents();
    const destroyed = collect<ChannelDestroyedEvent>(stream, 'ChannelDestroyed');
    const ari = client({ maxSockets: 3 });
    const ids = fiveCallsChannels().map((channel) => channel.id);
    const results = await Promise.all(ids.map((id) => ari.hangup(id, { reasonCode: 21 })));
    expect(results.every((result) => result.outcome === 'hung-up')).toBe(true);
    await until(() => destroyed.length === 10, 'ten ChannelDestroyed', 10_000);
    expect(new Set(destroyed.map((event) => event.channel.id))).toEqual(new Set(ids));
    expect(destroyed.every((event) => event.cause === 21)).toBe(true);
    expect(fake.channels()).toEqual([]);
  });
});

describe('errors', () => {
  test('wrong credentials → AriError 401 naming the user and what to check, never the password', async () => {
    const ari = client({ password: 'wrong-Pa55word-never-logged' });
    const error = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21 }));
    expect(error).toMatchObject({ kind: 'http', status: 401, asteriskMessage: 'Authentication required', method: 'DELETE' });
    expect(error.message).toContain('"tollgate"');
    expect(error.message).toMatch(/ari\.username \/ ari\.password/);
    expect(error.message).toMatch(/\[tollgate\] section of ari\.conf/);
    expect(error.message).toContain(fake.url);
    expect(fake.requests.at(-1)).toMatchObject({ authorized: false, status: 401, username: USER });
    expect(fake.hasChannel(PHONE_LEG)).toBe(true);
    const listError = await rejection(ari.channels());
    expect(listError.status).toBe(401);
    expect(logger.entries.some((entry) => entry.level === 'error' && /refused the credentials/.test(entry.msg ?? ''))).toBe(true);
  });

  test('a read-only ari.conf user may list channels but not hang up (403 says what to change)', async () => {
    const ari = client({ username: VIEWER.username, password: VIEWER.password });
    await expect(ari.channels()).resolves.toHaveLength(10);
    const error = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21 }));
    expect(error).toMatchObject({ status: 403, asteriskMessage: 'Write access denied' });
    expect(error.message).toMatch(/read_only=no in the \[viewer\] section of ari\.conf/);
  });

  test("a server error → AriError carrying Asterisk's message; the next request works", async () => {
    const ari = client();
    fake.failWith(500, 'Failed to hang up channel', { times: 1 });
    const error = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21 }));
    expect(error).toMatchObject({ kind: 'http', status: 500, asteriskMessage: 'Failed to hang up channel' });
    expect(error.message).toContain('failed (500 Failed to hang up channel)');
    expect(error.path).toBe(`/ari/channels/${PHONE_LEG}?reason_code=21`);
    await expect(ari.hangup(PHONE_LEG, { reasonCode: 21 })).resolves.toEqual({ outcome: 'hung-up' });

    fake.failWith(503, 'Asterisk not booted', { times: 1 });
    const booting = await rejection(ari.channels());
    expect(booting).toMatchObject({ status: 503, asteriskMessage: 'Asterisk not booted' });
    expect(booting.message).toMatch(/starting up/);
  });

  test('a slow Asterisk → timeout AriError within the deadline; fine again once it answers', async () => {
    const ari = client({ timeoutMs: 150 });
    fake.delayMs = 30_000;
    const started = Date.now();
    const error = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21 }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toMatchObject({ kind: 'timeout', method: 'DELETE' });
    expect(error.message).toMatch(/got no answer within 150 ms; the hang-up may still take effect/);
    expect((await rejection(ari.channels())).kind).toBe('timeout');
    expect(ari.stats.timeouts).toBe(2);
    fake.delayMs = 0;
    await expect(ari.channels()).resolves.toHaveLength(10);
  });

  test('Asterisk unreachable → network AriError naming the URL, without credentials even if the URL had them', async () => {
    const port = await closedPort();
    const ari = client({ url: `http://${USER}:${PASSWORD}@127.0.0.1:${port}`, username: '', password: '' });
    const error = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21 }));
    expect(error.kind).toBe('network');
    expect(error.message).toContain(`cannot reach http://127.0.0.1:${port}`);
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(ari.url).toBe(`http://127.0.0.1:${port}`);
  });

  test('a 404 that is not about a channel (wrong ari.url prefix) is an error, never "not-found"', async () => {
    const ari = client({ url: `${fake.url}/wrong-prefix` });
    const error = await rejection(ari.hangup(PHONE_LEG, { reasonCode: 21 }));
    expect(error.status).toBe(404);
    expect(error.message).toMatch(/check ari\.url/);
    expect(error.asteriskMessage).toMatch(/Not Found/);
    // Under /ari but not an ARI resource: Asterisk's JSON "Resource not found".
    const unknown = await rejection(client({ url: `${fake.url}/ari/x` }).channels());
    expect(unknown).toMatchObject({ status: 404, asteriskMessage: 'Resource not found' });
  });
});

describe('channels, ping, info', () => {
  test('channels() parses channels-five-calls.json faithfully', async () => {
    const recorded = JSON.parse(readFileSync(fixturePath('ari', 'channels-five-calls.json'), 'utf8')) as AriChannel[];
    const channels = await client().channels();
    expect(channels).toEqual(recorded);
    expect(channels.map((channel) => channel.id)).toEqual([
      '1795258862.6',
      '1795258862.7',
      '1795258862.4',
      '1795258862.5',
      '1795258862.8',
      '1795258862.9',
      '1795258863.12',
      '1795258863.13',
      '1795258863.10',
      '1795258863.11',
    ]);
    expect(channels.every((channel) => channel.state === 'Up')).toBe(true);
    const phones = channels.filter((channel) => channel.name.startsWith('PJSIP/1001-'));
    expect(phones.map((channel) => channel.dialplan.exten)).toEqual(['0112526155555', '011535551234', '00449098790123', '011882161234567', '0053721234567']);
    expect(phones.every((channel) => channel.dialplan.context === 'from-internal' && channel.dialplan.app_name === 'Dial')).toBe(true);
    const carriers = channels.filter((channel) => channel.name.startsWith('PJSIP/carrier-'));
    expect(carriers.every((channel) => channel.dialplan.exten === '' && channel.dialplan.app_name === 'AppDial')).toBe(true);
    expect(channels[0]!.caller).toEqual({ name: 'Ext 1001', number: '1001' });
    expect(channels[0]!.creationtime).toBe('2026-11-21T11:01:02.726+0000');
  });

  test('Local channels (channels-local.json) too', async () => {
    const recorded = JSON.parse(readFileSync(fixturePath('ari', 'channels-local.json'), 'utf8')) as AriChannel[];
    const local = await startFake({ channels: recorded });
    extraServers.push(local);
    const channels = await client({}, local).channels();
    expect(channels).toEqual(recorded);
    expect(channels.map((channel) => channel.name)).toContain('Local/00252615123456@from-internal-00000000;2');
  });

  test('ping() uses /ari/asterisk/ping; info() reports the version', async () => {
    const ari = client();
    const ping = await ari.ping();
    expect(ping).toMatchObject({ endpoint: '/ari/asterisk/ping', asteriskId: '52:54:00:12:34:56' });
    expect(ping.latencyMs).toBeGreaterThanOrEqual(0);
    expect((await ari.info()).system?.version).toBe('22.10.1');
  });

  test('ping() falls back to /ari/asterisk/info where ping does not exist, once', async () => {
    const old = await startFake({ pingEndpoint: false });
    extraServers.push(old);
    const ari = client({}, old);
    await expect(ari.ping()).resolves.toMatchObject({ endpoint: '/ari/asterisk/info', asteriskId: '52:54:00:12:34:56' });
    await expect(ari.ping()).resolves.toMatchObject({ endpoint: '/ari/asterisk/info' });
    expect(old.requests.map((request) => request.path)).toEqual(['/ari/asterisk/ping', '/ari/asterisk/info', '/ari/asterisk/info']);
  });

  test('ping() rejects with the reason when ARI refuses', async () => {
    const error = await rejection(client({ password: 'wrong-Pa55word-never-logged' }).ping());
    expect(error.status).toBe(401);
  });
});

describe('events WebSocket', () => {
  test('connects with Basic auth in a header, app and subscribeAll in the query, no api_key', async () => {
    const stream = events({ app: 'toll gate' });
    const connected = next<[{ reconnect: boolean }]>(stream, 'connected', 10_000);
    stream.start();
    expect((await connected)[0]).toEqual({ reconnect: false });
    const upgrade = fake.requests.find((request) => request.websocket)!;
    expect(upgrade).toMatchObject({ method: 'GET', path: '/ari/events', query: { app: 'toll gate', subscribeAll: 'true' }, auth: 'basic', username: USER, authorized: true });
    expect(upgrade.authorization).toBe(`Basic ${BASIC}`);
    expect(upgrade.query.api_key).toBeUndefined();
    expect(stream.url).toBe(`ws://127.0.0.1:${fake.port}/ari/events?app=toll+gate&subscribeAll=true`);
    expect(fake.sockets()).toEqual([{ apps: ['toll gate'], subscribeAll: true, username: USER }]);
    expect(stream.state).toBe('connected');
  });

  test('AriClient.events() builds one for the same Asterisk, user and app', async () => {
    const stream = client().events({ reconnectBaseMs: 20, pingIntervalMs: 0 });
    streams.push(stream);
    stream.start();
    await stream.waitForConnected(10_000);
    expect(fake.sockets()).toEqual([{ apps: ['tollgate'], subscribeAll: true, username: USER }]);
  });

  test('reconnects after the server drops the socket, and events flow again', async () => {
    const stream = await connectedEvents();
    const disconnected = next<[{ reason: string; retryInMs: number }]>(stream, 'disconnected', 10_000);
    const reconnected = next<[{ reconnect: boolean }]>(stream, 'connected', 10_000);
    fake.dropWebSockets();
    const [info] = await disconnected;
    expect(info.reason).toMatch(/closed by the server \(code 1006/);
    expect(info.retryInMs).toBeLessThanOrEqual(200);
    expect((await reconnected)[0]).toEqual({ reconnect: true });
    expect(stream.stats).toMatchObject({ connects: 2, disconnects: 1 });

    const destroyed = next<[ChannelDestroyedEvent]>(stream, 'ChannelDestroyed', 10_000);
    await client().hangup(PHONE_LEG, { reasonCode: 21 });
    expect((await destroyed)[0]).toMatchObject({ cause: 21, channel: { id: PHONE_LEG } });
  });

  test('a close frame from Asterisk (going away) is a disconnect too', async () => {
    const stream = await connectedEvents();
    const disconnected = next<[{ reason: string }]>(stream, 'disconnected', 10_000);
    fake.closeWebSockets(1001, 'shutting down');
    expect((await disconnected)[0].reason).toBe('closed by the server (code 1001, shutting down)');
    await until(() => stream.stats.connects === 2, 'reconnected', 10_000);
  });

  test('reconnects after Asterisk restarts on the same port, retrying while it is down', async () => {
    const stream = await connectedEvents();
    const ari = client();
    await ari.channels(); // leaves a kept-alive connection that the restart will kill
    const disconnects = collect<{ reason: string; retryInMs: number }>(stream, 'disconnected');
    const port = fake.port;
    await fake.stop();
    // Down long enough for several failed attempts, with growing delays.
    await until(() => disconnects.length >= 3, 'three failed reconnect attempts', 10_000);
    expect(disconnects.slice(1).every((info) => /ECONNREFUSED/.test(info.reason))).toBe(true);
    expect(stream.state).toMatch(/waiting|connecting/);
    const channelsWhileDown = await rejection(ari.channels());
    expect(channelsWhileDown.kind).toBe('network');

    await fake.start();
    expect(fake.port).toBe(port);
    await until(() => stream.connected, 'reconnected after the restart', 10_000);
    expect(stream.stats.connects).toBe(2);
    const destroyed = next<[ChannelDestroyedEvent]>(stream, 'ChannelDestroyed', 10_000);
    await expect(ari.hangup(PHONE_LEG, { reasonCode: 21 })).resolves.toEqual({ outcome: 'hung-up' });
    expect((await destroyed)[0].channel.id).toBe(PHONE_LEG);
  });

  test('a restart while idle: the kept-alive connection is replaced transparently', async () => {
    const ari = client();
    await ari.channels();
    await fake.restart();
    await expect(ari.channels()).resolves.toHaveLength(10);
    expect(ari.stats.failures).toBe(0);
  });

  test('malformed frames are counted and logged, never fatal', async () => {
    const stream = await connectedEvents();
    const malformed = collect<{ reason: string; sample: string }>(stream, 'malformed');
    const all = collect<AriEvent>(stream, 'event');
    fake.sendRaw('this is not JSON');
    fake.sendRaw(Buffer.from([0x00, 0xff, 0x10]), { binary: true });
    fake.sendRaw('{"no":"type"}');
    fake.sendRaw('[]');
    fake.pushEvent({ type: 'ChannelDestroyed', cause: 21 });
    fake.pushEvent({ type: 'ChannelVarset', variable: 'X', value: '1' });
    await until(() => all.some((event) => event.type === 'ChannelVarset'), 'the event after the garbage', 10_000);
    expect(malformed.map((frame) => frame.reason)).toEqual(['not JSON', 'binary frame', 'no event type', 'not a JSON object', 'ChannelDestroyed without a channel id and name']);
    expect(malformed[0]!.sample).toBe('this is not JSON');
    expect(stream.stats).toMatchObject({ malformed: 5, connects: 1, disconnects: 0, frames: 6 });
    expect(logger.entries.filter((entry) => entry.msg === 'malformed ARI event frame ignored').length).toBeGreaterThanOrEqual(5);
    // Still alive: a real hang-up's event arrives.
    const destroyed = next<[ChannelDestroyedEvent]>(stream, 'ChannelDestroyed', 10_000);
    await client().hangup(CARRIER_LEG, { reason: 'congestion' });
    expect((await destroyed)[0].cause).toBe(34);
  });

  test('the heartbeat detects a connection that stopped answering, and reconnects', async () => {
    const stream = await connectedEvents({ pingIntervalMs: 40 });
    const disconnected = next<[{ reason: string }]>(stream, 'disconnected', 10_000);
    fake.freezeWebSockets();
    expect((await disconnected)[0].reason).toMatch(/no answer to 2 WebSocket pings/);
    expect(stream.stats.heartbeatTimeouts).toBe(1);
    await until(() => stream.stats.connects === 2 && stream.connected, 'reconnected', 10_000);
  });

  test('a live connection with a heartbeat stays up', async () => {
    const stream = await connectedEvents({ pingIntervalMs: 30 });
    const requestsBefore = fake.requests.length;
    const pingsBefore = fake.pingsReceived;
    // Many ping rounds (counted at the server, not slept).
    await until(() => fake.pingsReceived >= pingsBefore + 10, 'ten pings answered', 10_000);
    expect(stream.stats).toMatchObject({ connects: 1, disconnects: 0, heartbeatTimeouts: 0 });
    expect(stream.connected).toBe(true);
    expect(fake.requests.length).toBe(requestsBefore);
  });

  test('refused credentials: authFailed, loudly, and retried slowly (never a tight loop)', async () => {
    const stream = events({ password: 'wrong-Pa55word-never-logged', authRetryMs: 300 });
    const failures = collect<AriError>(stream, 'authFailed');
    const times: number[] = [];
    stream.on('authFailed', () => times.push(Date.now()));
    stream.start();
    await until(() => failures.length >= 2, 'two refusals', 10_000);
    seenErrors.push(...failures);
    expect(failures[0]).toBeInstanceOf(AriError);
    expect(failures[0]).toMatchObject({ status: 401, asteriskMessage: 'Authentication required', path: '/ari/events?app=tollgate&subscribeAll=true' });
    expect(failures[0]!.message).toMatch(/refused the credentials of ARI user "tollgate".*ari\.username \/ ari\.password/);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(290);
    expect(fake.requests.filter((request) => request.websocket).length).toBeLessThanOrEqual(failures.length + 1);
    expect(stream.stats.authFailures).toBe(failures.length);
    expect(logger.entries.some((entry) => entry.level === 'fatal' && /refused the credentials/.test(entry.msg ?? ''))).toBe(true);
  });

  test('an HTTP refusal of the upgrade (503) is retried with backoff', async () => {
    fake.failWith(503, 'Asterisk not booted', { times: 2, scope: 'websocket' });
    const stream = events();
    const disconnects = collect<{ reason: string }>(stream, 'disconnected');
    stream.start();
    await stream.waitForConnected(10_000);
    expect(disconnects.map((info) => info.reason)).toEqual(['HTTP 503 Asterisk not booted', 'HTTP 503 Asterisk not booted']);
  });

  test('typed events: ChannelCreated, ChannelStateChange, StasisStart / StasisEnd (to the Stasis app only)', async () => {
    const all = await connectedEvents();
    const gate = await connectedEvents({ app: 'gate', subscribeAll: false });
    const created = next<[{ channel: AriChannel }]>(all, 'ChannelCreated', 10_000);
    const newChannel = { ...fiveCallsChannels()[0]!, id: '1795259000.40', name: 'PJSIP/1001-00000028', state: 'Ring' };
    fake.addChannel(newChannel);
    expect((await created)[0].channel).toEqual(newChannel);

    const stateChange = next<[{ channel: AriChannel }]>(all, 'ChannelStateChange', 10_000);
    fake.setChannelState(newChannel.id, 'Up');
    expect((await stateChange)[0].channel.state).toBe('Up');

    const start = next<[StasisStartEvent]>(gate, 'StasisStart', 10_000);
    fake.enterStasis(newChannel.id, 'gate', ['outbound', '00252615123456']);
    const [startEvent] = await start;
    expect(startEvent).toMatchObject({ application: 'gate', args: ['outbound', '00252615123456'], channel: { id: newChannel.id } });

    const gateEvents = collect<AriEvent>(gate, 'event');
    const allEvents = collect<AriEvent>(all, 'event');
    const gateDestroyed = next<[ChannelDestroyedEvent]>(gate, 'ChannelDestroyed', 10_000);
    const allDestroyed = next<[ChannelDestroyedEvent]>(all, 'ChannelDestroyed', 10_000);
    await client().hangup(newChannel.id, { reasonCode: 21 });
    expect((await gateDestroyed)[0]).toMatchObject({ application: 'gate', cause: 21 });
    expect((await allDestroyed)[0]).toMatchObject({ application: 'tollgate', cause: 21 });
    expect(gateEvents.map((event) => event.type)).toEqual(['StasisEnd', 'ChannelDestroyed']);
    expect(allEvents.map((event) => event.type)).toEqual(['ChannelDestroyed']);

    // An app that does not subscribe to all hears nothing of channels outside its Stasis.
    const before = gateEvents.length;
    await client().hangup(PHONE_LEG, { reasonCode: 21 });
    await until(() => allEvents.length === 2, 'the second ChannelDestroyed on the subscribeAll socket', 10_000);
    expect(gateEvents.length).toBe(before);
  });

  test("a listener's exception is caught and counted; later events still arrive", async () => {
    const stream = await connectedEvents();
    stream.on('ChannelDestroyed', () => {
      throw new Error('consumer bug');
    });
    const destroyed = collect<ChannelDestroyedEvent>(stream, 'ChannelDestroyed');
    const ari = client();
    await ari.hangup(PHONE_LEG, { reasonCode: 21 });
    await ari.hangup(CARRIER_LEG, { reasonCode: 21 });
    await until(() => destroyed.length === 2, 'both events despite the throwing listener', 10_000);
    expect(stream.stats.listenerErrors).toBe(2);
    expect(stream.connected).toBe(true);
  });

  test('stop() while waiting to reconnect ends everything; stop() twice is fine', async () => {
    const stream = await connectedEvents({ reconnectBaseMs: 5000, reconnectMaxMs: 5000 });
    const disconnected = next<[unknown]>(stream, 'disconnected', 10_000);
    fake.dropWebSockets();
    await disconnected;
    expect(stream.state).toBe('waiting');
    await stream.stop();
    await stream.stop();
    expect(stream.state).toBe('stopped');
  });

  test('stop() while connecting and before start()', async () => {
    const never = events();
    await never.stop();
    expect(never.state).toBe('stopped');
    const stream = events();
    stream.start();
    await stream.stop();
    expect(stream.state).toBe('stopped');
    expect(stream.connected).toBe(false);
  });

  test('waitForConnected() times out with an AriError when ARI stays unreachable', async () => {
    const port = await closedPort();
    const stream = events({ url: `http://127.0.0.1:${port}` });
    stream.start();
    const error = await rejection(stream.waitForConnected(200));
    expect(error.kind).toBe('timeout');
  });
});

describe('TLS (https / wss)', () => {
  const key = readFileSync(fixturePath('tls', 'key.pem'));
  const cert = readFileSync(fixturePath('tls', 'cert.pem'));

  test('with the CA: REST and events work; without it: a network error that says what to set', async () => {
    const secure = await startFake({ tls: { key, cert } });
    extraServers.push(secure);
    expect(secure.url).toMatch(/^https:/);

    const ari = client({ tls: { ca: cert } }, secure);
    await expect(ari.channels()).resolves.toHaveLength(10);
    const stream = await connectedEvents({ tls: { ca: cert } }, secure);
    expect(stream.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/ari\/events\?app=tollgate&subscribeAll=true$/);
    const destroyed = next<[ChannelDestroyedEvent]>(stream, 'ChannelDestroyed', 10_000);
    await expect(ari.hangup(PHONE_LEG, { reasonCode: 21 })).resolves.toEqual({ outcome: 'hung-up' });
    expect((await destroyed)[0].cause).toBe(21);

    const untrusted = await rejection(client({}, secure).channels());
    expect(untrusted.kind).toBe('network');
    expect(untrusted.message).toMatch(/ari\.tlsCaFile/);

    const insecure = client({ tls: { rejectUnauthorized: false } }, secure);
    await expect(insecure.channels()).resolves.toHaveLength(9);

    const refused = events({ reconnectBaseMs: 1000 }, secure);
    const disconnected = next<[{ reason: string }]>(refused, 'disconnected', 10_000);
    refused.start();
    expect((await disconnected)[0].reason).toMatch(/ari\.tlsCaFile/);
  });
});

describe('secrets', () => {
  // Last in the file: checks what every test above logged and threw, plus its own failures.
  test('the password never appears in any log line or error message', async () => {
    await rejection(client({ password: 'wrong-Pa55word-never-logged' }).hangup(PHONE_LEG, { reasonCode: 21 }));
    fake.failWith(500, 'Internal Server Error', { times: 1 });
    await rejection(client().channels());
    await rejection(client({ url: `http://${USER}:${PASSWORD}@127.0.0.1:${await closedPort()}`, username: '', password: '' }).ping());
    const refused = events({ password: 'wrong-Pa55word-never-logged', authRetryMs: 60_000 });
    const failed = next<[AriError]>(refused, 'authFailed', 10_000);
    refused.start();
    seenErrors.push((await failed)[0]);

    const logged = logger.text();
    expect(logged).toContain('refused the credentials');
    for (const secret of [...SECRETS, BASIC]) expect(logged).not.toContain(secret);
    for (const error of seenErrors) {
      const text = error instanceof Error ? `${error.message}\n${error.stack}\n${String(error.cause)}\n${JSON.stringify(error)}` : String(error);
      for (const secret of [...SECRETS, BASIC]) expect(text).not.toContain(secret);
    }
  });
});
