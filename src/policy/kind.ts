/**
 * The contract of a policy kind, and the helpers every kind uses to build findings. A kind is one
 * file in src/policy/kinds/ exporting `defineKind({...})`, plus one line in registry.ts.
 */
import type { z } from 'zod';
import type { Call } from '../calls/table.js';
import { appended } from '../bounded.js';
import { formatMicros } from '../rates/money.js';
import { compileScope } from './match.js';
import type { ExpiringSet } from './state.js';
import type { Classification } from '../numbers/index.js';
import type { Rate } from '../rates/index.js';
import type { BasePolicy, ExceptionBlock } from './schema.js';
import type { CallFacts, EvalContext, Finding, FindingCall, PolicyAction, PolicyInstance, Severity } from './types.js';

/** The policy kinds build their findings with it. */
export { appended };

/** A validated policy of a kind: the common keys plus the kind's own. */
export type KindPolicy<F extends z.ZodRawShape> = BasePolicy & z.output<z.ZodObject<F>>;

export type ReportIssue = (path: (string | number)[], message: string) => void;

export interface PolicyKind<F extends z.ZodRawShape = z.ZodRawShape> {
  kind: string;
  /** One line: what the kind detects (shown by `tollgate check` and in the docs). */
  summary: string;
  /** The kind's own keys (the common ones are in schema.ts). */
  fields: F;
  /** Cross-field checks the schema cannot express; report each problem with its path. */
  validate?(policy: KindPolicy<F>, report: ReportIssue): void;
  /** What the policy does, when its rules carry their own actions (`50%: alert; 100%: alert+hangup`). */
  describeActions?(policy: KindPolicy<F>): string;
  create(policy: KindPolicy<F>, environment: PolicyEnvironment): PolicyInstance;
}

/** Agent settings a policy falls back on when the file does not say (kept out of the files so one set fits many PBXs). */
export interface PolicyEnvironment {
  /** IANA time zone for time windows and calendar budgets (config `timezone`). */
  timezone: string;
  /** Currency of the rate table and of every budget. */
  currency: string;
}

/** Any kind, whatever its fields (create() is contravariant in them, so the registry needs this). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPolicyKind = PolicyKind<any>;

export function defineKind<F extends z.ZodRawShape>(kind: PolicyKind<F>): PolicyKind<F> {
  return kind;
}

export interface FindingOptions {
  level: string;
  message: string;
  actions?: PolicyAction[];
  severity?: Severity;
  /** Incident scope; default `endpoint:<endpoint>` for call findings. */
  scope?: string;
  evidence?: Finding['evidence'];
  endpoint?: string;
  ip?: string;
  account?: string;
}

/** `alert+hangup` — how `tollgate check` and the docs print a list of actions. */
export function actionList(actions: readonly string[]): string {
  return actions.join('+');
}

/** A finding about a call, with the call's facts snapshotted for mail and audit. */
export function callFinding(policy: BasePolicy, context: EvalContext, facts: CallFacts, options: FindingOptions): Finding {
  const finding = baseFinding(policy, context, options, options.scope ?? `endpoint:${facts.endpoint}`, options.endpoint ?? facts.endpoint);
  finding.call = snapshotCall(context, facts);
  return finding;
}

/**
 * A text built by concatenation is a tree of pieces until something reads it whole: one object per
 * `+`. A finding's texts are kept a while (its message in its incident's summary; the whole
 * finding in decisions waiting for a mail) long enough to be promoted, so the young collector would
 * copy every piece; converting a string to a number flattens it into one (the
 * tree is dropped at the next collection). Measured with the gate at 1 000 calls/s: a third
 * fewer objects kept per finding, young collections ~15 % shorter.
 */
function flattened(text: string): string {
  void Number(text);
  return text;
}

