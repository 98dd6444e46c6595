/**
 * The policy engine: (input, call table, clock) → findings. Pure apart from the policies' own
 * bounded state: no I/O, no wall clock (time comes from the Clock: event time in replay, so the same
 * transcript always gives the same findings).
 *
 * The hard safety rule lives here, in one place: a finding about a call that reaches an emergency
 * number is dropped, whatever the policy — emergency calls are never blocked and never hung up.
 */
import type { Call, CallChange, CallTable, Dial } from '../calls/table.js';
import type { Clock } from '../clock.js';
import { fnv1a } from '../hash.js';
import type { Classification, Classifier } from '../numbers/index.js';
import { AddressMemory } from '../profile/addresses.js';
import { EndpointProfiles, type ProfileCall } from '../profile/profile.js';
import type { Rate, RateTable } from '../rates/index.js';
import { appended, type AnyPolicyKind, type PolicyEnvironment } from './kind.js';
import { ExpiringMap } from './state.js';
import type { BasePolicy } from './schema.js';
import type { CallFacts, CostEntry, EngineInput, EvalContext, Finding, LiveCost, LockView, PolicyInstance } from './types.js';

/** The engine's detection state as plain data (see PolicyEngine.snapshot). */
export interface EngineSnapshot {
  /** By policy id: a hash of its definition and its state. */
  policies: Record<string, { definition: string; state: unknown }>;
  condemned: unknown;
}

/** A validated policy from a file, ready to instantiate. */
export interface LoadedPolicy {
  definition: BasePolicy & Record<string, unknown>;
  file: string;
  kind: AnyPolicyKind;
}

export interface EngineOptions {
  policies: readonly LoadedPolicy[];
  classifier: Classifier;
  rates: RateTable;
  clock: Clock;
  locks?: LockView;
  /** Per-endpoint address memory (restored from the store live; fresh in replay). */
  addresses?: AddressMemory;
  /** Per-endpoint habits (restored from the store live; fresh in replay). */
  profiles?: EndpointProfiles;
  /** Defaults for policies that do not set them. @default { timezone: 'UTC', currency: the rate table's } */
  environment?: Partial<PolicyEnvironment>;
  /** A policy threw: the engine goes on with the others; the owner logs it. */
  onPolicyError?: (policy: string, error: unknown) => void;
}

export interface EngineResult {
  findings: Finding[];
  /** Costs of outbound dials that ended in this input (for the spend ledger). */
  committed: CostEntry[];
}

export interface EngineStats {
  evaluations: number;
  findings: number;
  policyErrors: number;
  /** Findings dropped because the call reaches an emergency number. */
  emergencyExempted: number;
}

// Shared empty lists are not frozen: a loop over a frozen array takes V8's slow path (an object per step).
const NO_CONDEMNED: readonly { linkedid: string; at: number; policy: string }[] = [];
const NO_LOCKS: LockView = { lockOf: () => undefined };
/** How long the engine remembers which calls of an endpoint were condemned (the longest window a policy may ask about). */
const CONDEMNED_MEMORY_MS = 24 * 3_600_000;

interface Slot {
  policy: LoadedPolicy;
  instance: PolicyInstance;
  fingerprint: string;
}

export class PolicyEngine {
  readonly stats: EngineStats = { evaluations: 0, findings: 0, policyErrors: 0, emergencyExempted: 0 };
  private slots: Slot[] = [];
  private readonly classifier: Classifier;
  private readonly rates: RateTable;
  private readonly clock: Clock;
  private readonly locks: LockView;
  readonly addresses: AddressMemory;
  readonly profiles: EndpointProfiles;
  private readonly onPolicyError: ((policy: string, error: unknown) => void) | undefined;
  private readonly environment: PolicyEnvironment;
  private readonly factsCache = new WeakMap<Call, { version: number; trunksVersion: number; facts: CallFacts }>();
  /** Calls a policy asked to hang up, per endpoint (what later calls from it are judged against). */
  private readonly condemnedCalls = new ExpiringMap<string, { linkedid: string; at: number; policy: string }[]>(CONDEMNED_MEMORY_MS, 10_000);
  /** A dial's number never changes: its price is looked up once. */
  private readonly dialPrices = new WeakMap<Dial, { rate: Rate; classification: Classification } | null>();

