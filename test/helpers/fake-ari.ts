/**
 * A fake Asterisk ARI on 127.0.0.1: node:http(s) + a ws WebSocketServer on the same port,
 * answering the way Asterisk 22.10.1 does (test/fixtures/ari/, res/res_ari.c,
 * res/ari/resource_channels.c):
 *
 * - Basic auth (or `?api_key=user:pass`) on every request, else 401 `{"message":"Authentication
 *   required"}` with `WWW-Authenticate: Basic realm="Asterisk REST Interface"`; a read-only user
 *   gets 403 `Write access denied` for anything but GET.
 * - `GET /ari/channels`, `GET /ari/channels/{id}`, `GET /ari/asterisk/ping`, `GET /ari/asterisk/info`.
 * - `DELETE /ari/channels/{id}` (id or channel name, like `ast_channel_get_by_name`): unknown →
 *   404 `{"message":"Channel not found"}` byte for byte as delete-nonexistent.http.txt; both
 *   `reason` and `reason_code` → 400; a bad reason → 400; else 204, the channel is removed and
 *   `ChannelDestroyed` (cause 21 for reason_code=21, 34 for reason=congestion, 16 by default, with
 *   Asterisk's cause text) goes to the WebSockets that follow it.
 * - `ws://…/ari/events?app=NAME[&subscribeAll=true]`: channel events reach sockets whose app
 *   subscribed to all, or whose app holds the channel in Stasis.
 * - Unknown paths under /ari → 404 `Resource not found`; outside /ari → Asterisk's HTML 404 page.
 *
 * Hooks for tests: `requests` (every request, WebSocket upgrades included), `delayMs` (slow
 * answers, for timeouts), `failWith()` (500s …), `dropWebSockets()`, `freezeWebSockets()` (no
 * pongs: a half-open link), `sendRaw()` (malformed frames), `pushEvent()`, `stop()` / `start()` /
 * `restart()` on the same port.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { ARI_HANGUP_REASONS, isAriHangupReason, type AriChannel } from '../../src/ari/types.js';
import { causeText } from '../../src/sim/causes.js';
import { fixturePath } from './fixtures.js';

const LOOPBACK = '127.0.0.1';

export interface FakeAriUser {
  username: string;
  password: string;
  /** ari.conf `read_only=yes`: GET only. */
  readOnly?: boolean;
}

export interface FakeAriOptions {
  /** @default [{ username: 'tollgate', password: 'fake-ari-secret' }] */
  users?: FakeAriUser[];
  /** Channels Asterisk has. @default channels-five-calls.json */
  channels?: AriChannel[];
  /** Fixed port; 0 picks one. A restart always comes back on the same port. @default 0 */
  port?: number;
  /** Serve https:// and wss:// with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Delay before answering each REST request (not WebSocket upgrades). @default 0 */
  delayMs?: number;
  /** @default '52:54:00:12:34:56' */
  asteriskId?: string;
  /** @default '22.10.1' */
  version?: string;
  /** Serve `GET /ari/asterisk/ping` (older Asterisk lacks it). @default true */
  pingEndpoint?: boolean;
  /**
   * Legs bridged together: hanging one up ends the other with cause 16, and that peer's
   * ChannelDestroyed goes out FIRST, as in hangup-by-ami-and-ari.ami.
   */
  bridged?: [string, string][];
}

export interface FakeAriRequest {
  method: string;
  /** Path without the query, as sent (still percent-encoded). */
  path: string;
  query: Record<string, string>;
  /** The user named by the Authorization header or api_key, right or wrong. */
  username?: string;
  /** How the client authenticated. */
  auth: 'basic' | 'api_key' | 'none';
  authorized: boolean;
  websocket: boolean;
  /** Raw `Authorization` header (tests check it is Basic, never log it). */
  authorization?: string;
  status?: number;
}

export interface FakeAriSocketInfo {
  apps: string[];
  subscribeAll: boolean;
  username: string;
}

