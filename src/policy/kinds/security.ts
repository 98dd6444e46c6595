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
import { countInPairs } from '../../bounded.js';
import { SECURITY_FAILURE_KINDS, type SecurityEvent } from '../../calls/events.js';
import { actionList, baseFinding, callFinding, callsStartingOutbound, compilePolicyScope, defineKind, describeCall, type ReportIssue } from '../kind.js';
import { actionsField, durationField } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringMap, ExpiringSet, fromPlain, LeakyBuckets, limited, type Checkpointable } from '../state.js';
import { SEVERITIES, type EvalContext, type Finding, type PolicyAction } from '../types.js';
import { AddressList, parseCidr } from '../../net/cidr.js';
import { z } from 'zod';

export const SECURITY_SERVICES = ['PJSIP', 'SIP', 'IAX2', 'AMI'] as const;
/** Services whose accounts are endpoints that place calls (and can be locked). */
const ENDPOINT_SERVICES: ReadonlySet<string> = new Set(['PJSIP', 'SIP', 'IAX2']);

/** Bounds of the state, whatever a scanner does. */
const MAX_SOURCES = 2_000;
const MAX_SESSIONS = 4_000;
/** A session's reports arrive within milliseconds of each other; a minute is plenty. */
const SESSION_MEMORY_MS = 60_000;
/**
 * Sessions written this recently are checkpointed, at most CHECKPOINT_SESSIONS of them: the reports
 * of one attempt arrive within milliseconds, and a restart takes seconds.
 */
const SESSION_CHECKPOINT_MS = 2000;
const CHECKPOINT_SESSIONS = 500;
/** Per-source state checkpointed: the most recently active sources (accounts per source for failure runs). */
const CHECKPOINT_SOURCES = 1000;
const BY_SOURCE = { newest: CHECKPOINT_SOURCES };
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

/** Counts refused attempts once however often Asterisk reports each (see the file comment). */
export class AttemptCounter {
  /**
   * Per attempt (service, address, port, session): the reports by kind as a flat
   * `[kind, count, kind, count]` array — one small array, not a Map, for each of a scan's attempts.
   */
  readonly sessions: ExpiringMap<string, (string | number)[]>;

  constructor(memoryMs = SESSION_MEMORY_MS, maxSessions = MAX_SESSIONS) {
    this.sessions = new ExpiringMap(memoryMs, maxSessions);
  }

  /** Records one failure event from `ip`; true when it is a new attempt, false when it reports one already counted. */
  record(event: SecurityEvent, ip: string, now: number): boolean {
    if (!event.sessionId) return true;
    const key = `${event.service}|${ip}|${event.remote?.port ?? ''}|${event.sessionId.slice(0, MAX_SESSION_ID_LENGTH)}`;
    const counts = this.sessions.get(key, now);
    if (counts === undefined) {
      this.sessions.set(key, [event.kind, 1], now);
      return true;
    }
    const before = attemptsIn(event.service, counts);
    countInPairs(counts, event.kind);
    this.sessions.set(key, counts, now);
    return attemptsIn(event.service, counts) > before;
  }

  /**
   * Only the sessions of the last few seconds: Asterisk's reports of one attempt arrive within
   * milliseconds, and under a scan this map is the largest of all (one entry per attempt).
   */
  snapshot(now: number): unknown {
    return this.sessions.snapshot(now, { writtenWithinMs: SESSION_CHECKPOINT_MS, newest: CHECKPOINT_SESSIONS });
  }

  restore(snapshot: unknown, now: number): void {
    // Checkpoints written before the flat arrays hold a Map of counts per session.
    this.sessions.restore(snapshot, now, (plain) => {
      const value = fromPlain(plain);
      return value instanceof Map ? [...value].flat() : Array.isArray(value) ? value : [];
    });
  }
}

function attemptsIn(service: string, counts: readonly (string | number)[]): number {
  let attempts = 0;
  for (let index = 0; index + 1 < counts.length; index += 2) {
    const perAttempt = counts[index] === 'InvalidAccountID' && service === 'PJSIP' ? 2 : 1;
    attempts = Math.max(attempts, Math.ceil((counts[index + 1] as number) / perAttempt));
  }
  return attempts;
}

const EMPTY_NAMES: string[] = [];
const EMPTY_EXPIRIES: number[] = [];

