/**
 * The attack summary: once a thread has been quiet (act/mail/threads.ts), one mail with the whole
 * story — how many calls, what became of each, the billable seconds and the cost that got through
 * (from the spend ledger), and an estimate of what was avoided: each stopped call at its
 * destination's rate for an hour, the projection the incident mails use.
 *
 *   [Tollgate][CRITICAL][SUMMARY] attack on 1001 from 203.0.113.9: 5 calls stopped, 0 s of talk, 5.50 USD got through, estimated 1 240.00 USD avoided
 *
 * Talk time is what the calls were answered for; the cost that got through is what the carrier
 * bills for it (its minimum increments and connection fees included), so a fraction of a second
 * of talk can cost a minute.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { CostEntry } from '../../policy/types.js';
import type { OutboxMail } from '../../store/store.js';
import { formatCountry, formatCountryName, formatDuration, formatMoney, formatNumberType, formatTime, oneLine, renderHtml, renderText, type Block, type RenderedMail } from './format.js';
import { compromiseSteps } from './render.js';
import type { MailThread, ThreadCall } from './threads.js';

export interface AttackSummaryInput {
  thread: MailThread;
  /** The spend ledger's entries for the thread's calls (what the carrier bills). */
  costs: readonly CostEntry[];
  mask: (number: string | undefined) => string;
  timezone: string;
  agent: string;
  /** Endpoints still locked now (the admin has not unlocked them yet). */
  lockedNow: readonly string[];
  /** The agent's currency: what nothing is shown in (a priced call's own currency comes first). */
  currency: string;
}

/** Hours an unstopped fraud call is assumed to run: the same projection as the incident mails. */
const AVOIDED_HOURS = 1;

export interface AttackFigures {
  calls: number;
  stopped: number;
  /** Calls reported but not hung up. */
  notStopped: number;
  failed: number;
  talkSeconds: number;
  /** Cost that got through, by currency. */
  through: Map<string, number>;
  /** Estimated cost avoided, by currency. */
  avoided: Map<string, number>;
  /** Stopped calls without a rate (not in the estimate). */
  unpriced: number;
}

/** The figures of an attack, from its calls and the spend ledger. */
export function attackFigures(thread: MailThread, costs: readonly CostEntry[]): AttackFigures {
  const stoppedOutcome = thread.simulated ? 'would hang up' : 'hung up';
  const figures: AttackFigures = { calls: thread.calls.length + thread.callsOmitted, stopped: 0, notStopped: 0, failed: 0, talkSeconds: 0, through: new Map(), avoided: new Map(), unpriced: 0 };
  for (const call of thread.calls) {
    if (call.outcome === 'hung up' || call.outcome === stoppedOutcome) {
      figures.stopped++;
      const rate = call.ratePerMinute !== undefined ? Number(call.ratePerMinute) : Number.NaN;
      if (Number.isFinite(rate)) add(figures.avoided, call.currency ?? '', rate * 60 * AVOIDED_HOURS);
      else figures.unpriced++;
    } else if (call.outcome === 'hang-up failed') figures.failed++;
    else if (call.outcome === 'reported') figures.notStopped++;
  }
  const linkedids = new Set(thread.calls.map((call) => call.linkedid));
  for (const entry of costs) {
    if (!linkedids.has(entry.linkedid)) continue;
    figures.talkSeconds += entry.billableSeconds;
    add(figures.through, entry.currency, entry.micros / 1e6);
  }
  return figures;
}