  constructor(options: EngineOptions) {
    this.classifier = options.classifier;
    this.rates = options.rates;
    this.clock = options.clock;
    this.locks = options.locks ?? NO_LOCKS;
    this.addresses = options.addresses ?? new AddressMemory();
    this.profiles = options.profiles ?? new EndpointProfiles({ timezone: options.environment?.timezone ?? 'UTC' });
    this.onPolicyError = options.onPolicyError;
    this.environment = { timezone: options.environment?.timezone ?? 'UTC', currency: options.environment?.currency ?? options.rates.currency ?? 'USD' };
    this.setPolicies(options.policies);
  }

  get policies(): LoadedPolicy[] {
    return this.slots.map((slot) => slot.policy);
  }

  /**
   * Installs a new policy set. A policy whose definition did not change keeps its instance, and so
   * its state (counters, buckets, budgets): a reload must not forget an attack in progress.
   */
  setPolicies(policies: readonly LoadedPolicy[]): void {
    const previous = new Map(this.slots.map((slot) => [slot.fingerprint, slot]));
    this.slots = policies
      .filter((policy) => policy.definition.enabled)
      .map((policy) => {
        const fingerprint = `${policy.definition.kind}:${JSON.stringify(policy.definition)}`;
        const kept = previous.get(fingerprint);
        if (kept) return { ...kept, policy };
        return { policy, instance: policy.kind.create(policy.definition, this.environment), fingerprint };
      });
  }

  /** What each policy remembers per address or account, and what it dropped to stay bounded (for /metrics). */
  memory(): { policy: string; entries: number; evicted: number }[] {
    const rows: { policy: string; entries: number; evicted: number }[] = [];
    for (const slot of this.slots) {
      const memory = slot.instance.memory?.();
      if (memory) rows.push({ policy: slot.policy.definition.id, ...memory });
    }
    return rows;
  }

  /** Gives spend history (from the store, after a restart) to every policy that keeps budgets. */
  restoreCosts(entries: Iterable<CostEntry>): void {
    for (const entry of entries) for (const slot of this.slots) slot.instance.restoreCost?.(entry);
  }

  /**
   * Detection state as plain data (every policy's windows, buckets and what already fired, and the
   * calls condemned per endpoint): what the store checkpoints so a restart continues an attack's
   * count instead of starting from zero. Each policy's part names its definition: a policy edited
   * between runs starts afresh.
   */
  snapshot(now: number): EngineSnapshot {
    const policies: EngineSnapshot['policies'] = {};
    for (const id of this.statefulPolicies()) {
      const part = this.snapshotPolicy(id, now);
      if (part) policies[id] = part;
    }
    return { policies, condemned: this.snapshotCondemned(now) };
  }

  /** The ids of the policies that keep state (a checkpoint may take them one at a time). */
  statefulPolicies(): string[] {
    return this.slots.filter((slot) => slot.instance.snapshot).map((slot) => slot.policy.definition.id);
  }

  /** One policy's part of snapshot() (undefined when it is gone or keeps nothing). */
  snapshotPolicy(id: string, now: number): EngineSnapshot['policies'][string] | undefined {
    const slot = this.slots.find((candidate) => candidate.policy.definition.id === id);
    const state = slot?.instance.snapshot?.(now);
    return slot && state !== undefined ? { definition: fnv1a(slot.fingerprint), state } : undefined;
  }

  /** The condemned calls' part of snapshot(). */
  snapshotCondemned(now: number): unknown {
    return this.condemnedCalls.snapshot(now);
  }

  /** Takes back a snapshot() written before a restart (parts of changed or removed policies are dropped). */
  restore(snapshot: EngineSnapshot, now: number): void {
    for (const slot of this.slots) {
      const saved = snapshot.policies?.[slot.policy.definition.id];
      if (saved && saved.definition === fnv1a(slot.fingerprint)) slot.instance.restore?.(saved.state, now);
    }
    this.condemnedCalls.restore(snapshot.condemned, now);
  }

  /** The facts policies would see for a call now (for the CLI and mail). */
  factsOf(call: Call): CallFacts {
    return this.computeFacts(call);
  }

  /** The instant and trunk set of the evaluation under way (what the context's functions below answer for). */
  private evaluatingAt = 0;
  private evaluatingTrunks = -1;

