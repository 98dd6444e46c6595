/**
 * ARI REST client: the few calls Tollgate needs, on Node's own HTTP stack.
 *
 * - `hangup(id)` → `DELETE /ari/channels/{id}?reason_code=21` (or `reason=…`, never both: ARI
 *   answers 400 to that, so it is refused before sending). 204 → `hung-up`; Asterisk's
 *   404 `{"message":"Channel not found"}` → `not-found` (the call ended on its own). Any other 404
 *   (a wrong ari.url prefix, res_ari not loaded) is an error, never a silent "not found".
 * - `channels()` → `GET /ari/channels`, `ping()` → `GET /ari/asterisk/ping` (falls back to
 *   `/ari/asterisk/info` on Asterisk releases without it), `info()` → `GET /ari/asterisk/info`.
 * - Every request has one deadline (`timeoutMs`, queueing included). Failures are `AriError`s
 *   whose message names the URL and user — never the password — and says what to check.
 * - Keep-alive connections, capped (http.conf `session_limit` is 100 by default); a request
 *   that fails because Asterisk had just closed an idle kept-alive connection is retried once.
 *
 * Node's global `fetch` cannot take `ca` / `rejectUnauthorized` without the separate `undici`
 * package, which a private-CA or self-signed Asterisk certificate needs: hence node:http(s).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { silentLogger, type Logger } from '../log.js';
import { AriError } from './errors.js';
import {
  asteriskMessageOf,
  basicAuthorization,
  describeNetworkError,
  parseAriEndpoint,
  restUrl,
  type AriEndpoint,
  type AriTlsOptions,
} from './endpoint.js';
import { AriEvents, type AriEventsOptions } from './events.js';
import { ARI_HANGUP_REASONS, isAriHangupReason, parseAriChannel, type AriChannel, type AriHangupReason } from './types.js';

export interface AriClientOptions {
  /**
   * ARI base URL: `http://127.0.0.1:8088` (http.conf `bindaddr`/`bindport`), plus http.conf's
   * `prefix` if set (`http://host:8088/asterisk`); `https://` for http.conf's TLS listener.
   */
  url: string;
  /** An ari.conf user (`type=user`; `read_only=no` to hang up). */
  username: string;
  /** Never logged, never in an error message. */
  password: string;
  /** Stasis application name (ari.app), used by `events()`. */
  app: string;
  /** Deadline per request, waiting for a free connection included. @default 5000 */
  timeoutMs?: number;
  /** For `https://` URLs. */
  tls?: AriTlsOptions;
  /** Concurrent connections to Asterisk (http.conf `session_limit` defaults to 100). @default 8 */
  maxSockets?: number;
  logger?: Logger;
}

export interface AriHangupOptions {
  /** Q.850 cause code (1–127), sent as `reason_code`. Tollgate uses 21 (call rejected; SIP 403). */
  reasonCode?: number;
  /** A named reason (`congestion` → cause 34, …). Mutually exclusive with `reasonCode`. */
  reason?: AriHangupReason;
}

export interface AriHangupResult {
  /** `not-found`: Asterisk has no such channel (it ended meanwhile, or the id is wrong). */
  outcome: 'hung-up' | 'not-found';
}

export interface AriPingResult {
  /** Round trip of the health request. */
  latencyMs: number;
  /** Asterisk's entity id (`asterisk_id` / `system.entity_id`), when reported. */
  asteriskId?: string;
  /** Which endpoint answered. */
  endpoint: '/ari/asterisk/ping' | '/ari/asterisk/info';
}

