/**
 * The vocabulary of detection: findings (what a policy saw) and the contract every policy kind
 * implements. Detection never acts: a finding names the actions its policy asks for, and
 * decide/ turns it into decisions that act/ carries out.
 */
import type { Classification } from '../numbers/index.js';
import type { DomainEvent } from '../calls/events.js';
import type { Call, CallChange, CallTable, CallDirection } from '../calls/table.js';
import type { AddressMemory } from '../profile/addresses.js';
import type { EndpointProfiles } from '../profile/profile.js';
import type { RateTable, Rate } from '../rates/index.js';

export const POLICY_ACTIONS = ['alert', 'hangup', 'lock', 'firewall'] as const;
/** alert: log + mail; hangup: every channel of the call; lock: refuse the endpoint's new calls; firewall: hand the IP to the hook. */
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const POLICY_MODES = ['enforce', 'simulate'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** Everything a finding says about the call it concerns (a snapshot: the call goes on changing). */
export interface FindingCall {
  linkedid: string;
  /** The originating channel. */
  uniqueid: string;
  channel: string;
  /** Every live channel of the call when the finding was made (what a hang-up must end). */
  channels: string[];
  endpoint: string;
  context: string;
  accountCode?: string;
  callerIdNum?: string;
  callerIdName?: string;
  direction: EffectiveDirection;
  trunk?: string;
  dialled?: string;
  e164?: string;
  country?: string;
  callingCode?: string;
  numberType?: string;
  destinationScope?: string;
  risk?: string;
  startedAt: number;
  answeredAt?: number;
  /** Price per minute and currency from the rate table, when the destination could be priced. */
  ratePerMinute?: string;
  currency?: string;
  /** Cost so far (answered time, carrier increments) in currency units. */
  costSoFar?: number;
  startedDuringOutage?: boolean;
}

export interface Finding {
  policy: string;
  kind: string;
  mode: PolicyMode;
  severity: Severity;
  /** Which rule or threshold of the policy fired (`match`, `warn`, `limit`, `brute-force`, …). */
  level: string;
  actions: PolicyAction[];
  /** Event time. */
  at: number;
  /** One sentence for people: who, what, where, why. */
  message: string;
  /** Incident key: findings of one policy with the same scope are one incident (`endpoint:1001`, `ip:203.0.113.9`). */
  scope: string;
  call?: FindingCall;
  endpoint?: string;
  ip?: string;
  account?: string;
  /** Numbers behind the finding (counts, amounts, limits), for mail and audit. */
  evidence: Record<string, string | number | boolean | string[]>;
}

/** Direction as policies see it: a phone's call still in the dialplan with an outside number is `outbound`. */
export type EffectiveDirection = Exclude<CallDirection, 'pending'> | 'pending';

/** What the engine knows about one call, computed once per evaluation and shared by every policy. */
export interface CallFacts {
  call: Call;
  direction: EffectiveDirection;
  endpoint: string;
  context: string;
  accountCode?: string;
  trunk?: string;
  dialled?: string;
  classification?: Classification;
  /** Rate of the destination (matched or assumed); undefined when the table denies pricing. */
  rate?: Rate;
  rateAssumed: boolean;
  /** A number of this call reaches emergency services: no policy may touch it. */
  emergency: boolean;
}

/** Cost of one finished outbound dial, as the carrier bills it. */
export interface CostEntry {
  linkedid: string;
  destUniqueid: string;
  endpoint: string;
  /** Dialplan context the call came from, and its direction: so history can be matched like live calls. */
  context?: string;
  direction?: EffectiveDirection;
  trunk?: string;
  country?: string;
  callingCode?: string;
  e164?: string;
  dialled?: string;
  accountCode?: string;
  answeredAt: number;
  endedAt: number;
  billableSeconds: number;
  ratePrefix?: string;
  pricePerMinuteMicros: number;
  micros: number;
  currency: string;
}

/** An endpoint refused by an earlier decision until unlocked or expired. */
export interface LockInfo {
  endpoint: string;
  since: number;
  until?: number;
  reason: string;
  policy?: string;
}

export interface LockView {
  lockOf(endpoint: string, now: number): LockInfo | undefined;
}

/** What the engine is asked to evaluate. */
export type EngineInput =
  | { type: 'event'; event: DomainEvent; changes: CallChange[] }
  | { type: 'reconciled'; changes: CallChange[] }
  | { type: 'tick' };

/** Everything a policy may read while evaluating (no I/O, no wall clock). */
export interface EvalContext {
  readonly input: EngineInput;
  /** Event time (replay) or wall-clock time (live), from the engine's Clock. */
  readonly now: number;
  readonly table: CallTable;
  readonly rates: RateTable;
  readonly locks: LockView;
  /** Where each endpoint has logged in and registered from, and where each call came from. */
  readonly addresses: AddressView;
  /** Each endpoint's habits (User-Agents, countries, hours, norms), as known before this input's calls. */
  readonly profiles: ProfileView;
  facts(call: Call): CallFacts;
  classify(number: string): Classification;
  /**
   * Cost of the call's outbound dials so far (answered time), per second of further talk, and the
   * most the billed cost can run ahead of per-second pricing (one first + one next increment,
   * connection fee included): `micros(later) ≤ micros(now) + microsPerSecond × elapsed + stepMicros`.
   */
  liveCost(call: Call): LiveCost;
  /** Calls of an endpoint that findings asked to hang up within the last `windowMs` (any policy; this input's not yet). */
  condemned(endpoint: string, windowMs: number): readonly { linkedid: string; at: number; policy: string }[];
  /** Costs committed by calls that ended in this evaluation (already recorded in the spend ledger). */
  readonly committed: readonly CostEntry[];
  /** The call changes of this input (empty for ticks). */
  readonly changes: readonly CallChange[];
}

/** What policies may ask the address memory (read only). */
export type AddressView = Pick<AddressMemory, 'sourceOf' | 'judge' | 'addressesOf' | 'since'>;

/** What policies may ask the endpoint profiles (read only). */
export type ProfileView = Pick<EndpointProfiles, 'since' | 'learning' | 'known' | 'valuesOf' | 'contactOf' | 'today' | 'norm' | 'scannerOf' | 'timezone'>;

export interface LiveCost {
  micros: number;
  microsPerSecond: number;
  stepMicros: number;
}

export interface PolicyInstance {
  readonly id: string;
  /** What this input broke (often the shared empty list: read it, never add to it). */
  evaluate(context: EvalContext): readonly Finding[];
  /** Spend history (restart, reload): a cost committed before now. */
  restoreCost?(entry: CostEntry): void;
  /** What the policy remembers per address or account: entries now, and entries dropped to stay bounded (for /metrics). */
  memory?(): { entries: number; evicted: number };
  /** Detection state as plain data (windows, buckets, what already fired), for the store to checkpoint. */
  snapshot?(now: number): unknown;
  /** Takes back a snapshot() of the same policy after a restart. */
  restore?(snapshot: unknown, now: number): void;
  /**
   * The call table forgot this ended call (`call.forgotten`): nothing about it comes any more, so
   * what the policy kept for it (judged, fired, counted) goes now instead of a day later. A busy
   * PBX otherwise carries a hundred thousand such entries per policy for calls long over.
   */
  forgetCall?(call: Call): void;
}
