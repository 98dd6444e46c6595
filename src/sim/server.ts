/**
 * AmiSimulator: an AMI server on 127.0.0.1 that speaks Asterisk 22's wire protocol as recorded in
 * test/fixtures/ami/ — for the client's tests and for `tollgate demo`, which replays a recorded
 * attack through it.
 *
 * It keeps its own table of live channels (fed by every event it sends), answers Login, Logoff,
 * Ping, Events, CoreShowChannels, Hangup and DBPut/DBGet/DBDel/DBDelTree, replays captures at any
 * speed, and offers hooks to misbehave on purpose (unanswered pings or actions, garbage, dropped
 * connections, restarts).
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { encodeBanner, encodeMessage } from '../ami/codec.js';
import { AmiMessage, type AmiField } from '../ami/message.js';
import { handleAction, respond, type ActionContext, type LoginFailure, type SimUser } from './actions.js';
import { AstDb } from './astdb.js';
import { CallEventFactory, type CallEventsOptions, type CallScript } from './call-events.js';
import { ChannelTable, type ChannelSpec, type SimChannel } from './channels.js';
import { ALL_CLASSES, classListToMask, eventsHeaderToMask, privilegeToMask, NO_CLASSES } from './event-mask.js';
import { planHangup } from './hangup.js';
import { AsteriskIds } from './ids.js';
import { invalidAccountIdEvent, invalidPasswordEvent, successfulAuthEvent, type AmiLoginParty } from './security-events.js';
import { SimSession, type SessionInfo } from './session.js';
import { retimed, withTimestamp } from './timestamps.js';
import type { TranscriptEntry } from './transcript.js';

export type { SimUser } from './actions.js';
export type { SessionInfo } from './session.js';

const LOOPBACK = '127.0.0.1';
const SYSTEM_CLASS = classListToMask('system');

export const DEFAULT_SIM_USER: Readonly<SimUser> = { username: 'tollgate', secret: 'tollgate-secret' };

export interface AmiSimulatorOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one (read `sim.port` after start()). @default 0 */
  port?: number;
  /** AMI version in the banner. @default '11.0.0' (Asterisk 22) */
  version?: string;
  /** manager.conf users. @default [DEFAULT_SIM_USER] */
  users?: SimUser[];
  /** Wait before the `Authentication failed` answer. @default 0 */
  loginFailureDelayMs?: number;
  /** Wait between the `Authentication failed` answer and closing the socket. @default 1000 */
  loginFailureCloseMs?: number;
  /** manager.conf `timestampevents`: add `Timestamp:` to every broadcast event. @default false */
  timestampEvents?: boolean;
  /** Clock for event times, Ping timestamps and channel durations (ms since the epoch). @default Date.now */
  now?: () => number;
  /** Oldest entries of `sim.actions` are dropped beyond this many. @default 100000 */
  maxRecordedActions?: number;
}

/** One message a client sent, as the simulator received it. */
export interface ReceivedAction {
  sessionId: number;
  /** The `Action:` value as sent ('' when the message had none). */
  name: string;
  actionId: string | undefined;
  message: AmiMessage;
  /** The exact text received, line ends included. */
  raw: string;
  /** `process.hrtime.bigint()` when it was decoded. */
  receivedAt: bigint;
}

export interface LoginFailedInfo {
  session: SessionInfo;
  username: string;
  reason: LoginFailure;
}

export interface GarbageInfo {
  sessionId: number;
  reason: string;
  sample: string;
}

export interface HangupResult {
  /** Every channel that went (the targets and the other legs of their calls). */
  channels: SimChannel[];
  /** The events sent, in order. */
  events: AmiMessage[];
}

export interface ReplayOptions {
  /** 1 = the recorded pace, 10 = ten times faster, Infinity = as fast as possible. @default 1 */
  speed?: number;
  /** 'now' rewrites Timestamp/EventTV/SessionTV to the time of sending. @default 'recorded' */
  times?: 'recorded' | 'now';
  /** At Infinity speed, let the event loop run (clients' actions) after this many events. @default 200 */
  yieldEvery?: number;
  signal?: AbortSignal;
  /**
   * Called after each event is sent; a returned promise pauses the replay until it settles (the
   * pause does not count toward the pace).
   */
  onEvent?: (entry: TranscriptEntry, index: number) => void | Promise<void>;
}