export function renderAttackSummary(input: AttackSummaryInput): RenderedMail {
  const { thread, mask, timezone } = input;
  const figures = attackFigures(thread, input.costs);
  const simulated = thread.simulated;
  const title = attackTitle(thread);
  const stopped = `${plural(figures.stopped, 'call')} ${simulated ? 'would have been stopped (simulate)' : 'stopped'}`;
  const zero = formatMoney(0, thread.calls.find((call) => call.currency)?.currency ?? input.currency);
  const avoided = figures.avoided.size > 0 ? money(figures.avoided) : zero;
  const through = figures.through.size > 0 ? money(figures.through) : zero;
  const headline = `${stopped}, ${talk(figures.talkSeconds)} of talk, ${through} got through, estimated ${avoided} ${simulated ? 'at risk' : 'avoided'}`;
  const subject = oneLine(`[Tollgate][${thread.severity.toUpperCase()}][SUMMARY]${simulated ? '[SIMULATED]' : ''} ${title}: ${headline}`);

  const blocks: Block[] = [{ type: 'band', tone: thread.severity, text: `${title}: over` }];
  blocks.push({ type: 'actions', happened: happened(thread, timezone), did: did(thread, figures, zero), todo: todo(thread, figures, input.lockedNow, timezone) });
  const compromised = thread.compromised.filter((entry) => input.lockedNow.includes(entry.endpoint) || !thread.locked.includes(entry.endpoint));
  for (const entry of compromised) {
    blocks.push({ type: 'heading', text: `What to do about ${entry.endpoint}, step by step` });
    blocks.push({ type: 'list', ordered: true, items: compromiseSteps(entry, input.lockedNow.includes(entry.endpoint), timezone) });
  }

  blocks.push({ type: 'heading', text: 'The figures' });
  blocks.push({
    type: 'fields',
    rows: [
      ['Calls', `${figures.calls}${thread.callsOmitted > 0 ? ` (${thread.callsOmitted} not listed)` : ''}`],
      [simulated ? 'Would have been stopped' : 'Stopped', String(figures.stopped)],
      ['Not stopped', String(figures.notStopped + figures.failed)],
      ['Talk time', talk(figures.talkSeconds)],
      ['Cost that got through', `${through} (as the carrier bills it: minimum increments and connection fees included)`],
      [`Estimated cost ${simulated ? 'at risk' : 'avoided'}`, `${avoided} (each stopped call at its destination's rate for ${AVOIDED_HOURS} hour${figures.unpriced > 0 ? `; ${plural(figures.unpriced, 'call')} without a rate not counted` : ''})`],
      ['Findings', `${thread.findings} from ${plural(thread.policies.length, 'policy')} (${thread.policies.join(', ')})`],
      ['Mails', `${plural(thread.mailed.count, 'mail')} in this thread; ${plural(thread.folded, 'alert')} with the same outcome folded into them`],
    ],
  });

  if (thread.calls.length > 0) {
    const billed = new Map<string, { seconds: number; micros: number; currency: string }>();
    for (const entry of input.costs) {
      const line = billed.get(entry.linkedid) ?? { seconds: 0, micros: 0, currency: entry.currency };
      line.seconds += entry.billableSeconds;
      line.micros += entry.micros;
      billed.set(entry.linkedid, line);
    }
    blocks.push({ type: 'heading', text: 'The calls' });
    blocks.push({
      type: 'table',
      head: [`Started (${formatTime(thread.firstAt, timezone).slice(20)})`, 'Endpoint', 'Destination', 'What', 'Rate', 'Outcome', 'Billed', 'Policies'],
      numeric: [false, false, false, false, true, false, true, false],
      rows: thread.calls.map((call) => {
        const line = billed.get(call.linkedid);
        return [
          formatTime(call.startedAt, timezone).slice(11, 19),
          call.endpoint,
          destination(call, mask),
          [call.country ? formatCountry(call.country) : '', call.numberType && call.numberType !== 'UNKNOWN' ? formatNumberType(call.numberType) : '', call.risk ? `${call.risk} risk` : ''].filter(Boolean).join(', '),
          call.ratePerMinute !== undefined ? `${call.ratePerMinute}/min` : 'no rate',
          call.outcome,
          line ? `${talk(line.seconds)}, ${formatMoney(line.micros / 1e6, line.currency)}` : 'not answered',
          call.policies.join(', '),
        ];
      }),
    });
  }

  const addresses = Object.entries(thread.failedLogins);
  if (thread.attackers.length > 0) {
    blocks.push({ type: 'heading', text: 'Addresses that attacked' });
    blocks.push({
      type: 'table',
      head: ['Address', 'Failed logins', 'Firewall'],
      numeric: [false, true, false],
      rows: thread.attackers.map((address) => [
        address,
        String(addresses.find(([ip]) => ip === address)?.[1] ?? '—'),
        thread.blocked.includes(address) ? (simulated ? 'would be blocked' : 'blocked') : thread.notBlocked.includes(address) ? 'not blocked (no firewall hook)' : 'not asked',
      ]),
    });
    if (thread.attackersOmitted > 0) blocks.push({ type: 'paragraph', text: `… and ${plural(thread.attackersOmitted, 'more address')} (see the daily digest).` });
    blocks.push({ type: 'paragraph', text: 'None of these addresses belongs in `trustedAddresses` or an exception: they failed to log in or set off a security policy.' });
  }

  const footer = `Tollgate on ${oneLine(input.agent)} · ${simulated ? 'simulate' : 'enforce'} mode · attack thread ${thread.id} · times in ${timezone}`;
  return { subject, text: renderText(blocks, footer), html: renderHtml(subject, blocks, footer) };
}

/** The outbox row: once per thread, ever (`incident:<thread>:summary`). */
export function attackSummaryMail(input: AttackSummaryInput, to: string[]): OutboxMail {
  return { kind: 'summary', dedupeKey: `incident:${input.thread.id}:summary`, incident: input.thread.id, to, ...renderAttackSummary(input) };
}

/** `attack on 1001 from 203.0.113.9`, `scan from 203.0.113.9 and 2 more addresses`, `alerts on 1003`. */
export function attackTitle(thread: MailThread): string {
  const endpoints = thread.compromised.length > 0 ? thread.compromised.map((entry) => entry.endpoint) : thread.endpoints;
  const on = endpoints.length > 0 ? ` on ${listed(endpoints)}` : '';
  const from = thread.attackers.length > 0 ? ` from ${listed(thread.attackers, 'address')}` : '';
  if (thread.attackers.length > 0 && endpoints.length === 0) return `scan${from}`;
  if (thread.attackers.length > 0 || thread.compromised.length > 0) return `attack${on}${from}`;
  return `alerts${on || ` (${thread.policies.join(', ')})`}`;
}

