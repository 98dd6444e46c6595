/**
 * security — password guessing, account scans and guessed passwords, read from Asterisk's AMI
 * security events and grouped by source address (CrowdSec's leaky-bucket model).
 *
 *   kind: security
 *   services: [PJSIP, SIP, IAX2, AMI]                   # optional: default every service
 *   trustedAddresses: [198.51.100.0/24, "2001:db8:1::/48"]   # never judged (IPv4 and IPv6 CIDR)
 *   repeatAfter: 1h                                     # a rule reports an address (or account) once per this
 *   bruteForce:  { capacity: 20, leakEvery: 5s, actions: [alert, firewall] }
 *   enumeration: { distinctAccounts: 20, window: 10m, actions: [alert, firewall] }
 *   compromise:  { failuresBefore: 10, window: 2m, actions: [alert, lock], callsWithin: 15m, callActions: [alert, hangup] }
 *
 * One ATTEMPT is one refused request, counted once however often Asterisk reports it. Failure
 * events of one session (same service, source address and port, and SessionID: PJSIP's SIP
 * Call-ID, AMI's connection) are reports of its attempts: the session has made as many attempts as
 * the largest count of any one failure kind in it, PJSIP's InvalidAccountID counting in pairs.
 * PJSIP reports an unknown account twice per attempt (the unauthenticated request and its
 * authenticated retry) plus a ChallengeResponseFailed for `<unknown>`: one attempt, not three. A
 * phone re-registering with a stale password reuses its Call-ID, and each retry still counts,
 * since each adds one more ChallengeResponseFailed. ChallengeSent and SuccessfulAuth are not failures.
 *
 * - bruteForce: every attempt from an address pours 1 into its bucket, which drains one attempt per
 *   `leakEvery`; more than `capacity` in it fires. An address failing more slowly than once per
 *   `leakEvery` never fires, however long it goes on.
 * - enumeration: `distinctAccounts` different account names refused from one address within
 *   `window` (`<unknown>` is not a name).
 * - compromise: a SuccessfulAuth for an account from an address that failed for that same account
 *   at least `failuresBefore` times within `window` before it: the password was guessed. Its
 *   finding names the endpoint (PJSIP, SIP, IAX2), so `lock` can lock it; and every call from that
 *   endpoint that starts outbound within `callsWithin` gets a call finding with `callActions`.
 *   A success ends the run of failures it follows.
 *
 * Each rule fires once per address (compromise: per account and address) per `repeatAfter`; an
 * attack still going after that fires once more, with the running totals in the evidence.
 *
 * The agent's own AMI login arrives as a SuccessfulAuth (Service AMI) like any other: successes are
 * never counted as attempts, and an AMI account is not an endpoint, so it is never locked.
 */
import { appended, countInPairs } from '../../bounded.js';
import { SECURITY_FAILURE_KINDS, type SecurityEvent } from '../../calls/events.js';
import { actionList, baseFinding, callFinding, callsStartingOutbound, compilePolicyScope, defineKind, describeCall, type ReportIssue } from '../kind.js';
import { FIRST_FAILURE_SESSION_CHARS, FirstFailures, type FirstFailure } from '../../net/first-failures.js';
import { actionsField, durationField } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringMap, ExpiringSet, forgottenWithCall, limited, type Checkpointable } from '../state.js';
import { SEVERITIES, type EvalContext, type Finding, type PolicyAction } from '../types.js';
import { AddressList, parseCidr } from '../../net/cidr.js';
import { z } from 'zod';

export const SECURITY_SERVICES = ['PJSIP', 'SIP', 'IAX2', 'AMI'] as const;
/** Services whose accounts are endpoints that place calls (and can be locked). */
const ENDPOINT_SERVICES: ReadonlySet<string> = new Set(['PJSIP', 'SIP', 'IAX2']);

/** Bounds of the state, whatever a scanner does. */
const MAX_SOURCES = 2_000;
/**
 * Addresses seen failing once (newcomers) wait apart and join the others at their second attempt.
 * A scan from a million addresses, one attempt each, then churns only the newcomers: the addresses
 * that come back (the attackers that matter) are not pushed out by it. A newcomer is its one
 * failure, kept off the heap (FirstFailures): 20 000 of them are half a second of a scan of
 * 40 000 addresses a second. Newcomers restored from a checkpoint, or whose failure has a text
 * that does not fit there, are records in a map of their own.
 */
const MAX_FIRST_FAILURES = 20_000;
const MAX_NEWCOMERS = 2_000;
/** Per source address, the sessions and runs of failures remembered at most (the stalest go first). */
const MAX_SESSIONS_PER_SOURCE = 16;
const MAX_RUNS_PER_SOURCE = 64;
/** A session's reports arrive within milliseconds of each other; a minute is plenty. */
const SESSION_MEMORY_MS = 60_000;
/**
 * Sessions written this recently are checkpointed: the reports of one attempt arrive within
 * milliseconds, and a restart takes seconds.
 */
