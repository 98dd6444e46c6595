/**
 * Keeps the live call table in step with Asterisk: AMI events in, typed domain events and table
 * changes out; a CoreShowChannels reconciliation after every (re)connect, after dropped events,
 * and periodically as a safety net against any missed Hangup.
 */
import { EventEmitter } from 'node:events';
import type { AmiMessage } from '../ami/message.js';
import type { AmiActionResult } from '../ami/client.js';
import type { Clock } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import type { DomainEvent } from './events.js';
import { EventLanes, type EventLanesOptions } from './lanes.js';
import { Normaliser, channelSnapshot, sourceOfSecurityEvent } from './normalise.js';
import { CallTable, type CallChange, type ChannelListing } from './table.js';

/** What the tracker needs from an AMI connection (AmiClient satisfies it). */
export interface AmiSource {
  on(event: 'event', listener: (message: AmiMessage) => void): unknown;
  on(event: 'connected', listener: (info: { version: string; reconnect: boolean }) => void): unknown;
  on(event: 'overflow', listener: (info: { dropped: number }) => void): unknown;
  on(event: 'shed', listener: (info: { count: number; byName: ReadonlyMap<string, number> }) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  /** Lets the connection pass over events the tracker would shed unread (AmiClient does). */
  skipEventsWhen?(predicate: ((name: string) => boolean) | undefined): void;
  /** Lets a success in a read wait only for the refusals from its own address (AmiClient does). */
  orderSuccessesBySource?(key: ((message: AmiMessage) => string) | undefined): void;
  action(action: string, fields?: Record<string, string>, options?: { timeoutMs?: number }): Promise<AmiActionResult>;
  readonly connected: boolean;
}

export interface ReconcileSummary {
  listed: number;
  added: number;
  closed: number;
  at: number;
}

export interface CallTrackerEvents {
  /** One AMI event normalised, with what it changed in the table (possibly nothing). */
  event: [event: DomainEvent, changes: CallChange[]];
  /** Changes made by a reconciliation (no triggering event). */
  reconciled: [summary: ReconcileSummary, changes: CallChange[]];
}

export interface CallTrackerOptions {
  table: CallTable;
  clock: Clock;
  logger?: Logger;
  normaliser?: Normaliser;
  /** Periodic reconciliation; 0 disables. @default 300000 (5 min) */
  reconcileIntervalMs?: number;
  /** @default 15000 */
  reconcileTimeoutMs?: number;
  /** The security lane of live events (calls first): its bound and what to do when it sheds. */
  lanes?: Pick<EventLanesOptions, 'maxWaiting' | 'sliceMs' | 'onShed'>;
}

export class CallTracker extends EventEmitter<CallTrackerEvents> {
  readonly table: CallTable;
  readonly normaliser: Normaliser;
  /** Live events: calls at once, security failures in their own bounded lane. */
  readonly lanes: EventLanes;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly reconcileIntervalMs: number;
  private readonly reconcileTimeoutMs: number;
  private source: AmiSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reconciling: Promise<ReconcileSummary | undefined> | undefined;
  private reconcileAgain = false;
  private readonly onMessage = (message: AmiMessage): void => {
    const now = this.clock.now();
    const name = message.event;
    // A scan that fills the security lane: what cannot wait is counted, not read.
    if (name !== undefined && this.lanes.wouldShed(name)) {
      this.lanes.shedOnArrival(name, now);
      return;
    }
    // A refusal that waits is read (normalised) when its turn comes, not now.
    if (name !== undefined && message.isDeferred && this.lanes.defers(name)) {
      this.lanes.pushUnread(message, now);
      return;
    }
    const event = this.normaliser.normalise(message, now);
    if (event) this.lanes.push(event);
  };
  private readonly onConnected = (): void => {
    void this.reconcile('connected');
  };
  private readonly onOverflow = (): void => {
    void this.reconcile('events were dropped');
  };
  private readonly wouldShed = (name: string): boolean => this.lanes.wouldShed(name);
  private readonly onShed = (info: { byName: ReadonlyMap<string, number> }): void => {
    this.lanes.recordShed(info.byName, this.clock.now());
  };

  constructor(options: CallTrackerOptions) {
    super();
    this.table = options.table;
    this.clock = options.clock;
    this.log = (options.logger ?? silentLogger).child({ part: 'calls' });
    this.normaliser = options.normaliser ?? new Normaliser();
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 300_000;
    this.reconcileTimeoutMs = options.reconcileTimeoutMs ?? 15_000;
    this.lanes = new EventLanes({ ...options.lanes, deliver: (event) => this.apply(event), read: (message, at) => this.normaliser.normalise(message, at) });
  }

