/**
 * Human-readable call timeline for `tollgate replay` and the demo: one line per call milestone or
 * security event, in event time, then a summary. Deterministic: the same input prints the same text.
 */
import type { DomainEvent, SecurityEvent } from '../calls/events.js';
import type { Call, CallChange } from '../calls/table.js';
import type { Decision } from '../decide/decider.js';
import type { Finding } from '../policy/types.js';

export interface TimelineOptions {
  /** Extra words about a dialled number (country, type, rate) — from the classifier when available. */
  describeNumber?: (number: string) => string | undefined;
  /** Applied to every phone number printed (privacy.maskNumbers). */
  mask?: (number: string | undefined) => string;
  /** Show every security event (default: failures, successes and limits; not ChallengeSent). */
  verbose?: boolean;
  /**
   * The decisions act on nothing (`tollgate replay`): they are labelled as what the agent WOULD have
   * done, and a call it would have hung up is shown as the recording has it — going on — with a
   * note of how long it lasted after the would-be hang-up. @default false (the demo: the agent acts)
   */
  replay?: boolean;
}

interface CallSummary {
  call: Call;
  /** Replay: when the agent would have hung it up, and the talk time by then. */
  wouldHangUp?: { at: number; talkSeconds: number };
}

export class TimelineReport {
  private readonly lines: string[] = [];
  private readonly calls = new Map<string, CallSummary>();
  private readonly securityCounts = new Map<string, number>();
  private readonly failuresBySource = new Map<string, number>();
  private readonly findingCounts = new Map<string, number>();
  private readonly decisionCounts = new Map<string, number>();
  private live = 0;
  private peak = 0;
  private readonly mask: (number: string | undefined) => string;

  constructor(private readonly options: TimelineOptions = {}) {
    this.mask = options.mask ?? ((number) => number ?? '');
  }

  /** Records one tracker event with its table changes; returns the lines it produced. */
  add(event: DomainEvent, changes: CallChange[]): string[] {
    const produced: string[] = [];
    if (event.type === 'security') {
      this.countSecurity(event);
      if (this.options.verbose || event.kind !== 'ChallengeSent') produced.push(this.securityLine(event));
    } else if (event.type === 'contact') {
      const from = event.ip ? `${event.ip}${event.port !== undefined ? `:${event.port}` : ''}` : event.uri;
      produced.push(`${time(event.at)}  contact   ${event.endpoint} registered from ${from} as "${event.userAgent}"`);
    }
    for (const change of changes) {
      const line = this.changeLine(change);
      if (line) produced.push(line);
    }
    this.lines.push(...produced);
    return produced;
  }

  /** Records changes that have no triggering event (reconciliation). */
  addChanges(changes: CallChange[]): string[] {
    const produced = changes.flatMap((change) => {
      const line = this.changeLine(change);
      return line ? [line] : [];
    });
    this.lines.push(...produced);
    return produced;
  }

  /** Records what the policies found and what was decided; returns the lines. */
  addVerdicts(findings: readonly Finding[], decisions: readonly Decision[]): string[] {
    const produced = [...findings.flatMap((finding) => this.findingLines(finding)), ...decisions.map((decision) => this.decisionLine(decision))];
    for (const finding of findings) this.findingCounts.set(finding.policy, (this.findingCounts.get(finding.policy) ?? 0) + 1);
    for (const decision of decisions) {
      const linkedid = decision.target.linkedid;
      const entry = linkedid !== undefined ? this.calls.get(linkedid) : undefined;
      if (this.options.replay && decision.action === 'hangup' && entry && !entry.wouldHangUp && entry.call.live) {
        entry.wouldHangUp = { at: decision.at, talkSeconds: entry.call.answeredSeconds(decision.at) };
      }
      const key = `${decision.action}${decision.mode === 'simulate' ? ' (simulated)' : ''}`;
      this.decisionCounts.set(key, (this.decisionCounts.get(key) ?? 0) + 1);
    }
    this.lines.push(...produced);
    return produced;
  }

