/**
 * Carries out decisions and remembers everything: the last stage of the pipeline.
 *
 * - Every decision is written to the audit trail first, then carried out: hang-ups (sent at once,
 *   confirmed by Asterisk), locks, the firewall hook; in simulate mode nothing is done and the trail
 *   says what would have been.
 * - Alerts become mails once the actions decided with them have settled, so a mail says what was
 *   actually done — and how to undo it. The findings of one attack are one thread of mails
 *   (mail/threads.ts): the policies that flag one call share one mail, a follow-up is sent only
 *   when something new happens, and a summary when the attack has been quiet for a while.
 * - The spend ledger, live-call checkpoints, incidents and security counters go to the store as
 *   they happen, so a restart (even kill -9) continues where the agent was.
 */
import type { CallChange, Call } from '../calls/table.js';
import type { Clock } from '../clock.js';
import { snapshotIncident, type Decider, type Decision } from '../decide/decider.js';
import { silentLogger, type Logger } from '../log.js';
import { DateTime } from 'luxon';
import { ExpiringMap } from '../policy/state.js';
import type { PipelineResult } from '../pipeline.js';
import type { Finding } from '../policy/types.js';
import type { CallCheckpoint, OutboxMail, Store } from '../store/store.js';
import { SECURITY_FAILURE_KINDS } from '../calls/events.js';
import type { FirewallHook } from './firewall.js';
import { incidentMail, outcomeKey, type IncidentMailInput } from './mail/render.js';
import { attackSummaryMail } from './mail/summary.js';
import { MailThreads, type MailThread } from './mail/threads.js';
import { severityRank } from '../policy/types.js';
import type { Hangups } from './hangup.js';
import type { Locker } from './locks.js';
import type { ActionOutcome } from './outcome.js';

/** Addresses of one day counted one by one in the digest's security table; later ones share a row. */
const MAX_NAMED_SECURITY_ADDRESSES = 10_000;
/** Security counter rows gathered before they are written, at most. */
const MAX_PENDING_SECURITY_ROWS = 1_000;
const OTHER_ADDRESSES = 'other addresses';

export interface MailQueue {
  enqueue(mail: OutboxMail): unknown;
}

export interface ActorOptions {
  store: Store;
  decider: Decider;
  hangups: Hangups;
  locker: Locker;
  firewall: FirewallHook;
  mailer?: MailQueue;
  recipients: string[];
  mask: (number: string | undefined) => string;
  timezone: string;
  agent: string;
  /** The agent's currency (a summary with nothing priced shows 0.00 in it). */
  currency: string;
  clock: Clock;
  logger?: Logger;
  /** An attack's thread is over (its summary mailed) after this long without a finding. @default 15 min */
  threadQuietMs?: number;
}

/** A finding with the decisions taken on it and what carrying them out came to. */
interface Carried {
  finding: Finding;
  decisions: Decision[];
  outcomes: ActionOutcome[];
}