  // The context's functions, made once (not per input): they read the evaluation under way.
  // Facts change only when the call does (or a trunk is learnt): cached across evaluations, so
  // policies that look at every live call on a tick stay cheap on a busy PBX.
  private readonly cachedFacts = (call: Call): CallFacts => {
    const trunksVersion = this.evaluatingTrunks;
    const cached = this.factsCache.get(call);
    if (cached && cached.version === call.version && cached.trunksVersion === trunksVersion) return cached.facts;
    const computed = this.computeFacts(call);
    if (cached) {
      cached.version = call.version;
      cached.trunksVersion = trunksVersion;
      cached.facts = computed;
    } else {
      this.factsCache.set(call, { version: call.version, trunksVersion, facts: computed });
    }
    return computed;
  };

  private readonly classify = (number: string): Classification => this.classifier.classify(number);
  private readonly liveCostNow = (call: Call): LiveCost => this.liveCost(call, this.evaluatingAt);
  private readonly condemnedNow = (endpoint: string, windowMs: number): readonly { linkedid: string; at: number; policy: string }[] =>
    this.condemnedSince(endpoint, this.evaluatingAt - windowMs, this.evaluatingAt);

  evaluate(input: EngineInput, table: CallTable): EngineResult {
    this.stats.evaluations++;
    const now = this.clock.now();
    this.evaluatingAt = now;
    this.evaluatingTrunks = table.trunks.version;
    const facts = this.cachedFacts;
    const changes = input.type === 'tick' ? [] : input.changes;
    // Memory first: a call judged in this input sees the login that placed it.
    if (input.type === 'event') {
      this.addresses.observe(input.event, now);
      this.profiles.observe(input.event, now);
    }
    for (const change of changes) if (change.kind === 'call.started') this.addresses.attachCall(change.call.linkedid, change.call.sourceEndpoint, change.call.createdAt);
    const committed: CostEntry[] = [];
    for (const change of changes) {
      if (change.kind !== 'dial.ended' || change.dial.trunk === undefined || change.dial.answeredAt === undefined) continue;
      committed.push(this.costOf(change.call, change.dial, change.at, facts(change.call).direction));
    }
    const context: EvalContext = {
      input,
      now,
      table,
      rates: this.rates,
      locks: this.locks,
      addresses: this.addresses,
      profiles: this.profiles,
      facts,
      classify: this.classify,
      liveCost: this.liveCostNow,
      condemned: this.condemnedNow,
      committed,
      changes,
    };
    let kept: Finding[] | undefined;
    for (const slot of this.slots) {
      let produced: readonly Finding[];
      try {
        produced = slot.instance.evaluate(context);
      } catch (error) {
        this.stats.policyErrors++;
        this.onPolicyError?.(slot.policy.definition.id, error);
        continue;
      }
      for (const finding of produced) {
        const call = finding.call ? table.getCall(finding.call.linkedid) : undefined;
        if (call && facts(call).emergency) {
          this.stats.emergencyExempted++;
          continue;
        }
        kept = appended(kept, finding);
      }
    }
    const findings = kept ?? [];
    this.stats.findings += findings.length;
    this.rememberCondemned(findings, now);
    // Habits last: this input's calls were judged against what the endpoint did before them.
    this.learnHabits(changes, committed, facts);
    // An ended call stays in the table's recent calls for a while: its facts need not (a late event
    // works them out again, the same), so they die young instead of being promoted with the call.
    // A call the table forgot takes along what was kept about it.
    for (const change of changes) {
      if (change.kind === 'call.ended') this.factsCache.delete(change.call);
      else if (change.kind === 'call.forgotten') this.forgetCall(change.call);
    }
    return { findings, committed };
  }

  /** What was kept per call, by every policy and by the engine's memories, goes with a call the table forgot. */
  private forgetCall(call: Call): void {
    for (const slot of this.slots) slot.instance.forgetCall?.(call);
    this.profiles.forgetCall(call.linkedid);
    this.addresses.forgetCall(call.linkedid);
  }

  /** Calls placed by endpoints (outbound or internal, once each) and the international spend of those that ended. */
  private learnHabits(changes: readonly CallChange[], committed: readonly CostEntry[], facts: (call: Call) => CallFacts): void {
    for (const change of changes) {
      if (change.kind !== 'call.started' && change.kind !== 'dial.started') continue;
      const callFacts = facts(change.call);
      if (callFacts.direction !== 'outbound' && callFacts.direction !== 'internal') continue;
      const classification = callFacts.classification;
      const call: ProfileCall = { linkedid: change.call.linkedid, endpoint: callFacts.endpoint, at: change.call.createdAt, international: classification?.scope === 'international' };
      if (classification?.country) call.country = classification.country;
      this.profiles.learnCall(call);
    }
    for (const entry of committed) {
      const number = entry.dialled ?? entry.e164;
      if (number !== undefined && entry.direction === 'outbound' && this.classifier.classify(number).scope === 'international') this.profiles.learnSpend(entry.endpoint, entry.endedAt, entry.micros);
    }
  }

