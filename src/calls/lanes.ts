/**
 * Calls first. A SIP scan makes Asterisk report thousands of refused attempts a second; a call's
 * DialBegin must not wait behind them. Events arrive in two lanes: security events (failures,
 * challenges, refusals) wait in a bounded queue drained in short slices between socket reads;
 * everything else (calls, SuccessfulAuth, registrations) is delivered at once.
 *
 * Order still holds where detection needs it: before a SuccessfulAuth (a guessed password is
 * "failures from this address, then a success") the failures still waiting from the same address
 * are delivered first (security events keep their order among themselves). When the queue is full
 * the oldest lose their detail: they are counted (by kind) and reported; call events never are.
 */
import type { AmiMessage } from '../ami/message.js';
import { SECURITY_EVENT_KINDS, type DomainEvent } from './events.js';
import { sourceOfSecurityEvent } from './normalise.js';

/** Security events that wait in the lane (every one but the success, which is judged at once). */
const DEFERRED_KINDS: ReadonlySet<string> = new Set(SECURITY_EVENT_KINDS.filter((kind) => kind !== 'SuccessfulAuth'));

export interface EventLanesOptions {
  /** Delivers one event to the live path. */
  deliver: (event: DomainEvent) => void;
  /** Reads (normalises) a security event that waited unread (pushUnread), at the time it arrived. */
  read?: (message: AmiMessage, at: number) => DomainEvent | undefined;
  /** Security events waiting at most (about 200 ms of a scan at full speed); beyond, the oldest are shed. @default 10000 */
  maxWaiting?: number;
  /** How long one slice of waiting failures may run before socket reads get their turn. @default 2 */
  sliceMs?: number;
  /** Called once per slice in which failures were shed (for the log and the alert). */
  onShed?: (shed: number, byKind: ReadonlyMap<string, number>) => void;
}

export interface EventLanesStats {
  /** Failures that waited in the security lane. */
  deferred: number;
  /** Failures dropped before judgement because the lane was full. */
  shed: number;
  shedByKind: Map<string, number>;
  /** The most failures waiting at once. */
  highWater: number;
  /** When a failure was last shed (epoch ms), 0 if never. */
  lastShedAt: number;
}


interface WaitingEvent {
  event: DomainEvent | undefined;
  unread: AmiMessage | undefined;
  /** When it arrived (the clock's time: the event's time once read). */
  at: number;
  /** The canonical source address (a success pulls the failures of its address). */
  source: string;
}

export class EventLanes {
  readonly stats: EventLanesStats = { deferred: 0, shed: 0, shedByKind: new Map(), highWater: 0, lastShedAt: 0 };
  /**
   * What waits: AMI events not yet cut into fields (one string each: a scan's backlog stays cheap to
   * keep, and the shed ones are never read), or events already normalised (push()).
   */
  private waiting: WaitingEvent[] = [];
  private head = 0;
  private scheduled = false;
  private arrivalShed = new Map<string, number>();
  private arrivalShedAt = 0;
  private readonly maxWaiting: number;
  private readonly sliceMs: number;

  constructor(private readonly options: EventLanesOptions) {
    this.maxWaiting = options.maxWaiting ?? 10_000;
    this.sliceMs = options.sliceMs ?? 2;
  }

  get waitingCount(): number {
    return this.waiting.length - this.head;
  }

  /**
   * Whether an event named `name` would be shed on arrival: the lane is full and it is a security
   * event that waits. The tracker then counts it without reading it (no normalising for nothing).
   */
  wouldShed(name: string): boolean {
    return this.waitingCount >= this.maxWaiting && DEFERRED_KINDS.has(name);
  }

  /** Counts a security event shed on arrival (see wouldShed); reported with the next slice. */
  shedOnArrival(name: string, at: number): void {
    this.arrivalShed.set(name, (this.arrivalShed.get(name) ?? 0) + 1);
    this.arrivalShedAt = at;
    this.schedule();
  }

  /** Whether events named `name` wait in the lane (the tracker then hands them over unread: pushUnread). */
  defers(name: string): boolean {
    return DEFERRED_KINDS.has(name);
  }