export interface FakeAriFailure {
  status: number;
  message: string;
  /** How many requests fail; Infinity for all until clearFailures(). */
  remaining: number;
  /** Which requests: REST only (default), WebSocket upgrades only, or both. */
  scope: 'rest' | 'websocket' | 'all';
}

export interface FakeAriEvents {
  request: [request: FakeAriRequest];
  connection: [socket: FakeAriSocketInfo];
  hungup: [info: { channel: AriChannel; cause: number }];
}

interface SocketEntry {
  ws: WebSocket;
  info: FakeAriSocketInfo;
}

/** `2026-11-21T11:01:02.726+0000`, as Asterisk prints times. */
export function asteriskTime(date: Date = new Date()): string {
  return date.toISOString().replace('Z', '+0000');
}

/** The recorded channel list (channels-five-calls.json), freshly parsed. */
export function fiveCallsChannels(): AriChannel[] {
  return JSON.parse(readFileSync(fixturePath('ari', 'channels-five-calls.json'), 'utf8')) as AriChannel[];
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const HTML_404 =
  '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n<title>404 Not Found</title>\r\n</head><body>\r\n<h1>Not Found</h1>\r\n<p>The requested URL was not found on this server.</p>\r\n<hr />\r\n<address>Asterisk Server</address>\r\n</body></html>\r\n';

export class FakeAri extends EventEmitter<FakeAriEvents> {
  /** Every request, oldest first (WebSocket upgrades have `websocket: true`). */
  readonly requests: FakeAriRequest[] = [];
  /** Delay before answering each REST request. */
  delayMs: number;
  /** WebSocket pings received from clients (each answered with a pong unless frozen). */
  pingsReceived = 0;
  private readonly users: FakeAriUser[];
  private readonly tlsOptions: FakeAriOptions['tls'];
  private readonly asteriskId: string;
  private readonly version: string;
  private readonly pingEndpoint: boolean;
  private readonly bridged: [string, string][];
  private channelList: AriChannel[];
  /** Channel id → Stasis app holding it. */
  private readonly stasis = new Map<string, string>();
  private failure: FakeAriFailure | undefined;
  private server: http.Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly entries = new Set<SocketEntry>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rawSockets = new Set<Duplex>();
  private requestedPort: number;
  private boundPort = 0;
  private readonly bootedAt = new Date();

  constructor(options: FakeAriOptions = {}) {
    super();
    this.users = options.users ?? [{ username: 'tollgate', password: 'fake-ari-secret' }];
    this.channelList = structuredClone(options.channels ?? fiveCallsChannels());
    this.requestedPort = options.port ?? 0;
    this.tlsOptions = options.tls;
    this.delayMs = options.delayMs ?? 0;
    this.asteriskId = options.asteriskId ?? '52:54:00:12:34:56';
    this.version = options.version ?? '22.10.1';
    this.pingEndpoint = options.pingEndpoint ?? true;
    this.bridged = options.bridged ?? [];
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  get port(): number {
    return this.boundPort;
  }

  /** `http://127.0.0.1:PORT` (https with TLS). */
  get url(): string {
    return `${this.tlsOptions ? 'https' : 'http'}://${LOOPBACK}:${this.boundPort}`;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Listens on 127.0.0.1 (the same port as before after a stop); resolves with the port. */
  async start(): Promise<number> {
    if (this.server) throw new Error('FakeAri is already started');
    const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => this.onRequest(request, response);
    const server = this.tlsOptions ? https.createServer({ key: this.tlsOptions.key, cert: this.tlsOptions.cert }, handler) : http.createServer(handler);
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
    server.on('upgrade', (request, socket, head) => this.onUpgrade(request, socket, head));
    server.on('clientError', (_error, socket) => socket.destroy());
    this.server = server;
    this.wss = wss;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: LOOPBACK, port: this.requestedPort, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.server = undefined;
      this.wss = undefined;
      throw error;
    }
    server.on('error', () => undefined);
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : 0;
    this.requestedPort = this.boundPort;
    return this.boundPort;
  }

  /** Drops every connection (HTTP, WebSocket, delayed answers) and stops listening. Channels stay. */
  async stop(): Promise<void> {
    const server = this.server;
    const wss = this.wss;
    this.server = undefined;
    this.wss = undefined;
    // Stop accepting first, so a client reconnecting meanwhile is refused, not half-served.
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeAllConnections();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const entry of this.entries) entry.ws.terminate();
    this.entries.clear();
    for (const socket of this.rawSockets) socket.destroy();
    this.rawSockets.clear();
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
    await closed;
  }

  /** stop(), then listen again on the same port (an Asterisk restart keeping its channels). */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  // ───────────────────────────── state and hooks ─────────────────────────────

  /** A copy of the channels Asterisk has now. */
  channels(): AriChannel[] {
    return structuredClone(this.channelList);
  }

  hasChannel(id: string): boolean {
    return this.channelList.some((channel) => channel.id === id);
  }

  /** Adds a channel; sockets that follow every channel get `ChannelCreated`. */
  addChannel(channel: AriChannel): void {
    this.channelList.push(structuredClone(channel));
    this.broadcast(channel.id, { type: 'ChannelCreated', timestamp: asteriskTime(), channel });
  }

  /** Puts a channel into `Stasis(app, …args)`: that app's sockets get `StasisStart`. */
  enterStasis(id: string, app: string, args: string[] = []): void {
    const channel = this.find(id);
    if (!channel) throw new Error(`no channel ${id}`);
    this.stasis.set(channel.id, app);
    this.broadcast(channel.id, { type: 'StasisStart', timestamp: asteriskTime(), args, channel });
  }

  /** Changes a channel's state (`Ringing` → `Up` …) and announces `ChannelStateChange`. */
  setChannelState(id: string, state: string): void {
    const channel = this.find(id);
    if (!channel) throw new Error(`no channel ${id}`);
    channel.state = state;
    this.broadcast(channel.id, { type: 'ChannelStateChange', timestamp: asteriskTime(), channel: structuredClone(channel) });
  }

  /** The channel ends on its own (the far end hung up): removed, ChannelDestroyed sent. */
  endChannel(id: string, cause = 16): boolean {
    const channel = this.find(id);
    if (!channel) return false;
    this.destroy(channel, cause);
    return true;
  }

  /** Makes the next `times` requests (REST by default) fail with `status` and `{"message": message}`. */
  failWith(status: number, message: string, options: { times?: number; scope?: FakeAriFailure['scope'] } = {}): void {
    this.failure = { status, message, remaining: options.times ?? Infinity, scope: options.scope ?? 'rest' };
  }

  clearFailures(): void {
    this.failure = undefined;
  }

  /** Open event WebSockets. */
  sockets(): FakeAriSocketInfo[] {
    return [...this.entries].filter((entry) => entry.ws.readyState === WebSocket.OPEN).map((entry) => ({ ...entry.info }));
  }

  get socketCount(): number {
    return this.sockets().length;
  }

  /** Kills every event WebSocket abruptly (no close frame), as a network drop or crash would. */
  dropWebSockets(): void {
    for (const entry of this.entries) entry.ws.terminate();
    this.entries.clear();
  }

  /** Closes every event WebSocket with a close frame (code 1001, going away). */
  closeWebSockets(code = 1001, reason = ''): void {
    for (const entry of this.entries) entry.ws.close(code, reason);
  }

  /** Stops reading on every open WebSocket: pings go unanswered, as on a half-open link. */
  freezeWebSockets(): void {
    for (const entry of this.entries) entry.ws.pause();
  }

  /** Sends a raw frame (text, or binary) to every open event WebSocket. */
  sendRaw(data: string | Buffer, options: { binary?: boolean } = {}): void {
    for (const entry of this.entries) {
      if (entry.ws.readyState === WebSocket.OPEN) entry.ws.send(data, { binary: options.binary ?? Buffer.isBuffer(data) });
    }
  }

  /**
   * Sends an event to every open socket of `app` (every socket when omitted), filling in
   * `application`, `timestamp` and `asterisk_id` as Asterisk does.
   */
  pushEvent(event: { type: string; [field: string]: unknown }, app?: string): void {
    for (const entry of this.entries) {
      if (entry.ws.readyState !== WebSocket.OPEN) continue;
      for (const socketApp of entry.info.apps) {
        if (app !== undefined && socketApp !== app) continue;
        entry.ws.send(JSON.stringify(this.stamp(event, socketApp)));
      }
    }
  }

  // ───────────────────────────── HTTP ─────────────────────────────

  private onRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const record = this.record(request, url, false);
    const answer = (status: number, body?: unknown, extra: Record<string, string> = {}): void => {
      record.status = status;
      this.respond(response, status, body, extra);
    };
    // Like Asterisk's http.c: only /ari is served here; anything else is its HTML 404 page.
    if (!url.pathname.startsWith('/ari/') && url.pathname !== '/ari') {
      record.status = 404;
      const body = Buffer.from(HTML_404);
      response.writeHead(404, 'Not Found', { Server: 'Asterisk', Date: new Date().toUTCString(), 'Content-type': 'text/html', 'Content-Length': String(body.length) });
      response.end(body);
      return;
    }
    if (!record.authorized) {
      answer(401, { message: 'Authentication required' }, { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' });
      return;
    }
    const failure = this.takeFailure('rest');
    const handle = (): void => {
      if (response.destroyed || response.writableEnded) return;
      if (failure) {
        answer(failure.status, { message: failure.message });
        return;
      }
      const user = this.users.find((candidate) => candidate.username === record.username);
      if (user?.readOnly && request.method !== 'GET' && request.method !== 'OPTIONS') {
        answer(403, { message: 'Write access denied' });
        return;
      }
      this.route(request.method ?? 'GET', url, answer);
    };
    if (this.delayMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        handle();
      }, this.delayMs);
      this.timers.add(timer);
    } else {
      handle();
    }
  }

  private route(method: string, url: URL, answer: (status: number, body?: unknown, extra?: Record<string, string>) => void): void {
    const path = url.pathname;
    if (path.endsWith('/')) {
      answer(404, { message: `ARI URLs do not end with a slash. Try /ari/${path.slice(5, -1)}` });
      return;
    }
    const segments = path.split('/').slice(2).map((segment) => decodeURIComponent(segment));
    const allow = (methods: string): void => answer(405, { message: 'Invalid method' }, { Allow: methods });
    if (segments.length === 1 && segments[0] === 'channels') {
      if (method !== 'GET') return allow('GET,POST');
      return answer(200, this.channelList);
    }
    if (segments.length === 2 && segments[0] === 'channels') {
      const channel = this.find(segments[1]!);
      if (method === 'GET') return channel ? answer(200, channel) : answer(404, { message: 'Channel not found' });
      if (method !== 'DELETE') return allow('GET,POST,DELETE');
      return this.hangup(channel, url.searchParams, answer);
    }
    if (segments.length === 2 && segments[0] === 'asterisk' && segments[1] === 'ping' && this.pingEndpoint) {
      if (method !== 'GET') return allow('GET');
      return answer(200, { asterisk_id: this.asteriskId, ping: 'pong', timestamp: asteriskTime() });
    }
    if (segments.length === 2 && segments[0] === 'asterisk' && segments[1] === 'info') {
      if (method !== 'GET') return allow('GET');
      return answer(200, {
        build: { os: 'Linux', kernel: '6.1.0', machine: 'x86_64', options: '', date: '2026-11-01 00:00:00 UTC', user: 'root' },
        system: { version: this.version, entity_id: this.asteriskId },
        config: { name: 'pbx', default_language: 'en', setid: { user: 'asterisk', group: 'asterisk' } },
        status: { startup_time: asteriskTime(this.bootedAt), last_reload_time: asteriskTime(this.bootedAt) },
      });
    }
    return answer(404, { message: 'Resource not found' });
  }

  /** resource_channels.c `ast_ari_channels_hangup`, check for check. */
  private hangup(channel: AriChannel | undefined, query: URLSearchParams, answer: (status: number, body?: unknown) => void): void {
    if (!channel) return answer(404, { message: 'Channel not found' });
    const reason = query.get('reason') ?? '';
    const reasonCode = query.get('reason_code') ?? '';
    if (reason && reasonCode) return answer(400, { message: "The reason and reason_code can't both be specified" });
    let cause = 16;
    if (reasonCode) {
      const match = /^\s*([+-]?\d+)/.exec(reasonCode);
      if (!match) return answer(400, { message: 'Invalid reason for hangup reason code provided' });
      cause = Number(match[1]);
    } else if (reason) {
      if (!isAriHangupReason(reason)) return answer(400, { message: 'Invalid reason for hangup reason provided' });
      cause = ARI_HANGUP_REASONS[reason];
    }
    answer(204);
    // Asterisk answers at once; the channel is torn down, and the event sent, a moment later.
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.channelList.includes(channel)) this.destroy(channel, cause);
    }, 1);
    this.timers.add(timer);
  }

  private destroy(channel: AriChannel, cause: number): void {
    const peerId = this.bridged.find((pair) => pair.includes(channel.id))?.find((id) => id !== channel.id);
    const peer = peerId !== undefined ? this.find(peerId) : undefined;
    // The peer leg is cleared normally, and its events arrive first (hangup-by-ami-and-ari.ami).
    for (const [leg, legCause] of [...(peer ? [[peer, 16] as const] : []), [channel, cause] as const]) {
      this.channelList = this.channelList.filter((candidate) => candidate !== leg);
      const app = this.stasis.get(leg.id);
      if (app !== undefined) {
        this.broadcast(leg.id, { type: 'StasisEnd', timestamp: asteriskTime(), channel: leg });
      }
      this.broadcast(leg.id, { type: 'ChannelDestroyed', timestamp: asteriskTime(), cause: legCause, cause_txt: causeText(legCause), channel: leg });
      this.stasis.delete(leg.id);
      this.emit('hungup', { channel: structuredClone(leg), cause: legCause });
    }
  }

  private find(idOrName: string): AriChannel | undefined {
    // ast_channel_get_by_name: by name first, then by uniqueid.
    return this.channelList.find((channel) => channel.name === idOrName) ?? this.channelList.find((channel) => channel.id === idOrName);
  }

  /**
   * Sends a channel event to the sockets that follow that channel: apps subscribed to all, and
   * the app holding it in Stasis. StasisStart / StasisEnd go to the Stasis app only.
   */
  private broadcast(channelId: string, event: { type: string; [field: string]: unknown }): void {
    const stasisApp = this.stasis.get(channelId);
    const stasisOnly = event.type === 'StasisStart' || event.type === 'StasisEnd';
    for (const entry of this.entries) {
      if (entry.ws.readyState !== WebSocket.OPEN) continue;
      for (const app of entry.info.apps) {
        if (app !== stasisApp && (stasisOnly || !entry.info.subscribeAll)) continue;
        entry.ws.send(JSON.stringify(this.stamp(event, app)));
      }
    }
  }

  private stamp(event: { type: string; [field: string]: unknown }, app: string): Record<string, unknown> {
    return { timestamp: asteriskTime(), ...event, asterisk_id: this.asteriskId, application: app };
  }

  /** Headers in Asterisk's order: Server, Date, Cache-Control, [extra], Content-type, Content-Length. */
  private respond(response: http.ServerResponse, status: number, body: unknown, extra: Record<string, string>): void {
    if (response.destroyed || response.writableEnded) return;
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    const headers: [string, string][] = [
      ['Server', 'Asterisk'],
      ['Date', new Date().toUTCString()],
      ['Cache-Control', 'no-cache, no-store'],
      ...Object.entries(extra),
    ];
    if (body !== undefined) headers.push(['Content-type', 'application/json']);
    headers.push(['Content-Length', String(payload.length)]);
    response.writeHead(status, STATUS_TEXT[status] ?? 'Error', headers.flat());
    response.end(payload);
  }

  // ───────────────────────────── WebSocket ─────────────────────────────

  private onUpgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', 'http://fake');
    const record = this.record(request, url, true);
    this.rawSockets.add(socket);
    socket.on('close', () => this.rawSockets.delete(socket));
    socket.on('error', () => undefined);
    const refuse = (status: number, message: string, extra: Record<string, string> = {}): void => {
      record.status = status;
      const body = JSON.stringify({ message });
      const lines = [
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
        'Server: Asterisk',
        `Date: ${new Date().toUTCString()}`,
        'Cache-Control: no-cache, no-store',
        ...Object.entries(extra).map(([name, value]) => `${name}: ${value}`),
        'Content-type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
      ];
      socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
    };
    if (url.pathname !== '/ari/events') return refuse(404, 'Resource not found');
    if (!record.authorized) return refuse(401, 'Authentication required', { 'WWW-Authenticate': 'Basic realm="Asterisk REST Interface"' });
    const failure = this.takeFailure('websocket');
    if (failure) return refuse(failure.status, failure.message);
    const apps = (url.searchParams.get('app') ?? '')
      .split(',')
      .map((app) => app.trim())
      .filter(Boolean);
    if (apps.length === 0) return refuse(400, "Missing param 'app'");
    const subscribeAll = /^(true|yes|1)$/i.test(url.searchParams.get('subscribeAll') ?? '');
    const wss = this.wss;
    if (!wss) return refuse(503, 'Service Unavailable');
    wss.handleUpgrade(request, socket, head, (ws) => {
      this.rawSockets.delete(socket);
      if (this.wss !== wss) {
        ws.terminate();
        return;
      }
      const entry: SocketEntry = { ws, info: { apps, subscribeAll, username: record.username ?? '' } };
      this.entries.add(entry);
      ws.on('close', () => this.entries.delete(entry));
      ws.on('ping', () => this.pingsReceived++);
      ws.on('error', () => undefined);
      this.emit('connection', { ...entry.info });
    });
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private record(request: http.IncomingMessage, url: URL, websocket: boolean): FakeAriRequest {
    const query = Object.fromEntries(url.searchParams.entries());
    const authorization = request.headers.authorization;
    let username: string | undefined;
    let password: string | undefined;
    let auth: FakeAriRequest['auth'] = 'none';
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (basic) {
      auth = 'basic';
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      username = colon >= 0 ? decoded.slice(0, colon) : decoded;
      password = colon >= 0 ? decoded.slice(colon + 1) : undefined;
    } else if (query.api_key !== undefined) {
      auth = 'api_key';
      const colon = query.api_key.indexOf(':');
      username = colon >= 0 ? query.api_key.slice(0, colon) : query.api_key;
      password = colon >= 0 ? query.api_key.slice(colon + 1) : undefined;
    }
    const authorized = password !== undefined && this.users.some((user) => user.username === username && user.password === password);
    const record: FakeAriRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      query,
      auth,
      authorized,
      websocket,
      ...(username !== undefined ? { username } : {}),
      ...(authorization !== undefined ? { authorization } : {}),
    };
    this.requests.push(record);
    this.emit('request', record);
    return record;
  }

  private takeFailure(kind: 'rest' | 'websocket'): FakeAriFailure | undefined {
    const failure = this.failure;
    if (!failure || (failure.scope !== 'all' && failure.scope !== kind)) return undefined;
    failure.remaining--;
    if (failure.remaining <= 0) this.failure = undefined;
    return failure;
  }
}
