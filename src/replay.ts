/**
 * Offline replay of an AMI transcript: the same normaliser, call table, policy engine and decider as
 * the live agent, driven by event time instead of the wall clock, so the output is the same on
 * every run. Time passes between events in one-second ticks while calls are up (budgets accrue,
 * durations grow), exactly as the live agent's timer does.
 */
import { EventTimeline } from './calls/event-time.js';
import type { DomainEvent } from './calls/events.js';
import { CallTable, TrunkRegistry, type CallChange } from './calls/table.js';
import { CallTracker } from './calls/tracker.js';
import { ManualClock } from './clock.js';
import { Decider, type Decision } from './decide/decider.js';
import { LockTable } from './decide/locks.js';
import type { Classifier } from './numbers/index.js';
import { PolicyEngine, type LoadedPolicy } from './policy/engine.js';
import type { CostEntry, Finding, LockInfo, PolicyMode } from './policy/types.js';
import { Pipeline } from './pipeline.js';
import { EndpointProfiles } from './profile/profile.js';
import type { UserAgentList } from './profile/user-agents.js';
import { RateTable } from './rates/index.js';
import { TimelineReport, type TimelineOptions } from './report/timeline.js';
import { parseTranscript } from './sim/transcript.js';

export interface ReplayOptions extends TimelineOptions {
  trunks?: string[];
  /** Policies to run; without them the replay only rebuilds the call timeline. */
  policies?: readonly LoadedPolicy[];
  classifier?: Classifier;
  rates?: RateTable;
  /** Global mode (`simulate` = dry run). @default 'enforce' */
  mode?: PolicyMode;
  /** Tick period while calls are up. @default 1000 */
  tickMs?: number;
  /** Time zone for policies that do not name one (config `timezone`). @default 'UTC' */
  timezone?: string;
  /** Endpoints already locked when the transcript begins. */
  locks?: LockInfo[];
  /** Scanner User-Agents (policies/lists/user-agents/) for the endpoint profiles. */
  userAgents?: UserAgentList;
}

export interface ReplayResult {
  /** Timeline lines, in event order (with findings and decisions when policies ran). */
  lines: string[];
  summary: string[];
  /** Machine-readable records, one per timeline entry (for `--json`). */
  records: Record<string, unknown>[];
  findings: Finding[];
  decisions: Decision[];
  committed: CostEntry[];
  table: CallTable;
  tracker: CallTracker;
  engine?: PolicyEngine;
  /** Event time of the last event. */
  endedAt: number;
}

/**
 * The agent's once-a-second timer, in replay: before an event recorded at `at`, a tick for each
 * whole second since the last one while a call is up (durations and budgets are judged on ticks).
 */
export class ReplayTicker {
  private last: number | undefined;

  constructor(
    private readonly clock: ManualClock,
    private readonly table: CallTable,
    private readonly tick: () => void,
    private readonly tickMs = 1000,
  ) {}

  /** Ticks up to `at` (an event's recorded time; nothing when it has none). */
  until(at: number | undefined): void {
    if (at === undefined) return;
    if (this.last === undefined || this.table.liveCallCount === 0) this.last = Math.floor(at / this.tickMs) * this.tickMs;
    while (this.last + this.tickMs <= at && this.table.liveCallCount > 0) {
      this.last += this.tickMs;
      this.clock.advanceTo(this.last);
      this.tick();
    }
  }
}

/**
 * Replays one capture, or several in the order given with the agent's state (call table, policy
 * state such as addresses seen, spend and counters, locks, open incidents) carried from one to the
 * next, as a running agent would have it.
 */