export interface ReplayResult {
  sent: number;
  /** Events of calls already hung up by a Hangup action, left out. */
  suppressed: number;
  /** True when stopped early (signal, stop(), restart()). */
  aborted: boolean;
}

export interface SimulatorStats {
  connections: number;
  actions: number;
  garbage: number;
  eventsSent: number;
  loginFailures: number;
}

export interface AmiSimulatorEvents {
  listening: [port: number];
  connection: [session: SessionInfo];
  login: [session: SessionInfo];
  loginFailed: [info: LoginFailedInfo];
  /** Emitted synchronously as each message from a client is decoded, before it is answered. */
  action: [action: ReceivedAction];
  /** Every event broadcast (emitted, replayed, or raised by the simulator itself). */
  event: [event: AmiMessage];
  garbage: [info: GarbageInfo];
  disconnect: [session: SessionInfo];
  hangup: [result: HangupResult];
}

export type EventInput = AmiMessage | readonly AmiField[] | Record<string, string | number | readonly string[]>;

/** The tail a dropped connection leaves: a message cut in the middle of a line. */
const HALF_MESSAGE = 'Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/1001-000';

export class AmiSimulator extends EventEmitter<AmiSimulatorEvents> {
  /** False: Ping is recorded but never answered (half-open connection tests). */
  answerPings = true;
  /** Names of actions (any case) that are recorded but never answered. */
  readonly silentActions = new Set<string>();
  /** Also leaves an action unanswered when this returns true. */
  ignoreAction: ((action: ReceivedAction) => boolean) | undefined;
  timestampEvents: boolean;
  loginFailureDelayMs: number;
  loginFailureCloseMs: number;
  readonly version: string;
  readonly channels: ChannelTable;
  readonly astdb = new AstDb();
  /** Registered PJSIP contacts PJSIPShowContacts lists, by sorcery id (`ObjectName`); tests fill it. */
  readonly contacts = new Map<string, readonly AmiField[]>();
  /** Every message received from clients, oldest first. */
  readonly actions: ReceivedAction[] = [];
  readonly stats: SimulatorStats = { connections: 0, actions: 0, garbage: 0, eventsSent: 0, loginFailures: 0 };
  readonly ids: AsteriskIds;

  private readonly users: SimUser[];
  private readonly now: () => number;
  private readonly maxRecordedActions: number;
  private readonly calls: CallEventFactory;
  private readonly sessionsById = new Map<number, SimSession>();
  private readonly actionOwners = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Ends replays and waits that stop() must not leave pending. */
  private readonly cancellers = new Set<() => void>();
  private readonly endedLinkedids = new Set<string>();
  private readonly endedUniqueids = new Set<string>();
  private readonly endedBridges = new Set<string>();
  private server: Server | undefined;
  private requestedPort: number;
  private boundPort = 0;
  private nextSessionId = 1;
  private bootedAt: number;
  /** Bumped by every stop(), so a restart that was stopped meanwhile does not listen again. */
  private stopCount = 0;
  private readonly actionContext: ActionContext;

