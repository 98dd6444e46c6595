/**
 * AMI client: one long-lived, self-healing session with Asterisk.
 *
 * - TCP or TLS; logs in with `Events: on` (or a class list) once the banner arrives.
 * - A refused login is reported loudly (AmiLoginError) and retried slowly, never in a tight loop.
 * - Actions are matched to answers by ActionID, each with its own timeout; list actions
 *   (`EventList: start` … `…Complete`) resolve with their items.
 * - A Ping keepalive declares the connection half-open after two unanswered pings.
 * - Reconnects forever with exponential backoff and jitter (capped, default 10 s); every pending
 *   action is rejected the moment the connection drops, so nothing waits forever.
 * - The socket is never paused: Asterisk drops a client that stops reading for `writetimeout`
 *   (100 ms by default). Messages go through a bounded in-memory queue that is normally drained
 *   synchronously, in the same event-loop turn the bytes arrived; if consumers fall behind, the
 *   oldest plain events are dropped, counted and reported (`overflow`) so the owner can reconcile.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AmiDecoder, encodeAction, type AmiActionFields } from './codec.js';
import type { AmiMessage } from './message.js';
import { AmiLoginError, AmiNotConnectedError, AmiResponseError, AmiTimeoutError } from './errors.js';
import { silentLogger, type Logger } from '../log.js';
import { backoffDelay } from '../net/backoff.js';

export interface AmiTlsOptions {
  /** @default true */
  rejectUnauthorized?: boolean;
  /** PEM CA bundle for a private CA or a self-signed Asterisk certificate. */
  ca?: string | Buffer;
  /** TLS server name; defaults to the host when it is a name, not an IP. */
  servername?: string;
}

export interface AmiClientOptions {
  host: string;
  port: number;
  username: string;
  /** Never logged. */
  secret: string;
  /** Use TLS (Asterisk's `tlsenable=yes`, usually port 5039). @default false */
  tls?: boolean | AmiTlsOptions;
  /** `Events:` sent at login: `on`, `off` or a class list such as `call,security,system`. @default 'on' */
  events?: string;
  /** Time allowed for TCP/TLS connect plus banner. @default 5000 */
  connectTimeoutMs?: number;
  /** Default per-action timeout. @default 5000 */
  actionTimeoutMs?: number;
  /** Interval between keepalive Pings; 0 disables them. Two unanswered Pings close the connection. @default 5000 */
  pingIntervalMs?: number;
  /** First reconnect delay; doubles on every failure. @default 250 */
  reconnectBaseMs?: number;
  /** Reconnect delay cap. @default 10000 */
  reconnectMaxMs?: number;
  /** Delay before retrying after Asterisk refused the credentials. @default 60000 */
  loginRetryMs?: number;
  /** Messages buffered for slow consumers before the oldest plain events are dropped. @default 100000 */
  maxQueuedMessages?: number;
  /**
   * Messages buffered before the oldest events of the `security` class (a scan's refusals) are
   * dropped, so a scan cannot push call events out. SuccessfulAuth is kept. @default 20000
   */
  maxQueuedBeforeShedding?: number;
  /** Longest stretch spent dispatching before yielding to the event loop (socket reads). @default 25 */
  dispatchBudgetMs?: number;
  logger?: Logger;
  /** Jitter source (tests inject a fixed one). @default Math.random */
  random?: () => number;
}

export interface AmiActionOptions {
  timeoutMs?: number;
}

export interface AmiActionResult {
  response: AmiMessage;
  /** Items of a list action (`EventList: start`), in order; empty otherwise. */
  events: AmiMessage[];
  /** The list's closing `…Complete` event, for list actions. */
  complete?: AmiMessage;
}

export type AmiClientState = 'idle' | 'connecting' | 'authenticating' | 'connected' | 'waiting' | 'stopped';

export interface AmiClientStats {
  connects: number;
  disconnects: number;
  bytesIn: number;
  messages: number;
  events: number;
  garbage: number;
  /** Messages cut short by the server closing mid-message. */
  truncated: number;
  /** Plain events dropped because consumers fell behind. */
  droppedEvents: number;
  /** Security-class events dropped first when consumers fell behind (no reconciliation needed). */
  shedSecurityEvents: number;
  /** Answers that arrived after their action timed out. */
  lateResponses: number;
  loginFailures: number;
  /** Listener exceptions caught so one faulty consumer cannot break the session. */
  listenerErrors: number;
  queueHighWater: number;
}

