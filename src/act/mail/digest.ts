/**
 * The daily digest — "check your call logs every day", done for the admin: every morning (07:00 in
 * the agent's time zone by default) a mail about the previous local day: calls and spend by
 * destination country, spend by endpoint, the costliest numbers, incidents, decisions by action and
 * result, security events by kind and source address, the locks in force and the outbox's health.
 *
 * Sent once per day, ever: the outbox row's dedupe key is `digest:<YYYY-MM-DD>`, so a restart never
 * sends it twice, and an agent that was down at 07:00 sends it when it comes back (the same day).
 *
 * `collectDigest` reads the store; `composeDigest` is a pure function of what it read (tests feed it
 * rows and check the figures).
 *
 * Days are local days in the agent's `timezone`: `securityCounts(day)` must be written with the same
 * key (`localDay(at, timezone)`).
 */
import { DateTime } from 'luxon';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { systemClock, type Clock } from '../../clock.js';
import { silentLogger, type Logger } from '../../log.js';
import type { CostEntry, LockInfo } from '../../policy/types.js';
import type { IncidentRecord, OutboxMail, Store } from '../../store/store.js';
import { habitBlocks, type HabitNews } from './digest-habits.js';
import { formatCountry, formatMoney, maskText, oneLine, renderHtml, renderText, type Block, type RenderedMail } from './format.js';

export interface SpendLine {
  /** Country code, endpoint name or E.164 number, depending on the table. */
  key: string;
  /** Distinct calls (Linkedids). */
  calls: number;
  billableSeconds: number;
  /** Micro-units of `currency`. */
  micros: number;
  currency: string;
}

export interface DecisionCount {
  action: string;
  result: string;
  mode: string;
  count: number;
}

export interface DigestData {
  /** `YYYY-MM-DD`, the local day reported. */
  day: string;
  timezone: string;
  /** The day's bounds (epoch ms, local midnight to midnight). */
  from: number;
  to: number;
  /** When the data was read (locks and outbox are "now"). */
  at: number;
  totals: SpendLine[];
  byCountry: SpendLine[];
  byEndpoint: SpendLine[];
  /** The costliest destination numbers (at most 10). */
  topNumbers: (SpendLine & { country?: string })[];
  incidents: IncidentRecord[];
  decisions: DecisionCount[];
  security: { kind: string; address: string; count: number }[];
  locks: LockInfo[];
  outbox: { pending: number; sent: number };
  /** Networks, User-Agents and countries endpoints used for the first time that day. */
  habits?: HabitNews[];
}

export interface DigestRenderOptions {
  mask: (number: string | undefined) => string;
  /** The agent's currency (`rates.currency`): a day with nothing spent shows `0.00` in it. */
  currency: string;
  /** Host name of the agent, shown in the footer. */
  agent: string;
}

/** The local day (`YYYY-MM-DD`) an instant falls on in `timezone`. */
export function localDay(at: number, timezone: string): string {
  return DateTime.fromMillis(at, { zone: timezone }).toISODate()!;
}

/** Reads what the digest of `day` (local, in `timezone`) reports. */
export function collectDigest(store: Store, day: string, timezone: string, now: number): DigestData {
  const start = DateTime.fromISO(day, { zone: timezone }).startOf('day');
  if (!start.isValid) throw new Error(`invalid digest day ${day} in ${timezone}`);
  const from = start.toMillis();
  const to = start.plus({ days: 1 }).toMillis();
  const costs = store.costsSince(from).filter((entry) => entry.endedAt < to);
  const decisions = new Map<string, DecisionCount>();
  for (const decision of store.decisions({ since: from })) {
    if (decision.at >= to) continue;
    const key = `${decision.action}|${decision.result}|${decision.mode}`;
    const count = decisions.get(key) ?? { action: decision.action, result: decision.result, mode: decision.mode, count: 0 };
    count.count++;
    decisions.set(key, count);
  }
  return {
    day,
    timezone,
    from,
    to,
    at: now,
    totals: spendBy(costs, () => 'total'),
    byCountry: spendBy(costs, (entry) => entry.country ?? '??'),
    byEndpoint: spendBy(costs, (entry) => entry.endpoint),
    topNumbers: spendBy(costs, (entry) => entry.e164 ?? entry.dialled ?? '?')
      .slice(0, 10)
      .map((line) => {
        const country = costs.find((entry) => (entry.e164 ?? entry.dialled ?? '?') === line.key)?.country;
        return country ? { ...line, country } : line;
      }),
    incidents: store.incidentsSince(from).filter((incident) => incident.firstAt < to),
    decisions: [...decisions.values()].sort((a, b) => b.count - a.count || a.action.localeCompare(b.action) || a.result.localeCompare(b.result)),
    security: store.securityCounts(day),
    locks: store.locks(now),
    outbox: store.outboxCounts(),
    habits: store.profileNews(from, to),
  };
}