  /** Remembers the calls findings asked to hang up: a phone caught once is watched more closely. */
  private rememberCondemned(findings: readonly Finding[], now: number): void {
    for (const finding of findings) {
      if (!finding.call || !finding.actions.includes('hangup')) continue;
      const endpoint = finding.call.endpoint;
      const calls = this.condemnedCalls.get(endpoint, now) ?? [];
      if (calls.some((entry) => entry.linkedid === finding.call!.linkedid)) continue;
      calls.push({ linkedid: finding.call.linkedid, at: now, policy: finding.policy });
      if (calls.length > 100) calls.shift();
      this.condemnedCalls.set(endpoint, calls, now);
    }
  }

  private condemnedSince(endpoint: string, since: number, now: number): readonly { linkedid: string; at: number; policy: string }[] {
    const calls = this.condemnedCalls.get(endpoint, now);
    if (calls === undefined) return NO_CONDEMNED;
    // Usually every one is recent: the list itself, not a copy.
    for (const entry of calls) if (entry.at <= since) return calls.filter((recent) => recent.at > since);
    return calls;
  }

  private computeFacts(call: Call): CallFacts {
    const origin = call.origin;
    const dialled = call.dialled;
    const internalTarget = call.internalTarget;
    let classification =
      internalTarget !== undefined ? internalClassification(dialled ?? internalTarget, internalTarget) : dialled !== undefined ? this.classifier.classify(dialled) : undefined;
    let direction: CallFacts['direction'] = call.direction;
    const fromTrunk = call.fromTrunk;
    // A short string that is no valid number, still in the dialplan, may be an extension: it is no
    // destination yet, and is judged when (if) it leaves on a trunk.
    if (direction === 'pending' && classification && mayBeExtension(classification)) classification = undefined;
    // A phone's call still in the dialplan, to an outside number, is outbound for policies: blocking
    // it before the trunk is even dialled costs nothing.
    if (direction === 'pending' && !fromTrunk && classification && (classification.scope === 'national' || classification.scope === 'international')) {
      direction = 'outbound';
    }
    const facts: CallFacts = {
      call,
      direction,
      endpoint: call.sourceEndpoint,
      context: origin.context,
      rateAssumed: false,
      emergency: this.isEmergencyCall(call),
    };
    if (origin.accountCode) facts.accountCode = origin.accountCode;
    const trunk = call.outboundTrunk ?? (fromTrunk ? origin.endpoint : undefined);
    if (trunk) facts.trunk = trunk;
    if (dialled !== undefined) facts.dialled = dialled;
    if (classification) {
      facts.classification = classification;
      const quote = this.rates.quote(classification.e164);
      if (quote.kind !== 'denied') {
        facts.rate = quote.rate;
        facts.rateAssumed = quote.kind === 'assumed';
      }
    }
    return facts;
  }

  /** Every number of the call — the phone's exten, each dial — checked against the emergency rule. */
  private isEmergencyCall(call: Call): boolean {
    // Each number once is enough: the check is pure, a number seen before is skipped.
    const dialled = call.dialled;
    if (dialled && this.classifier.isEmergency(dialled)) return true;
    const exten = call.origin.exten;
    if (exten && exten !== dialled && this.classifier.isEmergency(exten)) return true;
    for (const dial of call.dials) {
      const number = dial.number;
      if (number && number !== dialled && number !== exten && this.classifier.isEmergency(number)) return true;
    }
    return false;
  }

  private rateOf(number: string | undefined): { rate: Rate; classification: Classification } | undefined {
    if (!number) return undefined;
    const classification = this.classifier.classify(number);
    const quote = this.rates.quote(classification.e164);
    return quote.kind === 'denied' ? undefined : { rate: quote.rate, classification };
  }

