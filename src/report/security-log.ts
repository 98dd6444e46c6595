/**
 * Security events in the log without flooding it: a SIP scanner sends thousands of requests a
 * second and Asterisk reports each two or three times. Each event is logged at debug only; at info
 * and above the log holds, per source address, a line when it starts failing, one summary a minute
 * while it goes on (counts by kind, accounts tried), and a line when it has been quiet for a minute.
 * A scan from many addresses: the first 20 new ones of a minute are named, the rest counted in one
 * line. Bounded: at most `maxSources` addresses followed at once that failed more than once (the
 * least recent tenth leaves the view when full), and as many that failed once — those are kept as
 * that one failure off the heap (FirstFailures: a scan's addresses are not copied by the garbage
 * collector), the longest-waiting leaving the view first. What leaves is counted in
 * `stats.evicted` and in that line.
 */
import type { SecurityEvent } from '../calls/events.js';
import { SECURITY_FAILURE_KINDS } from '../calls/events.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { countInPairs, dropOldest } from '../bounded.js';
import { FirstFailures, type FirstFailure } from '../net/first-failures.js';

const ACCOUNT_SAMPLE = 10;
/** New attacking addresses named one by one per period; more are counted in one line. */
const NAMED_PER_PERIOD = 20;

interface SourceActivity {
  ip: string;
  firstAt: number;
  lastAt: number;
  /** Start of the minute being counted. */
  windowStart: number;
  total: number;
  /** This period's failures by kind, as `[kind, count, kind, count]`; arrays, not Maps and Sets: one of these per scanning address. */
  counts: (string | number)[];
  services: string[];
  /** At most ACCOUNT_SAMPLE. */
  accounts: string[];
  windowEvents: number;
}

export interface SecurityLogOptions {
  log: Logger;
  clock: Clock;
  /** Summary period and quiet time before a source is said to have stopped. @default 60000 */
  periodMs?: number;
  /** @default 10000 */
  maxSources?: number;
}

export class SecurityLog {
  readonly stats = { events: 0, sources: 0, evicted: 0, lines: 0 };

  /** Addresses in view now. */
  get size(): number {
    return this.sources.size + this.newcomers.size;
  }
  private readonly sources = new Map<string, SourceActivity>();
  /** Addresses that have failed once, as that failure (made into a SourceActivity when they fail again, or at the period's end). */
  private readonly newcomers: FirstFailures;
  private newcomersEvicted = 0;
  /** Addresses that left the view to make room, and their failures not yet written, since the last tick. */
  private readonly dropped = { sources: 0, events: 0 };
  /** Addresses that started failing in this period beyond the ones named one by one. */
  private unnamed = { sources: 0, periodStart: 0, named: 0 };
  private readonly periodMs: number;
  private readonly maxSources: number;

  constructor(private readonly options: SecurityLogOptions) {
    this.periodMs = options.periodMs ?? 60_000;
    this.maxSources = options.maxSources ?? 2_000;
    this.newcomers = new FirstFailures(this.maxSources, Number.POSITIVE_INFINITY);
  }

  /** Addresses followed now. */
  get followed(): number {
    return this.size;
  }

  record(event: SecurityEvent): void {
    this.stats.events++;
    // The fields are built only when debug is on: this runs for every event of a scan.
    const log = this.options.log;
    if (log.isLevelEnabled?.('debug') ?? true) log.debug({ kind: event.kind, service: event.service, account: event.accountId, ip: event.remote?.ip, port: event.remote?.port }, 'security event');
    if (!SECURITY_FAILURE_KINDS.has(event.kind)) return;
    const ip = event.remote?.ip ?? 'unknown';
    const now = this.options.clock.now();
    let source = this.sources.get(ip);
    const first = source === undefined ? this.newcomers.take(ip, now) : undefined;
    if (source) {
      // Most recently active last: the first entries are the ones to drop when full.
      this.sources.delete(ip);
    } else if (first) {
      // Its second failure: followed as a record from now on.
      source = activityOf(ip, first);
      if (this.sources.size >= this.maxSources) this.evictOldest();
    } else {
      this.stats.sources++;
      // A scan from many addresses must not turn into a line per address: the first few of a period are named, the rest counted.
      if (now - this.unnamed.periodStart >= this.periodMs) this.unnamed = { sources: 0, periodStart: now, named: 0 };
      if (this.unnamed.named < NAMED_PER_PERIOD) {
        this.unnamed.named++;
        this.line('warn', { ip, kind: event.kind, service: event.service, account: event.accountId }, `security: ${ip} started failing to authenticate (${event.service} ${event.kind}, account ${event.accountId || '-'})`);
      } else this.unnamed.sources++;
      // Kept as its one failure (off the heap) until it fails again.
      if (this.newcomers.remember(ip, { at: now, service: event.service, kind: event.kind, account: sampleAccount(event.accountId), sessionId: undefined, port: -1 })) {
        this.countNewcomersEvicted();
        return;
      }
      source = { ip, firstAt: now, lastAt: now, windowStart: now, total: 0, counts: [event.kind, 0], services: [event.service], accounts: [], windowEvents: 0 };
      if (this.sources.size >= this.maxSources) this.evictOldest();
    }
    this.sources.set(ip, source);
    source.lastAt = now;
    source.total++;
    source.windowEvents++;
    countInPairs(source.counts, event.kind);
    if (!source.services.includes(event.service)) source.services.push(event.service);
    if (source.accounts.length < ACCOUNT_SAMPLE) {
      const account = sampleAccount(event.accountId);
      // A literal for the first: sized to fit (a push onto an empty array reserves seventeen slots).
      if (account && !source.accounts.includes(account)) {
        if (source.accounts.length === 0) source.accounts = [account];
        else source.accounts.push(account);
      }
    }
  }