const SESSION_CHECKPOINT_MS = 2000;
/** Source records checkpointed: the most recently active addresses, and fewer newcomers (seen once). */
const BY_SOURCE = { newest: 1000 };
const NEWCOMERS_CHECKPOINTED = { newest: 250 };
const MAX_ACCOUNTS_PER_SOURCE = 64;
const SAMPLE_ACCOUNTS = 10;
/** Account names and Call-IDs come from the attacker: keep no more of each than this. */
const MAX_NAME_LENGTH = 80;
const MAX_SESSION_ID_LENGTH = 128;
const DAY_MS = 86_400_000;

const serviceField = z.string().trim().toUpperCase().pipe(z.enum(SECURITY_SERVICES));

const cidrField = z.union([z.string(), z.number()]).transform((value, context) => {
  const block = parseCidr(String(value));
  if (!block) {
    context.addIssue({ code: 'custom', message: `"${value}" is not an address or CIDR block: write e.g. 198.51.100.0/24, 203.0.113.7 or 2001:db8::/32` });
    return z.NEVER;
  }
  return block;
});

const severityField = z.enum(SEVERITIES);

const bruteForceSchema = z.object({
  /** Attempts the bucket holds; one more overflows it. */
  capacity: z.number().int().min(1).max(100_000).default(20),
  /** One attempt drains from the bucket every this long (CrowdSec's leakspeed). */
  leakEvery: durationField.default(5),
  actions: actionsField.optional(),
  severity: severityField.optional(),
});

const enumerationSchema = z.object({
  distinctAccounts: z.number().int().min(2).max(100).default(20),
  window: durationField.default(600),
  actions: actionsField.optional(),
  severity: severityField.optional(),
});

const compromiseSchema = z.object({
  failuresBefore: z.number().int().min(1).max(100).default(10),
  window: durationField.default(120),
  actions: actionsField.optional(),
  severity: severityField.optional(),
  /** Calls from the endpoint starting outbound within this long after the compromise. */
  callsWithin: durationField.optional(),
  callActions: actionsField.optional(),
});

type CompromiseRule = z.output<typeof compromiseSchema>;

/** What counting an attempt reads of a failure report (a SecurityEvent, or a newcomer's one failure). */
type FailureReport = Pick<SecurityEvent, 'service' | 'kind' | 'sessionId'> & { remote?: { port?: number | undefined } | undefined };

/** One session's reports: service, port and SessionID (with the address, see the file comment). */
interface SessionReports {
  service: string;
  port: number;
  id: string;
  expires: number;
  /** Reports by kind, flat `[kind, count, kind, count]`. */
  counts: (string | number)[];
}

/** A run of failures for one account from one address. */
interface FailureRun {
  service: string;
  account: string;
  /** The latest failures (at most failuresBefore). */
  times: number[];
  total: number;
  firstAt: number;
  expires: number;
}

/**
 * Everything remembered of one source address, in one record: a scan from a million addresses
 * makes one of these (and a few short arrays) per address, not an entry in each of five maps with
 * a key string for each. Each part forgets by its own window; the record lives as long as the
 * longest of them.
 */
export class SourceRecord {
  // The current incident: failures with no pause as long as repeatAfter.
  firstSeen: number;
  lastSeen: number;
  /** Attempts, each counted once. */
  attempts = 0;
  /** Failure events, double reports included. */
  reports = 0;
  /** Services failed (from Asterisk: a handful at most). */
  services: string[];
  /** Distinct account names, in the order first tried; at most MAX_ACCOUNTS_PER_SOURCE. */
  accounts: string[];
  accountsCapped = false;
  /** The brute-force bucket: its level after the last attempt poured in, and when that was. */
  bucketLevel = 0;
  bucketAt = 0;
  /** Account names refused lately (enumeration), flat `[name, expires, name, expires]`. */
  names: (string | number)[] | undefined = undefined;
  /** The sessions of the last minute, to count each attempt once. */
  sessions: SessionReports[] | undefined = undefined;
  /** Runs of failures per account (compromise). */
  runs: FailureRun[] | undefined = undefined;

  // Arrays made with their first element: sized to fit.
  constructor(service: string, account: string | undefined, now: number) {
    this.firstSeen = now;
    this.lastSeen = now;
    this.services = [service];
    this.accounts = account ? [account] : [];
  }

  /**
   * Counts one failure report of a session; true when it is a new attempt, false when it reports
   * one already counted. Sessions are forgotten SESSION_MEMORY_MS after their last report.
   */
  countAttempt(event: FailureReport, now: number): boolean {
    if (!event.sessionId) return true;
    const id = event.sessionId.length > MAX_SESSION_ID_LENGTH ? event.sessionId.slice(0, MAX_SESSION_ID_LENGTH) : event.sessionId;
    const port = event.remote?.port ?? -1;
    const session = this.sessions?.find((candidate) => candidate.expires > now && candidate.id === id && candidate.port === port && candidate.service === event.service);
    if (session === undefined) {
      this.sessions = withRoom(this.sessions, MAX_SESSIONS_PER_SOURCE, now);
      this.sessions = appended(this.sessions, { service: event.service, port, id, expires: now + SESSION_MEMORY_MS, counts: [event.kind, 1] });
      return true;
    }
    const before = attemptsIn(event.service, session.counts);
    countInPairs(session.counts, event.kind);
    session.expires = now + SESSION_MEMORY_MS;
    return attemptsIn(event.service, session.counts) > before;
  }