/** `GET /ari/asterisk/info` (ARI's `AsteriskInfo`); only the parts Tollgate reads are typed. */
export interface AriAsteriskInfo {
  system?: { version?: string; entity_id?: string; [field: string]: unknown };
  build?: Record<string, unknown>;
  config?: Record<string, unknown>;
  status?: { startup_time?: string; last_reload_time?: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface AriClientStats {
  requests: number;
  /** Requests that ended in an AriError (HTTP error status, timeout, network). */
  failures: number;
  timeouts: number;
  hangups: number;
  hangupsNotFound: number;
  /** Requests retried once after a stale kept-alive connection was reset. */
  staleRetries: number;
  /** Channel objects dropped from `channels()` for lacking an id or name. */
  malformedChannels: number;
}

interface HttpReply {
  status: number;
  statusText: string;
  body: string;
  latencyMs: number;
}

type Method = 'GET' | 'DELETE' | 'POST';

/** Largest response body accepted (a `GET /ari/channels` on a very busy PBX is a few MB). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

class StaleSocket extends Error {}

export class AriClient {
  readonly app: string;
  readonly stats: AriClientStats = {
    requests: 0,
    failures: 0,
    timeouts: 0,
    hangups: 0,
    hangupsNotFound: 0,
    staleRetries: 0,
    malformedChannels: 0,
  };
  private readonly endpoint: AriEndpoint;
  private readonly authorization: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  private readonly log: Logger;
  private readonly options: AriClientOptions;
  private pingMissing = false;

  constructor(options: AriClientOptions) {
    this.options = options;
    this.endpoint = parseAriEndpoint(options.url, options.username, options.password);
    this.authorization = basicAuthorization(this.endpoint);
    this.app = options.app;
    this.timeoutMs = options.timeoutMs ?? 5000;
    const maxSockets = options.maxSockets ?? 8;
    if (this.endpoint.secure) {
      const tls = options.tls ?? {};
      const agentOptions: https.AgentOptions = { keepAlive: true, maxSockets, rejectUnauthorized: tls.rejectUnauthorized ?? true };
      if (tls.ca) agentOptions.ca = tls.ca;
      const hostname = new URL(this.endpoint.display).hostname;
      const servername = tls.servername ?? (net.isIP(hostname.replace(/^\[|\]$/g, '')) ? undefined : hostname);
      if (servername) agentOptions.servername = servername;
      this.agent = new https.Agent(agentOptions);
      this.transport = https;
    } else {
      this.agent = new http.Agent({ keepAlive: true, maxSockets });
      this.transport = http;
    }
    this.log = (options.logger ?? silentLogger).child({ part: 'ari', url: this.endpoint.display, user: this.endpoint.username });
  }

  /** `http://host:port` (and prefix) without credentials. */
  get url(): string {
    return this.endpoint.display;
  }

  /**
   * Hangs up one channel by id (Uniqueid) — Asterisk also accepts a channel name.
   * Resolves `hung-up` (204) or `not-found` (Asterisk's 404 "Channel not found"); rejects with an
   * AriError otherwise. Without `reasonCode`/`reason`, Asterisk uses 16 (normal clearing).
   */
  async hangup(channelId: string, options: AriHangupOptions = {}): Promise<AriHangupResult> {
    const path = `/ari/channels/${encodeURIComponent(typeof channelId === 'string' ? channelId : '')}`;
    const query = hangupQuery(channelId, options, path);
    const reply = await this.request('DELETE', path, query);
    if (reply.status === 204 || reply.status === 200) {
      this.stats.hangups++;
      this.log.info({ channelId, ...hangupLogFields(options), ms: Math.round(reply.latencyMs) }, 'ARI hang-up accepted');
      return { outcome: 'hung-up' };
    }
    if (reply.status === 404 && isChannelNotFound(reply.body)) {
      this.stats.hangupsNotFound++;
      this.log.info({ channelId, ms: Math.round(reply.latencyMs) }, 'ARI hang-up: no such channel (already gone)');
      return { outcome: 'not-found' };
    }
    throw this.fail(this.httpError('DELETE', pathWithQuery(path, query), reply));
  }

  /** Every channel Asterisk has now (`GET /ari/channels`). */
  async channels(): Promise<AriChannel[]> {
    const path = '/ari/channels';
    const parsed = await this.getJson(path);
    if (!Array.isArray(parsed)) {
      throw this.fail(new AriError(`ARI GET ${path} at ${this.endpoint.display} answered something that is not a channel list`, { kind: 'bad-response', method: 'GET', path }));
    }
    const channels: AriChannel[] = [];
    let dropped = 0;
    for (const item of parsed) {
      const channel = parseAriChannel(item);
      if (channel) channels.push(channel);
      else dropped++;
    }
    if (dropped > 0) {
      this.stats.malformedChannels += dropped;
      this.log.warn({ dropped }, 'ARI channel list held entries without an id or name; ignored');
    }
    return channels;
  }

  /**
   * Health check: `GET /ari/asterisk/ping`, or `/ari/asterisk/info` on releases that lack ping.
   * Rejects with an AriError when ARI is unreachable, refuses the credentials, or is not booted.
   */
  async ping(): Promise<AriPingResult> {
    if (!this.pingMissing) {
      const path = '/ari/asterisk/ping';
      const reply = await this.request('GET', path);
      if (reply.status === 200) {
        const body = this.parseJson('GET', path, reply) as { asterisk_id?: unknown };
        return withAsteriskId({ latencyMs: reply.latencyMs, endpoint: path }, body?.asterisk_id);
      }
      if (reply.status !== 404 || isChannelNotFound(reply.body)) throw this.fail(this.httpError('GET', path, reply));
      // An ARI without /asterisk/ping answers 404 "Resource not found": use info from now on.
      this.pingMissing = true;
      this.log.debug({}, 'ARI has no /asterisk/ping; using /asterisk/info for health checks');
    }
    const started = performance.now();
    const info = await this.info();
    return withAsteriskId({ latencyMs: performance.now() - started, endpoint: '/ari/asterisk/info' }, info.system?.entity_id);
  }

  /** `GET /ari/asterisk/info`: version (`system.version`), entity id, build, config, status. */
  async info(): Promise<AriAsteriskInfo> {
    const parsed = await this.getJson('/ari/asterisk/info');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw this.fail(new AriError(`ARI GET /ari/asterisk/info at ${this.endpoint.display} answered something that is not an object`, { kind: 'bad-response', method: 'GET', path: '/ari/asterisk/info' }));
    }
    return parsed as AriAsteriskInfo;
  }