/** Calls and spend grouped by `keyOf` and currency, costliest first. */
function spendBy(costs: readonly CostEntry[], keyOf: (entry: CostEntry) => string): SpendLine[] {
  const lines = new Map<string, SpendLine & { linkedids: Set<string> }>();
  for (const entry of costs) {
    const key = keyOf(entry);
    const id = `${key}|${entry.currency}`;
    let line = lines.get(id);
    if (!line) {
      line = { key, calls: 0, billableSeconds: 0, micros: 0, currency: entry.currency, linkedids: new Set() };
      lines.set(id, line);
    }
    line.linkedids.add(entry.linkedid);
    line.billableSeconds += entry.billableSeconds;
    line.micros += entry.micros;
  }
  return [...lines.values()]
    .map(({ linkedids, ...line }) => ({ ...line, calls: linkedids.size }))
    .sort((a, b) => b.micros - a.micros || b.calls - a.calls || a.key.localeCompare(b.key));
}

const SECURITY_ROWS = 20;

/** The digest mail for what `collectDigest` read: a pure function. */
export function composeDigest(data: DigestData, options: DigestRenderOptions): RenderedMail {
  const { mask } = options;
  const spend = (lines: readonly SpendLine[]) => (lines.length === 0 ? formatMoney(0, options.currency) : lines.map((line) => formatMoney(line.micros / 1e6, line.currency)).join(' + '));
  const calls = data.totals.reduce((sum, line) => sum + line.calls, 0);
  const critical = data.incidents.filter((incident) => incident.severity === 'critical').length;
  const hangups = data.decisions.filter((count) => count.action === 'hangup' && count.result === 'done').reduce((sum, count) => sum + count.count, 0);
  const securityEvents = data.security.reduce((sum, row) => sum + row.count, 0);
  const addresses = new Set(data.security.map((row) => row.address)).size;
  const dayName = DateTime.fromISO(data.day, { zone: data.timezone }).setLocale('en').toFormat('cccc d LLLL yyyy');
  const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

  const subject = oneLine(
    `[Tollgate][DIGEST] ${data.day}: ${plural(data.incidents.length, 'incident')}${critical > 0 ? ` (${critical} critical)` : ''}, ${plural(calls, 'call')}, ${spend(data.totals)}${data.outbox.pending > 0 ? `, ${data.outbox.pending} mail${data.outbox.pending === 1 ? '' : 's'} pending` : ''}`,
  );

  const locked = data.locks.length;
  const todo: string[] = [];
  if (locked > 0) todo.push(`${plural(locked, 'endpoint')} ${locked === 1 ? 'is' : 'are'} locked: change ${locked === 1 ? 'its secret' : 'their secrets'} and check the phones' provisioning before \`tollgate unlock\` (below)`);
  if (data.outbox.pending > 0) todo.push(`${plural(data.outbox.pending, 'mail')} could not be delivered: check smtp.url and the agent's log`);
  if (todo.length === 0 && data.incidents.length > 0) todo.push('nothing urgent: every incident was mailed when it happened (listed below)');
  const blocks: Block[] = [
    { type: 'band', tone: critical > 0 ? 'critical' : data.incidents.length > 0 ? 'medium' : 'report', text: `Daily digest of ${dayName}` },
    {
      type: 'actions',
      happened: `${plural(calls, 'priced outbound call')}, ${spend(data.totals)}; ${plural(data.incidents.length, 'incident')}${critical > 0 ? ` (${critical} critical)` : ''}; ${plural(securityEvents, 'security event')} from ${plural(addresses, 'address')} (${data.timezone}).`,
      did: `${plural(hangups, 'call')} hung up; ${plural(locked, 'endpoint')} locked now; ${plural(data.outbox.sent, 'mail')} sent, ${data.outbox.pending} waiting in the outbox.`,
      todo: todo.length > 0 ? `${todo.join('; ').charAt(0).toUpperCase()}${todo.join('; ').slice(1)}.` : 'Nothing: a quiet day.',
    },
    { type: 'heading', text: 'Calls and spend by destination country' },
  ];
  const minutes = (seconds: number) => (seconds / 60).toFixed(1);
  const spendTable = (head: string, lines: readonly SpendLine[], label: (line: SpendLine) => string): Block =>
    lines.length === 0
      ? { type: 'paragraph', text: 'No priced calls.' }
      : { type: 'table', head: [head, 'Calls', 'Minutes', 'Spend'], numeric: [false, true, true, true], rows: lines.map((line) => [label(line), String(line.calls), minutes(line.billableSeconds), formatMoney(line.micros / 1e6, line.currency)]) };
  blocks.push(spendTable('Country', data.byCountry, (line) => (line.key === '??' ? 'unknown' : formatCountry(line.key))));
  blocks.push({ type: 'heading', text: 'Spend by endpoint' });
  blocks.push(spendTable('Endpoint', data.byEndpoint, (line) => line.key));
  if (data.topNumbers.length > 0) {
    blocks.push({ type: 'heading', text: 'Costliest numbers' });
    blocks.push(spendTable('Number', data.topNumbers, (line) => mask(prettyNumber(line.key))));
  }

  blocks.push({ type: 'heading', text: 'Incidents' });
  const time = (ms: number) => DateTime.fromMillis(ms, { zone: data.timezone }).toFormat(ms >= data.from && ms < data.to ? 'HH:mm:ss' : 'yyyy-LL-dd HH:mm');
  blocks.push(
    data.incidents.length === 0
      ? { type: 'paragraph', text: 'None.' }
      : {
          type: 'table',
          head: ['Incident', 'Policy', 'Scope', 'Severity', 'Findings', 'Calls', 'First', 'Last'],
          numeric: [false, false, false, false, true, true, false, false],
          rows: data.incidents.map((incident) => [incident.id, incident.policy, maskText(incident.scope, mask), incident.severity, String(incident.findings), String(incident.calls.length), time(incident.firstAt), time(incident.lastAt)]),
        },
  );

  blocks.push({ type: 'heading', text: 'Decisions' });
  blocks.push(
    data.decisions.length === 0
      ? { type: 'paragraph', text: 'None.' }
      : { type: 'table', head: ['Action', 'Result', 'Mode', 'Count'], numeric: [false, false, false, true], rows: data.decisions.map((count) => [count.action, count.result, count.mode, String(count.count)]) },
  );

  blocks.push({ type: 'heading', text: 'Security events by kind and source address' });
  if (data.security.length === 0) {
    blocks.push({ type: 'paragraph', text: 'None.' });
  } else {
    blocks.push({ type: 'table', head: ['Kind', 'Address', 'Count'], numeric: [false, false, true], rows: data.security.slice(0, SECURITY_ROWS).map((row) => [row.kind, row.address, String(row.count)]) });
    if (data.security.length > SECURITY_ROWS) {
      const rest = data.security.slice(SECURITY_ROWS);
      blocks.push({ type: 'paragraph', text: `… and ${plural(rest.length, 'more row')} (${plural(rest.reduce((sum, row) => sum + row.count, 0), 'event')}).` });
    }
  }

  if (data.habits) blocks.push(...habitBlocks(data.habits));

  blocks.push({ type: 'heading', text: 'Locked endpoints (now)' });
  const stamp = (ms: number) => DateTime.fromMillis(ms, { zone: data.timezone }).toFormat('yyyy-LL-dd HH:mm');
  blocks.push(
    data.locks.length === 0
      ? { type: 'paragraph', text: 'None.' }
      : {
          type: 'table',
          head: ['Endpoint', 'Since', 'Until', 'Reason', 'Policy', 'Undo'],
          rows: data.locks.map((lock) => [lock.endpoint, stamp(lock.since), lock.until !== undefined ? stamp(lock.until) : 'until unlocked', oneLine(maskText(lock.reason, mask)), lock.policy ?? '', `tollgate unlock ${lock.endpoint}`]),
        },
  );

  blocks.push({ type: 'heading', text: 'Mail outbox' });
  blocks.push({
    type: 'paragraph',
    text:
      data.outbox.pending > 0
        ? `${plural(data.outbox.pending, 'mail')} not delivered yet (retried until the mail relay accepts them: check smtp.url and the agent's log); ${data.outbox.sent} sent and kept.`
        : `Every mail was delivered (${data.outbox.sent} sent and kept).`,
  });

  const footer = `Tollgate on ${oneLine(options.agent)} · digest of ${data.day} (${data.timezone}) · read ${DateTime.fromMillis(data.at, { zone: data.timezone }).toFormat('yyyy-LL-dd HH:mm')}`;
  return { subject, text: renderText(blocks, footer), html: renderHtml(subject, blocks, footer) };
}

