/**
 * Mail threads: one per attack. The decider keeps one incident per policy and scope; an admin
 * thinks in attacks — the scan from an address, the password it guessed, the calls of that phone
 * hung up. Findings that share an attacking address or an endpoint while the attack goes on are
 * one thread: one first mail, follow-ups only when something new happens (a new outcome, a higher
 * severity, a call not stopped), everything else folded in, and a summary once the attack has been
 * quiet for `quietMs`.
 *
 * A thread is kept whole in the store after every change (`mail_threads`), so follow-ups still
 * answer the first mail and the summary is still sent after a restart.
 */
import { severityRank, type Finding, type Severity } from '../../policy/types.js';
import type { ThreadRow } from '../../store/store.js';
import type { ActionOutcome } from '../outcome.js';
import type { CompromisedEndpoint, ThreadContext } from './render.js';

export interface ThreadStore {
  saveThread(row: ThreadRow): void;
  openThreads(): ThreadRow[];
}

/** What became of a call of the attack. */
export type CallOutcome = 'hung up' | 'would hang up' | 'hang-up failed' | 'already ended' | 'reported';

export interface ThreadCall {
  linkedid: string;
  endpoint: string;
  /** E.164 when known, else what was dialled. */
  destination?: string;
  country?: string;
  numberType?: string;
  risk?: string;
  ratePerMinute?: string;
  currency?: string;
  startedAt: number;
  outcome: CallOutcome;
  policies: string[];
}

export interface MailThread {
  /** The id of the incident that opened it (its first mail's). */
  id: string;
  firstAt: number;
  lastAt: number;
  /** What joins a finding to it: `ip:…`, `endpoint:…`, `scan:<policy>`, `scope:…`. */
  keys: string[];
  /** Addresses that failed to log in or set off a security finding: never to be trusted (the first MAX_LISTED). */
  attackers: string[];
  /** Attacking addresses beyond the list (a scan from thousands of addresses is counted, not listed). */
  attackersOmitted: number;
  endpoints: string[];
  compromised: CompromisedEndpoint[];
  incidents: string[];
  policies: string[];
  findings: number;
  severity: Severity;
  /** Anything in it was only simulated (global dry run or a policy in simulate mode). */
  simulated: boolean;
  locked: string[];
  /** Addresses handed to the firewall, and those that could not be (no hook). */
  blocked: string[];
  notBlocked: string[];
  calls: ThreadCall[];
  /** Calls beyond the list's bound (counted, not listed). */
  callsOmitted: number;
  mailed: { count: number; severity?: Severity; outcomes: string[]; calls: Record<string, string> };
  /** Alerts folded into an earlier mail (same outcome, not more severe). */
  folded: number;
  /** Failed logins by attacking address (the highest count its findings reported). */
  failedLogins: Record<string, number>;
  summarizedAt?: number;
}

export type MailVerdict = 'first' | 'follow-up' | 'fold';

export interface MailThreadsOptions {
  store: ThreadStore;
  /** A thread with no finding for this long is over: its summary is due. @default 15 min */
  quietMs?: number;
  /** Calls listed per thread (a flood is counted beyond). @default 200 */
  maxCalls?: number;
}

const SECURITY_COMPROMISE = new Set(['compromise', 'call-after-compromise']);
/** Addresses, endpoints and incidents listed per thread. */
const MAX_LISTED = 200;
/** Join keys per thread (a scan from more addresses still joins through `scan:<policy>`). */
const MAX_KEYS = 500;

export class MailThreads {
  readonly quietMs: number;
  private readonly maxCalls: number;
  private readonly open = new Map<string, MailThread>();

  constructor(private readonly options: MailThreadsOptions) {
    this.quietMs = options.quietMs ?? 15 * 60_000;
    this.maxCalls = options.maxCalls ?? 200;
  }

  /** Takes back the threads whose summary was not sent when the agent stopped. */
  restore(): number {
    for (const row of this.options.store.openThreads()) this.open.set(row.id, row.record as MailThread);
    return this.open.size;
  }

  /** The open thread a finding belongs to; a new one (named after `incident`) when none is. */
  threadFor(finding: Finding, incident: string): MailThread {
    const keys = keysOf(finding);
    for (const thread of this.open.values()) {
      if (thread.summarizedAt !== undefined || finding.at - thread.lastAt >= this.quietMs) continue;
      if (keys.some((key) => thread.keys.includes(key))) return thread;
    }
    const thread: MailThread = {
      id: incident,
      firstAt: finding.at,
      lastAt: finding.at,
      keys: [],
      attackers: [],
      attackersOmitted: 0,
      endpoints: [],
      compromised: [],
      incidents: [],
      policies: [],
      findings: 0,
      severity: finding.severity,
      simulated: false,
      locked: [],
      blocked: [],
      notBlocked: [],
      calls: [],
      callsOmitted: 0,
      mailed: { count: 0, outcomes: [], calls: {} },
      folded: 0,
      failedLogins: {},
    };
    this.open.set(thread.id, thread);
    return thread;
  }