  /** Summaries of the minute that ended, and sources that went quiet. Call every few seconds. */
  tick(): void {
    const now = this.options.clock.now();
    if (this.unnamed.sources > 0 || this.dropped.sources > 0) {
      if (now - this.unnamed.periodStart >= this.periodMs || this.dropped.sources > 0) this.manySources(now);
    }
    // Addresses that failed once a period ago: their summary, then followed as the others (their end a period later).
    for (let first = this.newcomers.takeOldest(now - this.periodMs + 1); first; first = this.newcomers.takeOldest(now - this.periodMs + 1)) {
      const source = activityOf(first[0], first[1]);
      this.summarise(source, now);
      if (this.sources.size >= this.maxSources) this.evictOldest();
      this.sources.set(source.ip, source);
    }
    for (const source of [...this.sources.values()]) {
      if (now - source.windowStart < this.periodMs) continue;
      if (source.windowEvents > 0) this.summarise(source, now);
      else if (now - source.lastAt >= this.periodMs) this.stopped(source);
    }
  }

  /** Everything still counted, written out (the agent stops). */
  flush(): void {
    const now = this.options.clock.now();
    if (this.unnamed.sources > 0 || this.dropped.sources > 0) this.manySources(now);
    for (let first = this.newcomers.takeOldest(Number.POSITIVE_INFINITY); first; first = this.newcomers.takeOldest(Number.POSITIVE_INFINITY)) this.sources.set(first[0], activityOf(first[0], first[1]));
    for (const source of [...this.sources.values()]) {
      if (source.windowEvents > 0) this.summarise(source, now);
      this.stopped(source);
    }
  }

  /** One line for a scan from many addresses: how many more started, how many left the view. */
  private manySources(now: number): void {
    const started = this.unnamed.sources;
    const { sources: dropped, events } = this.dropped;
    this.line(
      'warn',
      { newAddresses: started, droppedFromView: dropped, droppedEvents: events, followed: this.sources.size },
      `security: failures from many addresses: ${started} more started failing in the last ${Math.round((now - this.unnamed.periodStart) / 1000)} s${dropped > 0 ? `; ${dropped} quieter ones (${events} failures) dropped from this log's view to stay within ${this.maxSources} addresses` : ''}`,
    );
    this.unnamed = { sources: 0, periodStart: now, named: 0 };
    this.dropped.sources = 0;
    this.dropped.events = 0;
  }

  private summarise(source: SourceActivity, now: number): void {
    const counts: Record<string, number> = {};
    const described: string[] = [];
    for (let index = 0; index + 1 < source.counts.length; index += 2) {
      counts[source.counts[index] as string] = source.counts[index + 1] as number;
      described.push(`${source.counts[index]} ×${source.counts[index + 1]}`);
    }
    this.line(
      'warn',
      { ip: source.ip, events: source.windowEvents, counts, services: [...source.services], accounts: [...source.accounts], total: source.total },
      `security: ${source.ip}: ${source.windowEvents} failures in the last ${Math.round((now - source.windowStart) / 1000)} s (${described.join(', ')}; accounts ${source.accounts.join(', ') || '-'})`,
    );
    source.windowStart = now;
    source.windowEvents = 0;
    source.counts.length = 0;
  }

  private stopped(source: SourceActivity): void {
    this.sources.delete(source.ip);
    this.line('info', { ip: source.ip, total: source.total, firstAt: new Date(source.firstAt).toISOString(), lastAt: new Date(source.lastAt).toISOString() }, `security: ${source.ip} stopped (${source.total} failures in all)`);
  }

  /** A tenth of the addresses, the least recent, leave the log's view at once; their counts go into one line at the next tick. */
  private evictOldest(): void {
    dropOldest(this.sources, this.maxSources / 10, (ip) => {
      this.stats.evicted++;
      this.dropped.sources++;
      this.dropped.events += this.sources.get(ip)?.windowEvents ?? 0;
    });
  }

  /** Addresses that failed once and were pushed out by newer ones: they leave the view with their one failure. */
  private countNewcomersEvicted(): void {
    const evicted = this.newcomers.evicted - this.newcomersEvicted;
    if (evicted === 0) return;
    this.newcomersEvicted = this.newcomers.evicted;
    this.stats.evicted += evicted;
    this.dropped.sources += evicted;
    this.dropped.events += evicted;
  }

  private line(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void {
    this.stats.lines++;
    this.options.log[level](fields, message);
  }
}

/** The account an event names, as the log samples it (cut to 80 characters; `<unknown>` names none). */
function sampleAccount(accountId: string): string | undefined {
  const account = accountId.trim().slice(0, 80);
  return account && account !== '<unknown>' ? account : undefined;
}

/** An address's activity as its one failure left it. */
function activityOf(ip: string, first: FirstFailure): SourceActivity {
  const account = first.account;
  return { ip, firstAt: first.at, lastAt: first.at, windowStart: first.at, total: 1, counts: [first.kind, 1], services: [first.service], accounts: account ? [account] : [], windowEvents: 1 };
}
