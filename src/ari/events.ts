/**
 * The ARI events WebSocket: `ws://host:port/ari/events?app=NAME&subscribeAll=true`.
 *
 * - Basic auth in the `Authorization` header (never `api_key=` in the URL, which proxies and
 *   Asterisk's own debug output may log); every URL logged is credential-free.
 * - Reconnects forever with exponential backoff and jitter (capped, default 10 s) — unlike
 *   ari-client, which gives up after about 43 s. Refused credentials (401) are reported loudly
 *   (`authFailed`) and retried slowly, never in a tight loop.
 * - A WebSocket ping heartbeat declares the connection dead after two unanswered pings.
 * - Emits every event as `event`, and the ones Tollgate follows by name, typed:
 *   `ChannelDestroyed` (cause / cause_txt + channel), `ChannelCreated`, `ChannelStateChange`,
 *   `ChannelHangupRequest`, `StasisStart`, `StasisEnd`.
 * - Malformed frames (binary, not JSON, no `type`, a typed event without its channel) are counted,
 *   logged (first ten, then every thousandth) and skipped; they never break the connection.
 * - `stop()` closes the socket and stops reconnecting.
 */
import { EventEmitter } from 'node:events';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import type { IncomingMessage } from 'node:http';
import { silentLogger, type Logger } from '../log.js';
import { AriError } from './errors.js';
import {
  asteriskMessageOf,
  basicAuthorization,
  describeNetworkError,
  eventsUrl,
  parseAriEndpoint,
  type AriEndpoint,
  type AriTlsOptions,
} from './endpoint.js';
import { backoffDelay } from '../net/backoff.js';
import { parseAriFrame, typedAriEvent, type AriEvent, type AriTypedEvents } from './types.js';

export interface AriEventsOptions {
  /** ARI base URL, as for AriClient (`http://…` → `ws://…`, `https://…` → `wss://…`). */
  url: string;
  username: string;
  /** Never logged. */
  password: string;
  /** Stasis application to register (ari.app). */
  app: string;
  /** Receive the events of every channel, not only of channels in `Stasis(app)`. @default true */
  subscribeAll?: boolean;
  /** For `https://` / `wss://` URLs. */
  tls?: AriTlsOptions;
  /** Time allowed for TCP/TLS connect plus the WebSocket handshake. @default 5000 */
  connectTimeoutMs?: number;
  /** Interval between WebSocket pings; 0 disables them. Two unanswered pings close the connection. @default 5000 */
  pingIntervalMs?: number;
  /** First reconnect delay; doubles on every failure. @default 250 */
  reconnectBaseMs?: number;
  /** Reconnect delay cap. @default 10000 */
  reconnectMaxMs?: number;
  /** Delay before retrying after Asterisk refused the credentials (401). @default 60000 */
  authRetryMs?: number;
  logger?: Logger;
  /** Jitter source (tests inject a fixed one). @default Math.random */
  random?: () => number;
}

export type AriEventsState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface AriEventsStats {
  connects: number;
  disconnects: number;
  /** Text and binary frames received. */
  frames: number;
  /** Well-formed events emitted. */
  events: number;
  /** Frames that were not ARI events (or typed events missing required fields). */
  malformed: number;
  authFailures: number;
  /** Connections closed because pings went unanswered. */
  heartbeatTimeouts: number;
  /** Listener exceptions caught so one faulty consumer cannot break the connection. */
  listenerErrors: number;
}

export interface AriEventsEvents {
  /** The WebSocket is open (first time or after a reconnect). Reconcile state here. */
  connected: [info: { reconnect: boolean }];
  disconnected: [info: { reason: string; retryInMs: number }];
  /** Every event, whatever its type. */
  event: [event: AriEvent];
  ChannelCreated: [event: AriTypedEvents['ChannelCreated']];
  ChannelDestroyed: [event: AriTypedEvents['ChannelDestroyed']];
  ChannelStateChange: [event: AriTypedEvents['ChannelStateChange']];
  ChannelHangupRequest: [event: AriTypedEvents['ChannelHangupRequest']];
  StasisStart: [event: AriTypedEvents['StasisStart']];
  StasisEnd: [event: AriTypedEvents['StasisEnd']];
  malformed: [frame: { reason: string; sample: string }];
  /** Asterisk refused the credentials (401); retried after `authRetryMs`. */
  authFailed: [error: AriError];
}

