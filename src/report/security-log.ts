/**
 * Security events in the log without flooding it: a SIP scanner sends thousands of requests a
 * second and Asterisk reports each two or three times. Each event is logged at debug only; at info
 * and above the log holds, per source address, a line when it starts failing, one summary a minute
 * while it goes on (counts by kind, accounts tried), and a line when it has been quiet for a minute.
 * Bounded: at most `maxSources` addresses followed at once (the least recent is summarised and
 * dropped first; counted in `stats.evicted`).
 */
import type { SecurityEvent } from '../calls/events.js';
import { SECURITY_FAILURE_KINDS } from '../calls/events.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';

const ACCOUNT_SAMPLE = 10;

interface SourceActivity {
  ip: string;
  firstAt: number;
  lastAt: number;
  /** Start of the minute being counted. */
  windowStart: number;
  total: number;
  counts: Map<string, number>;
  services: Set<string>;
  accounts: Set<string>;
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
  private readonly sources = new Map<string, SourceActivity>();
  private readonly periodMs: number;
  private readonly maxSources: number;

  constructor(private readonly options: SecurityLogOptions) {
    this.periodMs = options.periodMs ?? 60_000;
    this.maxSources = options.maxSources ?? 10_000;
  }

  /** Addresses followed now (at most maxSources). */
  get followed(): number {
    return this.sources.size;
  }

  record(event: SecurityEvent): void {
    this.stats.events++;
    const fields = { kind: event.kind, service: event.service, account: event.accountId, ip: event.remote?.ip, port: event.remote?.port };
    this.options.log.debug(fields, 'security event');
    if (!SECURITY_FAILURE_KINDS.has(event.kind)) return;
    const ip = event.remote?.ip ?? 'unknown';
    const now = this.options.clock.now();
    let source = this.sources.get(ip);
    if (source) {
      // Most recently active last: the first entries are the ones to drop when full.
      this.sources.delete(ip);
    } else {
      source = { ip, firstAt: now, lastAt: now, windowStart: now, total: 0, counts: new Map(), services: new Set(), accounts: new Set(), windowEvents: 0 };
      this.stats.sources++;
      this.line('warn', { ip, kind: event.kind, service: event.service, account: event.accountId }, `security: ${ip} started failing to authenticate (${event.service} ${event.kind}, account ${event.accountId || '-'})`);
      if (this.sources.size >= this.maxSources) this.evictOldest();
    }
    this.sources.set(ip, source);
    source.lastAt = now;
    source.total++;
    source.windowEvents++;
    source.counts.set(event.kind, (source.counts.get(event.kind) ?? 0) + 1);
    source.services.add(event.service);
    const account = event.accountId.trim();
    if (account && account !== '<unknown>' && source.accounts.size < ACCOUNT_SAMPLE) source.accounts.add(account.slice(0, 80));
  }

  /** Summaries of the minute that ended, and sources that went quiet. Call every few seconds. */
  tick(): void {
    const now = this.options.clock.now();
    for (const source of [...this.sources.values()]) {
      if (now - source.windowStart < this.periodMs) continue;
      if (source.windowEvents > 0) this.summarise(source, now);
      else if (now - source.lastAt >= this.periodMs) this.stopped(source);
    }
  }

  /** Everything still counted, written out (the agent stops). */
  flush(): void {
    const now = this.options.clock.now();
    for (const source of [...this.sources.values()]) {
      if (source.windowEvents > 0) this.summarise(source, now);
      this.stopped(source);
    }
  }

  private summarise(source: SourceActivity, now: number): void {
    const counts = Object.fromEntries(source.counts);
    const described = [...source.counts].map(([kind, count]) => `${kind} ×${count}`).join(', ');
    this.line(
      'warn',
      { ip: source.ip, events: source.windowEvents, counts, services: [...source.services], accounts: [...source.accounts], total: source.total },
      `security: ${source.ip}: ${source.windowEvents} failures in the last ${Math.round((now - source.windowStart) / 1000)} s (${described}; accounts ${[...source.accounts].join(', ') || '-'})`,
    );
    source.windowStart = now;
    source.windowEvents = 0;
    source.counts.clear();
  }

  private stopped(source: SourceActivity): void {
    this.sources.delete(source.ip);
    this.line('info', { ip: source.ip, total: source.total, firstAt: new Date(source.firstAt).toISOString(), lastAt: new Date(source.lastAt).toISOString() }, `security: ${source.ip} stopped (${source.total} failures in all)`);
  }

  private evictOldest(): void {
    const oldest = this.sources.values().next().value;
    if (!oldest) return;
    this.stats.evicted++;
    if (oldest.windowEvents > 0) this.summarise(oldest, this.options.clock.now());
    this.sources.delete(oldest.ip);
  }

  private line(level: 'info' | 'warn', fields: Record<string, unknown>, message: string): void {
    this.stats.lines++;
    this.options.log[level](fields, message);
  }
}