  /** An events WebSocket for the same Asterisk, user and app (not started). */
  events(options: Partial<AriEventsOptions> = {}): AriEvents {
    const { url, username, password, app, tls, logger } = this.options;
    return new AriEvents({ url, username, password, app, ...(tls ? { tls } : {}), ...(logger ? { logger } : {}), ...options });
  }

  /** Closes kept-alive connections. Requests after close() still work (on new connections). */
  close(): void {
    this.agent.destroy();
  }

  // ───────────────────────────── HTTP ─────────────────────────────

  private async getJson(path: string): Promise<unknown> {
    const reply = await this.request('GET', path);
    if (reply.status !== 200) throw this.fail(this.httpError('GET', path, reply));
    return this.parseJson('GET', path, reply);
  }

  private parseJson(method: Method, path: string, reply: HttpReply): unknown {
    try {
      return JSON.parse(reply.body);
    } catch {
      throw this.fail(
        new AriError(`ARI ${method} ${path} at ${this.endpoint.display} answered ${reply.status} with a body that is not JSON; is ari.url really Asterisk's ARI?`, {
          kind: 'bad-response',
          method,
          path,
          status: reply.status,
        }),
      );
    }
  }

  /** One request with one deadline; a single retry when a kept-alive connection turned out stale. */
  private async request(method: Method, path: string, query?: URLSearchParams): Promise<HttpReply> {
    this.stats.requests++;
    const deadline = performance.now() + this.timeoutMs;
    const url = restUrl(this.endpoint, path, query);
    const shownPath = pathWithQuery(path, query);
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await this.send(method, url, shownPath, deadline, attempt === 0);
        this.log.debug({ method, path: shownPath, status: reply.status, ms: Math.round(reply.latencyMs) }, 'ARI request');
        return reply;
      } catch (error) {
        if (error instanceof StaleSocket) {
          this.stats.staleRetries++;
          continue;
        }
        throw error instanceof AriError ? this.fail(error) : error;
      }
    }
  }

  private send(method: Method, url: URL, shownPath: string, deadline: number, mayRetry: boolean): Promise<HttpReply> {
    return new Promise<HttpReply>((resolve, reject) => {
      const started = performance.now();
      let settled = false;
      let responded = false;
      const finish = (outcome: HttpReply | Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const request = this.transport.request(url, {
        method,
        agent: this.agent,
        headers: { Authorization: this.authorization, Accept: 'application/json', 'User-Agent': 'tollgate' },
      });
      const timer = setTimeout(
        () => {
          finish(this.timeoutError(method, shownPath));
          request.destroy();
        },
        Math.max(1, deadline - performance.now()),
      );
      request.on('response', (response) => {
        responded = true;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            finish(new AriError(`ARI ${method} ${shownPath} at ${this.endpoint.display}: response larger than ${MAX_BODY_BYTES} bytes`, { kind: 'bad-response', method, path: shownPath }));
            request.destroy();
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          finish({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
            latencyMs: performance.now() - started,
          }),
        );
        response.on('error', (error) => finish(this.networkError(method, shownPath, error)));
        response.on('close', () => {
          if (!response.complete) finish(this.networkError(method, shownPath, new Error('connection closed before the whole response arrived')));
        });
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        // Asterisk closed a kept-alive connection just as we reused it: the request never reached it.
        if (mayRetry && !responded && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          finish(new StaleSocket());
          return;
        }
        finish(this.networkError(method, shownPath, error));
      });
      request.end();
    });
  }

  // ───────────────────────────── errors ─────────────────────────────

  private fail(error: AriError): AriError {
    this.stats.failures++;
    if (error.kind === 'timeout') this.stats.timeouts++;
    const fields = { kind: error.kind, method: error.method, path: error.path, ...(error.status !== undefined ? { status: error.status } : {}) };
    if (error.status === 401 || error.status === 403) this.log.error(fields, error.message);
    else this.log.warn(fields, error.message);
    return error;
  }

  private timeoutError(method: Method, path: string): AriError {
    const tail = method === 'DELETE' ? '; the hang-up may still take effect — confirm it from the channel events' : '';
    return new AriError(`ARI ${method} ${path} at ${this.endpoint.display} got no answer within ${this.timeoutMs} ms${tail}`, { kind: 'timeout', method, path });
  }

  private networkError(method: Method, path: string, cause: unknown): AriError {
    return new AriError(`ARI ${method} ${path}: cannot reach ${this.endpoint.display} (${describeNetworkError(cause)})`, { kind: 'network', method, path, cause });
  }

  private httpError(method: Method, path: string, reply: HttpReply): AriError {
    const asteriskMessage = asteriskMessageOf(reply.body);
    const status = reply.status;
    const said = `${status} ${asteriskMessage ?? reply.statusText ?? ''}`.trim();
    const where = `ARI ${method} ${path} at ${this.endpoint.display}`;
    const user = this.endpoint.username;
    let message: string;
    switch (status) {
      case 401:
        message =
          `${where} refused the credentials of ARI user "${user}" (${said}). ` +
          `Check ari.username / ari.password (TOLLGATE_ARI_USERNAME / TOLLGATE_ARI_PASSWORD) against the [${user}] section of ari.conf ` +
          `(type=user, password=…, password_format), then \`module reload res_ari.so\`.`;
        break;
      case 403:
        message = `${where} was forbidden for ARI user "${user}" (${said}). Hanging up needs read_only=no in the [${user}] section of ari.conf.`;
        break;
      case 404:
        message = `${where}: ${said}. This is not ARI's answer about a channel: check ari.url (host, port, http.conf prefix) and that res_ari is loaded.`;
        break;
      case 503:
        message = `${where}: ${said}. Asterisk is starting up or overloaded; retry shortly.`;
        break;
      default:
        message = `${where} failed (${said}).`;
    }
    return new AriError(message, { kind: 'http', method, path, status, ...(asteriskMessage !== undefined ? { asteriskMessage } : {}) });
  }
}