  /** A security event that waits (see defers()), not yet read: it is normalised when its turn comes. */
  pushUnread(message: AmiMessage, at: number): void {
    this.enqueue({ event: undefined, unread: message, at, source: sourceOfSecurityEvent(message) });
  }

  push(event: DomainEvent): void {
    // Every security event but the success waits: a success is what a guessed password is judged on, with the call after it.
    if (event.type === 'security' && DEFERRED_KINDS.has(event.kind)) {
      this.enqueue({ event, unread: undefined, at: event.at, source: event.remote?.ip ?? '' });
      return;
    }
    if (event.type === 'security' && this.waitingCount > 0) this.deliverWaitingFrom(event.remote?.ip ?? '');
    this.options.deliver(event);
  }

  private enqueue(entry: WaitingEvent): void {
    this.waiting.push(entry);
    this.stats.deferred++;
    const count = this.waitingCount;
    if (count > this.stats.highWater) this.stats.highWater = count;
    if (count > this.maxWaiting) this.shed(count - this.maxWaiting, entry.at);
    this.schedule();
  }

  /** Delivers everything waiting now (stop, replay, tests). */
  flush(): void {
    this.reportArrivalShed();
    while (this.head < this.waiting.length) this.deliverNext();
    this.compact();
  }

  private reportArrivalShed(): void {
    if (this.arrivalShed.size === 0) return;
    const shed = this.arrivalShed;
    this.arrivalShed = new Map();
    this.recordShed(shed, this.arrivalShedAt);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    this.reportArrivalShed();
    const deadline = performance.now() + this.sliceMs;
    let count = 0;
    while (this.head < this.waiting.length) {
      this.deliverNext();
      if (++count % 32 === 0 && performance.now() >= deadline) break;
    }
    this.compact();
    if (this.head < this.waiting.length) this.schedule();
  };

  private deliverNext(): void {
    const entry = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined as never;
    if (entry !== undefined) this.deliverEntry(entry);
  }

  private deliverEntry(entry: WaitingEvent): void {
    const event = entry.event ?? (entry.unread && this.options.read ? this.options.read(entry.unread, entry.at) : undefined);
    if (event) this.options.deliver(event);
  }

  /**
   * A success from `source` is judged after the events before it from the same address. A walk of
   * the lane (bounded, and only while a scan fills it) is cheaper than indexing every waiting event
   * by address: successes are a few a second, scan events tens of thousands.
   */
  private deliverWaitingFrom(source: string): void {
    for (let i = this.head; i < this.waiting.length; i++) {
      const entry = this.waiting[i];
      if (entry === undefined || entry.source !== source) continue;
      this.waiting[i] = undefined as never;
      this.deliverEntry(entry);
    }
  }

  /** Security events shed before they reached the lane (the AMI client's own queue was full). */
  recordShed(byKind: ReadonlyMap<string, number>, at: number): void {
    let total = 0;
    for (const [kind, count] of byKind) {
      this.stats.shedByKind.set(kind, (this.stats.shedByKind.get(kind) ?? 0) + count);
      total += count;
    }
    if (total === 0) return;
    this.stats.shed += total;
    this.stats.lastShedAt = at;
    this.options.onShed?.(total, byKind);
  }

  private shed(count: number, at: number): void {
    const byKind = new Map<string, number>();
    let dropped = 0;
    while (dropped < count && this.head < this.waiting.length) {
      const entry = this.waiting[this.head];
      this.waiting[this.head++] = undefined as never;
      if (entry === undefined) continue;
      const kind = entry.unread ? entry.unread.name : entry.event!.type === 'security' ? entry.event!.kind : entry.event!.type;
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      this.stats.shedByKind.set(kind, (this.stats.shedByKind.get(kind) ?? 0) + 1);
      dropped++;
    }
    this.stats.shed += dropped;
    this.stats.lastShedAt = at;
    this.compact();
    this.options.onShed?.(dropped, byKind);
  }

  private compact(): void {
    if (this.head >= this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}