  /** Adds one failure to the current incident, which starts afresh after a pause of `incidentMs`. */
  recordFailure(service: string, account: string | undefined, isNewAttempt: boolean, now: number, incidentMs: number): void {
    if (!this.inIncident(now, incidentMs)) {
      this.firstSeen = now;
      this.attempts = 0;
      this.reports = 0;
      this.services = [service];
      this.accounts = account ? [account] : [];
      this.accountsCapped = false;
    }
    this.lastSeen = now;
    this.reports++;
    if (isNewAttempt) this.attempts++;
    if (!this.services.includes(service)) this.services.push(service);
    if (account && !this.accounts.includes(account)) {
      if (this.accounts.length < MAX_ACCOUNTS_PER_SOURCE) this.accounts.push(account);
      else this.accountsCapped = true;
    }
  }

  /** Whether the current incident is still going (its last failure less than `incidentMs` ago). */
  inIncident(now: number, incidentMs: number): boolean {
    return now - this.lastSeen < incidentMs;
  }

  /**
   * Pours one attempt into the leaky bucket (CrowdSec's model: it drains `leakPerSecond`, and is
   * forgotten `drainMs` after its last attempt); returns the level after it.
   */
  pour(now: number, leakPerSecond: number, drainMs: number): number {
    const elapsed = now - this.bucketAt;
    const level = (elapsed >= drainMs ? 0 : Math.max(0, this.bucketLevel - (elapsed / 1000) * leakPerSecond)) + 1;
    this.bucketLevel = level;
    this.bucketAt = now;
    return level;
  }

  /**
   * Notes an account name refused from here, forgotten `windowMs` after it was last seen, keeping at
   * most `limit` names; returns how many distinct names are live.
   */
  addName(name: string, now: number, windowMs: number, limit: number): number {
    this.names = addRecentName(this.names, name, now + windowMs, now, limit);
    return countLive(this.names, now);
  }

  /** Adds a failure to the run of `account` (kept `windowMs` after its last failure, its latest `length` times). */
  addRunFailure(service: string, account: string, now: number, windowMs: number, length: number): void {
    const run = this.findRun(service, account, now);
    if (run === undefined) {
      this.runs = withRoom(this.runs, MAX_RUNS_PER_SOURCE, now);
      this.runs = appended(this.runs, { service, account, times: [now], total: 1, firstAt: now, expires: now + windowMs });
      return;
    }
    run.times.push(now);
    if (run.times.length > length) run.times.shift();
    run.total++;
    run.expires = now + windowMs;
  }

  /** The run of failures of `account`, taken out: a success ends it, whatever it leads to. */
  takeRun(service: string, account: string, now: number): FailureRun | undefined {
    const run = this.findRun(service, account, now);
    if (run !== undefined) this.runs!.splice(this.runs!.indexOf(run), 1);
    return run;
  }

  private findRun(service: string, account: string, now: number): FailureRun | undefined {
    return this.runs?.find((run) => run.expires > now && run.account === account && run.service === service);
  }
}

/** `list` with room for one more: the expired go, and if it is still full, the one expiring first. */
function withRoom<T extends { expires: number }>(list: T[] | undefined, limit: number, now: number): T[] | undefined {
  if (list === undefined || list.length < limit) return list;
  const live = list.filter((item) => item.expires > now);
  if (live.length < limit) return live;
  let first = 0;
  for (let index = 1; index < live.length; index++) if (live[index]!.expires < live[first]!.expires) first = index;
  live.splice(first, 1);
  return live;
}

function attemptsIn(service: string, counts: readonly (string | number)[]): number {
  let attempts = 0;
  for (let index = 0; index + 1 < counts.length; index += 2) {
    const perAttempt = counts[index] === 'InvalidAccountID' && service === 'PJSIP' ? 2 : 1;
    attempts = Math.max(attempts, Math.ceil((counts[index + 1] as number) / perAttempt));
  }
  return attempts;
}

/**
 * Adds `name` (or renews it) in a flat `[name, expires, …]` list holding at most `limit` names:
 * keeping the most recently seen is enough, since if `limit` names were seen within the window,
 * those are the most recent ones.
 */
export function addRecentName(list: (string | number)[] | undefined, name: string, expires: number, now: number, limit: number): (string | number)[] {
  if (list === undefined) return [name, expires];
  const at = list.indexOf(name);
  if (at >= 0) {
    list[at + 1] = expires;
    return list;
  }
  const kept = list.length / 2 >= limit ? forgetName(list, now) : list;
  kept.push(name, expires);
  return kept;
}

/** The names still live in a flat `[name, expires, …]` list. */
export function countLive(list: readonly (string | number)[] | undefined, now: number): number {
  let count = 0;
  if (list) for (let index = 1; index < list.length; index += 2) if ((list[index] as number) > now) count++;
  return count;
}

/** The names of a flat `[name, expires, …]` list not yet expired at `now`, as a new list. */
function liveNames(list: readonly (string | number)[], now: number): (string | number)[] {
  const live: (string | number)[] = [];
  for (let index = 0; index + 1 < list.length; index += 2) if ((list[index + 1] as number) > now) live.push(list[index]!, list[index + 1]!);
  return live;
}

