/**
 * When a scan outruns the agent, the security lane sheds the oldest events' detail (calls are
 * still judged first). The admin hears of it: a warning line at most once a minute, a mail at most
 * once an hour, and /healthz says so while it lasts.
 */
import { DateTime } from 'luxon';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { renderHtml, renderText, type Block } from '../act/mail/format.js';
import type { OutboxMail } from '../store/store.js';

export interface SheddingReportOptions {
  log: Logger;
  clock: Clock;
  /** Queues a mail (the outbox dedupes by key: one per hour). */
  mail?: (mail: OutboxMail) => void;
  to: readonly string[];
  timezone: string;
  agent: string;
  /** The lane's bound, for the advice. */
  backlog: number;
}

const LOG_EVERY_MS = 60_000;
/** /healthz reports shedding this long after the last shed event. */
export const SHEDDING_RECENT_MS = 60_000;

export class SheddingReport {
  private pendingTotal = 0;
  private pendingByKind = new Map<string, number>();
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SheddingReportOptions) {}

  /** The lane shed `count` events just now. */
  readonly shed = (count: number, byKind: ReadonlyMap<string, number>): void => {
    this.pendingTotal += count;
    for (const [kind, n] of byKind) this.pendingByKind.set(kind, (this.pendingByKind.get(kind) ?? 0) + n);
    const now = this.options.clock.now();
    if (now - this.lastLogAt >= LOG_EVERY_MS) this.report(now);
    else if (!this.timer) {
      this.timer = setTimeout(() => this.report(this.options.clock.now()), this.lastLogAt + LOG_EVERY_MS - now);
      this.timer.unref();
    }
  };

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingTotal > 0) this.report(this.options.clock.now());
  }

  private report(now: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingTotal === 0) return;
    const total = this.pendingTotal;
    const byKind = Object.fromEntries(this.pendingByKind);
    this.pendingTotal = 0;
    this.pendingByKind = new Map();
    this.lastLogAt = now;
    this.options.log.warn({ shed: total, byKind, backlog: this.options.backlog }, 'security events arrive faster than they can be judged: the oldest were counted without detail; calls are still judged first');
    if (this.options.mail && this.options.to.length > 0) this.options.mail(this.mail(now, total, byKind));
  }

  private mail(now: number, total: number, byKind: Record<string, number>): OutboxMail {
    const { timezone, agent, backlog } = this.options;
    const hour = DateTime.fromMillis(now, { zone: timezone }).toFormat("yyyy-LL-dd'T'HH");
    const kinds = Object.entries(byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, count]) => `${kind} ${count.toLocaleString('en-US')}`)
      .join(', ');
    const blocks: Block[] = [
      { type: 'band', tone: 'high', text: `Tollgate on ${agent} is shedding security-event detail` },
      {
        type: 'actions',
        happened: `Security events (a scan's refused attempts) arrived faster than Tollgate could judge them: ${total.toLocaleString('en-US')} were counted without their detail (${kinds}).`,
        did: 'Every call event was still judged first and fraud calls are still hung up; brute-force and compromise detection saw only part of the scan.',
        todo: 'Stop the scan before it reaches Asterisk: block the scanning networks at the firewall (or let the firewall hook do it), and check /healthz and the log for the sources.',
      },
      {
        type: 'list',
        items: [
          `The lane keeps the latest ${backlog.toLocaleString('en-US')} security events waiting; raise ami.securityBacklog only if the machine has memory and CPU to spare.`,
          'A scan this large usually comes from many addresses: a SIP port exposed to the Internet is the cause to fix (restrict it to your phones and carriers).',
          'This mail is sent at most once an hour while shedding lasts.',
        ],
      },
    ];
    const subject = `[HIGH] Tollgate on ${agent}: ${total.toLocaleString('en-US')} security events shed (scan faster than the agent)`;
    const footer = `Tollgate on ${agent}`;
    return { kind: 'failure', dedupeKey: `shedding:${hour}`, to: [...this.options.to], subject, text: renderText(blocks, footer), html: renderHtml(subject, blocks, footer) };
  }
}