export class Actor {
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Hang-ups by call: a policy whose own hang-up was folded into another's still reports the call's fate. */
  private readonly hangupsByCall = new ExpiringMap<string, Promise<ActionOutcome>>(3_600_000, 10_000);
  private warnedNoRecipients = false;
  /** Security counters for the digest, added up in memory and written once a second in one transaction. */
  private readonly securityCounts = new Map<string, { day: string; kind: string; address: string; count: number }>();
  private readonly otherKeys = new Map<string, string>();
  private otherKeysDay = '';
  private today: { day: string; from: number; to: number; addresses: Set<string> } | undefined;
  /** Bookkeeping writes of this turn, committed together (flushWrites). */
  private writes: (() => void)[] = [];
  private writesScheduled = false;
  private securityFlush: NodeJS.Timeout | undefined;
  /** Attack threads (mails), kept in the store. */
  readonly threads: MailThreads;
  private summaryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ActorOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'act' });
    this.threads = new MailThreads({ store: options.store, ...(options.threadQuietMs !== undefined ? { quietMs: options.threadQuietMs } : {}) });
    const restored = this.threads.restore();
    if (restored > 0) this.log.info({ threads: restored }, 'attack threads taken back from the store');
  }

  /** Starts looking for quiet attacks to summarize (at once: an attack that went quiet while the agent was down). */
  start(): void {
    this.sendDueSummaries();
    const every = Math.max(50, Math.min(30_000, Math.floor(this.threads.quietMs / 4)));
    this.summaryTimer = setInterval(() => this.sendDueSummaries(), every);
    this.summaryTimer.unref();
  }

  stop(): void {
    clearInterval(this.summaryTimer);
    this.summaryTimer = undefined;
    this.flushWrites();
  }

  /** Mails the summary of every attack that has been quiet long enough (once per thread, ever). Never throws. */
  sendDueSummaries(now = this.options.clock.now()): number {
    let sent = 0;
    const due = this.threads.due(now);
    if (due.length === 0) return 0;
    const { store } = this.options;
    // A call of the attack still up (checkpointed) has not billed yet: its summary waits for it to end.
    const live = new Set(store.checkpoints().map((checkpoint) => checkpoint.linkedid));
    for (const thread of due) {
      if (thread.calls.some((call) => live.has(call.linkedid))) continue;
      try {
        if (this.threads.worthSummary(thread) && this.mailTo()) {
          // A dial is billed when it ends, which is after the attack began.
          const costs = store.costsSince(thread.firstAt);
          const mail = attackSummaryMail({ thread, costs, mask: this.options.mask, timezone: this.options.timezone, agent: this.options.agent, currency: this.options.currency, lockedNow: store.locks(now).map((lock) => lock.endpoint) }, this.options.recipients);
          this.options.mailer!.enqueue(mail);
          sent++;
        }
        this.threads.close(thread, now);
      } catch (error) {
        this.log.error({ thread: thread.id, err: error instanceof Error ? error.stack : String(error) }, 'attack summary failed; trying again later');
      }
    }
    return sent;
  }

  /** Takes one pipeline result: persists what must survive, carries out its decisions. Never throws. */
  handle(result: PipelineResult): void {
    try {
      this.persist(result);
    } catch (error) {
      this.log.error({ err: error instanceof Error ? error.stack : String(error) }, 'could not write to the store');
    }
    // A finding that decided nothing new still keeps its attack awake (no summary mid-attack).
    if (result.findings.length > 0) {
      const decided = new Set(result.decisions.map((decision) => decision.finding));
      for (const finding of result.findings) if (!decided.has(finding)) this.touchThread(finding);
    }
    if (result.decisions.length === 0) return;
    // Decisions of one finding travel together: the mail waits for the actions decided with it.
    const byFinding = new Map<Finding, Decision[]>();
    for (const decision of result.decisions) {
      const group = byFinding.get(decision.finding) ?? [];
      group.push(decision);
      byFinding.set(decision.finding, group);
    }
    const decidedNs = result.latencyNs;
    const carried = [...byFinding].map(([finding, decisions]) => this.carryOut(finding, decisions, decidedNs));
    // The policies that flagged one call in this result share one mail: written once all have acted.
    this.track(Promise.all(carried).then((entries) => this.withCallHangups(entries)).then((entries) => this.mailResult(entries)));
  }

  /** Resolves when everything started so far has settled (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.flushWrites();
    this.flushSecurityCounts();
  }

  /**
   * Writes the bookkeeping of the inputs handled in this event-loop turn (costs, call checkpoints,
   * incidents) in one transaction: a busy PBX costs one commit per turn, not four per call. Decisions
   * are not among them: their audit rows are written before anything is done.
   */
  flushWrites(): void {
    this.writesScheduled = false;
    if (this.writes.length === 0) return;
    const writes = this.writes;
    this.writes = [];
    try {
      this.options.store.batch(() => {
        for (const write of writes) write();
      });
    } catch (error) {
      this.log.error({ err: error instanceof Error ? error.message : String(error), writes: writes.length }, 'could not write costs, checkpoints or incidents');
    }
  }

  private write(write: () => void): void {
    this.writes.push(write);
    if (this.writesScheduled) return;
    this.writesScheduled = true;
    setImmediate(() => this.flushWrites());
  }

  /** Writes the security counters gathered since the last write (a flood costs one transaction a second, not one per event). */
  flushSecurityCounts(): void {
    clearTimeout(this.securityFlush);
    this.securityFlush = undefined;
    if (this.securityCounts.size === 0) return;
    const rows = [...this.securityCounts.values()];
    this.securityCounts.clear();
    try {
      this.options.store.countSecurityEvents(rows);
    } catch (error) {
      this.log.error({ err: error instanceof Error ? error.message : String(error), rows: rows.length }, 'could not write security counters');
    }
  }

  private async carryOut(finding: Finding, decisions: Decision[], decidedNs: bigint): Promise<Carried> {
    const { store, clock } = this.options;
    const actions = decisions.filter((decision) => decision.action !== 'alert');
    // Started in this turn, before anything else: a hang-up reaches the socket now, not after a
    // write to the store (which a busy disk can hold for milliseconds).
    const started = process.hrtime.bigint();
    const executing = Promise.all(actions.map((decision) => this.execute(decision)));
    // The audit trail in the same turn: whatever happens next, the decision and its inputs are on record.
    for (const decision of decisions) store.recordDecision({ ...decision, result: 'pending' });
    const outcomes = await executing;
    const mailOutcomes = [...outcomes, ...(await this.sharedHangup(finding, decisions))];
    for (const outcome of outcomes) {
      const latencyMs = outcome.latencyMs ?? Number(decidedNs + (process.hrtime.bigint() - started)) / 1e6;
      store.completeDecision(outcome.decision.id, outcome.result, outcome.detail, clock.now(), latencyMs);
    }
    return { finding, decisions, outcomes: mailOutcomes };
  }

  /**
   * A call hung up under an earlier result (or another policy) is hung up, whatever the policies
   * flagging it now ask for: their mail states the call's real outcome.
   */
  private async withCallHangups(entries: Carried[]): Promise<Carried[]> {
    const now = this.options.clock.now();
    for (const entry of entries) {
      const linkedid = entry.finding.call?.linkedid;
      if (!linkedid || entries.some((other) => other.finding.call?.linkedid === linkedid && other.outcomes.some((outcome) => outcome.decision.action === 'hangup'))) continue;
      const earlier = this.hangupsByCall.get(linkedid, now);
      if (!earlier) continue;
      const outcome = await earlier;
      entry.outcomes = [...entry.outcomes, { ...outcome, detail: `${outcome.detail} (decided under policy ${outcome.decision.policy})` }];
    }
    return entries;
  }

  /**
   * The mails of one pipeline result: every finding joins its attack's thread; the findings about
   * one call (or one finding without a call) become one mail, or are folded into the thread.
   */
  private mailResult(entries: Carried[]): void {
    const { store, clock } = this.options;
    const touched = new Set<MailThread>();
    const threadOf = new Map<Carried, MailThread>();
    for (const entry of entries) {
      const thread = this.threads.threadFor(entry.finding, entry.decisions[0]!.incident);
      this.threads.note(thread, entry.finding, entry.decisions[0]!.incident, entry.outcomes);
      threadOf.set(entry, thread);
      touched.add(thread);
    }
    const groups = new Map<string, Carried[]>();
    entries.forEach((entry, index) => {
      const key = entry.finding.call ? `call:${entry.finding.call.linkedid}` : `finding:${index}`;
      groups.set(key, [...(groups.get(key) ?? []), entry]);
    });
    for (const group of groups.values()) {
      const alerts = group.flatMap((entry) => entry.decisions.filter((decision) => decision.action === 'alert'));
      if (alerts.length === 0) continue;
      try {
        const detail = this.mailGroup(group, threadOf.get(group[0]!)!);
        for (const alert of alerts) store.completeDecision(alert.id, alert.mode === 'simulate' ? 'simulated' : 'done', detail, clock.now());
      } catch (error) {
        this.log.error({ err: error instanceof Error ? error.stack : String(error) }, 'could not write the incident mail');
        for (const alert of alerts) store.completeDecision(alert.id, 'failed', `mail not queued: ${error instanceof Error ? error.message : String(error)}`, clock.now());
      }
    }
    for (const thread of touched) this.threads.save(thread);
  }

  /** One mail (or a fold into the thread) for the findings of one call; returns what happened, for the audit trail. */
  private mailGroup(group: Carried[], thread: MailThread): string {
    if (!this.mailTo()) {
      if (!this.warnedNoRecipients) this.log.warn('alerts are not mailed: set smtp.url and alerts.to (TOLLGATE_SMTP_URL, TOLLGATE_ALERT_TO)');
      this.warnedNoRecipients = true;
      return 'logged only: no mail configured';
    }
    // The most severe finding with an alert leads; the others are listed with it.
    const alerting = group.filter((entry) => entry.decisions.some((decision) => decision.action === 'alert'));
    const lead = alerting.reduce((best, entry) => (severityRank(entry.finding.severity) > severityRank(best.finding.severity) ? entry : best));
    const alert = lead.decisions.find((decision) => decision.action === 'alert')!;
    const incident = this.options.decider.incidentById(alert.incident);
    if (!incident) return 'incident already closed: no mail';
    const outcomes = uniqueOutcomes(group.flatMap((entry) => entry.outcomes));
    const input: IncidentMailInput = {
      incident,
      finding: lead.finding,
      also: alerting.filter((entry) => entry !== lead).map((entry) => entry.finding),
      followUp: false,
      outcomes,
      mode: alert.mode,
      mask: this.options.mask,
      timezone: this.options.timezone,
      agent: this.options.agent,
      thread: this.threads.context(thread),
      updateKey: alert.id,
    };
    const severity = [lead.finding, ...input.also!].reduce((highest, finding) => (severityRank(finding.severity) > severityRank(highest) ? finding.severity : highest), lead.finding.severity);
    const key = { ...(lead.finding.call ? { linkedid: lead.finding.call.linkedid } : {}), outcome: outcomeKey(input), severity };
    const verdict = this.threads.verdict(thread, key);
    this.threads.record(thread, verdict, key);
    if (verdict === 'fold') return `folded into attack thread ${thread.id} (same outcome as an earlier mail, not more severe): no mail`;
    const mail = incidentMail({ ...input, followUp: verdict === 'follow-up' }, this.options.recipients);
    this.options.mailer!.enqueue(mail);
    return `mail queued for ${this.options.recipients.join(', ')}: ${mail.subject}`;
  }

  private touchThread(finding: Finding): void {
    try {
      const thread = this.threads.touch(finding);
      if (thread) this.threads.save(thread);
    } catch (error) {
      this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'could not write the attack thread');
    }
  }

  private mailTo(): boolean {
    return !!this.options.mailer && this.options.recipients.length > 0;
  }

  /**
   * The hang-up of the finding's call decided under another policy (several policies often condemn
   * the same call; the decider hangs it up once): its outcome belongs in this incident's mail too.
   */
  private async sharedHangup(finding: Finding, decisions: Decision[]): Promise<ActionOutcome[]> {
    const linkedid = finding.call?.linkedid;
    if (!linkedid || !finding.actions.includes('hangup') || decisions.some((decision) => decision.action === 'hangup')) return [];
    const other = this.hangupsByCall.get(linkedid, this.options.clock.now());
    if (!other) return [];
    const outcome = await other;
    return [{ ...outcome, detail: `${outcome.detail} (decided under policy ${outcome.decision.policy})` }];
  }

  private execute(decision: Decision): Promise<ActionOutcome> {
    const started = process.hrtime.bigint();
    const settle = (outcome: ActionOutcome): ActionOutcome => ({ ...outcome, latencyMs: outcome.latencyMs ?? Number(process.hrtime.bigint() - started) / 1e6 });
    if (decision.mode === 'simulate') return Promise.resolve(settle(this.simulated(decision)));
    let running: Promise<ActionOutcome>;
    switch (decision.action) {
      case 'hangup': {
        running = this.options.hangups.hangUp(decision);
        if (decision.target.linkedid) this.hangupsByCall.set(decision.target.linkedid, running, this.options.clock.now());
        // The AMI action is on the wire already: that moment is the hang-up's latency.
        const sentAfterMs = Number(process.hrtime.bigint() - started) / 1e6;
        running = running.then((outcome) => ({ ...outcome, latencyMs: sentAfterMs }));
        break;
      }
      case 'lock':
        running = this.options.locker.lock(decision);
        break;
      case 'firewall':
        running = this.options.firewall.block(decision.target.ip ?? '').then((result) => {
          const outcome: ActionOutcome = { decision, result: result.ok ? 'done' : result.skipped ? 'skipped' : 'failed', detail: result.detail };
          if (result.ok) outcome.undo = `remove ${decision.target.ip} from the firewall (e.g. the reverse of: ${this.options.firewall.commandFor(decision.target.ip ?? '').join(' ')})`;
          return outcome;
        });
        break;
      default:
        running = Promise.resolve({ decision, result: 'skipped', detail: `nothing to carry out for ${decision.action}` });
    }
    return running.then(settle, (error: unknown) => {
      this.log.error({ decision: decision.id, err: error instanceof Error ? error.stack : String(error) }, `${decision.action} failed`);
      return settle({ decision, result: 'failed', detail: `${decision.action} failed: ${error instanceof Error ? error.message : String(error)}` });
    });
  }

  private simulated(decision: Decision): ActionOutcome {
    const target = decision.target;
    // Without a hook nothing would be blocked even in earnest: say so rather than "would block".
    if (decision.action === 'firewall' && !this.options.firewall.configured) {
      return { decision, result: 'skipped', detail: 'SIMULATED, and no firewall hook is configured (firewall.command): nothing would be blocked' };
    }
    const what =
      decision.action === 'hangup'
        ? `hang up ${target.channels?.join(' and ') ?? 'the call'}`
        : decision.action === 'lock'
          ? `lock endpoint ${target.endpoint}`
          : decision.action === 'firewall'
            ? `hand ${target.ip} to the firewall`
            : decision.action;
    return { decision, result: 'simulated', detail: `SIMULATED: would ${what} (policy ${decision.policy} is in simulate mode, or the agent runs with --dry-run); nothing was done` };
  }

  private persist(result: PipelineResult): void {
    const { store } = this.options;
    for (const entry of result.committed) this.write(() => store.recordCost(entry));
    const event = result.event;
    if (event?.type === 'security' && SECURITY_FAILURE_KINDS.has(event.kind)) this.countSecurity(this.dayOf(event.at), event.kind, event.remote?.ip ?? 'unknown');
    for (const change of result.changes) this.checkpoint(change);
    // Most inputs (a scan's events) decide nothing: no set built for them.
    if (result.decisions.length === 0) return;
    const incidents = new Set(result.decisions.map((decision) => decision.incident));
    for (const id of incidents) {
      const incident = this.options.decider.incidentById(id);
      if (incident) {
        const snapshot = snapshotIncident(incident);
        this.write(() => store.saveIncident(snapshot));
      }
    }
  }

  /** The local day of `at`; the day's bounds are kept, so a flood does not build a date per event. */
  private dayOf(at: number): string {
    const today = this.today;
    if (today && at >= today.from && at < today.to) return today.day;
    const start = DateTime.fromMillis(at, { zone: this.options.timezone }).startOf('day');
    this.today = { day: start.toISODate()!, from: start.toMillis(), to: start.plus({ days: 1 }).toMillis(), addresses: new Set() };
    return this.today.day;
  }

  /** The counter key of a day's unnamed addresses, made once per kind (a scan from millions counts there). */
  private otherAddressesKey(day: string, kind: string): string {
    if (this.otherKeysDay !== day) {
      this.otherKeys.clear();
      this.otherKeysDay = day;
    }
    let key = this.otherKeys.get(kind);
    if (key === undefined) this.otherKeys.set(kind, (key = `${day}|${kind}|${OTHER_ADDRESSES}`));
    return key;
  }

  private countSecurity(day: string, kind: string, sourceAddress: string): void {
    // The digest names the first addresses of a day one by one; a scan from millions is counted
    // beyond them under one row (a row per address would be a write per event and a huge table).
    const named = this.today?.day === day ? this.today.addresses : undefined;
    let address = sourceAddress;
    if (named && !named.has(address)) {
      if (named.size < MAX_NAMED_SECURITY_ADDRESSES) named.add(address);
      else address = OTHER_ADDRESSES;
    }
    const key = address === OTHER_ADDRESSES ? this.otherAddressesKey(day, kind) : `${day}|${kind}|${address}`;
    const row = this.securityCounts.get(key);
    if (row) row.count++;
    else this.securityCounts.set(key, { day, kind, address, count: 1 });
    // A scan from many addresses must not grow this without bound: write early when it is large
    // (a thousand rows at most: one transaction of ten thousand held the event loop ~30 ms).
    if (this.securityCounts.size >= MAX_PENDING_SECURITY_ROWS) this.flushSecurityCounts();
    else if (!this.securityFlush) {
      this.securityFlush = setTimeout(() => this.flushSecurityCounts(), 1000);
      this.securityFlush.unref();
    }
  }

  /** Live calls that matter for money are checkpointed so a restart keeps their answer times. */
  private checkpoint(change: CallChange): void {
    const call = change.call;
    const { store } = this.options;
    if (change.kind === 'call.ended') {
      this.write(() => store.endCheckpoint(call.linkedid));
      return;
    }
    if (change.kind !== 'dial.answered' && change.kind !== 'dial.started') return;
    if (call.outboundDials.length === 0) return;
    const checkpoint = checkpointOf(call, this.options.clock.now());
    this.write(() => store.checkpointCall(checkpoint));
  }

  private track(work: Promise<unknown>): void {
    const guarded = work.catch((error: unknown) => this.log.error({ err: error instanceof Error ? error.stack : String(error) }, 'carrying out a decision failed'));
    this.inFlight.add(guarded);
    void guarded.finally(() => this.inFlight.delete(guarded));
  }
}

export function checkpointOf(call: Call, now: number): CallCheckpoint {
  const checkpoint: CallCheckpoint = {
    linkedid: call.linkedid,
    endpoint: call.sourceEndpoint,
    createdAt: call.createdAt,
    dials: call.outboundDials.map((dial) => {
      const entry: CallCheckpoint['dials'][number] = { destUniqueid: dial.destUniqueid };
      if (dial.number !== undefined) entry.number = dial.number;
      if (dial.trunk !== undefined) entry.trunk = dial.trunk;
      if (dial.answeredAt !== undefined) entry.answeredAt = dial.answeredAt;
      return entry;
    }),
    updatedAt: now,
  };
  if (call.dialled !== undefined) checkpoint.dialled = call.dialled;
  if (call.outboundTrunk !== undefined) checkpoint.trunk = call.outboundTrunk;
  if (call.answeredAt !== undefined) checkpoint.answeredAt = call.answeredAt;
  return checkpoint;
}

/** Each decision's outcome once (a shared hang-up reaches several findings of one call). */
function uniqueOutcomes(outcomes: readonly ActionOutcome[]): ActionOutcome[] {
  const seen = new Set<string>();
  return outcomes.filter((outcome) => {
    const key = outcome.decision.id;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