/** Validates hang-up input and builds the query; throws an `invalid-request` AriError before anything is sent. */
function hangupQuery(channelId: unknown, options: AriHangupOptions, path: string): URLSearchParams {
  const invalid = (message: string): AriError => new AriError(`ARI hang-up refused before sending: ${message}`, { kind: 'invalid-request', method: 'DELETE', path });
  if (typeof channelId !== 'string' || channelId.trim() === '') throw invalid('the channel id is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(channelId)) throw invalid('the channel id contains control characters');
  const { reasonCode, reason } = options ?? {};
  if (reasonCode !== undefined && reason !== undefined) {
    throw invalid(`give either reasonCode (${reasonCode}) or reason ("${reason}"), not both — ARI answers 400 "The reason and reason_code can't both be specified"`);
  }
  const query = new URLSearchParams();
  if (reasonCode !== undefined) {
    if (typeof reasonCode !== 'number' || !Number.isInteger(reasonCode) || reasonCode < 1 || reasonCode > 127) {
      throw invalid(`reasonCode must be a Q.850 cause, an integer from 1 to 127 (got ${String(reasonCode)})`);
    }
    query.set('reason_code', String(reasonCode));
  } else if (reason !== undefined) {
    if (!isAriHangupReason(reason)) {
      throw invalid(`reason "${String(reason)}" is not one of ${Object.keys(ARI_HANGUP_REASONS).join(', ')}`);
    }
    query.set('reason', reason);
  }
  return query;
}

function hangupLogFields(options: AriHangupOptions): Record<string, unknown> {
  if (options.reasonCode !== undefined) return { reasonCode: options.reasonCode };
  if (options.reason !== undefined) return { reason: options.reason, cause: ARI_HANGUP_REASONS[options.reason] };
  return {};
}

/** Asterisk's 404 about a channel (`{"message":"Channel not found"}`), as opposed to a wrong URL. */
function isChannelNotFound(body: string): boolean {
  const message = asteriskMessageOf(body);
  return message !== undefined && body.trim().startsWith('{') && /\bchannel\b/i.test(message) && /not found/i.test(message);
}

function pathWithQuery(path: string, query?: URLSearchParams): string {
  const search = query?.toString();
  return search ? `${path}?${search}` : path;
}

function withAsteriskId(result: AriPingResult, asteriskId: unknown): AriPingResult {
  return typeof asteriskId === 'string' && asteriskId ? { ...result, asteriskId } : result;
}
