/**
 * AriClient / AriEvents construction and input validation: what is refused before any network
 * traffic (a counting TCP listener proves nothing was sent).
 */
import net from 'node:net';
import { AriClient, type AriHangupOptions } from '../../../src/ari/client.js';
import { AriError } from '../../../src/ari/errors.js';
import { AriEvents } from '../../../src/ari/events.js';
import { ConfigError } from '../../../src/errors.js';

let listener: net.Server;
let port: number;
let connections = 0;

beforeAll(async () => {
  listener = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => listener.close(() => resolve()));
});

function client(): AriClient {
  return new AriClient({ url: `http://127.0.0.1:${port}`, username: 'tollgate', password: 'pw-unit-secret', app: 'tollgate', timeoutMs: 1000 });
}

async function refused(promise: Promise<unknown>): Promise<AriError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AriError);
  return error as AriError;
}

describe('hangup input is validated before sending', () => {
  test.each<[string, string, AriHangupOptions, RegExp]>([
    ['both reason and reasonCode', 'x.1', { reasonCode: 21, reason: 'congestion' }, /not both/],
    ['reasonCode 0', 'x.1', { reasonCode: 0 }, /integer from 1 to 127 \(got 0\)/],
    ['reasonCode 128', 'x.1', { reasonCode: 128 }, /got 128/],
    ['reasonCode NaN', 'x.1', { reasonCode: Number.NaN }, /got NaN/],
    ['reasonCode as text', 'x.1', { reasonCode: '21' as unknown as number }, /got 21/],
    ['unknown reason', 'x.1', { reason: 'hangup' as 'busy' }, /reason "hangup" is not one of normal, busy, congestion/],
    ['empty id', '', {}, /channel id is empty/],
    ['blank id', '   ', {}, /channel id is empty/],
    ['id with CR/LF', 'a\r\nb', {}, /control characters/],
    ['id that is not a string', 42 as unknown as string, {}, /channel id is empty/],
  ])('%s', async (_name, id, options, message) => {
    const ari = client();
    const error = await refused(ari.hangup(id, options));
    expect(error.kind).toBe('invalid-request');
    expect(error.method).toBe('DELETE');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^ARI hang-up refused before sending: /);
    ari.close();
  });

  test('nothing reached the network', () => {
    expect(connections).toBe(0);
  });
});

test('a bad ari.url or username is a ConfigError at construction', () => {
  expect(() => new AriClient({ url: 'localhost:8088', username: 'u', password: 'p', app: 'a' })).toThrow(ConfigError);
  expect(() => new AriClient({ url: 'http://127.0.0.1:8088', username: '', password: 'p', app: 'a' })).toThrow(/ari\.username/);
  expect(() => new AriEvents({ url: 'gopher://127.0.0.1:8088', username: 'u', password: 'p', app: 'a' })).toThrow(/ari\.url/);
});

test('AriEvents needs an app name', () => {
  expect(() => new AriEvents({ url: 'http://127.0.0.1:8088', username: 'u', password: 'p', app: '' })).toThrow(/ari\.app is empty/);
});

test('url getters show no credentials', () => {
  const ari = new AriClient({ url: 'http://u:pw-unit-secret@127.0.0.1:8088/ari/', username: '', password: '', app: 'tollgate' });
  expect(ari.url).toBe('http://127.0.0.1:8088');
  const stream = new AriEvents({ url: 'https://u:pw-unit-secret@pbx.example:8089', username: '', password: '', app: 'tollgate' });
  expect(stream.url).toBe('wss://pbx.example:8089/ari/events?app=tollgate&subscribeAll=true');
  expect(stream.state).toBe('idle');
  ari.close();
});