/** The finding's evidence with its texts flattened (see flattened). */
function flattenedEvidence(evidence: Finding['evidence']): Finding['evidence'] {
  for (const value of Object.values(evidence)) {
    if (typeof value === 'string') flattened(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') flattened(item);
  }
  return evidence;
}

/** A finding not tied to one call (security events, global budgets). */
export function baseFinding(policy: BasePolicy, context: EvalContext, options: FindingOptions & { scope: string }): Finding;
export function baseFinding(policy: BasePolicy, context: EvalContext, options: FindingOptions, scope: string, endpoint: string): Finding;
export function baseFinding(policy: BasePolicy, context: EvalContext, options: FindingOptions, scope = options.scope!, endpoint = options.endpoint): Finding {
  // Every key in one literal (see snapshotCall): what does not apply stays undefined, which JSON leaves out.
  return {
    policy: policy.id,
    kind: policy.kind,
    mode: policy.mode,
    severity: options.severity ?? policy.severity,
    level: options.level,
    actions: options.actions ?? policy.actions,
    at: context.now,
    message: flattened(options.message),
    scope: flattened(scope),
    evidence: flattenedEvidence(options.evidence ?? {}),
    endpoint,
    ip: options.ip,
    account: options.account,
    call: undefined,
  };
}

export function snapshotCall(context: EvalContext, facts: CallFacts): FindingCall {
  const call = facts.call;
  const origin = call.origin;
  const classification = facts.classification;
  const rate = facts.rate;
  // Every key in one literal, in the order mail and audit print them: a finding is kept as long as
  // a decision waits for its mail, and keys added one by one would give it a property store that grows in
  // steps. A fact that is not known is left undefined (JSON leaves it out, as it was never there).
  return {
    linkedid: call.linkedid,
    uniqueid: origin.uniqueid,
    channel: origin.channel,
    channels: call.liveChannels(),
    endpoint: facts.endpoint,
    context: facts.context,
    direction: facts.direction,
    startedAt: call.createdAt,
    accountCode: facts.accountCode,
    callerIdNum: origin.callerIdNum,
    callerIdName: origin.callerIdName,
    trunk: facts.trunk,
    dialled: facts.dialled,
    e164: classification?.e164,
    country: classification?.country,
    callingCode: classification?.callingCode,
    numberType: classification?.type,
    destinationScope: classification?.scope,
    risk: classification?.risk,
    answeredAt: call.answeredAt,
    startedDuringOutage: call.startedDuringOutage ? true : undefined,
    ratePerMinute: rate ? ratePerMinuteText(rate) : undefined,
    currency: rate?.currency,
    costSoFar: rate ? context.liveCost(call).micros / 1_000_000 : undefined,
  };
}

/** A rate's price per minute as findings show it, formatted once per rate (the rate table keeps them). */
const ratesPerMinute = new WeakMap<Rate, string>();

function ratePerMinuteText(rate: Rate): string {
  let text = ratesPerMinute.get(rate);
  if (text === undefined) {
    text = formatMicros(rate.pricePerMinuteMicros);
    ratesPerMinute.set(rate, text);
  }
  return text;
}

const destinationTexts = new WeakMap<Classification, string>();

/** Short description of a call for finding messages: `1001 → 011535551234 (CU, high risk)`. */
export function describeCall(facts: CallFacts): string {
  const classification = facts.classification;
  const head = `${facts.endpoint} → ${facts.dialled ?? '(no number yet)'}`;
  if (!classification) return head;
  // ` (GB, fixed line, low risk)` recurs in every finding about such a number: made once per
  // classification (the classifier's cache keeps those; the memory goes with them).
  let where = destinationTexts.get(classification);
  if (where === undefined) {
    const country = classification.country ?? (classification.callingCode ? `+${classification.callingCode}` : '');
    const type = classification.type !== 'UNKNOWN' ? classification.type.toLowerCase().replace(/_/g, ' ') : '';
    where = ` (${country ? `${country}, ` : ''}${type ? `${type}, ` : ''}${classification.risk} risk)`;
    destinationTexts.set(classification, where);
  }
  return `${head}${where}`;
}

/**
 * Match + exceptions of a policy, compiled once. `exceptionFor` lets a kind record why it stayed
 * quiet (the exception's reason) in debug output.
 */
export function compilePolicyScope(policy: BasePolicy): { applies: (facts: CallFacts) => boolean; exceptionFor: (facts: CallFacts) => ExceptionBlock | undefined } {
  return compileScope(policy.match, policy.exceptions);
}

/**
 * Calls that began in this input (a new call, or an existing call's first dial out), live ones,
 * in order. Every policy asks for them: worked out once per input. Shared — never modify it.
 */
export function callsStartingOutbound(context: EvalContext): readonly Call[] {
  if (lastStarting.context === context && lastStarting.changes === context.changes) return lastStarting.calls;
  // Most inputs start nothing (a scan's security events, call progress): nothing to allocate then.
  let calls: Call[] | undefined;
  for (const change of context.changes) {
    if (!startsOutbound(change) || !change.call.live) continue;
    if (calls === undefined) calls = [change.call];
    else if (!calls.includes(change.call)) calls.push(change.call);
  }
  // One input remembered (a bounded cache): the policies of one evaluation ask one after another.
  lastStarting.context = context;
  lastStarting.changes = context.changes;
  lastStarting.calls = calls ?? NO_CALLS;
  return lastStarting.calls;
}

// Shared empty lists (typed read-only) are not frozen: V8 iterates a frozen array on its slow path.
const NO_CALLS: readonly Call[] = [];

/** Shared and frozen: what an evaluation that finds nothing returns (no array per policy per input). */
export const NO_FINDINGS: readonly Finding[] = [];
const NO_FACTS: readonly CallFacts[] = [];
const lastStarting: { context: EvalContext | undefined; changes: EvalContext['changes'] | undefined; calls: readonly Call[] } = { context: undefined, changes: undefined, calls: NO_CALLS };

function startsOutbound(change: EvalContext['changes'][number]): change is Extract<EvalContext['changes'][number], { kind: 'call.started' | 'dial.started' }> {
  return change.kind === 'call.started' || change.kind === 'dial.started';
}

/**
 * The facts of each call that starts or dials out in this input, within the policy's scope, that
 * has no finding from this policy yet (`fired` holds the linkedids it already judged guilty).
 */
export function unjudgedStartingCalls(context: EvalContext, scope: { applies: (facts: CallFacts) => boolean }, fired: ExpiringSet<string>): readonly CallFacts[] {
  let unjudged: CallFacts[] | undefined;
  for (const call of callsStartingOutbound(context)) {
    if (fired.has(call.linkedid, context.now)) continue;
    const facts = context.facts(call);
    if (scope.applies(facts)) unjudged = appended(unjudged, facts);
  }
  return unjudged ?? NO_FACTS;
}