  /** A finding without decisions keeps its attack's thread awake (no new thread for it). */
  touch(finding: Finding): MailThread | undefined {
    const keys = keysOf(finding);
    for (const thread of this.open.values()) {
      if (thread.summarizedAt !== undefined || finding.at - thread.lastAt >= this.quietMs) continue;
      if (!keys.some((key) => thread.keys.includes(key))) continue;
      thread.lastAt = Math.max(thread.lastAt, finding.at);
      addTo(thread.policies, finding.policy);
      return thread;
    }
    return undefined;
  }

  /** Adds what a finding and the actions decided with it tell about the attack. */
  note(thread: MailThread, finding: Finding, incident: string, outcomes: readonly ActionOutcome[]): void {
    thread.lastAt = Math.max(thread.lastAt, finding.at);
    thread.findings++;
    // Bounded: a thread is saved whole after every change, and a distributed scan must not make it huge.
    for (const key of keysOf(finding)) addTo(thread.keys, key, MAX_KEYS);
    addTo(thread.incidents, incident, MAX_LISTED);
    addTo(thread.policies, finding.policy);
    if (severityRank(finding.severity) > severityRank(thread.severity)) thread.severity = finding.severity;
    const endpoint = finding.endpoint ?? finding.call?.endpoint;
    if (endpoint) addTo(thread.endpoints, endpoint, MAX_LISTED);
    if (finding.ip && (finding.kind === 'security' || SECURITY_COMPROMISE.has(finding.level)) && !addTo(thread.attackers, finding.ip, MAX_LISTED)) thread.attackersOmitted++;
    const attempts = finding.kind === 'security' && finding.ip ? (finding.evidence.attempts ?? finding.evidence.addressAttempts ?? finding.evidence.accountFailures) : undefined;
    if (typeof attempts === 'number' && finding.ip && thread.attackers.includes(finding.ip)) thread.failedLogins[finding.ip] = Math.max(thread.failedLogins[finding.ip] ?? 0, attempts);
    if (finding.level === 'compromise' && finding.endpoint && !thread.compromised.some((entry) => entry.endpoint === finding.endpoint)) {
      const firstFailure = typeof finding.evidence.firstFailure === 'string' ? Date.parse(finding.evidence.firstFailure) : Number.NaN;
      thread.compromised.push({ endpoint: finding.endpoint, ...(finding.ip ? { ip: finding.ip } : {}), at: finding.at, ...(Number.isFinite(firstFailure) ? { firstFailureAt: firstFailure } : {}) });
    }
    for (const outcome of outcomes) {
      if (outcome.result === 'simulated' || outcome.decision.mode === 'simulate') thread.simulated = true;
      const target = outcome.decision.target;
      if (outcome.decision.action === 'lock' && outcome.result === 'done' && target.endpoint) addTo(thread.locked, target.endpoint, MAX_LISTED);
      if (outcome.decision.action === 'firewall' && target.ip) addTo(outcome.result === 'done' ? thread.blocked : thread.notBlocked, target.ip, MAX_LISTED);
    }
    if (finding.call) this.noteCall(thread, finding, outcomes);
  }

  /**
   * Whether the alert of a call (or of a finding without one) gets its own mail: the first of the
   * thread does; a later one when it brings something new — a new outcome, a higher severity, a
   * call not stopped or a failure; the same call again only when its outcome changed.
   */
  verdict(thread: MailThread, alert: { linkedid?: string; outcome: string; severity: Severity }): MailVerdict {
    const mailed = thread.mailed;
    if (mailed.count === 0) return 'first';
    if (alert.linkedid !== undefined && mailed.calls[alert.linkedid] !== undefined) return mailed.calls[alert.linkedid] === alert.outcome ? 'fold' : 'follow-up';
    // Money may be flowing, or Tollgate could not act: always worth a mail.
    if (/not hung up|FAILED/.test(alert.outcome)) return 'follow-up';
    if (!mailed.outcomes.includes(alert.outcome)) return 'follow-up';
    if (mailed.severity === undefined || severityRank(alert.severity) > severityRank(mailed.severity)) return 'follow-up';
    return 'fold';
  }