  constructor(options: AmiSimulatorOptions = {}) {
    super();
    this.requestedPort = options.port ?? 0;
    this.version = options.version ?? '11.0.0';
    this.users = (options.users ?? [DEFAULT_SIM_USER]).map((user) => ({ ...user }));
    this.loginFailureDelayMs = options.loginFailureDelayMs ?? 0;
    this.loginFailureCloseMs = options.loginFailureCloseMs ?? 1000;
    this.timestampEvents = options.timestampEvents ?? false;
    this.now = options.now ?? Date.now;
    this.maxRecordedActions = options.maxRecordedActions ?? 100_000;
    this.channels = new ChannelTable(this.now);
    this.ids = new AsteriskIds(this.now);
    this.calls = new CallEventFactory(this.ids, this.now);
    this.bootedAt = this.now();
    this.actionContext = {
      channels: this.channels,
      astdb: this.astdb,
      contacts: this.contacts,
      answersPings: () => this.answerPings,
      now: () => this.now(),
      findUser: (username) => this.users.find((user) => user.username.toLowerCase() === username.toLowerCase()),
      acceptLogin: (session, user, request) => this.acceptLogin(session, user, request),
      rejectLogin: (session, request, username, failure) => this.rejectLogin(session, request, username, failure),
      hangup: (channels, cause) => void this.hangupChannels(channels, cause),
    };
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /** The bound port (0 before start()). */
  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Listens on 127.0.0.1; resolves with the port. */
  async start(): Promise<number> {
    if (this.server) throw new Error('AmiSimulator is already started');
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
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
      throw error;
    }
    server.on('error', () => undefined);
    const address = server.address();
    this.boundPort = typeof address === 'object' && address ? address.port : 0;
    // A restart comes back on the same port.
    this.requestedPort = this.boundPort;
    this.emit('listening', this.boundPort);
    return this.boundPort;
  }

  /**
   * Closes every session and the listener, stops replays and timers. With `announce`, sessions
   * first get `Event: Shutdown` as Asterisk sends before it stops. The channel table and AstDB stay.
   */
  async stop(options: { announce?: boolean } = {}): Promise<void> {
    this.stopCount++;
    for (const cancel of [...this.cancellers]) cancel();
    await this.closeAll(options.announce === true, false);
  }

  /**
   * Drops every session and the listener, then listens again on the same port after
   * `downtimeMs`, keeping the channel table and AstDB (a network blip, an AMI reload). A replay
   * in progress goes on meanwhile: its events update the table and reach whoever is connected.
   */
  async restart(options: { downtimeMs?: number; announce?: boolean } = {}): Promise<void> {
    const stopCount = this.stopCount;
    await this.closeAll(options.announce ?? false, true);
    if (options.downtimeMs && options.downtimeMs > 0) await this.delay(options.downtimeMs);
    // stop() during the downtime wins: do not listen again.
    if (stopCount !== this.stopCount) return;
    this.bootedAt = this.now();
    await this.start();
  }

  private async closeAll(announce: boolean, restarting: boolean): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (announce) {
      this.broadcast(
        AmiMessage.from({ Event: 'Shutdown', Privilege: 'system,all', Shutdown: this.channels.size > 0 ? 'Uncleanly' : 'Cleanly', Restart: restarting ? 'True' : 'False' }),
      );
    }
    const sessions = [...this.sessionsById.values()];
    await Promise.all(sessions.map((session) => closeSocket(session.socket, announce)));
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ───────────────────────────── sessions ─────────────────────────────

  get sessionCount(): number {
    return this.sessionsById.size;
  }

  get loggedInCount(): number {
    let count = 0;
    for (const session of this.sessionsById.values()) if (session.loggedIn && !session.closing) count++;
    return count;
  }

  sessions(): SessionInfo[] {
    return [...this.sessionsById.values()].map((session) => session.info());
  }

  session(id: number): SessionInfo | undefined {
    return this.sessionsById.get(id)?.info();
  }