function prettyNumber(number: string): string {
  return number.startsWith('+') ? (parsePhoneNumberFromString(number)?.formatInternational() ?? number) : number;
}

export interface DailyDigestOptions {
  store: Store;
  /** Where the digest goes (the Mailer; anything with its `enqueue`). */
  mailer: { enqueue(mail: OutboxMail): { id: number; created: boolean } };
  to: string[];
  /** The agent's IANA time zone. */
  timezone: string;
  /** Local time of day, `HH:MM`. @default '07:00' */
  at?: string;
  clock?: Clock;
  logger?: Logger;
  /** `numberMasker(config.privacy.maskNumbers)`. @default no masking */
  mask?: (number: string | undefined) => string;
  /** Host name, for the footer. */
  agent: string;
  /** The agent's currency (the rate table's, else `rates.currency`), for a day with nothing spent. */
  currency: string;
}

/** Longest timer: waking hourly keeps a suspended host or a clock change from skipping a digest. */
const MAX_WAIT_MS = 3_600_000;

export class DailyDigest {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly hour: number;
  private readonly minute: number;
  private readonly mask: (number: string | undefined) => string;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The last day enqueued by this process (the outbox's dedupe key covers restarts). */
  private lastDay: string | undefined;

  constructor(private readonly options: DailyDigestOptions) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ part: 'digest' });
    const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(options.at ?? '07:00');
    if (!match) throw new Error(`alerts.digestAt must be HH:MM (got "${options.at}")`);
    this.hour = Number(match[1]);
    this.minute = Number(match[2]);
    this.mask = options.mask ?? ((number) => number ?? '');
  }

  /** Sends yesterday's digest if today's time has passed (a late start catches up), then waits for the next. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** When the next digest is due after `now` (epoch ms). */
  nextRunAt(now: number): number {
    const today = this.runTimeOn(DateTime.fromMillis(now, { zone: this.options.timezone }));
    return today.toMillis() > now ? today.toMillis() : this.runTimeOn(today.plus({ days: 1 })).toMillis();
  }

  /**
   * Enqueues the digest of yesterday (local) when today's digest time has passed; undefined when it
   * is not time yet or it was already done by this process.
   */
  runDue(): { day: string; id: number; created: boolean } | undefined {
    const now = this.clock.now();
    const local = DateTime.fromMillis(now, { zone: this.options.timezone });
    if (now < this.runTimeOn(local).toMillis()) return undefined;
    const day = local.minus({ days: 1 }).toISODate()!;
    if (day === this.lastDay) return undefined;
    const result = this.enqueueDay(day);
    this.lastDay = day;
    return result;
  }

  /** Composes and enqueues the digest of `day` (`digest:<day>`: once, ever). */
  enqueueDay(day: string): { day: string; id: number; created: boolean } {
    const data = collectDigest(this.options.store, day, this.options.timezone, this.clock.now());
    const rendered = composeDigest(data, { mask: this.mask, agent: this.options.agent, currency: this.options.currency });
    const result = this.options.mailer.enqueue({ kind: 'digest', dedupeKey: `digest:${day}`, to: this.options.to, ...rendered });
    this.logger.info({ day, id: result.id, created: result.created }, result.created ? 'daily digest queued' : 'daily digest already queued or sent');
    return { day, ...result };
  }

  private wake(): void {
    if (!this.running) return;
    try {
      this.runDue();
    } catch (error) {
      this.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'daily digest failed; trying again at the next wake-up');
      // Allow the same day to be tried again.
      this.lastDay = undefined;
    }
    const now = this.clock.now();
    const delay = Math.max(1_000, Math.min(MAX_WAIT_MS, this.nextRunAt(now) - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, delay);
    this.timer.unref();
  }

  private runTimeOn(day: DateTime): DateTime {
    // In a DST gap (02:30 on the spring-forward day) luxon moves forward to the first valid time.
    return day.set({ hour: this.hour, minute: this.minute, second: 0, millisecond: 0 });
  }
}