export interface AmiClientEvents {
  /** Logged in (first time or after a reconnect). Reconcile state here. */
  connected: [info: { version: string; reconnect: boolean }];
  disconnected: [info: { reason: string; retryInMs: number }];
  event: [message: AmiMessage];
  loginFailed: [error: AmiLoginError];
  garbage: [frame: { reason: string; sample: string }];
  /** Events were dropped; the owner's picture of the PBX may be stale and should be reconciled. */
  overflow: [info: { dropped: number }];
  /** Security-class events were dropped to keep up (by event name); the call picture is intact. */
  shed: [info: { count: number; byName: ReadonlyMap<string, number> }];
  /** An action was written to the socket (synchronously, in the caller's event-loop turn). */
  sent: [info: { action: string; actionId: string; fields: AmiActionFields }];
}

interface PendingAction {
  action: string;
  actionId: string;
  resolve: (result: AmiActionResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
  response?: AmiMessage;
  items?: AmiMessage[];
}

export class AmiClient extends EventEmitter<AmiClientEvents> {
  readonly stats: AmiClientStats = {
    connects: 0,
    disconnects: 0,
    bytesIn: 0,
    messages: 0,
    events: 0,
    garbage: 0,
    truncated: 0,
    droppedEvents: 0,
    shedSecurityEvents: 0,
    lateResponses: 0,
    loginFailures: 0,
    listenerErrors: 0,
    queueHighWater: 0,
  };
  private readonly options: Required<Omit<AmiClientOptions, 'tls' | 'logger' | 'random'>> & Pick<AmiClientOptions, 'tls'>;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly idPrefix = `tg${randomBytes(3).toString('hex')}`;
  private nextId = 1;
  private currentState: AmiClientState = 'idle';
  private socket: net.Socket | undefined;
  private decoder = new AmiDecoder({ deferEvent: EVERY_EVENT });
  private skipEvent: ((name: string) => boolean) | undefined;
  private successSource: ((message: AmiMessage) => string) | undefined;
  private readonly pending = new Map<string, PendingAction>();
  private queue: AmiMessage[] = [];
  private queueHead = 0;
  private dispatching = false;
  private dispatchScheduled = false;
  private attempt = 0;
  private everConnected = false;
  private loginRefused = false;
  private bannerVersion = '';
  private connectTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pingsOutstanding = 0;
  private lastErrorText = '';
  private stopWaiters: (() => void)[] = [];

  constructor(options: AmiClientOptions) {
    super();
    this.options = {
      host: options.host,
      port: options.port,
      username: options.username,
      secret: options.secret,
      tls: options.tls,
      events: options.events ?? 'on',
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      actionTimeoutMs: options.actionTimeoutMs ?? 5000,
      pingIntervalMs: options.pingIntervalMs ?? 5000,
      reconnectBaseMs: options.reconnectBaseMs ?? 250,
      reconnectMaxMs: options.reconnectMaxMs ?? 10_000,
      loginRetryMs: options.loginRetryMs ?? 60_000,
      maxQueuedMessages: options.maxQueuedMessages ?? 100_000,
      maxQueuedBeforeShedding: options.maxQueuedBeforeShedding ?? 20_000,
      dispatchBudgetMs: options.dispatchBudgetMs ?? 25,
    };
    this.log = (options.logger ?? silentLogger).child({ part: 'ami', host: options.host, port: options.port, user: options.username });
    this.random = options.random ?? Math.random;
  }

  get state(): AmiClientState {
    return this.currentState;
  }

  get connected(): boolean {
    return this.currentState === 'connected';
  }

  /** The AMI version from the banner (`11.0.0` on Asterisk 22), once connected. */
  get amiVersion(): string {
    return this.bannerVersion;
  }

  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }

  /** Starts connecting; reconnects forever until stop(). */
  start(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'stopped') return;
    this.currentState = 'connecting';
    this.connect();
  }

  /** Logs off politely when connected, closes the socket and stops reconnecting. */
  async stop(): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'idle') {
      this.currentState = 'stopped';
      return;
    }
    const wasConnected = this.currentState === 'connected';
    this.currentState = 'stopped';
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    const closed = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    if (wasConnected && socket.writable) {
      socket.write(encodeAction('Logoff', this.newActionId()));
      socket.end();
      setTimeout(() => socket.destroy(), 500).unref();
    } else {
      socket.destroy();
    }
    await closed;
  }

  /** Resolves once logged in (immediately if already). */
  waitForConnected(timeoutMs = 30_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new AmiNotConnectedError('connect', `not connected within ${timeoutMs} ms`));
      }, timeoutMs);
      const onConnected = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connected', onConnected);
    });
  }

  /**
   * Sends an action now — synchronously, in this event-loop turn — and resolves with its answer.
   * Rejects with AmiResponseError on `Response: Error`, AmiTimeoutError, AmiNotConnectedError
   * (not connected, or the connection dropped before the answer), or AmiEncodeError (bad input).
   * Actions are never queued for a later connection: a hang-up meant for a call that has since
   * ended must not be replayed minutes later.
   */
  action(action: string, fields: AmiActionFields = {}, options: AmiActionOptions = {}): Promise<AmiActionResult> {
    if (this.currentState !== 'connected') {
      return Promise.reject(new AmiNotConnectedError(action, `not connected to Asterisk (state ${this.currentState})`));
    }
    return this.send(action, fields, options.timeoutMs ?? this.options.actionTimeoutMs);
  }

  // ───────────────────────────── connection ─────────────────────────────

  private connect(): void {
    if (this.currentState === 'stopped') return;
    this.currentState = 'connecting';
    this.decoder = new AmiDecoder({ ...(this.skipEvent ? { skipEvent: this.skipEvent } : {}), deferEvent: EVERY_EVENT });
    this.bannerVersion = '';
    const { host, port } = this.options;
    const socket = this.options.tls ? this.connectTls(host, port) : net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 15_000);
    this.connectTimer = setTimeout(() => {
      socket.destroy(new Error(`no AMI banner within ${this.options.connectTimeoutMs} ms`));
    }, this.options.connectTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => this.onSocketError(error));
    socket.on('close', () => this.onClose(socket));
  }

  private connectTls(host: string, port: number): tls.TLSSocket {
    const settings = typeof this.options.tls === 'object' ? this.options.tls : {};
    const connectOptions: tls.ConnectionOptions = { host, port, rejectUnauthorized: settings.rejectUnauthorized ?? true };
    if (settings.ca) connectOptions.ca = settings.ca;
    const servername = settings.servername ?? (net.isIP(host) ? undefined : host);
    if (servername) connectOptions.servername = servername;
    return tls.connect(connectOptions);
  }

  private onSocketError(error: NodeJS.ErrnoException): void {
    const text = error.code ? `${error.code}: ${error.message}` : error.message;
    // Repeated identical failures (Asterisk down for hours) are logged once, then quietly.
    if (text !== this.lastErrorText) this.log.warn({ err: text }, 'AMI connection error');
    else this.log.debug({ err: text }, 'AMI connection error (repeated)');
    this.lastErrorText = text;
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.stats.bytesIn += chunk.length;
    let skipped: Map<string, number> | undefined;
    const receivedAt = performance.now();
    // Calls first within what one read brings (a scan fills reads of 64 KB with refusals): the
    // refusals are queued after the other events of the read, except that a success (a guessed
    // password is judged on "refusals, then a success") still comes after the refusals before it.
    let refusals: AmiMessage[] | undefined;
    for (const frame of this.decoder.push(chunk)) {
      if (frame.type === 'message') {
        const message = frame.message;
        message.receivedAt = receivedAt;
        if (isSheddable(message)) {
          (refusals ??= []).push(message);
          continue;
        }
        if (refusals && message.name === 'SuccessfulAuth') refusals = this.queueRefusalsBefore(message, refusals);
        this.queue.push(message);
      } else if (frame.type === 'skipped') {
        skipped ??= new Map();
        skipped.set(frame.name, (skipped.get(frame.name) ?? 0) + 1);
      } else if (frame.type === 'banner') {
        this.onBanner(socket, frame.version);
      } else {
        this.stats.garbage++;
        if (this.stats.garbage <= 10 || this.stats.garbage % 1000 === 0) {
          this.log.warn({ reason: frame.reason, sample: frame.sample, total: this.stats.garbage }, 'malformed AMI input ignored');
        }
        this.safeEmit('garbage', { reason: frame.reason, sample: frame.sample });
      }
    }
    if (refusals) for (const refusal of refusals) this.queue.push(refusal);
    if (skipped) {
      let count = 0;
      for (const n of skipped.values()) count += n;
      this.stats.shedSecurityEvents += count;
      this.safeEmit('shed', { count, byName: skipped });
    }
    this.enforceQueueBound();
    this.dispatch();
  }

  /**
   * Events the consumer would shed unread right now (a full security lane): the decoder passes over
   * them by name, and they are reported as shed.
   */
  skipEventsWhen(predicate: ((name: string) => boolean) | undefined): void {
    this.skipEvent = predicate;
    this.decoder.skipEvent = predicate;
  }

  /**
   * Which refusals of a read a success must follow: with a source key (the address), only those
   * from the success's own source (a guessed password is "failures from this address, then a
   * success"); the others keep waiting behind the read's call events. Without one, every refusal
   * before the success. A phone's authenticated INVITE is a success: under a scan, every call
   * would otherwise wait behind a read's worth of refusals.
   */
  orderSuccessesBySource(key: ((message: AmiMessage) => string) | undefined): void {
    this.successSource = key;
  }

  /** Queues the refusals the success must follow (see orderSuccessesBySource); returns those still waiting. */
  private queueRefusalsBefore(success: AmiMessage, refusals: AmiMessage[]): AmiMessage[] | undefined {
    const key = this.successSource;
    const source = key?.(success);
    // No key, or a success without a readable address: every refusal before it, as the safe order.
    if (!key || !source) {
      for (const refusal of refusals) this.queue.push(refusal);
      return undefined;
    }
    let kept = 0;
    for (const refusal of refusals) {
      if (key(refusal) === source) this.queue.push(refusal);
      else refusals[kept++] = refusal;
    }
    refusals.length = kept;
    return kept > 0 ? refusals : undefined;
  }

  private onBanner(socket: net.Socket, version: string): void {
    if (this.currentState !== 'connecting') return;
    this.bannerVersion = version;
    this.currentState = 'authenticating';
    const { username, secret, events } = this.options;
    this.send('Login', { Username: username, Secret: secret, Events: events }, this.options.actionTimeoutMs, true).then(
      () => this.onLoggedIn(socket),
      (error: Error) => this.onLoginFailed(socket, error),
    );
  }

  private onLoggedIn(socket: net.Socket): void {
    if (socket !== this.socket || this.currentState !== 'authenticating') return;
    clearTimeout(this.connectTimer);
    this.currentState = 'connected';
    this.attempt = 0;
    this.loginRefused = false;
    this.lastErrorText = '';
    this.stats.connects++;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.log.info({ amiVersion: this.bannerVersion, reconnect }, 'connected to Asterisk AMI');
    this.startPings(socket);
    this.safeEmit('connected', { version: this.bannerVersion, reconnect });
  }

  private onLoginFailed(socket: net.Socket, error: Error): void {
    if (socket !== this.socket) return;
    if (error instanceof AmiResponseError) {
      const loginError = new AmiLoginError(this.options.username, this.options.host, this.options.port, error.response.get('Message') ?? 'Error');
      this.stats.loginFailures++;
      this.loginRefused = true;
      this.log.fatal({ retryInMs: this.options.loginRetryMs }, loginError.message);
      this.safeEmit('loginFailed', loginError);
    }
    socket.destroy();
  }

  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    clearTimeout(this.connectTimer);
    clearInterval(this.pingTimer);
    this.socket = undefined;
    if (this.decoder.midMessage) this.stats.truncated++;
    const wasConnected = this.currentState === 'connected';
    if (wasConnected) this.stats.disconnects++;
    this.rejectAllPending(wasConnected ? 'connection to Asterisk lost' : 'connection to Asterisk closed before login');
    if (this.currentState === 'stopped') {
      for (const resolve of this.stopWaiters.splice(0)) resolve();
      return;
    }
    const retryInMs = this.loginRefused ? this.options.loginRetryMs : this.backoffDelay();
    this.currentState = 'waiting';
    if (wasConnected) this.log.warn({ retryInMs }, 'AMI connection lost; reconnecting');
    this.safeEmit('disconnected', { reason: this.lastErrorText || 'closed', retryInMs });
    this.reconnectTimer = setTimeout(() => this.connect(), retryInMs);
  }

  private backoffDelay(): number {
    const delay = backoffDelay(this.attempt, this.options.reconnectBaseMs, this.options.reconnectMaxMs, this.random);
    this.attempt = Math.min(this.attempt + 1, 30);
    return delay;
  }

  private startPings(socket: net.Socket): void {
    const interval = this.options.pingIntervalMs;
    if (interval <= 0) return;
    this.pingsOutstanding = 0;
    this.pingTimer = setInterval(() => {
      if (socket !== this.socket || this.currentState !== 'connected') return;
      if (this.pingsOutstanding >= 2) {
        this.log.warn({ missedPongs: this.pingsOutstanding }, 'AMI connection half-open (no Pong); reconnecting');
        this.lastErrorText = `no answer to ${this.pingsOutstanding} Pings`;
        socket.destroy();
        return;
      }
      this.pingsOutstanding++;
      // The timeout is long on purpose: a late Pong still proves the link is alive.
      this.send('Ping', {}, interval * 3).then(
        () => {
          this.pingsOutstanding = 0;
        },
        () => undefined,
      );
    }, interval);
    this.pingTimer.unref();
  }

  // ───────────────────────────── actions ─────────────────────────────

  private send(action: string, fields: AmiActionFields, timeoutMs: number, duringLogin = false): Promise<AmiActionResult> {
    const socket = this.socket;
    if (!socket || socket.destroyed || !socket.writable || (!duringLogin && this.currentState !== 'connected')) {
      return Promise.reject(new AmiNotConnectedError(action, 'not connected to Asterisk'));
    }
    const actionId = this.newActionId();
    let text: string;
    try {
      text = encodeAction(action, actionId, fields);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AmiActionResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(actionId);
        reject(new AmiTimeoutError(action, actionId, timeoutMs));
      }, timeoutMs);
      this.pending.set(actionId, { action, actionId, resolve, reject, timer });
      socket.write(text);
      // Never the Login (its fields hold the secret).
      if (action !== 'Login') this.safeEmit('sent', { action, actionId, fields });
    });
  }

  private newActionId(): string {
    return `${this.idPrefix}-${this.nextId++}`;
  }

  private rejectAllPending(reason: string): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new AmiNotConnectedError(pending.action, reason));
    }
    this.pending.clear();
  }

  // ───────────────────────────── dispatch ─────────────────────────────

  /**
   * Over `maxQueuedBeforeShedding`, the oldest security-class events go first (a scan must not push
   * call events out; nothing to reconcile); over `maxQueuedMessages`, the oldest plain events of any
   * class (reconcile then). Answers to actions are always kept.
   */
  private enforceQueueBound(): void {
    const queued = this.queuedMessages;
    if (queued > this.stats.queueHighWater) this.stats.queueHighWater = queued;
    if (queued > this.options.maxQueuedBeforeShedding) this.shedSecurityEvents(queued - Math.floor(this.options.maxQueuedBeforeShedding * 0.9));
    if (this.queuedMessages <= this.options.maxQueuedMessages) return;
    const target = Math.floor(this.options.maxQueuedMessages * 0.9);
    let toDrop = this.queuedMessages - target;
    const kept: AmiMessage[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const message = this.queue[i]!;
      if (toDrop > 0 && message.kind === 'event' && !this.pending.has(message.actionId ?? '')) {
        toDrop--;
        continue;
      }
      kept.push(message);
    }
    const dropped = this.queue.length - this.queueHead - kept.length;
    this.queue = kept;
    this.queueHead = 0;
    this.stats.droppedEvents += dropped;
    this.log.error({ dropped, totalDropped: this.stats.droppedEvents }, 'AMI consumers fell behind; oldest events dropped');
    this.safeEmit('overflow', { dropped });
  }

  private shedSecurityEvents(wanted: number): void {
    const byName = new Map<string, number>();
    let shed = 0;
    const kept: AmiMessage[] = [];
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const message = this.queue[i]!;
      if (shed < wanted && isSheddable(message)) {
        shed++;
        byName.set(message.name, (byName.get(message.name) ?? 0) + 1);
        continue;
      }
      kept.push(message);
    }
    if (shed === 0) return;
    this.queue = kept;
    this.queueHead = 0;
    this.stats.shedSecurityEvents += shed;
    this.safeEmit('shed', { count: shed, byName });
  }

  private dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    const started = performance.now();
    try {
      let count = 0;
      while (this.queueHead < this.queue.length) {
        const message = this.queue[this.queueHead]!;
        this.queue[this.queueHead++] = undefined as unknown as AmiMessage;
        this.route(message);
        // Yield now and then so a burst cannot starve socket reads (Asterisk's writetimeout).
        if (++count % 64 === 0 && performance.now() - started > this.options.dispatchBudgetMs) {
          this.scheduleDispatch();
          break;
        }
      }
      if (this.queueHead >= this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead > 4096) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
    } finally {
      this.dispatching = false;
    }
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private route(message: AmiMessage): void {
    this.stats.messages++;
    const actionId = message.actionId;
    const pending = actionId !== undefined ? this.pending.get(actionId) : undefined;
    if (message.kind === 'response') {
      if (!pending) {
        if (actionId !== undefined) this.stats.lateResponses++;
        return;
      }
      if (message.name.toLowerCase() === 'error') {
        this.settle(pending);
        pending.reject(new AmiResponseError(pending.action, message));
        return;
      }
      if (isListStart(message)) {
        pending.response = message;
        pending.items = [];
        return;
      }
      this.settle(pending);
      pending.resolve({ response: message, events: [] });
      return;
    }
    if (pending?.items && message.kind === 'event') {
      if (isListEnd(message)) {
        this.settle(pending);
        pending.resolve({ response: pending.response!, events: pending.items, complete: message });
      } else {
        pending.items.push(message);
      }
      return;
    }
    if (message.kind === 'event') {
      this.stats.events++;
      this.safeEmit('event', message);
    }
  }

  private settle(pending: PendingAction): void {
    clearTimeout(pending.timer);
    this.pending.delete(pending.actionId);
  }

  /** Emits without letting a listener's exception escape into the socket handler. */
  private safeEmit<K extends keyof AmiClientEvents>(name: K, ...args: AmiClientEvents[K]): void {
    for (const listener of this.rawListeners(name) as ((...values: AmiClientEvents[K]) => void)[]) {
      try {
        listener(...args);
      } catch (error) {
        this.stats.listenerErrors++;
        this.log.error({ err: error instanceof Error ? error.stack : String(error), event: name }, 'AMI listener failed');
      }
    }
  }
}

function isListStart(message: AmiMessage): boolean {
  const eventList = message.get('EventList');
  if (eventList !== undefined) return eventList.toLowerCase() === 'start';
  // Some older actions announce a list only in the message text.
  return /will follow/i.test(message.get('Message') ?? '');
}

function isListEnd(message: AmiMessage): boolean {
  const eventList = message.get('EventList')?.toLowerCase();
  return eventList === 'complete' || eventList === 'cancelled' || message.name.endsWith('Complete');
}

/**
 * Every event is delivered uncut (AmiMessage.deferred: one string, cut into fields from a copy of
 * its own when one is read). A scan's refusals wait in the lane by the thousand and many are shed
 * unread; and what a call keeps of its events (channel names, ids, the number) is cut from that
 * event's own text, not from the 64 KB socket read it came in, which a slice would keep alive.
 */
const EVERY_EVENT = (): boolean => true;

/** A security-class event other than a success (the refusals a scan produces). */
function isSheddable(message: AmiMessage): boolean {
  if (message.kind !== 'event' || message.name === 'SuccessfulAuth') return false;
  return message.peek('Privilege')?.startsWith('security') ?? false;
}