function happened(thread: MailThread, timezone: string): string {
  const span = `${formatTime(thread.firstAt, timezone)} to ${formatTime(thread.lastAt, timezone).slice(11)}`;
  const parts: string[] = [];
  const logins = Object.values(thread.failedLogins).reduce((sum, count) => sum + count, 0);
  if (thread.attackers.length > 0) parts.push(`${logins > 0 ? `${plural(logins, 'failed login')} from ` : ''}${plural(thread.attackers.length + thread.attackersOmitted, 'address')}`);
  for (const entry of thread.compromised) parts.push(`${entry.endpoint}'s password guessed`);
  const calls = thread.calls.length + thread.callsOmitted;
  if (calls > 0) {
    const places = [...new Set(thread.calls.map((call) => (call.country ? formatCountryName(call.country) : (call.destination ?? '?').slice(0, 4))))];
    parts.push(`${plural(calls, 'call')}${places.length > 0 ? ` to ${listed(places)}` : ''}`);
  }
  return `From ${span} (${formatDuration(thread.lastAt - thread.firstAt)}): ${parts.join(', ') || plural(thread.findings, 'finding')}.`;
}

function did(thread: MailThread, figures: AttackFigures, zero: string): string {
  const simulated = thread.simulated;
  const parts: string[] = [];
  if (figures.calls > 0) {
    const avoided = figures.avoided.size > 0 ? money(figures.avoided) : zero;
    const through = figures.through.size > 0 ? money(figures.through) : zero;
    parts.push(`${simulated ? 'would have stopped' : 'stopped'} ${figures.stopped} of ${plural(figures.calls, 'call')} (${talk(figures.talkSeconds)} of talk, ${through} got through; estimated ${avoided} ${simulated ? 'at risk' : 'avoided'})`);
  }
  if (thread.locked.length > 0) parts.push(`locked ${listed(thread.locked)}`);
  if (thread.blocked.length > 0) parts.push(`${simulated ? 'would have blocked' : 'blocked'} ${listed(thread.blocked, 'address')} at the firewall`);
  if (thread.notBlocked.length > 0) parts.push(`did not block ${listed(thread.notBlocked, 'address')} (no firewall hook)`);
  if (parts.length === 0) parts.push('reported it');
  const sentence = parts.join('; ');
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}

function todo(thread: MailThread, figures: AttackFigures, lockedNow: readonly string[], timezone: string): string {
  const steps: string[] = [];
  if (figures.failed > 0) steps.push(`check the ${plural(figures.failed, 'call')} Tollgate could not hang up (below)`);
  if (figures.notStopped > 0) steps.push(`check the ${plural(figures.notStopped, 'call')} that ${figures.notStopped === 1 ? 'was' : 'were'} only reported (below)`);
  for (const entry of thread.compromised) {
    const locked = lockedNow.includes(entry.endpoint);
    steps.push(`change the secret of ${entry.endpoint}, check the phone's provisioning, look at its calls since ${formatTime(entry.firstFailureAt ?? entry.at, timezone)}${locked ? `, then unlock it (\`tollgate unlock ${entry.endpoint}\`)` : ''}`);
  }
  if (thread.notBlocked.length > 0) steps.push(`block ${listed(thread.notBlocked, 'address')} at your firewall`);
  if (steps.length === 0) return 'Nothing more: everything was stopped; the earlier mails of this thread have the details.';
  const sentence = steps.join('; ');
  return `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`;
}

function destination(call: ThreadCall, mask: (number: string | undefined) => string): string {
  if (!call.destination) return 'unknown';
  return mask(call.destination.startsWith('+') ? (parsePhoneNumberFromString(call.destination)?.formatInternational() ?? call.destination) : call.destination);
}

/** `0 s`, `0.4 s`, `12 s`, `3 min`: talk time as it was, not rounded up to a billing increment. */
function talk(seconds: number): string {
  return seconds < 120 ? `${Number(seconds.toFixed(seconds < 10 ? 1 : 0))} s` : formatDuration(seconds * 1000);
}

function money(amounts: Map<string, number>): string {
  return [...amounts].map(([currency, amount]) => formatMoney(amount, currency || undefined)).join(' + ');
}

function add(amounts: Map<string, number>, currency: string, amount: number): void {
  amounts.set(currency, (amounts.get(currency) ?? 0) + amount);
}

function plural(count: number, word: string): string {
  const plural = word.endsWith('s') ? `${word}es` : word.endsWith('y') ? `${word.slice(0, -1)}ies` : `${word}s`;
  return `${count} ${count === 1 ? word : plural}`;
}

/** `1001`, `1001 and 1002`, `203.0.113.9 and 4 more addresses`. */
function listed(items: readonly string[], noun = 'endpoint'): string {
  if (items.length <= 2) return items.join(' and ');
  if (items.length <= 4) return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
  return `${items.slice(0, 3).join(', ')} and ${items.length - 3} more ${noun === 'address' ? 'addresses' : `${noun}s`}`;
}