/** Drops the expired names, or else the stalest one. */
function forgetName(list: (string | number)[], now: number): (string | number)[] {
  const live = liveNames(list, now);
  if (live.length < list.length) return live;
  let stalest = 0;
  for (let index = 2; index < list.length; index += 2) if ((list[index + 1] as number) < (list[stalest + 1] as number)) stalest = index;
  list.splice(stalest, 2);
  return list;
}

/** A source record as plain data for a checkpoint: only what is live (sessions: only the last few seconds'). */
function encodeSource(source: SourceRecord, now: number): unknown {
  const { firstSeen, lastSeen, attempts, reports, services, accounts, accountsCapped, bucketLevel, bucketAt } = source;
  const names = source.names ? liveNames(source.names, now) : [];
  const recentFrom = now + SESSION_MEMORY_MS - SESSION_CHECKPOINT_MS;
  const sessions = (source.sessions ?? []).filter((session) => session.expires > recentFrom);
  const runs = (source.runs ?? []).filter((run) => run.expires > now);
  return { firstSeen, lastSeen, attempts, reports, services, accounts, accountsCapped, bucketLevel, bucketAt, names, sessions, runs };
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isString = (value: unknown): value is string => typeof value === 'string';

/** A source record from a checkpoint's plain data; whatever does not have the expected shape is left out. */
function decodeSource(plain: unknown, now: number): SourceRecord {
  const data = (plain ?? {}) as Record<string, unknown>;
  const source = new SourceRecord('', undefined, isNumber(data['firstSeen']) ? data['firstSeen'] : now);
  restoreActivity(source, data);
  if (isNumber(data['bucketLevel']) && isNumber(data['bucketAt'])) {
    source.bucketLevel = data['bucketLevel'];
    source.bucketAt = data['bucketAt'];
  }
  const names = Array.isArray(data['names']) ? data['names'] : [];
  for (let index = 0; index + 1 < names.length; index += 2) {
    if (isString(names[index]) && isNumber(names[index + 1]) && names[index + 1] > now) source.names = appendedPair(source.names, names[index], names[index + 1]);
  }
  for (const session of Array.isArray(data['sessions']) ? (data['sessions'] as Record<string, unknown>[]) : []) {
    if (isString(session?.['service']) && isNumber(session['port']) && isString(session['id']) && isNumber(session['expires']) && Array.isArray(session['counts'])) {
      source.sessions = appended(source.sessions, { service: session['service'], port: session['port'], id: session['id'], expires: session['expires'], counts: session['counts'] as (string | number)[] });
    }
  }
  for (const run of Array.isArray(data['runs']) ? (data['runs'] as Record<string, unknown>[]) : []) {
    if (isString(run?.['service']) && isString(run['account']) && Array.isArray(run['times']) && isNumber(run['total']) && isNumber(run['firstAt']) && isNumber(run['expires'])) {
      source.runs = appended(source.runs, { service: run['service'], account: run['account'], times: (run['times'] as unknown[]).filter(isNumber), total: run['total'], firstAt: run['firstAt'], expires: run['expires'] });
    }
  }
  return source;
}

function appendedPair(list: (string | number)[] | undefined, name: string, expires: number): (string | number)[] {
  if (list === undefined) return [name, expires];
  list.push(name, expires);
  return list;
}

/** The incident fields of a record from plain data (earlier versions wrote services and accounts as tagged Sets). */
function restoreActivity(source: SourceRecord, data: Record<string, unknown>): void {
  const list = (value: unknown): string[] => {
    const items = value !== null && typeof value === 'object' && Array.isArray((value as Record<string, unknown>)['@set']) ? (value as Record<string, unknown[]>)['@set'] : value;
    return Array.isArray(items) ? items.filter(isString) : [];
  };
  if (isNumber(data['lastSeen'])) source.lastSeen = data['lastSeen'];
  if (isNumber(data['attempts'])) source.attempts = data['attempts'];
  if (isNumber(data['reports'])) source.reports = data['reports'];
  source.services = list(data['services']);
  source.accounts = list(data['accounts']);
  source.accountsCapped = data['accountsCapped'] === true;
}

/**
 * The source records of a checkpoint written before they were one record per address: separate
 * maps of activity, sessions, buckets, recent names and failure runs, keyed by address (sessions
 * and runs by `service|address|…`). Each becomes part of its address's record, which lives as long
 * as its longest-lived part would have.
 */
function sourcesFromSeparateParts(snapshot: Record<string, unknown>, now: number, incidentMs: number): [string, SourceRecord, number][] {
  const records = new Map<string, { source: SourceRecord; expires: number }>();
  const recordOf = (ip: string, expires: number): SourceRecord => {
    let entry = records.get(ip);
    if (entry === undefined) {
      entry = { source: new SourceRecord('', undefined, now), expires };
      entry.source.lastSeen = now - incidentMs; // no incident until the activity part says so
      entry.source.services = [];
      records.set(ip, entry);
    }
    entry.expires = Math.max(entry.expires, expires);
    return entry.source;
  };
  const live = (part: unknown): [string, unknown, number][] =>
    (Array.isArray(part) ? part : []).filter((item): item is [string, unknown, number] => Array.isArray(item) && isString(item[0]) && isNumber(item[2]) && item[2] > now);

  for (const [ip, plain, expires] of live(snapshot['activity'])) {
    const source = recordOf(ip, expires);
    const data = (plain ?? {}) as Record<string, unknown>;
    if (isNumber(data['firstSeen'])) source.firstSeen = data['firstSeen'];
    restoreActivity(source, data);
  }
  for (const [key, plain, expires] of live(snapshot['attempts'])) {
    const [service, ip, port, ...id] = key.split('|');
    const pairs = plain !== null && typeof plain === 'object' && Array.isArray((plain as Record<string, unknown>)['@map']) ? (plain as Record<string, [unknown, unknown][]>)['@map']!.flat() : plain;
    if (!service || !ip || !Array.isArray(pairs)) continue;
    const source = recordOf(ip, expires);
    source.sessions = appended(source.sessions, { service, port: port ? Number(port) : -1, id: id.join('|'), expires, counts: pairs as (string | number)[] });
  }
  for (const [ip, plain, expires] of live(snapshot['buckets'])) {
    const bucket = (plain ?? {}) as Record<string, unknown>;
    if (!isNumber(bucket['level']) || !isNumber(bucket['at'])) continue;
    const source = recordOf(ip, expires);
    source.bucketLevel = bucket['level'];
    source.bucketAt = bucket['at'];
  }
  for (const [ip, plain, expires] of live(snapshot['accountsBySource'])) {
    const source = recordOf(ip, expires);
    for (const [name, , nameExpires] of live(plain)) source.names = appendedPair(source.names, name, nameExpires);
  }
  for (const [key, plain, expires] of live(snapshot['failureRuns'])) {
    const [service, ip, ...account] = key.split('|');
    const run = (plain ?? {}) as Record<string, unknown>;
    if (!service || !ip || !Array.isArray(run['times']) || !isNumber(run['total']) || !isNumber(run['firstAt'])) continue;
    const source = recordOf(ip, expires);
    source.runs = appended(source.runs, { service, account: account.join('|'), times: (run['times'] as unknown[]).filter(isNumber), total: run['total'], firstAt: run['firstAt'], expires });
  }
  return [...records].map(([ip, { source, expires }]) => [ip, source, expires]);
}

/**
 * Checkpoints the source records: the most recently active addresses, and the newest newcomers
 * (those kept as their one failure are written as the records they stand for: a checkpoint of
 * either kind restores into the newcomers' map).
 */
function sourcesState(sources: ExpiringMap<string, SourceRecord>, newcomers: ExpiringMap<string, SourceRecord>, firstFailures: FirstFailures, recordOf: (failure: FirstFailure) => SourceRecord): Checkpointable {
  return {
    snapshot: (now) => {
      const limit = NEWCOMERS_CHECKPOINTED.newest;
      const kept: [string, unknown, number][] = firstFailures.newest(limit, now).map(([ip, failure]) => [ip, encodeSource(recordOf(failure), now), firstFailures.expiresAt(failure)]);
      const all = newcomers.size > 0 ? [...newcomers.snapshot(now, NEWCOMERS_CHECKPOINTED, (source) => encodeSource(source, now)), ...kept].sort((a, b) => a[2] - b[2]) : kept;
      return { known: sources.snapshot(now, BY_SOURCE, (source) => encodeSource(source, now)), newcomers: all.slice(-limit) };
    },
    restore: (snapshot, now) => {
      const parts = (snapshot ?? {}) as { known?: unknown; newcomers?: unknown };
      sources.restore(parts.known, now, (plain) => decodeSource(plain, now));
      newcomers.restore(parts.newcomers, now, (plain) => decodeSource(plain, now));
    },
  };
}

interface Compromise {
  at: number;
  ip: string;
  account: string;
  service: string;
  failures: number;
}

export const securityKind = defineKind({
  kind: 'security',
  summary: 'brute force, account scans and guessed passwords from AMI security events, per source address',
  fields: {
    /** Judge only these services' events; default every service. */
    services: z.array(serviceField).min(1).optional(),
    /** Addresses and CIDR blocks whose events are never judged (the office LAN). */
    trustedAddresses: z.array(cidrField).default([]),
    /** A rule reports an address (or account) at most once per this long. */
    repeatAfter: durationField.default(3600),
    bruteForce: bruteForceSchema.optional(),
    enumeration: enumerationSchema.optional(),
    compromise: compromiseSchema.optional(),
  },
  describeActions(policy) {
    const rules: string[] = [];
    if (policy.bruteForce) rules.push(`brute force: ${actionList(policy.bruteForce.actions ?? policy.actions)}`);
    if (policy.enumeration) rules.push(`enumeration: ${actionList(policy.enumeration.actions ?? policy.actions)}`);
    if (policy.compromise) {
      rules.push(`compromise: ${actionList(policy.compromise.actions ?? policy.actions)}`);
      if (policy.compromise.callActions) rules.push(`calls after it: ${actionList(policy.compromise.callActions)}`);
    }
    return rules.join('; ');
  },
  validate(policy, report) {
    if (!policy.bruteForce && !policy.enumeration && !policy.compromise) {
      report(['kind'], 'say what to detect: bruteForce, enumeration and/or compromise');
    }
    if (policy.bruteForce) checkActions(report, 'bruteForce', policy.bruteForce.actions, policy.actions, ['hangup', 'lock']);
    if (policy.enumeration) checkActions(report, 'enumeration', policy.enumeration.actions, policy.actions, ['hangup', 'lock']);
    if (policy.compromise) {
      checkActions(report, 'compromise', policy.compromise.actions, policy.actions, ['hangup']);
      const { callsWithin, callActions } = policy.compromise;
      if (callsWithin !== undefined && !callActions) report(['compromise', 'callsWithin'], 'say what to do with those calls: callActions (e.g. [alert, hangup])');
      if (callActions && callsWithin === undefined) report(['compromise', 'callActions'], 'callActions need callsWithin: how long after a compromise calls are judged (e.g. 15m)');
    }
    const matchUsed = Object.values(policy.match).some((value) => value !== undefined);
    if ((matchUsed || policy.exceptions.length > 0) && policy.compromise?.callsWithin === undefined) {
      report([matchUsed ? 'match' : 'exceptions'], 'match and exceptions select calls: this policy judges calls only with compromise.callsWithin');
    }
  },
  create(policy) {
    const services = policy.services ? new Set<string>(policy.services) : undefined;
    const trusted = new AddressList(policy.trustedAddresses);
    const repeatAfterMs = policy.repeatAfter * 1000;
    const bruteForce = policy.bruteForce;
    const leakPerSecond = bruteForce ? 1 / bruteForce.leakEvery : 0;
    // A bucket drains completely after capacity / leak seconds: forget it then.
    const bucketMs = bruteForce ? Math.ceil((bruteForce.capacity + 1) * bruteForce.leakEvery * 1000) : 0;
    const bruteForceFired = new ExpiringSet<string>(repeatAfterMs, MAX_SOURCES);

    const enumeration = policy.enumeration;
    const enumerationWindowMs = (enumeration?.window ?? 0) * 1000;
    const enumerationFired = new ExpiringSet<string>(repeatAfterMs, MAX_SOURCES);

    const compromise = policy.compromise;
    const compromiseWindowMs = (compromise?.window ?? 0) * 1000;
    const compromiseFired = new ExpiringSet<string>(repeatAfterMs, MAX_SOURCES);
    const callsWithinMs = (compromise?.callsWithin ?? 0) * 1000;
    const compromised = new ExpiringMap<string, Compromise>(callsWithinMs, MAX_SOURCES);
    const callsFired = new ExpiringSet<string>(DAY_MS, 100_000);
    const callScope = compilePolicyScope(policy);

    const sourceMs = Math.max(repeatAfterMs, bucketMs, enumerationWindowMs, compromiseWindowMs, SESSION_MEMORY_MS);
    const sources = new ExpiringMap<string, SourceRecord>(sourceMs, MAX_SOURCES);
    const newcomers = new ExpiringMap<string, SourceRecord>(sourceMs, MAX_NEWCOMERS);
    const firstFailures = new FirstFailures(MAX_FIRST_FAILURES, sourceMs);

    /** The record a newcomer's one failure stands for: made as that failure made it. */
    function recordOf(failure: FirstFailure): SourceRecord {
      const source = new SourceRecord(failure.service, failure.account, failure.at);
      failureState(source, { service: failure.service, kind: failure.kind as SecurityEvent['kind'], sessionId: failure.sessionId, remote: failure.port >= 0 ? { port: failure.port } : undefined }, failure.account, failure.at);
      return source;
    }

    /**
     * The record of an address that failed before, written now: a known source, or a newcomer
     * coming back; undefined for an address never seen failing.
     */
    function returningSource(ip: string, now: number): SourceRecord | undefined {
      const known = sources.get(ip, now);
      if (known === undefined) return newcomerComingBack(ip, now);
      sources.set(ip, known, now);
      return known;
    }

    /** A newcomer's record, made from its one failure if that is how it was kept; it joins the known sources. */
    function newcomerComingBack(ip: string, now: number): SourceRecord | undefined {
      const failure = firstFailures.take(ip, now);
      const newcomer = failure !== undefined ? recordOf(failure) : newcomers.get(ip, now);
      if (newcomer === undefined) return undefined;
      newcomers.delete(ip);
      sources.set(ip, newcomer, now);
      return newcomer;
    }

    /** A failure from an address never seen failing: kept as it is (off the heap), or else as its record. */
    function rememberNewcomer(ip: string, event: SecurityEvent, account: string | undefined, now: number): void {
      const sessionId = event.sessionId && event.sessionId.length > FIRST_FAILURE_SESSION_CHARS ? event.sessionId.slice(0, FIRST_FAILURE_SESSION_CHARS) : event.sessionId || undefined;
      if (firstFailures.remember(ip, { at: now, service: event.service, kind: event.kind, account, sessionId, port: event.remote?.port ?? -1 })) return;
      const source = new SourceRecord(event.service, account, now);
      failureState(source, event, account, now);
      newcomers.set(ip, source, now);
    }

    /**
     * What one failure leaves in the source's record: whether it was a new attempt, the bucket's
     * level after it (0 when not poured) and the account names refused lately (0 when not counted).
     */
    function failureState(source: SourceRecord, event: FailureReport, account: string | undefined, now: number): { isNewAttempt: boolean; level: number; distinct: number } {
      const isNewAttempt = source.countAttempt(event, now);
      source.recordFailure(event.service, account, isNewAttempt, now, repeatAfterMs);
      const level = bruteForce && isNewAttempt ? source.pour(now, leakPerSecond, bucketMs) : 0;
      const distinct = enumeration && account ? source.addName(account, now, enumerationWindowMs, enumeration.distinctAccounts) : 0;
      if (compromise && account && isNewAttempt) source.addRunFailure(event.service, account, now, compromiseWindowMs, compromise.failuresBefore);
      return { isNewAttempt, level, distinct };
    }

    const actionsOf = (rule: { actions?: PolicyAction[] | undefined }): PolicyAction[] => rule.actions ?? policy.actions;

    function onFailure(event: SecurityEvent, ip: string, account: string | undefined, context: EvalContext): Finding[] {
      const now = context.now;
      const source = returningSource(ip, now);
      // A first failure fires no rule: a bucket holds at least one attempt, an account scan two names.
      if (source === undefined) {
        rememberNewcomer(ip, event, account, now);
        return [];
      }
      const { isNewAttempt, level, distinct } = failureState(source, event, account, now);
      const findings: Finding[] = [];

      if (bruteForce && isNewAttempt) {
        if (level > bruteForce.capacity && bruteForceFired.add(ip, now)) {
          findings.push(
            baseFinding(policy, context, {
              scope: `ip:${ip}`,
              ip,
              level: 'brute-force',
              severity: bruteForce.severity ?? policy.severity,
              actions: actionsOf(bruteForce),
              message: `Brute force from ${ip}: ${source.attempts} failed ${source.services.join('/')} authentication attempts in ${formatSpan(now - source.firstSeen)}${accountsPhrase(source)}`,
              evidence: {
                ...activityEvidence(source),
                bucketLevel: round2(level),
                capacity: bruteForce.capacity,
                leakEverySeconds: bruteForce.leakEvery,
              },
            }),
          );
        }
      }

      if (enumeration && account) {
        if (distinct >= enumeration.distinctAccounts && enumerationFired.add(ip, now)) {
          findings.push(
            baseFinding(policy, context, {
              scope: `ip:${ip}`,
              ip,
              level: 'enumeration',
              severity: enumeration.severity ?? policy.severity,
              actions: actionsOf(enumeration),
              message: `Account scan from ${ip}: ${distinct} different ${source.services.join('/')} account names refused within ${formatSpan(enumerationWindowMs)} (${sampleOf(source).join(', ')}${source.accounts.length > SAMPLE_ACCOUNTS ? ', …' : ''})`,
              evidence: { ...activityEvidence(source), accountsInWindow: distinct, windowSeconds: enumeration.window },
            }),
          );
        }
      }

      return findings;
    }

    function onSuccess(event: SecurityEvent, ip: string, account: string, context: EvalContext, rule: CompromiseRule): Finding[] {
      const now = context.now;
      // A newcomer's success makes it a known source (its record is made and its run taken out).
      const source = sources.get(ip, now) ?? newcomerComingBack(ip, now);
      const run = source?.takeRun(event.service, account, now);
      if (!run) return [];
      const key = runKey(event.service, ip, account);
      const recent = run.times.filter((time) => time > now - compromiseWindowMs);
      if (recent.length < rule.failuresBefore || !compromiseFired.add(key, now)) return [];
      const endpoint = ENDPOINT_SERVICES.has(event.service) ? account : undefined;
      if (endpoint && callsWithinMs > 0) compromised.set(endpoint, { at: now, ip, account, service: event.service, failures: run.total }, now);
      const incident = source?.inIncident(now, repeatAfterMs) ? source : undefined;
      const lastFailure = run.times[run.times.length - 1] ?? now;
      return [
        baseFinding(policy, context, {
          scope: endpoint ? `endpoint:${endpoint}` : `account:${event.service}/${account}`,
          ip,
          account,
          ...(endpoint ? { endpoint } : {}),
          level: 'compromise',
          severity: rule.severity ?? 'critical',
          actions: actionsOf(rule),
          message: `${event.service} account ${account} logged in from ${ip} after ${run.total} failed attempts in ${formatSpan(lastFailure - run.firstAt)}: its password was probably guessed`,
          evidence: {
            service: event.service,
            accountFailures: run.total,
            firstFailure: iso(run.firstAt),
            lastFailure: iso(lastFailure),
            failuresBefore: rule.failuresBefore,
            windowSeconds: rule.window,
            ...(event.sessionId ? { sessionId: event.sessionId } : {}),
            ...(incident ? { addressAttempts: incident.attempts, addressAccounts: sampleOf(incident) } : {}),
          },
        }),
      ];
    }

    function onCalls(context: EvalContext, rule: CompromiseRule): Finding[] {
      const findings: Finding[] = [];
      for (const call of callsStartingOutbound(context)) {
        const facts = context.facts(call);
        if (facts.direction !== 'outbound' && facts.direction !== 'transit') continue;
        const incident = compromised.get(facts.endpoint, context.now);
        if (!incident || callsFired.has(call.linkedid, context.now) || !callScope.applies(facts)) continue;
        callsFired.add(call.linkedid, context.now);
        findings.push(
          callFinding(policy, context, facts, {
            level: 'call-after-compromise',
            severity: rule.severity ?? 'critical',
            actions: rule.callActions ?? policy.actions,
            ip: incident.ip,
            account: incident.account,
            message: `${describeCall(facts)}: ${formatSpan(context.now - incident.at)} after ${incident.account}'s password was guessed from ${incident.ip}`,
            evidence: {
              compromisedAt: iso(incident.at),
              compromisedFrom: incident.ip,
              service: incident.service,
              failuresBeforeCompromise: incident.failures,
              secondsAfterCompromise: round2((context.now - incident.at) / 1000),
              callsWithinSeconds: rule.callsWithin ?? 0,
            },
          }),
        );
      }
      return findings;
    }

    const memories = [sources, newcomers, firstFailures, bruteForceFired, enumerationFired, compromiseFired, compromised, callsFired];
    // Survives a restart: an attack in progress goes on being counted, a compromise keeps its calls window.
    // What is keyed by source address keeps its most recently active sources (a flood from a
    // million addresses must not make a checkpoint of megabytes).
    const state = checkpointed({
      sources: sourcesState(sources, newcomers, firstFailures, recordOf),
      bruteForceFired: limited(bruteForceFired, BY_SOURCE),
      enumerationFired: limited(enumerationFired, BY_SOURCE),
      compromiseFired: limited(compromiseFired, BY_SOURCE),
      compromised,
      callsFired: limited(callsFired, BY_CALL),
    });
    return {
      id: policy.id,
      memory() {
        let entries = 0;
        let evicted = 0;
        for (const memory of memories) {
          entries += memory.size;
          evicted += memory.evicted;
        }
        return { entries, evicted };
      },
      snapshot: state.snapshot,
      ...forgottenWithCall(callsFired),
      restore(snapshot, now) {
        state.restore(snapshot, now);
        // A checkpoint of an earlier version holds the per-address parts in separate maps.
        if (snapshot !== null && typeof snapshot === 'object' && !('sources' in snapshot)) {
          sources.restore(sourcesFromSeparateParts(snapshot as Record<string, unknown>, now, repeatAfterMs), now, (source) => source as SourceRecord);
        }
      },
      evaluate(context) {
        const findings: Finding[] = [];
        const input = context.input;
        if (input.type === 'event' && input.event.type === 'security') {
          const event = input.event;
          const ip = event.remote && !event.remote.invalid ? event.remote.ip : undefined;
          const judged = ip !== undefined && (!services || services.has(event.service.toUpperCase())) && !trusted.match(ip);
          if (judged) {
            const account = accountOf(event);
            if (SECURITY_FAILURE_KINDS.has(event.kind)) findings.push(...onFailure(event, ip, account, context));
            else if (event.kind === 'SuccessfulAuth' && account && compromise) findings.push(...onSuccess(event, ip, account, context, compromise));
          }
        }
        if (compromise?.callsWithin !== undefined) findings.push(...onCalls(context, compromise));
        return findings;
      },
    };
  },
});

function checkActions(report: ReportIssue, rule: string, own: PolicyAction[] | undefined, inherited: PolicyAction[], refused: PolicyAction[]): void {
  const actions = own ?? inherited;
  for (const action of refused.filter((candidate) => actions.includes(candidate))) {
    const why = action === 'hangup' ? 'hangup needs a call: use it in compromise.callActions' : 'lock needs an endpoint: only compromise names one';
    report(own ? [rule, 'actions'] : ['actions'], own ? why : `${rule} has no actions of its own and takes these, but ${why}`);
  }
}

function activityEvidence(source: SourceRecord): Record<string, string | number | boolean | string[]> {
  return {
    attempts: source.attempts,
    reports: source.reports,
    firstSeen: iso(source.firstSeen),
    lastSeen: iso(source.lastSeen),
    services: [...source.services],
    distinctAccounts: source.accounts.length,
    ...(source.accountsCapped ? { distinctAccountsAtLeast: true } : {}),
    sampleAccounts: sampleOf(source),
  };
}

function accountsPhrase(source: SourceRecord): string {
  if (source.accounts.length === 0) return '';
  const more = source.accounts.length > SAMPLE_ACCOUNTS ? `, … (${source.accounts.length}${source.accountsCapped ? '+' : ''} accounts)` : '';
  return ` (${source.accounts.length === 1 ? 'account' : 'accounts'} ${sampleOf(source).join(', ')}${more})`;
}

function sampleOf(source: SourceRecord): string[] {
  return source.accounts.slice(0, SAMPLE_ACCOUNTS);
}

/**
 * The account an event names (cut to MAX_NAME_LENGTH: a scanner chooses it); `<unknown>` (PJSIP
 * before it identified the account) names none.
 */
function accountOf(event: SecurityEvent): string | undefined {
  const account = event.accountId.trim().slice(0, MAX_NAME_LENGTH);
  return account && account !== '<unknown>' ? account : undefined;
}

function runKey(service: string, ip: string, account: string): string {
  return `${service}|${ip}|${account}`;
}

/** `2.1 s`, `45 s`, `4 min`, `1.5 h`: spans for messages. */
export function formatSpan(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Number((seconds / 3600).toFixed(1))} h`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