interface Connection {
  ws: WebSocket;
  opened: boolean;
  /** Why it failed or closed, in words, when we know better than the close code. */
  failure?: string;
  authRefused: boolean;
  missedPongs: number;
}

const EVENTS_PATH = '/ari/events';

export class AriEvents extends EventEmitter<AriEventsEvents> {
  readonly stats: AriEventsStats = {
    connects: 0,
    disconnects: 0,
    frames: 0,
    events: 0,
    malformed: 0,
    authFailures: 0,
    heartbeatTimeouts: 0,
    listenerErrors: 0,
  };
  private readonly endpoint: AriEndpoint;
  private readonly target: string;
  private readonly shownTarget: string;
  private readonly settings: Required<Omit<AriEventsOptions, 'url' | 'username' | 'password' | 'tls' | 'logger' | 'random'>>;
  private readonly tls: AriTlsOptions;
  private readonly log: Logger;
  private readonly random: () => number;
  private currentState: AriEventsState = 'idle';
  private connection: Connection | undefined;
  private attempt = 0;
  private everConnected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private lastLoggedFailure = '';
  private stopWaiters: (() => void)[] = [];

  constructor(options: AriEventsOptions) {
    super();
    if (!options.app) throw new AriError('ari.app is empty: ARI needs a Stasis application name for the events WebSocket', { kind: 'invalid-request', method: 'GET', path: EVENTS_PATH });
    this.endpoint = parseAriEndpoint(options.url, options.username, options.password);
    this.settings = {
      app: options.app,
      subscribeAll: options.subscribeAll ?? true,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      pingIntervalMs: options.pingIntervalMs ?? 5000,
      reconnectBaseMs: options.reconnectBaseMs ?? 250,
      reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
      authRetryMs: options.authRetryMs ?? 60_000,
    };
    this.tls = options.tls ?? {};
    this.target = eventsUrl(this.endpoint, this.settings.app, this.settings.subscribeAll);
    const query = this.target.slice(this.target.indexOf('?'));
    this.shownTarget = `${EVENTS_PATH}${query}`;
    this.log = (options.logger ?? silentLogger).child({ part: 'ari-events', url: this.endpoint.display, user: this.endpoint.username, app: this.settings.app });
    this.random = options.random ?? Math.random;
  }