/** Distinct names seen, at most `limit` of them, each forgotten `windowMs` after it was last seen. */
export class RecentNames {
  // Two short parallel arrays, not a map: a scan creates one of these per source address, and
  // `limit` (the enumeration threshold) is a few dozen names at most.
  // Made with their first element (an array literal is sized to fit; a push onto an empty one
  // reserves seventeen slots), and one of these is made for every address of a scan.
  private names: string[] = EMPTY_NAMES;
  private expiries: number[] = EMPTY_EXPIRIES;

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
  ) {}

  add(name: string, now: number): void {
    const index = this.names.indexOf(name);
    if (index >= 0) {
      this.expiries[index] = now + this.windowMs;
      return;
    }
    // Keeping only the `limit` most recently seen is enough: if `limit` names were seen within the
    // window, those are the most recent ones.
    if (this.names.length >= this.limit) this.forget(now);
    if (this.names.length === 0) {
      this.names = [name];
      this.expiries = [now + this.windowMs];
      return;
    }
    this.names.push(name);
    this.expiries.push(now + this.windowMs);
  }

  count(now: number): number {
    let count = 0;
    for (const expires of this.expiries) if (expires > now) count++;
    return count;
  }

  /** The live names as [name, true, expires] (the checkpoint format of an ExpiringMap of names). */
  snapshot(now: number): unknown {
    const entries: [string, true, number][] = [];
    this.names.forEach((name, index) => {
      const expires = this.expiries[index]!;
      if (expires > now) entries.push([name, true, expires]);
    });
    return entries;
  }

  restore(snapshot: unknown, now: number): void {
    if (!Array.isArray(snapshot)) return;
    for (const item of snapshot) {
      if (!Array.isArray(item) || typeof item[0] !== 'string' || typeof item[2] !== 'number' || item[2] <= now) continue;
      this.add(item[0], item[2] - this.windowMs);
    }
  }

  /** Drops the expired names, or else the stalest one. */
  private forget(now: number): void {
    const live = this.expiries.map((expires) => expires > now);
    if (live.includes(false)) {
      this.names = this.names.filter((_, index) => live[index]);
      this.expiries = this.expiries.filter((_, index) => live[index]);
      return;
    }
    let stalest = 0;
    for (let index = 1; index < this.expiries.length; index++) if (this.expiries[index]! < this.expiries[stalest]!) stalest = index;
    this.names.splice(stalest, 1);
    this.expiries.splice(stalest, 1);
  }
}

/** Checkpoints a map of RecentNames (a class, so its entries are written and rebuilt through it). */
function recentNamesState(map: ExpiringMap<string, RecentNames>, windowMs: number, limit: number): Checkpointable {
  return {
    snapshot: (now) => map.snapshot(now, BY_SOURCE, (names) => names.snapshot(now)),
    restore: (snapshot, now) =>
      map.restore(snapshot, now, (plain) => {
        const names = new RecentNames(windowMs, limit);
        names.restore(plain, now);
        return names;
      }),
  };
}

/** Checkpoints the per-address activity; checkpoints written before it held arrays carry Sets (tagged). */
function activityState(map: ExpiringMap<string, SourceActivity>): Checkpointable {
  const list = (value: unknown): string[] => (value instanceof Set ? [...(value as Set<string>)] : Array.isArray(value) ? (value as string[]) : []);
  return {
    snapshot: (now) => map.snapshot(now, BY_SOURCE),
    restore: (snapshot, now) =>
      map.restore(snapshot, now, (plain) => {
        const source = fromPlain(plain) as SourceActivity;
        return { ...source, services: list(source.services), accounts: list(source.accounts) };
      }),
  };
}

/** What one address did during its current incident (failures with no pause longer than repeatAfter). */
interface SourceActivity {
  firstSeen: number;
  lastSeen: number;
  /** Attempts, each counted once. */
  attempts: number;
  /** Failure events, double reports included. */
  reports: number;
  /** Services failed (from Asterisk: a handful at most). Arrays, not Sets: one of these per scanning address. */
  services: string[];
  /** Distinct account names, in the order first tried; at most MAX_ACCOUNTS_PER_SOURCE. */
  accounts: string[];
  accountsCapped: boolean;
}

/** A run of failures for one account from one address. */
interface FailureRun {
  /** The latest failures (at most failuresBefore). */
  times: number[];
  total: number;
  firstAt: number;
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
    const activity = new ExpiringMap<string, SourceActivity>(repeatAfterMs, MAX_SOURCES);
    const attempts = new AttemptCounter();

    const bruteForce = policy.bruteForce;
    const buckets = bruteForce ? new LeakyBuckets<string>(bruteForce.capacity, 1 / bruteForce.leakEvery, MAX_SOURCES) : undefined;
    const bruteForceFired = new ExpiringSet<string>(repeatAfterMs, MAX_SOURCES);

    const enumeration = policy.enumeration;
    const enumerationWindowMs = (enumeration?.window ?? 0) * 1000;
    const accountsBySource = new ExpiringMap<string, RecentNames>(enumerationWindowMs, MAX_SOURCES);
    const enumerationFired = new ExpiringSet<string>(repeatAfterMs, MAX_SOURCES);

    const compromise = policy.compromise;
    const compromiseWindowMs = (compromise?.window ?? 0) * 1000;
    const failureRuns = new ExpiringMap<string, FailureRun>(compromiseWindowMs, MAX_SOURCES * 4);
    const compromiseFired = new ExpiringSet<string>(repeatAfterMs, MAX_SOURCES);
    const callsWithinMs = (compromise?.callsWithin ?? 0) * 1000;
    const compromised = new ExpiringMap<string, Compromise>(callsWithinMs, MAX_SOURCES);
    const callsFired = new ExpiringSet<string>(DAY_MS, 100_000);
    const callScope = compilePolicyScope(policy);

