/**
 * Carries out decisions and remembers everything: the last stage of the pipeline.
 *
 * - Every decision is written to the audit trail first, then carried out: hang-ups (sent at once,
 *   confirmed by Asterisk), locks, the firewall hook; in simulate mode nothing is done and the trail
 *   says what would have been.
 * - An alert becomes one mail per incident (and a follow-up when it escalates) once the actions
 *   decided with it have settled, so the mail says what was actually done — and how to undo it.
 * - The spend ledger, live-call checkpoints, incidents and security counters go to the store as
 *   they happen, so a restart (even kill -9) continues where the agent was.
 */
import type { CallChange, Call } from '../calls/table.js';
import type { Clock } from '../clock.js';
import { snapshotIncident, type Decider, type Decision } from '../decide/decider.js';
import { silentLogger, type Logger } from '../log.js';
import { ExpiringMap } from '../policy/state.js';
import type { PipelineResult } from '../pipeline.js';
import type { Finding } from '../policy/types.js';
import type { CallCheckpoint, OutboxMail, Store } from '../store/store.js';
import { SECURITY_FAILURE_KINDS } from '../calls/events.js';
import type { FirewallHook } from './firewall.js';
import { localDay } from './mail/digest.js';
import { incidentMail } from './mail/render.js';
import type { Hangups } from './hangup.js';
import type { Locker } from './locks.js';
import type { ActionOutcome } from './outcome.js';

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
  clock: Clock;
  logger?: Logger;
}

export class Actor {
  private readonly log: Logger;
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Hang-ups by call: a policy whose own hang-up was folded into another's still reports the call's fate. */
  private readonly hangupsByCall = new ExpiringMap<string, Promise<ActionOutcome>>(3_600_000, 10_000);
  private warnedNoRecipients = false;
  /** Security counters for the digest, added up in memory and written once a second in one transaction. */
  private readonly securityCounts = new Map<string, { day: string; kind: string; address: string; count: number }>();
  private securityFlush: NodeJS.Timeout | undefined;

  constructor(private readonly options: ActorOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'act' });
  }

  /** Takes one pipeline result: persists what must survive, carries out its decisions. Never throws. */
  handle(result: PipelineResult): void {
    try {
      this.persist(result);
    } catch (error) {
      this.log.error({ err: error instanceof Error ? error.stack : String(error) }, 'could not write to the store');
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
    for (const [finding, decisions] of byFinding) this.track(this.carryOut(finding, decisions, decidedNs));
  }

  /** Resolves when everything started so far has settled (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.flushSecurityCounts();
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

  private async carryOut(finding: Finding, decisions: Decision[], decidedNs: bigint): Promise<void> {
    const { store, clock } = this.options;
    // The audit trail first: whatever happens next, the decision and its inputs are on record.
    for (const decision of decisions) store.recordDecision({ ...decision, result: 'pending' });
    const actions = decisions.filter((decision) => decision.action !== 'alert');
    // Started in this turn, before any await: a hang-up reaches the socket now.
    const started = process.hrtime.bigint();
    const outcomes = await Promise.all(actions.map((decision) => this.execute(decision)));
    const mailOutcomes = [...outcomes, ...(await this.sharedHangup(finding, decisions))];
    for (const outcome of outcomes) {
      const latencyMs = outcome.latencyMs ?? Number(decidedNs + (process.hrtime.bigint() - started)) / 1e6;
      store.completeDecision(outcome.decision.id, outcome.result, outcome.detail, clock.now(), latencyMs);
    }
    for (const alert of decisions.filter((decision) => decision.action === 'alert')) {
      const detail = this.queueMail(alert, finding, mailOutcomes);
      store.completeDecision(alert.id, alert.mode === 'simulate' ? 'simulated' : 'done', detail, clock.now());
    }
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

  /** Renders and queues the incident mail; returns what happened, for the audit trail. */
  private queueMail(alert: Decision, finding: Finding, outcomes: ActionOutcome[]): string {
    const { recipients, mailer } = this.options;
    if (!mailer || recipients.length === 0) {
      if (!this.warnedNoRecipients) this.log.warn('alerts are not mailed: set smtp.url and alerts.to (TOLLGATE_SMTP_URL, TOLLGATE_ALERT_TO)');
      this.warnedNoRecipients = true;
      return 'logged only: no mail configured';
    }
    const incident = this.options.decider.incidentById(alert.incident);
    if (!incident) return 'incident already closed: no mail';
    const mail = incidentMail({ incident, finding, followUp: alert.followUp, outcomes, mode: alert.mode, mask: this.options.mask, timezone: this.options.timezone, agent: this.options.agent }, recipients);
    mailer.enqueue(mail);
    return `mail queued for ${recipients.join(', ')}: ${mail.subject}`;
  }

  private persist(result: PipelineResult): void {
    const { store } = this.options;
    for (const entry of result.committed) store.recordCost(entry);
    const event = result.event;
    if (event?.type === 'security' && SECURITY_FAILURE_KINDS.has(event.kind)) this.countSecurity(localDay(event.at, this.options.timezone), event.kind, event.remote?.ip ?? 'unknown');
    for (const change of result.changes) this.checkpoint(change);
    const incidents = new Set(result.decisions.map((decision) => decision.incident));
    for (const id of incidents) {
      const incident = this.options.decider.incidentById(id);
      if (incident) store.saveIncident(snapshotIncident(incident));
    }
  }

  private countSecurity(day: string, kind: string, address: string): void {
    const key = `${day}|${kind}|${address}`;
    const row = this.securityCounts.get(key);
    if (row) row.count++;
    else this.securityCounts.set(key, { day, kind, address, count: 1 });
    // A scan from many addresses must not grow this without bound: write early when it is large.
    if (this.securityCounts.size >= 10_000) this.flushSecurityCounts();
    else if (!this.securityFlush) {
      this.securityFlush = setTimeout(() => this.flushSecurityCounts(), 1000);
      this.securityFlush.unref();
    }
  }

  /** Live calls that matter for money are checkpointed so a restart keeps their answer times. */
  private checkpoint(change: CallChange): void {
    const call = change.call;
    if (change.kind === 'call.ended') {
      this.options.store.endCheckpoint(call.linkedid);
      return;
    }
    if (change.kind !== 'dial.answered' && change.kind !== 'dial.started') return;
    if (call.outboundDials.length === 0) return;
    this.options.store.checkpointCall(checkpointOf(call, this.options.clock.now()));
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