  get state(): AriEventsState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.currentState === 'connected';
  }

  /** The WebSocket URL (credential-free). */
  get url(): string {
    return this.target;
  }

  /** Starts connecting; reconnects forever until stop(). */
  start(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'stopped') return;
    this.currentState = 'connecting';
    this.connect();
  }

  /** Closes the WebSocket (politely when open) and stops reconnecting. */
  async stop(): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'idle') {
      this.currentState = 'stopped';
      return;
    }
    this.currentState = 'stopped';
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    const connection = this.connection;
    if (!connection) return;
    const closed = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    const { ws } = connection;
    if (ws.readyState === WebSocket.OPEN) {
      ws.close(1000, 'tollgate stopping');
      setTimeout(() => ws.terminate(), 1000).unref();
    } else if (ws.readyState !== WebSocket.CLOSED) {
      ws.terminate();
    }
    await closed;
  }

  /** Resolves once the WebSocket is open (immediately if it is). */
  waitForConnected(timeoutMs = 30_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new AriError(`ARI events WebSocket ${this.endpoint.display}${this.shownTarget} not connected within ${timeoutMs} ms`, { kind: 'timeout', method: 'GET', path: this.shownTarget }));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  // ───────────────────────────── connection ─────────────────────────────

  private connect(): void {
    if (this.currentState === 'stopped') return;
    this.currentState = 'connecting';
    // ws passes TLS options on to tls.connect (and picks the server name from the host itself).
    const options: ClientOptions & { servername?: string } = {
      headers: { Authorization: basicAuthorization(this.endpoint), 'User-Agent': 'tollgate' },
      handshakeTimeout: this.settings.connectTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    };
    if (this.endpoint.secure) {
      options.rejectUnauthorized = this.tls.rejectUnauthorized ?? true;
      if (this.tls.ca) options.ca = this.tls.ca;
      if (this.tls.servername) options.servername = this.tls.servername;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.target, options);
    } catch (error) {
      // Only a malformed URL throws here, and parseAriEndpoint has ruled that out; be safe anyway.
      this.log.error({ err: describeNetworkError(error) }, 'cannot open the ARI events WebSocket');
      this.scheduleReconnect(undefined, describeNetworkError(error));
      return;
    }
    const connection: Connection = { ws, opened: false, authRefused: false, missedPongs: 0 };
    this.connection = connection;
    ws.on('open', () => this.onOpen(connection));
    ws.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
    ws.on('pong', () => {
      connection.missedPongs = 0;
    });
    ws.on('unexpected-response', (_request, response) => this.onUnexpectedResponse(connection, response));
    ws.on('error', (error) => this.onError(connection, error));
    ws.on('close', (code, reason) => this.onClose(connection, code, reason.toString('utf8')));
  }

  private onOpen(connection: Connection): void {
    if (connection !== this.connection) return;
    if (this.currentState === 'stopped') {
      connection.ws.close(1000, 'tollgate stopping');
      return;
    }
    connection.opened = true;
    this.currentState = 'connected';
    this.attempt = 0;
    this.lastLoggedFailure = '';
    this.stats.connects++;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.log.info({ reconnect, subscribeAll: this.settings.subscribeAll }, 'connected to the ARI events WebSocket');
    this.startHeartbeat(connection);
    this.safeEmit('connected', { reconnect });
  }

  /** The server answered the upgrade with an HTTP status instead of 101 (401, 404, 503 …). */
  private onUnexpectedResponse(connection: Connection, response: IncomingMessage): void {
    const status = response.statusCode ?? 0;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(guard);
      const body = Buffer.concat(chunks).toString('utf8');
      const message = asteriskMessageOf(body) ?? response.statusMessage ?? '';
      const said = `${status} ${message}`.trim();
      if (status === 401) {
        connection.authRefused = true;
        const user = this.endpoint.username;
        const error = new AriError(
          `ARI events WebSocket at ${this.endpoint.display} refused the credentials of ARI user "${user}" (${said}). ` +
            `Check ari.username / ari.password (TOLLGATE_ARI_USERNAME / TOLLGATE_ARI_PASSWORD) against the [${user}] section of ari.conf ` +
            `(type=user, password=…, password_format).`,
          { kind: 'http', method: 'GET', path: this.shownTarget, status, asteriskMessage: message },
        );
        this.stats.authFailures++;
        connection.failure = said;
        this.log.fatal({ retryInMs: this.settings.authRetryMs }, error.message);
        this.safeEmit('authFailed', error);
      } else {
        connection.failure = `HTTP ${said}`;
        const hint =
          status === 404
            ? 'check ari.url (host, port, http.conf prefix) and that res_ari is loaded'
            : status === 400
              ? 'check ari.app'
              : status === 503
                ? 'Asterisk is not fully booted yet'
                : 'see the Asterisk log';
        this.logFailure(`ARI refused the events WebSocket (${said}): ${hint}`);
      }
      connection.ws.terminate();
    };
    // Read Asterisk's explanation (a small JSON body), but do not wait long for it.
    const guard = setTimeout(finish, 1000);
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 4096) chunks.push(chunk);
    });
    response.on('end', finish);
    response.on('error', finish);
    response.on('close', finish);
  }

  private onError(connection: Connection, error: Error): void {
    if (connection !== this.connection || this.currentState === 'stopped') return;
    // After an HTTP refusal we already know why; ws then reports its own abort.
    if (connection.failure !== undefined) return;
    const text = describeNetworkError(error);
    connection.failure = text;
    this.logFailure(`ARI events WebSocket error: ${text}`);
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    if (connection !== this.connection) return;
    clearInterval(this.pingTimer);
    this.connection = undefined;
    const wasOpen = connection.opened;
    if (wasOpen) this.stats.disconnects++;
    if (this.currentState === 'stopped') {
      for (const resolve of this.stopWaiters.splice(0)) resolve();
      return;
    }
    const why = connection.failure ?? (wasOpen ? `closed by the server (code ${code}${reason ? `, ${reason}` : ''})` : `closed before opening (code ${code})`);
    this.scheduleReconnect(connection, why);
  }

  private scheduleReconnect(connection: Connection | undefined, reason: string): void {
    const retryInMs = connection?.authRefused
      ? this.settings.authRetryMs
      : backoffDelay(this.attempt++, this.settings.reconnectBaseMs, this.settings.reconnectMaxMs, this.random);
    this.attempt = Math.min(this.attempt, 30);
    this.currentState = 'waiting';
    if (connection?.opened) this.log.warn({ retryInMs, reason }, 'ARI events WebSocket lost; reconnecting');
    else this.log.debug({ retryInMs, reason }, 'ARI events WebSocket not connected; retrying');
    this.safeEmit('disconnected', { reason, retryInMs });
    this.reconnectTimer = setTimeout(() => this.connect(), retryInMs);
  }

  /** Repeated identical failures (Asterisk down for hours) are logged once, then quietly. */
  private logFailure(text: string): void {
    if (text !== this.lastLoggedFailure) this.log.warn({}, text);
    else this.log.debug({}, `${text} (repeated)`);
    this.lastLoggedFailure = text;
  }

  private startHeartbeat(connection: Connection): void {
    clearInterval(this.pingTimer);
    const interval = this.settings.pingIntervalMs;
    if (interval <= 0) return;
    connection.missedPongs = 0;
    this.pingTimer = setInterval(() => {
      const { ws } = connection;
      if (connection !== this.connection || ws.readyState !== WebSocket.OPEN) return;
      if (connection.missedPongs >= 2) {
        this.stats.heartbeatTimeouts++;
        connection.failure = `no answer to ${connection.missedPongs} WebSocket pings (${interval} ms apart)`;
        this.log.warn({ missedPongs: connection.missedPongs }, 'ARI events WebSocket half-open (no pong); reconnecting');
        ws.terminate();
        return;
      }
      connection.missedPongs++;
      ws.ping();
    }, interval);
    this.pingTimer.unref();
  }

  // ───────────────────────────── frames ─────────────────────────────

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (connection !== this.connection) return;
    this.stats.frames++;
    // Anything from the server proves the link is alive.
    connection.missedPongs = 0;
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const frame = parseAriFrame(buffer, isBinary);
    if (!frame.ok) {
      this.malformed(frame.reason, frame.sample);
      return;
    }
    const event = frame.event;
    const typed = typedAriEvent(event);
    if (typeof typed === 'string') {
      this.malformed(typed, JSON.stringify(event).slice(0, 120));
    }
    this.stats.events++;
    if (event.type === 'ApplicationReplaced') {
      this.log.error({}, `another ARI client registered the Stasis application "${this.settings.app}"; this connection no longer receives its events. Give each Tollgate its own ari.app`);
    }
    this.safeEmit('event', event);
    if (typed && typeof typed !== 'string') {
      (this.safeEmit as (name: string, value: unknown) => void)(typed.type, typed);
    }
  }

  private malformed(reason: string, sample: string): void {
    this.stats.malformed++;
    const total = this.stats.malformed;
    if (total <= 10 || total % 1000 === 0) this.log.warn({ reason, sample, total }, 'malformed ARI event frame ignored');
    this.safeEmit('malformed', { reason, sample });
  }

  /** Emits without letting a listener's exception escape into the socket handler. */
  private safeEmit<K extends keyof AriEventsEvents>(name: K, ...args: AriEventsEvents[K]): void {
    for (const listener of this.rawListeners(name) as ((...values: AriEventsEvents[K]) => void)[]) {
      try {
        listener(...args);
      } catch (error) {
        this.stats.listenerErrors++;
        this.log.error({ err: error instanceof Error ? error.stack : String(error), event: name }, 'ARI events listener failed');
      }
    }
  }
}
