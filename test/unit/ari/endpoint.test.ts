/**
 * ari.url parsing, credentials and the small pure helpers shared by the REST client and the
 * events WebSocket.
 */
import {
  asteriskMessageOf,
  basicAuthorization,
  describeNetworkError,
  eventsUrl,
  parseAriEndpoint,
  redactUrl,
  restUrl,
} from '../../../src/ari/endpoint.js';
import { backoffDelay } from '../../../src/net/backoff.js';
import { ConfigError } from '../../../src/errors.js';

describe('parseAriEndpoint', () => {
  test.each([
    ['http://127.0.0.1:8088', 'http://127.0.0.1:8088', ''],
    ['http://127.0.0.1:8088/', 'http://127.0.0.1:8088', ''],
    ['http://127.0.0.1:8088/ari', 'http://127.0.0.1:8088', ''],
    ['http://127.0.0.1:8088/ari/', 'http://127.0.0.1:8088', ''],
    ['http://pbx.example:8088/asterisk', 'http://pbx.example:8088/asterisk', '/asterisk'],
    ['http://pbx.example:8088/asterisk/ari', 'http://pbx.example:8088/asterisk', '/asterisk'],
    ['ws://127.0.0.1:8088', 'http://127.0.0.1:8088', ''],
    ['https://pbx.example:8089', 'https://pbx.example:8089', ''],
    ['wss://pbx.example:8089/ari', 'https://pbx.example:8089', ''],
    ['http://[::1]:8088', 'http://[::1]:8088', ''],
  ])('%s → %s', (url, display, prefix) => {
    const endpoint = parseAriEndpoint(url, 'tollgate', 'pw');
    expect(endpoint.display).toBe(display);
    expect(endpoint.prefix).toBe(prefix);
    expect(endpoint.secure).toBe(display.startsWith('https'));
  });

  test('builds REST and events URLs with the prefix and no credentials', () => {
    const endpoint = parseAriEndpoint('http://u:p@pbx.example:8088/asterisk/', '', '');
    expect(restUrl(endpoint, '/ari/channels/1795258862.6', new URLSearchParams({ reason_code: '21' })).href).toBe(
      'http://pbx.example:8088/asterisk/ari/channels/1795258862.6?reason_code=21',
    );
    expect(restUrl(endpoint, '/ari/channels').href).toBe('http://pbx.example:8088/asterisk/ari/channels');
    expect(eventsUrl(endpoint, 'toll gate&x', true)).toBe('ws://pbx.example:8088/asterisk/ari/events?app=toll+gate%26x&subscribeAll=true');
    expect(eventsUrl(parseAriEndpoint('https://h:8089', 'u', 'p'), 'tollgate', false)).toBe('wss://h:8089/ari/events?app=tollgate');
  });

  test('credentials in the URL are used when the options are empty, and never displayed', () => {
    const endpoint = parseAriEndpoint('http://ari%40user:s%3Acret@127.0.0.1:8088', '', '');
    expect(endpoint.username).toBe('ari@user');
    expect(endpoint.password).toBe('s:cret');
    expect(endpoint.display).toBe('http://127.0.0.1:8088');
    // Options win over the URL.
    const explicit = parseAriEndpoint('http://a:b@127.0.0.1:8088', 'tollgate', 'pw');
    expect([explicit.username, explicit.password]).toEqual(['tollgate', 'pw']);
  });

  test('bad URLs and usernames are ConfigErrors naming the key, without the password', () => {
    const bad = (url: string, user = 'tollgate'): ConfigError => {
      try {
        parseAriEndpoint(url, user, 'hunter2-secret');
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad('127.0.0.1:8088').message).toMatch(/ari\.url/);
    expect(bad('ftp://127.0.0.1').message).toMatch(/ari\.url: scheme "ftp"/);
    const unparsable = bad('http://user:hunter2-secret@[bad');
    expect(unparsable).toBeInstanceOf(ConfigError);
    expect(unparsable.message).not.toContain('hunter2-secret');
    expect(bad('http://127.0.0.1:8088', '').message).toMatch(/ari\.username: is empty/);
    expect(bad('http://127.0.0.1:8088', 'a:b').message).toMatch(/ari\.username: must not contain ":"/);
  });

  test('redactUrl hides user info', () => {
    expect(redactUrl('http://user:pass@host:8088/x')).toBe('http://***@host:8088/x');
    expect(redactUrl('http://host:8088/x')).toBe('http://host:8088/x');
  });
});

test('basicAuthorization is RFC 7617 Basic with UTF-8', () => {
  expect(basicAuthorization({ username: 'tollgate', password: 'pässword' })).toBe(`Basic ${Buffer.from('tollgate:pässword').toString('base64')}`);
});

describe('asteriskMessageOf', () => {
  test('reads the message of an ARI error body', () => {
    expect(asteriskMessageOf('{"message":"Channel not found"}')).toBe('Channel not found');
    expect(asteriskMessageOf('{\n  "message": "Authentication required"\n}')).toBe('Authentication required');
  });

  test('falls back to plain text for other bodies, and to undefined for empty ones', () => {
    expect(asteriskMessageOf('<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>')).toBe(
      'Not Found The requested URL was not found on this server.',
    );
    expect(asteriskMessageOf('')).toBeUndefined();
    expect(asteriskMessageOf('{"error":"x"}')).toBe('{"error":"x"}');
    expect(asteriskMessageOf('x'.repeat(500))!.length).toBeLessThanOrEqual(201);
  });
});

test('describeNetworkError adds a hint for refused connections and TLS trust problems', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8088'), { code: 'ECONNREFUSED' });
  expect(describeNetworkError(refused)).toMatch(/ECONNREFUSED 127\.0\.0\.1:8088; is Asterisk's HTTP server enabled/);
  const selfSigned = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  expect(describeNetworkError(selfSigned)).toMatch(/^DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate; set ari\.tlsCaFile/);
});

test('backoffDelay: equal jitter, doubling, capped', () => {
  expect(backoffDelay(0, 250, 10_000, () => 0)).toBe(125);
  expect(backoffDelay(0, 250, 10_000, () => 1)).toBe(250);
  expect(backoffDelay(3, 250, 10_000, () => 1)).toBe(2000);
  expect(backoffDelay(10, 250, 10_000, () => 0)).toBe(5000);
  expect(backoffDelay(10, 250, 10_000, () => 1)).toBe(10_000);
  expect(backoffDelay(1000, 250, 10_000, () => 0.5)).toBe(7500);
});