  /**
   * Resolves once at least `count` sessions are connected — logged in, by default; with `exact`,
   * once exactly `count` are (e.g. 0 after clients left).
   */
  waitForSessions(count: number, options: { loggedIn?: boolean; exact?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const loggedIn = options.loggedIn ?? true;
    const current = (): number => (loggedIn ? this.loggedInCount : this.sessionCount);
    const reached = (): boolean => (options.exact ? current() === count : current() >= count);
    const timeoutMs = options.timeoutMs ?? 5000;
    return this.waitUntil(reached, ['login', 'connection', 'disconnect', 'loginFailed'], timeoutMs, () => `${options.exact ? 'exactly' : 'at least'} ${count} ${loggedIn ? 'logged-in ' : ''}session(s); have ${current()}`);
  }

  /**
   * Resolves with the first received action matching `match` (an action name, any case, or a
   * predicate): one already recorded unless `includePast` is false, else the next to arrive.
   */
  waitForAction(match: string | ((action: ReceivedAction) => boolean), options: { includePast?: boolean; timeoutMs?: number } = {}): Promise<ReceivedAction> {
    const test = typeof match === 'string' ? (action: ReceivedAction) => action.name.toLowerCase() === match.toLowerCase() : match;
    if (options.includePast ?? true) {
      const past = this.actions.find(test);
      if (past) return Promise.resolve(past);
    }
    return new Promise((resolve, reject) => {
      const onAction = (action: ReceivedAction): void => {
        if (!test(action)) return;
        cleanup();
        resolve(action);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no action matching ${typeof match === 'string' ? match : 'the predicate'} within ${options.timeoutMs ?? 5000} ms`));
      }, options.timeoutMs ?? 5000);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off('action', onAction);
      };
      this.on('action', onAction);
    });
  }

  clearActions(): void {
    this.actions.length = 0;
  }

  /** Writes bytes as they are to every session (or to one), logged in or not. Returns how many got them. */
  sendRaw(data: string | Buffer, options: { sessionId?: number; loggedInOnly?: boolean } = {}): number {
    let sent = 0;
    for (const session of this.sessionsById.values()) {
      if (options.sessionId !== undefined && session.id !== options.sessionId) continue;
      if (options.loggedInOnly && !session.loggedIn) continue;
      if (!session.isOpen || !session.socket.writable) continue;
      session.socket.write(data);
      session.bytesSent += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      sent++;
    }
    return sent;
  }

  /**
   * Kills every session's connection, the listener staying up. `midMessage` first writes half a
   * message (the client must discard it); `reset` sends a TCP RST instead of a FIN (a half-written
   * message may then be lost on the way). Resolves with the number of sessions dropped, once closed.
   */
  async dropConnections(options: { midMessage?: boolean; reset?: boolean } = {}): Promise<number> {
    const sessions = [...this.sessionsById.values()];
    await Promise.all(
      sessions.map(
        (session) =>
          new Promise<void>((resolve) => {
            const socket = session.socket;
            if (socket.destroyed) return resolve();
            socket.once('close', () => resolve());
            const kill = (): void => {
              if (options.reset) socket.resetAndDestroy();
              else socket.destroy();
            };
            if (options.midMessage && socket.writable) socket.write(HALF_MESSAGE, kill);
            else kill();
          }),
      ),
    );
    return sessions.length;
  }

  // ───────────────────────────── events and channels ─────────────────────────────

  /** Broadcasts one event (updating the channel table) and returns it as sent. */
  emitEvent(input: EventInput): AmiMessage {
    return this.broadcast(toEventMessage(input));
  }

  emitEvents(inputs: Iterable<EventInput>): AmiMessage[] {
    return [...inputs].map((input) => this.emitEvent(input));
  }

  /** Updates the channel table from events WITHOUT sending them (things clients missed). */
  applySilently(inputs: Iterable<EventInput | TranscriptEntry>): void {
    for (const input of inputs) this.channels.apply(isEntry(input) ? input.message : toEventMessage(input));
  }

  /** Puts a channel in the table without any event; the Uniqueid is generated when not given. */
  addChannel(spec: Omit<ChannelSpec, 'uniqueid'> & { uniqueid?: string }): SimChannel {
    return this.channels.add({ ...spec, uniqueid: spec.uniqueid ?? this.ids.uniqueid() });
  }

  /** Takes a channel out of the table without any event. */
  removeChannel(nameOrUniqueid: string): boolean {
    return this.channels.remove(nameOrUniqueid) !== undefined;
  }

  /** The events of one call (channel names and Uniqueids unique within this simulator). */
  callEvents(options: CallEventsOptions): CallScript {
    return this.calls.build(options);
  }

  /**
   * Puts an answered (by default) call in the channel table without sending anything: a call that
   * began while no client was connected. Send `script.hangup` later to end it on the wire.
   */
  addCall(options: CallEventsOptions): CallScript {
    const script = this.calls.build(options);
    this.applySilently([...script.setup, ...script.answer]);
    return script;
  }

  /**
   * Hangs channels up as the AMI Hangup action does (without answering anyone): `target` is a
   * channel name or Uniqueid, or `/regex/` on channel names. Later replayed events of those
   * calls are suppressed.
   */
  hangup(target: string, cause = 16): HangupResult {
    let channels: SimChannel[];
    if (target.length >= 2 && target.startsWith('/') && target.endsWith('/')) {
      const pattern = new RegExp(target.slice(1, -1));
      channels = this.channels.list().filter((channel) => pattern.test(channel.name));
    } else {
      const channel = this.channels.get(target);
      channels = channel ? [channel] : [];
    }
    return this.hangupChannels(channels, cause);
  }

  /** Forgets which calls were hung up, so replaying them again sends their events. */
  forgetHangups(): void {
    this.endedLinkedids.clear();
    this.endedUniqueids.clear();
    this.endedBridges.clear();
  }

  // ───────────────────────────── replay ─────────────────────────────

  /**
   * Broadcasts transcript events at `speed` times the recorded pace. Events of calls hung up by a
   * Hangup action (during this replay or before) are left out: the call is over on this PBX.
   */
  async replay(entries: readonly TranscriptEntry[], options: ReplayOptions = {}): Promise<ReplayResult> {
    const speed = options.speed ?? 1;
    if (!(speed > 0)) throw new RangeError(`replay speed must be > 0, got ${speed}`);
    const yieldEvery = Math.max(1, options.yieldEvery ?? 200);
    const result: ReplayResult = { sent: 0, suppressed: 0, aborted: false };
    let cancelled = false;
    let wake: (() => void) | undefined;
    // stop() and the signal end a pending wait at once, not when it would have ended.
    const cancel = (): void => {
      cancelled = true;
      wake?.();
    };
    this.cancellers.add(cancel);
    options.signal?.addEventListener('abort', cancel, { once: true });
    const aborted = (): boolean => cancelled || options.signal?.aborted === true;
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, ms);
        wake = done;
      });

    const firstTime = entries[0]?.time ?? 0;
    let wallStart = performance.now();
    let lastDue = 0;
    let sinceYield = 0;
    let index = 0;
    try {
      for (; index < entries.length; index++) {
        if (aborted()) break;
        const entry = entries[index]!;
        if (Number.isFinite(speed)) {
          // Never earlier than the previous event: captures mix Timestamp and rounded EventTV.
          const due = Math.max(lastDue, (entry.time - firstTime) / speed);
          lastDue = due;
          const wait = due - (performance.now() - wallStart);
          if (wait >= 1) {
            await sleep(wait);
            sinceYield = 0;
            if (aborted()) break;
          }
        }
        if (sinceYield >= yieldEvery) {
          await new Promise<void>((resolve) => setImmediate(resolve));
          sinceYield = 0;
          if (aborted()) break;
        }
        sinceYield++;
        if (this.isSuppressed(entry.message)) {
          result.suppressed++;
          continue;
        }
        this.broadcast(options.times === 'now' ? retimed(entry.message, this.now()) : entry.message);
        result.sent++;
        if (options.onEvent) {
          const pausedAt = performance.now();
          const pending = options.onEvent(entry, index);
          if (pending) {
            await pending;
            wallStart += performance.now() - pausedAt;
          }
        }
      }
    } finally {
      this.cancellers.delete(cancel);
      options.signal?.removeEventListener('abort', cancel);
    }
    result.aborted = index < entries.length;
    return result;
  }

  // ───────────────────────────── internals ─────────────────────────────

  private accept(socket: Socket): void {
    if (!this.server) {
      socket.destroy();
      return;
    }
    const session = new SimSession(this.nextSessionId++, this.ids.sessionId(), socket, this.now(), {
      message: (from, message, raw) => this.receive(from, message, raw),
      garbage: (from, frame) => {
        from.garbageReceived++;
        this.stats.garbage++;
        const info: GarbageInfo = frame.type === 'banner' ? { sessionId: from.id, reason: 'banner line from a client', sample: frame.line } : { sessionId: from.id, reason: frame.reason, sample: frame.sample };
        this.emit('garbage', info);
      },
      closed: (from) => {
        this.sessionsById.delete(from.id);
        this.emit('disconnect', from.info());
      },
    });
    this.sessionsById.set(session.id, session);
    this.stats.connections++;
    session.write(encodeBanner(this.version));
    this.emit('connection', session.info());
  }

  private receive(session: SimSession, message: AmiMessage, raw: string): void {
    const received: ReceivedAction = {
      sessionId: session.id,
      name: message.get('Action') ?? '',
      actionId: message.actionId,
      message,
      raw,
      receivedAt: process.hrtime.bigint(),
    };
    this.actions.push(received);
    if (this.actions.length > this.maxRecordedActions) this.actions.splice(0, this.actions.length - this.maxRecordedActions);
    if (received.actionId) this.actionOwners.set(received.actionId, session.id);
    session.actionsReceived++;
    this.stats.actions++;
    this.emit('action', received);

    if (!session.isOpen || session.closing) return;
    const silent = [...this.silentActions].some((name) => name.toLowerCase() === received.name.toLowerCase());
    if (silent || this.ignoreAction?.(received)) return;
    try {
      handleAction(this.actionContext, session, message);
    } catch (error) {
      // A bug answering one action must not take the server down: answer it as Asterisk would a failure.
      respond(session, message, 'Error', [['Message', `Internal simulator error: ${(error as Error).message}`]]);
    }
  }

  private acceptLogin(session: SimSession, user: SimUser, request: AmiMessage): void {
    session.loggedIn = true;
    session.username = user.username;
    session.readMask = classListToMask(user.read ?? 'all');
    session.writeMask = classListToMask(user.write ?? 'all');
    session.eventMask = request.has('Events') ? eventsHeaderToMask(request.get('Events')) : ALL_CLASSES;
    respond(session, request, 'Success', [['Message', 'Authentication accepted']]);
    if ((session.readMask & session.eventMask & SYSTEM_CLASS) !== NO_CLASSES) {
      const uptime = String(Math.floor((this.now() - this.bootedAt) / 1000));
      session.write(encodeMessage(AmiMessage.from({ Event: 'FullyBooted', Privilege: 'system,all', Uptime: uptime, LastReload: uptime, Status: 'Fully Booted' })));
    }
    this.broadcast(new AmiMessage(successfulAuthEvent(this.loginParty(session), user.username, this.now(), session.connectedAt)));
    this.emit('login', session.info());
  }

  private rejectLogin(session: SimSession, request: AmiMessage, username: string, failure: LoginFailure): void {
    session.closing = true;
    this.stats.loginFailures++;
    const party = this.loginParty(session);
    if (failure === 'InvalidPassword') this.broadcast(new AmiMessage(invalidPasswordEvent(party, username, this.now())));
    else if (failure === 'InvalidAccountID') this.broadcast(new AmiMessage(invalidAccountIdEvent(party, username, this.now())));
    this.emit('loginFailed', { session: session.info(), username, reason: failure });
    const answer = (): void => {
      respond(session, request, 'Error', [['Message', 'Authentication failed']]);
      if (this.loginFailureCloseMs > 0) this.later(this.loginFailureCloseMs, () => session.end());
      else session.end();
    };
    if (this.loginFailureDelayMs > 0) this.later(this.loginFailureDelayMs, answer);
    else answer();
  }

  private loginParty(session: SimSession): AmiLoginParty {
    return { sessionId: session.managerSessionId, serverPort: this.boundPort, clientAddress: session.remoteAddress, clientPort: session.remotePort };
  }

  private hangupChannels(channels: SimChannel[], cause: number): HangupResult {
    if (channels.length === 0) return { channels: [], events: [] };
    const plan = planHangup(this.channels, channels, cause);
    for (const linkedid of plan.linkedids) this.endedLinkedids.add(linkedid);
    for (const channel of plan.channels) this.endedUniqueids.add(channel.uniqueid);
    for (const bridgeId of plan.bridgeIds) this.endedBridges.add(bridgeId);
    const events = plan.events.map((event) => this.broadcast(event));
    // Legs the plan found no event for (none today) must not linger in the table.
    for (const channel of plan.channels) this.channels.remove(channel.uniqueid);
    const result: HangupResult = { channels: plan.channels, events };
    this.emit('hangup', result);
    return result;
  }

  private isSuppressed(event: AmiMessage): boolean {
    if (this.endedLinkedids.size === 0 && this.endedUniqueids.size === 0) return false;
    for (const key of ['Linkedid', 'DestLinkedid', 'LocalOneLinkedid', 'LocalTwoLinkedid']) {
      const value = event.get(key);
      if (value !== undefined && this.endedLinkedids.has(value)) return true;
    }
    for (const key of ['Uniqueid', 'DestUniqueid', 'LocalOneUniqueid', 'LocalTwoUniqueid']) {
      const value = event.get(key);
      if (value !== undefined && this.endedUniqueids.has(value)) return true;
    }
    const bridge = event.get('BridgeUniqueid');
    return bridge !== undefined && this.endedBridges.has(bridge);
  }

  /**
   * Sends one event to every session that should get it: by its Privilege classes, or — events
   * without Privilege being answers — only to the session that sent its ActionID.
   */
  private broadcast(input: AmiMessage): AmiMessage {
    const event = this.timestampEvents && input.has('Privilege') && !input.has('Timestamp') ? withTimestamp(input, this.now()) : input;
    this.channels.apply(event);
    const text = encodeMessage(event);
    const privilege = event.get('Privilege');
    if (privilege === undefined) {
      const actionId = event.actionId;
      if (actionId !== undefined) {
        const owner = this.sessionsById.get(this.actionOwners.get(actionId) ?? -1);
        owner?.write(text);
      } else {
        for (const session of this.sessionsById.values()) if (session.receivesEvents(NO_CLASSES)) session.write(text);
      }
    } else {
      const classes = privilegeToMask(privilege);
      for (const session of this.sessionsById.values()) if (session.receivesEvents(classes)) session.write(text);
    }
    this.stats.eventsSent++;
    this.emit('event', event);
    return event;
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }

  /** A wait that stop() cuts short. */
  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.cancellers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.cancellers.add(done);
    });
  }

  private waitUntil(reached: () => boolean, events: (keyof AmiSimulatorEvents)[], timeoutMs: number, describe: () => string): Promise<void> {
    if (reached()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!reached()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${describe()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        for (const name of events) this.off(name, check);
      };
      for (const name of events) this.on(name, check);
    });
  }
}

function isEntry(input: EventInput | TranscriptEntry): input is TranscriptEntry {
  return typeof input === 'object' && input !== null && 'message' in input && (input as TranscriptEntry).message instanceof AmiMessage;
}

function toEventMessage(input: EventInput): AmiMessage {
  let message: AmiMessage;
  if (input instanceof AmiMessage) message = input;
  else if (Array.isArray(input)) message = new AmiMessage([...(input as readonly AmiField[])]);
  else message = AmiMessage.from(input as Record<string, string | number | readonly string[]>);
  if (message.kind !== 'event') throw new TypeError(`an event must start with "Event:", got "${message.fields[0]?.[0] ?? ''}"`);
  return message;
}

/** How long an announced shutdown waits for a client to take what is queued for it. */
const FLUSH_GRACE_MS = 250;

/** Closes a socket: after flushing (announced shutdown, bounded wait) or at once. */
function closeSocket(socket: Socket, flushFirst: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    let grace: NodeJS.Timeout | undefined;
    socket.once('close', () => {
      clearTimeout(grace);
      resolve();
    });
    if (!flushFirst) {
      socket.destroy();
      return;
    }
    grace = setTimeout(() => socket.destroy(), FLUSH_GRACE_MS);
    socket.end(() => socket.destroy());
  });
}