  /** Records what the verdict led to (a mail, or an alert folded into the thread). */
  record(thread: MailThread, verdict: MailVerdict, alert: { linkedid?: string; outcome: string; severity: Severity }): void {
    if (verdict === 'fold') {
      thread.folded++;
      return;
    }
    thread.mailed.count++;
    addTo(thread.mailed.outcomes, alert.outcome);
    if (thread.mailed.severity === undefined || severityRank(alert.severity) > severityRank(thread.mailed.severity)) thread.mailed.severity = alert.severity;
    if (alert.linkedid !== undefined) thread.mailed.calls[alert.linkedid] = alert.outcome;
  }

  save(thread: MailThread): void {
    this.options.store.saveThread({ id: thread.id, firstAt: thread.firstAt, lastAt: thread.lastAt, ...(thread.summarizedAt !== undefined ? { summarizedAt: thread.summarizedAt } : {}), record: thread });
  }

  /** Threads quiet for `quietMs` at `now` whose summary is not sent yet. */
  due(now: number): MailThread[] {
    return [...this.open.values()].filter((thread) => thread.summarizedAt === undefined && now - thread.lastAt >= this.quietMs);
  }

  /** A thread worth a summary: more than one alert, or more than one call. */
  worthSummary(thread: MailThread): boolean {
    return thread.mailed.count > 0 && (thread.mailed.count + thread.folded > 1 || thread.calls.length > 1);
  }

  /** The thread is over: saved as summarized and forgotten in memory. */
  close(thread: MailThread, now: number): void {
    thread.summarizedAt = now;
    this.save(thread);
    this.open.delete(thread.id);
  }

  context(thread: MailThread): ThreadContext {
    return { id: thread.id, firstAt: thread.firstAt, compromised: thread.compromised, attackers: thread.attackers, locked: thread.locked };
  }

  openThreads(): MailThread[] {
    return [...this.open.values()];
  }

  private noteCall(thread: MailThread, finding: Finding, outcomes: readonly ActionOutcome[]): void {
    const call = finding.call!;
    let entry = thread.calls.find((candidate) => candidate.linkedid === call.linkedid);
    if (!entry) {
      if (thread.calls.length >= this.maxCalls) {
        thread.callsOmitted++;
        return;
      }
      entry = {
        linkedid: call.linkedid,
        endpoint: call.endpoint,
        ...(call.e164 || call.dialled ? { destination: call.e164 ?? call.dialled } : {}),
        ...(call.country ? { country: call.country } : {}),
        ...(call.numberType ? { numberType: call.numberType } : {}),
        ...(call.risk ? { risk: call.risk } : {}),
        ...(call.ratePerMinute !== undefined ? { ratePerMinute: call.ratePerMinute } : {}),
        ...(call.currency ? { currency: call.currency } : {}),
        startedAt: call.startedAt,
        outcome: 'reported',
        policies: [],
      };
      thread.calls.push(entry);
    }
    addTo(entry.policies, finding.policy);
    const hangup = outcomes.find((outcome) => outcome.decision.action === 'hangup' && outcome.decision.target.linkedid === call.linkedid);
    if (!hangup) return;
    const outcome: CallOutcome =
      hangup.result === 'simulated' || hangup.decision.mode === 'simulate' ? 'would hang up' : hangup.result === 'done' ? 'hung up' : hangup.result === 'failed' ? 'hang-up failed' : hangup.result === 'skipped' ? 'already ended' : entry.outcome;
    // What was done to a call is never undone by a later, weaker report.
    if (entry.outcome === 'reported' || outcome === 'hung up') entry.outcome = outcome;
  }
}

/** What ties a finding to an attack: its address, its endpoint; a scan without an endpoint joins the policy's running scan. */
function keysOf(finding: Finding): string[] {
  const keys: string[] = [];
  if (finding.ip) keys.push(`ip:${finding.ip}`);
  const endpoint = finding.endpoint ?? finding.call?.endpoint;
  if (endpoint) keys.push(`endpoint:${endpoint}`);
  if (finding.kind === 'security' && !endpoint) keys.push(`scan:${finding.policy}`);
  if (keys.length === 0) keys.push(`scope:${finding.scope}`);
  return keys;
}

/** Adds a value once; false when the list is full and the value not in it. */
function addTo(list: string[], value: string, max = Number.POSITIVE_INFINITY): boolean {
  if (list.includes(value)) return true;
  if (list.length >= max) return false;
  list.push(value);
  return true;
}