export function replayTranscript(input: Buffer | string | readonly (Buffer | string)[], options: ReplayOptions = {}): ReplayResult {
  const captures = typeof input === 'string' || Buffer.isBuffer(input) ? [input] : input;
  const clock = new ManualClock();
  const timeline = new EventTimeline(clock);
  const table = new CallTable({ trunks: new TrunkRegistry(options.trunks ?? []) });
  const tracker = new CallTracker({ table, clock });
  // Replay's decisions act on nothing: the report says what the agent would have done.
  const report = new TimelineReport({ ...options, replay: true });
  const records: Record<string, unknown>[] = [];
  const findings: Finding[] = [];
  const decisions: Decision[] = [];
  const committed: CostEntry[] = [];
  const mask = options.mask ?? ((number: string | undefined) => number ?? '');

  let pipeline: Pipeline | undefined;
  let engine: PolicyEngine | undefined;
  if (options.policies) {
    if (!options.classifier) throw new Error('replayTranscript: policies need a classifier');
    const locks = new LockTable();
    for (const lock of options.locks ?? []) locks.lock(lock);
    engine = new PolicyEngine({
      policies: options.policies,
      classifier: options.classifier,
      rates: options.rates ?? new RateTable([]),
      clock,
      locks,
      profiles: new EndpointProfiles({ timezone: options.timezone ?? 'UTC', ...(options.userAgents ? { scanners: options.userAgents } : {}) }),
      environment: { timezone: options.timezone ?? 'UTC' },
    });
    const decider = new Decider({ mode: options.mode ?? 'enforce' });
    pipeline = new Pipeline({ tracker, engine, decider, clock });
    pipeline.onResult((result) => {
      if (result.event) {
        report.add(result.event, result.changes);
        records.push(...toRecords(result.event, result.changes, mask));
      } else if (result.changes.length > 0) {
        report.addChanges(result.changes);
      }
      report.addVerdicts(result.findings, result.decisions);
      records.push(...result.findings.map((finding) => findingRecord(finding, mask)), ...result.decisions.map((decision) => decisionRecord(decision, mask)));
      findings.push(...result.findings);
      decisions.push(...result.decisions);
      committed.push(...result.committed);
      // What an enforced lock does live (the store and AstDB), replay does in memory: later calls see it.
      for (const decision of result.decisions) {
        if (decision.action === 'lock' && decision.mode === 'enforce' && decision.target.endpoint) {
          locks.lock({ endpoint: decision.target.endpoint, since: decision.at, reason: decision.finding.message, policy: decision.policy });
        }
      }
    });
  } else {
    tracker.on('event', (event, changes) => {
      report.add(event, changes);
      records.push(...toRecords(event, changes, mask));
    });
  }

  const ticker = pipeline ? new ReplayTicker(clock, table, pipeline.tick.bind(pipeline), options.tickMs) : undefined;
  for (const bytes of captures) {
    for (const entry of parseTranscript(bytes)) {
      ticker?.until(timeline.explicitTime(entry.message));
      tracker.ingest(entry.message, timeline.timeOf(entry.message));
    }
  }
  const result: ReplayResult = {
    lines: report.text ? report.text.split('\n') : [],
    summary: report.summary(clock.now()),
    records,
    findings,
    decisions,
    committed,
    table,
    tracker,
    endedAt: clock.now(),
  };
  if (engine) result.engine = engine;
  return result;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The call fields every finding and decision record carries (what scripts join on). */
function callFields(call: Finding['call'], mask: (number: string | undefined) => string) {
  return {
    channel: call?.channel,
    uniqueid: call?.uniqueid,
    linkedid: call?.linkedid,
    dialled: call?.dialled !== undefined ? mask(call.dialled) : undefined,
    e164: call?.e164 !== undefined ? mask(call.e164) : undefined,
  };
}

/** JSON for one finding: the fields scripts need first, the rest after. */
export function findingRecord(finding: Finding, mask: (number: string | undefined) => string): Record<string, unknown> {
  const call = finding.call;
  return {
    kind: 'finding',
    policy: finding.policy,
    action: finding.actions.join('+'),
    mode: finding.mode,
    endpoint: finding.endpoint ?? call?.endpoint,
    ...callFields(call, mask),
    at: iso(finding.at),
    policyKind: finding.kind,
    level: finding.level,
    severity: finding.severity,
    actions: finding.actions,
    scope: finding.scope,
    ip: finding.ip,
    account: finding.account,
    country: call?.country,
    numberType: call?.numberType,
    destinationScope: call?.destinationScope,
    risk: call?.risk,
    ratePerMinute: call?.ratePerMinute,
    currency: call?.currency,
    message: finding.message,
    evidence: finding.evidence,
  };
}

export function decisionRecord(decision: Decision, mask: (number: string | undefined) => string): Record<string, unknown> {
  const call = decision.finding.call;
  return {
    kind: 'decision',
    policy: decision.policy,
    action: decision.action,
    mode: decision.mode,
    endpoint: decision.target.endpoint ?? call?.endpoint,
    ...callFields(call, mask),
    linkedid: decision.target.linkedid ?? call?.linkedid,
    at: iso(decision.at),
    id: decision.id,
    incident: decision.incident,
    severity: decision.severity,
    level: decision.level,
    channels: decision.target.channels,
    ip: decision.target.ip,
    followUp: decision.followUp,
    // A replayed decision is what the agent would have done: replay acts on nothing.
    carriedOut: false,
  };
}

function toRecords(event: DomainEvent, changes: CallChange[], mask: (number: string | undefined) => string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  if (event.type === 'security') {
    records.push({
      kind: 'security',
      at: iso(event.at),
      event: event.kind,
      service: event.service,
      account: event.accountId,
      ip: event.remote?.ip,
      port: event.remote?.port,
      severity: event.severity,
    });
  } else if (event.type === 'contact') {
    records.push({ kind: 'contact', at: iso(event.at), endpoint: event.endpoint, userAgent: event.userAgent, ip: event.ip, port: event.port, callId: event.callId, uri: event.uri });
  }
  for (const change of changes) {
    if (change.kind === 'leg.added' || change.kind === 'leg.ended' || change.kind === 'call.cdr' || change.kind === 'call.forgotten') continue;
    const call = change.call;
    const record: Record<string, unknown> = {
      kind: change.kind,
      at: iso(change.at),
      linkedid: call.linkedid,
      endpoint: call.sourceEndpoint,
      channel: call.origin.channel,
      dialled: call.dialled !== undefined ? mask(call.dialled) : undefined,
      trunk: call.outboundTrunk,
      direction: call.direction,
    };
    if (change.kind === 'dial.started' || change.kind === 'dial.ended' || change.kind === 'dial.answered') {
      record.destinationChannel = change.dial.destChannel;
      record.number = change.dial.number !== undefined ? mask(change.dial.number) : undefined;
      record.status = change.dial.status;
    }
    if (change.kind === 'call.ended') {
      record.cause = call.cause?.cause;
      record.causeText = call.cause?.causeText;
      record.answeredSeconds = Number(call.answeredSeconds(change.at).toFixed(3));
    }
    records.push(record);
  }
  return records;
}
