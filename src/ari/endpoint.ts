/**
 * Where ARI lives and how to authenticate to it, shared by the REST client and the events
 * WebSocket. Credentials travel only in the `Authorization` header; every URL this module hands
 * out for display is free of them.
 */
import { ConfigError } from '../errors.js';

export interface AriTlsOptions {
  /** @default true */
  rejectUnauthorized?: boolean;
  /** PEM CA bundle for a private CA or a self-signed Asterisk certificate (http.conf `tlscertfile`). */
  ca?: string | Buffer;
  /** TLS server name; defaults to the host when it is a name, not an IP. */
  servername?: string;
}

export interface AriEndpoint {
  /** https / wss. */
  secure: boolean;
  /** `host:port` as in the URL (IPv6 in brackets). */
  host: string;
  /** Path before `/ari` (http.conf `prefix`), `''` by default, else `/prefix`. */
  prefix: string;
  /** `http://127.0.0.1:8088` (plus prefix): safe for logs and error messages. */
  display: string;
  username: string;
  /** Never logged. */
  password: string;
}

/** Replaces `user:pass@` in a URL-ish string, for messages about a URL we could not parse. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@');
}

/**
 * Parses ari.url. Accepts `http(s)://host:port`, with or without a trailing `/` or `/ari`, with
 * http.conf's prefix (`http://host:8088/asterisk`), and `ws(s)://` spellings. Credentials in the
 * URL are used when `username`/`password` are empty, and never shown.
 */
export function parseAriEndpoint(url: string, username = '', password = ''): AriEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`"${redactUrl(url)}" is not a URL; expected e.g. http://127.0.0.1:8088 (http.conf bindaddr/bindport)`, undefined, undefined, 'ari.url');
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  if (!['http', 'https', 'ws', 'wss'].includes(scheme)) {
    throw new ConfigError(`scheme "${scheme}" is not supported; use http:// (or https:// for http.conf's TLS listener)`, undefined, undefined, 'ari.url');
  }
  const secure = scheme === 'https' || scheme === 'wss';
  let prefix = parsed.pathname.replace(/\/+$/, '');
  if (/\/ari$/i.test(prefix)) prefix = prefix.slice(0, -4);
  const user = username || safeDecode(parsed.username);
  const pass = password || safeDecode(parsed.password);
  if (!user) {
    throw new ConfigError('is empty: set it to an ari.conf user (a [name] section with type=user and read_only=no)', undefined, undefined, 'ari.username');
  }
  if (user.includes(':')) {
    throw new ConfigError('must not contain ":" (HTTP Basic authentication cannot carry it)', undefined, undefined, 'ari.username');
  }
  const display = `${secure ? 'https' : 'http'}://${parsed.host}${prefix}`;
  return { secure, host: parsed.host, prefix, display, username: user, password: pass };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The `Authorization` header value. */
export function basicAuthorization(endpoint: Pick<AriEndpoint, 'username' | 'password'>): string {
  return `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password}`, 'utf8').toString('base64')}`;
}

/** An http(s) URL for a REST path such as `/ari/channels`, without credentials. */
export function restUrl(endpoint: AriEndpoint, path: string, query?: URLSearchParams): URL {
  const search = query && [...query.keys()].length > 0 ? `?${query.toString()}` : '';
  return new URL(`${endpoint.secure ? 'https' : 'http'}://${endpoint.host}${endpoint.prefix}${path}${search}`);
}

/** The events WebSocket URL: `ws://host:port/ari/events?app=NAME&subscribeAll=true`, without credentials. */
export function eventsUrl(endpoint: AriEndpoint, app: string, subscribeAll: boolean): string {
  const query = new URLSearchParams({ app });
  if (subscribeAll) query.set('subscribeAll', 'true');
  return `${endpoint.secure ? 'wss' : 'ws'}://${endpoint.host}${endpoint.prefix}/ari/events?${query.toString()}`;
}

/** Short text for a Node network error, with a hint when it is a TLS trust problem. */
export function describeNetworkError(error: unknown): string {
  const err = error as NodeJS.ErrnoException | undefined;
  const code = err?.code;
  const message = err?.message ?? String(error);
  const base = code && !message.includes(code) ? `${code}: ${message}` : message;
  if (code && TLS_TRUST_CODES.has(code)) {
    return `${base}; set ari.tlsCaFile to the CA that signed Asterisk's certificate (ari.tlsRejectUnauthorized: false only for tests)`;
  }
  if (code === 'ECONNREFUSED') return `${base}; is Asterisk's HTTP server enabled (http.conf enabled=yes, bindaddr/bindport) and res_ari loaded?`;
  return base;
}

const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
]);

/**
 * Asterisk's own words from an error body: the `message` of `{"message": "…"}`, else the start
 * of the body as plain text (HTML tags dropped), else undefined.
 */
export function asteriskMessageOf(body: string): string | undefined {
  const trimmed = body.trim();
  if (!trimmed) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string') {
      return (parsed as { message: string }).message;
    }
  } catch {
    // not JSON: fall through
  }
  const plain = trimmed
    .replace(/<title>[\s\S]*?<\/title>/i, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!plain) return undefined;
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}