  /** Follows a live AMI connection. */
  attach(source: AmiSource): void {
    this.source = source;
    source.on('event', this.onMessage);
    source.on('connected', this.onConnected);
    source.on('overflow', this.onOverflow);
    source.on('shed', this.onShed);
    source.skipEventsWhen?.(this.wouldShed);
    source.orderSuccessesBySource?.(sourceOfSecurityEvent);
    if (this.reconcileIntervalMs > 0) {
      this.timer = setInterval(() => void this.reconcile('periodic'), this.reconcileIntervalMs);
      this.timer.unref();
    }
    if (source.connected) void this.reconcile('attached');
  }

  detach(): void {
    clearInterval(this.timer);
    this.lanes.flush();
    const source = this.source;
    if (!source) return;
    source.off('event', this.onMessage);
    source.off('connected', this.onConnected);
    source.off('overflow', this.onOverflow);
    source.off('shed', this.onShed);
    source.skipEventsWhen?.(undefined);
    source.orderSuccessesBySource?.(undefined);
    this.source = undefined;
  }

  /** Feeds one AMI event at time `at` (live: now; replay: the event's own time), judged at once. */
  ingest(message: AmiMessage, at: number): void {
    const event = this.normaliser.normalise(message, at);
    if (event) this.apply(event);
  }

  private apply(event: DomainEvent): void {
    const changes = this.table.apply(event);
    this.emit('event', event, changes);
  }

  /**
   * Compares the table with CoreShowChannels. Concurrent requests share one run (plus one rerun
   * if asked for while running), so a flapping connection cannot pile them up.
   */
  reconcile(reason: string): Promise<ReconcileSummary | undefined> {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    this.reconciling = this.runReconcile(reason).finally(() => {
      this.reconciling = undefined;
      if (this.reconcileAgain) {
        this.reconcileAgain = false;
        void this.reconcile(`${reason} (again)`);
      }
    });
    return this.reconciling;
  }

  private async runReconcile(reason: string): Promise<ReconcileSummary | undefined> {
    const source = this.source;
    if (!source?.connected) return undefined;
    const mark = this.table.reconcileMark();
    let result: AmiActionResult;
    try {
      result = await source.action('CoreShowChannels', {}, { timeoutMs: this.reconcileTimeoutMs });
    } catch (error) {
      this.log.warn({ reason, err: error instanceof Error ? error.message : String(error) }, 'CoreShowChannels failed; call table not reconciled');
      return undefined;
    }
    const listing = result.events.flatMap((message) => {
      const item = channelListing(message);
      return item ? [item] : [];
    });
    const at = this.clock.now();
    const changes = this.table.reconcile(listing, mark, at);
    const summary: ReconcileSummary = {
      listed: listing.length,
      added: changes.filter((change) => change.kind === 'call.started').length,
      closed: changes.filter((change) => change.kind === 'call.ended').length,
      at,
    };
    const level = summary.added > 0 || summary.closed > 0 ? 'info' : 'debug';
    this.log[level]({ reason, ...summary, liveCalls: this.table.liveCallCount }, 'call table reconciled with CoreShowChannels');
    this.emit('reconciled', summary, changes);
    return summary;
  }
}

/** A CoreShowChannel list item → channel listing. */
export function channelListing(message: AmiMessage): ChannelListing | undefined {
  const snapshot = channelSnapshot(message, '');
  if (!snapshot) return undefined;
  const listing: ChannelListing = { ...snapshot, durationSeconds: parseDuration(message.get('Duration')) };
  const application = message.get('Application');
  if (application) listing.application = application;
  const applicationData = message.get('ApplicationData');
  if (applicationData !== undefined) listing.applicationData = applicationData;
  const bridgeId = message.get('BridgeId');
  if (bridgeId) listing.bridgeId = bridgeId;
  return listing;
}

/** `HH:MM:SS` (hours may exceed 24) or plain seconds → seconds. */
export function parseDuration(text: string | undefined): number {
  if (!text) return 0;
  const parts = text.split(':').map((part) => Number.parseInt(part, 10));
  if (parts.some((part) => !Number.isFinite(part))) return 0;
  return parts.reduce((total, part) => total * 60 + part, 0);
}