    const actionsOf = (rule: { actions?: PolicyAction[] | undefined }): PolicyAction[] => rule.actions ?? policy.actions;

    function onFailure(event: SecurityEvent, ip: string, account: string | undefined, context: EvalContext): Finding[] {
      const now = context.now;
      const isNewAttempt = attempts.record(event, ip, now);
      const source = recordActivity(activity, ip, event.service, account, isNewAttempt, now);
      const findings: Finding[] = [];

      if (bruteForce && buckets && isNewAttempt) {
        const level = buckets.add(ip, now);
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
        const names = accountsBySource.get(ip, now) ?? new RecentNames(enumerationWindowMs, enumeration.distinctAccounts);
        names.add(account, now);
        accountsBySource.set(ip, names, now);
        const distinct = names.count(now);
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

      if (compromise && account && isNewAttempt) {
        const key = runKey(event.service, ip, account);
        const run = failureRuns.get(key, now);
        if (run === undefined) failureRuns.set(key, { times: [now], total: 1, firstAt: now }, now);
        else {
          run.times.push(now);
          if (run.times.length > compromise.failuresBefore) run.times.shift();
          run.total++;
          failureRuns.set(key, run, now);
        }
      }
      return findings;
    }

    function onSuccess(event: SecurityEvent, ip: string, account: string, context: EvalContext, rule: CompromiseRule): Finding[] {
      const now = context.now;
      const key = runKey(event.service, ip, account);
      const run = failureRuns.get(key, now);
      // A success ends the run of failures before it, whatever it leads to.
      failureRuns.delete(key);
      if (!run) return [];
      const recent = run.times.filter((time) => time > now - compromiseWindowMs);
      if (recent.length < rule.failuresBefore || !compromiseFired.add(key, now)) return [];
      const endpoint = ENDPOINT_SERVICES.has(event.service) ? account : undefined;
      if (endpoint && callsWithinMs > 0) compromised.set(endpoint, { at: now, ip, account, service: event.service, failures: run.total }, now);
      const source = activity.get(ip, now);
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
            ...(source ? { addressAttempts: source.attempts, addressAccounts: sampleOf(source) } : {}),
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

    const memories = [activity, attempts.sessions, buckets?.keys, bruteForceFired, accountsBySource, enumerationFired, failureRuns, compromiseFired, compromised, callsFired];
    return {
      id: policy.id,
      memory() {
        let entries = 0;
        let evicted = 0;
        for (const memory of memories) {
          if (!memory) continue;
          entries += memory.size;
          evicted += memory.evicted;
        }
        return { entries, evicted };
      },
      // Survives a restart: an attack in progress goes on being counted, a compromise keeps its calls window.
      // What is keyed by source address keeps its most recently active sources (a flood from a
      // million addresses must not make a checkpoint of megabytes).
      ...checkpointed({
        activity: activityState(activity),
        attempts,
        buckets: limited(buckets, BY_SOURCE),
        bruteForceFired: limited(bruteForceFired, BY_SOURCE),
        accountsBySource: recentNamesState(accountsBySource, enumerationWindowMs, enumeration?.distinctAccounts ?? 1),
        enumerationFired: limited(enumerationFired, BY_SOURCE),
        failureRuns: limited(failureRuns, BY_SOURCE),
        compromiseFired: limited(compromiseFired, BY_SOURCE),
        compromised,
        callsFired: limited(callsFired, BY_CALL),
      }),
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

function recordActivity(activity: ExpiringMap<string, SourceActivity>, ip: string, service: string, account: string | undefined, isNewAttempt: boolean, now: number): SourceActivity {
  // Arrays made with their first element: sized to fit (one of these per address of a scan).
  const source = activity.get(ip, now) ?? { firstSeen: now, lastSeen: now, attempts: 0, reports: 0, services: [service], accounts: account ? [account] : [], accountsCapped: false };
  source.lastSeen = now;
  source.reports++;
  if (isNewAttempt) source.attempts++;
  if (!source.services.includes(service)) source.services.push(service);
  if (account && !source.accounts.includes(account)) {
    if (source.accounts.length < MAX_ACCOUNTS_PER_SOURCE) source.accounts.push(account);
    else source.accountsCapped = true;
  }
  activity.set(ip, source, now);
  return source;
}

function activityEvidence(source: SourceActivity): Record<string, string | number | boolean | string[]> {
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

function accountsPhrase(source: SourceActivity): string {
  if (source.accounts.length === 0) return '';
  const more = source.accounts.length > SAMPLE_ACCOUNTS ? `, … (${source.accounts.length}${source.accountsCapped ? '+' : ''} accounts)` : '';
  return ` (${source.accounts.length === 1 ? 'account' : 'accounts'} ${sampleOf(source).join(', ')}${more})`;
}

function sampleOf(source: SourceActivity): string[] {
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