  get text(): string {
    return this.lines.join('\n');
  }

  summary(now: number): string[] {
    const calls = [...this.calls.values()].map((entry) => entry.call);
    const answered = calls.filter((call) => call.answeredAt !== undefined).length;
    const stillUp = calls.filter((call) => call.live).length;
    const endpoints = countBy(calls.map((call) => call.sourceEndpoint));
    const destinations = countBy(calls.flatMap((call) => (call.dialled ? [this.numberText(call.dialled)] : [])));
    const talk = calls.reduce((total, call) => total + call.answeredSeconds(now), 0);
    const talkAfter = [...this.calls.values()].reduce((total, entry) => total + (entry.wouldHangUp ? entry.call.answeredSeconds(now) - entry.wouldHangUp.talkSeconds : 0), 0);
    const stopped = [...this.calls.values()].filter((entry) => entry.wouldHangUp).length;
    const lines = [
      'Summary',
      `  calls: ${calls.length} (${answered} answered, ${stillUp} still up), peak concurrent: ${this.peak}, talk time: ${talk.toFixed(1)} s${stopped > 0 ? ` as recorded (${talkAfter.toFixed(1)} s of it after Tollgate would have hung up ${stopped} call${stopped === 1 ? '' : 's'})` : ''}`,
      `  endpoints: ${formatCounts(endpoints) || '-'}`,
      `  destinations: ${formatCounts(destinations) || '-'}`,
      `  security events: ${sum(this.securityCounts)}${this.securityCounts.size > 0 ? ` — ${formatCounts(this.securityCounts)}` : ''}`,
    ];
    if (this.failuresBySource.size > 0) lines.push(`  failed authentications by source: ${formatCounts(this.failuresBySource)}`);
    if (this.findingCounts.size > 0) lines.push(`  findings by policy: ${formatCounts(this.findingCounts)}`);
    if (this.decisionCounts.size > 0) lines.push(`  decisions${this.options.replay ? ' (what the agent would have done — replay acts on nothing)' : ''}: ${formatCounts(this.decisionCounts)}`);
    return lines;
  }

  private changeLine(change: CallChange): string | undefined {
    const call = change.call;
    const head = `${time(change.at)}  call      ${call.linkedid.padEnd(16)}`;
    switch (change.kind) {
      case 'call.started': {
        this.calls.set(call.linkedid, { call });
        this.live++;
        this.peak = Math.max(this.peak, this.live);
        const origin = call.origin;
        const from = call.originated ? `originated ${origin.channel}` : `${origin.endpoint} (${origin.context || origin.tech})`;
        const caller = origin.callerIdNum && origin.callerIdNum !== origin.endpoint ? ` caller id ${this.mask(origin.callerIdNum)}` : '';
        const dialled = call.dialled ? ` dialled ${this.numberText(call.dialled, call)}` : '';
        const flag = call.startedDuringOutage ? ' [found by reconciliation: started while disconnected]' : '';
        return `${head}started   ${from}${caller}${dialled}${flag}`;
      }
      case 'dial.started': {
        const dial = change.dial;
        const via = dial.trunk ? ` via trunk ${dial.trunk}` : '';
        const number = dial.number ? `: ${this.numberText(dial.number, dial.trunk ? undefined : call)}` : '';
        return `${head}dial      → ${dial.destChannel}${via}${number}`;
      }
      case 'call.answered':
        return `${head}answered`;
      case 'dial.ended':
        return change.dial.answeredAt === undefined && change.dial.status ? `${head}dial end  ${change.dial.destChannel} ${change.dial.status}` : undefined;
      case 'call.ended': {
        this.live = Math.max(0, this.live - 1);
        const cause = call.cause;
        const causeText = cause ? `cause ${cause.cause} ${cause.causeText}${cause.techCause ? ` (SIP ${cause.techCause})` : ''}` : 'no cause';
        const talk = call.answeredAt !== undefined ? `${call.answeredSeconds(change.at).toFixed(1)} s talk` : 'not answered';
        const flag = call.closedByReconcile ? ' [closed by reconciliation: hung up while disconnected]' : '';
        const would = this.calls.get(call.linkedid)?.wouldHangUp;
        const after = would
          ? ` — as recorded: Tollgate would have hung it up at ${time(would.at).slice(11)} ${would.talkSeconds > 0 ? `after ${would.talkSeconds.toFixed(1)} s of talk` : 'before it was answered'}; replay acts on nothing, so the recording goes on (${(call.answeredSeconds(change.at) - would.talkSeconds).toFixed(1)} s of talk after that)`
          : '';
        return `${head}ended     ${talk}, ${causeText}${flag}${after}`;
      }
      default:
        return undefined;
    }
  }