  private liveCost(call: Call, now: number): LiveCost {
    let micros = 0;
    let microsPerSecond = 0;
    let stepMicros = 0;
    for (const dial of call.dials) {
      if (dial.trunk === undefined || dial.answeredAt === undefined || dial.endedAt !== undefined) continue;
      let priced = this.dialPrices.get(dial);
      if (priced === undefined) {
        priced = this.rateOf(dial.number) ?? null;
        this.dialPrices.set(dial, priced);
      }
      if (!priced) continue;
      const rate = priced.rate;
      micros += this.rates.cost(rate, (now - dial.answeredAt) / 1000).micros;
      microsPerSecond += rate.pricePerMinuteMicros / 60;
      stepMicros += Math.ceil((rate.pricePerMinuteMicros * (rate.firstIncrement + rate.nextIncrement)) / 60) + rate.connectionFeeMicros + 1;
    }
    return { micros, microsPerSecond, stepMicros };
  }

  private costOf(call: Call, dial: Call['dials'][number], endedAt: number, direction: CallFacts['direction']): CostEntry {
    const dialled: DialToPrice = { linkedid: call.linkedid, destUniqueid: dial.destUniqueid, endpoint: call.sourceEndpoint, answeredAt: dial.answeredAt!, direction };
    if (dial.number) dialled.number = dial.number;
    if (dial.trunk) dialled.trunk = dial.trunk;
    if (call.origin.context) dialled.context = call.origin.context;
    if (call.origin.accountCode) dialled.accountCode = call.origin.accountCode;
    return this.priceDial(dialled, endedAt);
  }

  /**
   * Prices a finished outbound dial as the carrier bills it. Also used for a call that ended while
   * the agent was down: its checkpoint gives the answer time, the end is when we found it gone.
   */
  priceDial(dial: DialToPrice, endedAt: number): CostEntry {
    const priced = this.rateOf(dial.number);
    const seconds = Math.max(0, (endedAt - dial.answeredAt) / 1000);
    const cost = priced ? this.rates.cost(priced.rate, seconds) : undefined;
    const entry: CostEntry = {
      linkedid: dial.linkedid,
      destUniqueid: dial.destUniqueid,
      endpoint: dial.endpoint,
      answeredAt: dial.answeredAt,
      endedAt,
      billableSeconds: Math.round(seconds * 1000) / 1000,
      pricePerMinuteMicros: priced?.rate.pricePerMinuteMicros ?? 0,
      micros: cost?.micros ?? 0,
      currency: priced?.rate.currency ?? this.rates.currency ?? '',
    };
    if (dial.context) entry.context = dial.context;
    if (dial.direction) entry.direction = dial.direction;
    if (dial.trunk) entry.trunk = dial.trunk;
    if (dial.number) entry.dialled = dial.number;
    if (dial.accountCode) entry.accountCode = dial.accountCode;
    const classification = priced?.classification ?? (dial.number ? this.classifier.classify(dial.number) : undefined);
    if (classification?.e164) entry.e164 = classification.e164;
    if (classification?.country) entry.country = classification.country;
    if (classification?.callingCode) entry.callingCode = classification.callingCode;
    if (priced?.rate.prefix) entry.ratePrefix = priced.rate.prefix;
    return entry;
  }
}

/** A call that rings an endpoint of this PBX is internal, whatever its digits look like. */
function internalClassification(dialled: string, endpoint: string): Classification {
  return { input: dialled, dialled, type: 'UNKNOWN', valid: true, scope: 'internal', risk: 'low', reasons: [`rings endpoint ${endpoint} of this PBX: an internal call`] };
}

/** Longest extension or service code length that may be dialled without being a public number. */
const SHORT_NUMBER_DIGITS = 6;

/**
 * A short national string that is no valid number (`1002`, `4711`): an extension, a voicemail or
 * service code, or a typo — not yet a destination. Policies judge it if it dials out on a trunk.
 */
export function mayBeExtension(classification: Classification): boolean {
  if (classification.scope !== 'national' || classification.valid) return false;
  const digits = (classification.dialled ?? classification.input).replace(/[^0-9]/g, '');
  return digits.length <= SHORT_NUMBER_DIGITS;
}

/** What pricing a dial needs. */
export interface DialToPrice {
  linkedid: string;
  destUniqueid: string;
  endpoint: string;
  answeredAt: number;
  number?: string;
  trunk?: string;
  context?: string;
  accountCode?: string;
  direction?: CallFacts['direction'];
}