  /** The finding, then how to allow such a call next time when the policy says (call-risk does). */
  private findingLines(finding: Finding): string[] {
    const head = `${time(finding.at)}  FINDING   ${finding.policy} [${finding.severity}, ${finding.level}${finding.mode === 'simulate' ? ', simulate' : ''}] ${this.maskText(finding.message)}`;
    const toAllow = Array.isArray(finding.evidence.toAllow) ? finding.evidence.toAllow : [];
    return [head, ...toAllow.map((line) => `${' '.repeat(25)}to allow: ${this.maskText(line)}`)];
  }

  private decisionLine(decision: Decision): string {
    const target = decision.target;
    const what =
      decision.action === 'hangup'
        ? `hang up ${target.channels?.join(', ')}`
        : decision.action === 'lock'
          ? `lock endpoint ${target.endpoint}`
          : decision.action === 'firewall'
            ? `block ${target.ip} at the firewall`
            : `alert${decision.followUp ? ' (follow-up)' : ''}`;
    if (this.options.replay) {
      const simulated = decision.mode === 'simulate' ? ' (the policy is in simulate mode)' : '';
      return `${time(decision.at)}  DECISION  would ${what}${simulated} — replay acts on nothing — policy ${decision.policy}, incident ${decision.incident}`;
    }
    const mode = decision.mode === 'simulate' ? 'SIMULATED: would ' : '';
    return `${time(decision.at)}  DECISION  ${mode}${what} — policy ${decision.policy}, incident ${decision.incident}`;
  }

  /** Finding messages quote dialled numbers; mask them like every other number. */
  private maskText(text: string): string {
    if (!this.options.mask) return text;
    return text.replace(/\+?\d{6,}/g, (number) => this.mask(number));
  }

  private securityLine(event: SecurityEvent): string {
    const from = event.remote ? `${event.remote.ip}${event.remote.port !== undefined ? `:${event.remote.port}` : ''}` : 'unknown source';
    return `${time(event.at)}  security  ${event.kind.padEnd(24)} ${event.service.padEnd(6)} account ${event.accountId || '-'} from ${from}`;
  }

  private countSecurity(event: SecurityEvent): void {
    this.securityCounts.set(event.kind, (this.securityCounts.get(event.kind) ?? 0) + 1);
    if (event.severity === 'Error' && event.remote) this.failuresBySource.set(event.remote.ip, (this.failuresBySource.get(event.remote.ip) ?? 0) + 1);
  }

  private numberText(number: string, call?: Call): string {
    const target = call?.internalTarget;
    const description = target !== undefined ? `internal: endpoint ${target}` : this.options.describeNumber?.(number);
    return `${this.mask(number)}${description ? ` (${description})` : ''}`;
  }
}

function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function countBy(items: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

function sum(counts: Map<string, number>): number {
  let total = 0;
  for (const count of counts.values()) total += count;
  return total;
}

function formatCounts(counts: Map<string, number>): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, count]) => `${name} ×${count}`)
    .join(', ');
}
