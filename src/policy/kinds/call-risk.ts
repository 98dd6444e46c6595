/**
 * call-risk — judges each call by the signals that add up, at any hour: the destination's risk, the
 * hour, an address the endpoint has never used, a drip of short risky calls, a burst of calls,
 * what the endpoint has spent. Each signal gives points; the call's score picks the threshold whose
 * actions apply. Fraud runs in office hours too: the hour is one signal among others, never the
 * only reason a call is stopped or let through.
 *
 *   kind: call-risk
 *   match: { direction: [outbound, transit], destination: { scopes: [international] } }
 *   officeHours: [{ days: [mon-fri], from: "08:00", to: "19:00" }]
 *   holidays: ["12-25"]
 *   allowed:                                   # high-risk destinations this office calls: counted as medium
 *     - { countries: [JM] }
 *     - { countries: [NG, GH], endpoints: ["12*"], reason: export desk }
 *   points:
 *     risk: { low: 0, medium: 1, high: 4, critical: 6 }
 *     outsideOfficeHours: 2
 *     newAddress: 3                            # the call's login came from a network the endpoint never used
 *     riskyCalls: 3                            # a drip: short answered calls to risky numbers add up
 *     velocity: 2                              # a burst of calls to medium- or higher-risk numbers
 *     spend: 2
 *     condemned: 4                             # the endpoint had calls hung up a moment ago (any policy)
 *     burst: 4                                 # different numbers faster than a person dials
 *   newAddress: { learningPeriod: 7d, settleAfter: 7d }
 *   riskyCalls: { window: 24h, budget: 2, shortSeconds: 30 }
 *   velocity: { window: 1h, maxCalls: 4 }
 *   spend: { window: 24h, over: 20.00 }
 *   condemned: { window: 30m, calls: 2 }
 *   burst: { window: 1m, distinctNumbers: 3 }
 *   thresholds:
 *     - { score: 2, actions: [alert], severity: medium }
 *     - { score: 4, actions: [alert, hangup], severity: high }
 *
 * A call is judged once, when it first reaches an outside number (the phone's dialled exten, or its
 * dial out on a trunk), with what is known at that moment; the finding lists every signal and its
 * points, and says how to allow such a call next time.
 */
import { z } from 'zod';
import type { Call } from '../../calls/table.js';
import type { AddressVerdict } from '../../profile/addresses.js';
import type { Classification } from '../../numbers/index.js';
import { riskRank, type RiskLevel } from '../../numbers/index.js';
import { formatMicros } from '../../rates/money.js';
import { actionList, callFinding, compilePolicyScope, defineKind, describeCall, unjudgedStartingCalls, NO_FINDINGS, appended } from '../kind.js';
import { globMatcher } from '../match.js';
import { actionsField, countryField, durationField, moneyField, nameField, prefixField, timezoneField } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringMap, ExpiringSet, forgottenWithCall, limited, TextInterner } from '../state.js';
import { SEVERITIES, type CallFacts, type CostEntry, type EvalContext, type Finding } from '../types.js';
import { answeredTalkSeconds, formatWindow } from './velocity.js';
import { WeeklySchedule, holidayField, windowSchema, type ScheduleVerdict } from './time-window.js';

const DAY_MS = 86_400_000;
const MAX_ENDPOINTS = 10_000;
/** Calls remembered per endpoint and window (far above any threshold; a memory cap). */
const MAX_PER_ENDPOINT = 500;

const pointsField = z.number().min(0).max(100);

const allowedSchema = z.object({
  /** Why this office calls there (kept in the audit trail). */
  reason: z.string().optional(),
  countries: z.array(countryField).optional(),
  prefixes: z.array(prefixField).optional(),
  /** Only for these endpoints (`*` wildcards): an endpoint group. */
  endpoints: z.array(nameField).optional(),
});

const fields = {
  /** IANA zone of the office hours; the agent's `timezone` when absent. */
  timezone: timezoneField.optional(),
  officeHours: z.array(windowSchema).min(1, 'at least one window, e.g. { days: [mon-fri], from: "08:00", to: "19:00" }'),
  holidays: z.array(holidayField).default([]),
  /** High-risk destinations this office calls on purpose: their calls count as medium risk (critical ones never soften). */
  allowed: z.array(allowedSchema).default([]),
  points: z
    .object({
      risk: z
        .object({ low: pointsField.default(0), medium: pointsField.default(1), high: pointsField.default(4), critical: pointsField.default(6) })
        .default({ low: 0, medium: 1, high: 4, critical: 6 }),
      outsideOfficeHours: pointsField.default(2),
      newAddress: pointsField.default(3),
      riskyCalls: pointsField.default(3),
      velocity: pointsField.default(2),
      spend: pointsField.default(2),
      condemned: pointsField.default(4),
      burst: pointsField.default(4),
    })
    .default({ risk: { low: 0, medium: 1, high: 4, critical: 6 }, outsideOfficeHours: 2, newAddress: 3, riskyCalls: 3, velocity: 2, spend: 2, condemned: 4, burst: 4 }),
  newAddress: z
    .object({
      /** A fresh install learns addresses for this long before it judges any. */
      learningPeriod: durationField.default(7 * 86_400),
      /** A network an endpoint has used this long is no longer new. */
      settleAfter: durationField.default(7 * 86_400),
    })
    .default({ learningPeriod: 7 * 86_400, settleAfter: 7 * 86_400 }),
  riskyCalls: z
    .object({
      window: durationField.default(86_400),
      /** Risk-weighted short calls allowed in the window (medium 1, high and critical 2); the call that goes over scores. */
      budget: z.number().min(0).max(1000).default(2),
      /** Answered calls with at most this much talk are short (test calls, drip calls). */
      shortSeconds: z.number().min(1).max(3600).default(30),
    })
    .default({ window: 86_400, budget: 2, shortSeconds: 30 }),
  /** Calls to medium- or higher-risk destinations (after `allowed`) from one endpoint in the window; the next one scores. */
  velocity: z
    .object({ window: durationField.default(3600), maxCalls: z.number().int().min(1).max(MAX_PER_ENDPOINT - 1).default(4) })
    .default({ window: 3600, maxCalls: 4 }),
  /** Different numbers called from one endpoint within a short window, faster than a person dials: the call that reaches the count scores. */
  burst: z
    .object({ window: durationField.default(60), distinctNumbers: z.number().int().min(2).max(100).default(3) })
    .default({ window: 60, distinctNumbers: 3 }),
  /** An endpoint with this many calls hung up (by any policy) within the window: its next calls score. */
  condemned: z
    .object({ window: durationField.default(1800), calls: z.number().int().min(1).max(100).default(2) })
    .default({ window: 1800, calls: 2 }),
  spend: z.object({ window: durationField.default(86_400), over: moneyField }).optional(),
  thresholds: z
    .array(z.object({ score: z.number().positive().max(1000), actions: actionsField, severity: z.enum(SEVERITIES).optional() }))
    .min(1, 'at least one threshold, e.g. { score: 4, actions: [alert, hangup] }'),
};

/** One signal that added points to a call's score. */
interface Signal {
  name: 'destination' | 'outside-office-hours' | 'new-address' | 'risky-calls' | 'velocity' | 'burst' | 'spend' | 'condemned';
  points: number;
  /** For people: what was seen. */
  text: string;
  /** How to allow such a call next time, when that is advisable. */
  allow?: string;
  /** The texts of a signal that reads the same for many calls, made once (see SharedTexts). */
  shared?: SharedTexts;
}

/** A recurring signal's texts as a finding shows them, made once and shared by every finding that has them. */
interface SharedTexts {
  points: number;
  text: string;
  allow: string | undefined;
  /** `destination +4: …` (evidence). */
  line: string;
  /** `… (+4)` (message). */
  piece: string;
  /** The message's tail with the office-hours signal after this one (the last such pair). */
  withHours?: { hours: SharedTexts; tail: string };
}

function sharedTexts(name: Signal['name'], points: number, text: string, allow: string | undefined): SharedTexts {
  return { points, text, allow, line: `${name} +${points}: ${text}`, piece: `${text} (+${points})` };
}

/**
 * What would let such a call through next time: a signal's own hint only when that signal alone
 * makes the difference (without its points the score stays under the threshold that fired) — never
 * "extend the office hours" for a premium number that is refused at any hour.
 */
function waysToAllow(signals: readonly Signal[], score: number, threshold: number, facts: CallFacts, policyId: string): string[] {
  // Lists sized exactly (a finding keeps them): counted first, then filled.
  const decisive = signals.filter((signal) => signal.allow !== undefined && score - signal.points < threshold);
  if (decisive.length > 0) return decisive.map((signal) => signal.allow!);
  const critical = facts.classification?.risk === 'critical';
  const number = facts.classification?.e164 ?? facts.dialled ?? '';
  if (critical) return [`${number} is critical risk and refused at any hour: if it is really needed, add an exception for it to policy ${policyId} (exceptions: [{ destination: { prefixes: ["${number}"] }, reason: … }])`];
  // Several signals add up: each hint helps only with the others gone; name them all.
  return signals.filter((signal) => signal.allow).map((signal) => signal.allow!);
}

interface RiskyCall {
  at: number;
  number: string;
  weight: number;
}

/** The destination's risk as a policy counts it (see `allowed`). */
interface EffectiveRisk {
  risk: RiskLevel;
  allowedBy?: string;
}

/** A risk counted as classified: one shared answer per level, not one object per call. */
const AS_CLASSIFIED: Readonly<Record<RiskLevel, Readonly<EffectiveRisk>>> = { low: { risk: 'low' }, medium: { risk: 'medium' }, high: { risk: 'high' }, critical: { risk: 'critical' } };

/** What a call showed, before any text is made of it (see measure). */
interface Measured {
  verdict: ScheduleVerdict;
  source: { address: string } | undefined;
  /** The judgement of the call's login address, when it is new. */
  address: AddressVerdict | undefined;
  /** Different numbers among the endpoint's short risky calls in the window. */
  riskyDistinct: number;
  /** Their risk weight (each number once, at its highest), with this call's. */
  riskyTotal: number;
  riskyScores: boolean;
  /** Risky call attempts of the endpoint in the velocity window, before this one. */
  recentAttempts: number;
  /** Other numbers the endpoint dialled in the burst window. */
  dialledLately: number;
  /** Calls of the endpoint hung up in the condemned window, besides this one. */
  condemnedCalls: number;
  spentMicros: number;
  /** Signals with points (those a finding lists). */
  scoring: number;
}

/** Sets `into.riskyDistinct` and `into.riskyTotal` (without this call) from the endpoint's short risky calls after `cutoff`. */
function measureRiskyCalls(calls: readonly RiskyCall[] | undefined, cutoff: number, number: string, into: Measured): void {
  into.riskyDistinct = 0;
  into.riskyTotal = 0;
  if (calls === undefined || calls.length === 0) return;
  // Redialling one number is not a drip: each number counts once, at its highest weight.
  const byNumber = new Map<string, number>();
  for (const entry of calls) if (entry.at > cutoff) byNumber.set(entry.number, Math.max(byNumber.get(entry.number) ?? 0, entry.weight));
  into.riskyDistinct = byNumber.size;
  for (const [other, weight] of byNumber) if (other !== number) into.riskyTotal += weight;
}

function countAfter(times: readonly number[] | undefined, cutoff: number): number {
  let count = 0;
  if (times) for (const at of times) if (at > cutoff) count++;
  return count;
}

/** Beyond this many entries a Set beats comparing each with those before it. */
const SMALL_LIST = 16;

/** Different numbers dialled after `cutoff`, other than `except`. */
function distinctNumbersAfter(dials: readonly { at: number; number: string }[] | undefined, cutoff: number, except: string): number {
  if (dials === undefined) return 0;
  if (dials.length > SMALL_LIST) {
    const numbers = new Set<string>();
    for (const dial of dials) if (dial.at > cutoff && dial.number !== except) numbers.add(dial.number);
    return numbers.size;
  }
  let distinct = 0;
  for (let index = 0; index < dials.length; index++) {
    const dial = dials[index]!;
    if (dial.at <= cutoff || dial.number === except) continue;
    let earlier = false;
    for (let before = 0; before < index && !earlier; before++) earlier = dials[before]!.at > cutoff && dials[before]!.number === dial.number;
    if (!earlier) distinct++;
  }
  return distinct;
}

/** Drops, in place and in order, the entries at or before `cutoff`. */
function keepAfter<T>(list: T[], cutoff: number, atOf: (entry: T) => number): void {
  let kept = 0;
  for (let index = 0; index < list.length; index++) {
    const entry = list[index]!;
    if (atOf(entry) > cutoff) list[kept++] = entry;
  }
  list.length = kept;
}

/** Keeps the last `max` entries. */
function trimFront(list: unknown[], max: number): void {
  if (list.length > max) list.splice(0, list.length - max);
}

const atOfDial = (dial: { at: number }): number => dial.at;
const identity = (at: number): number => at;

export const callRiskKind = defineKind({
  kind: 'call-risk',
  summary: 'scores each call by signals that add up at any hour: destination risk, office hours, a new login address, a drip of short risky calls, velocity, spend',
  fields,
  describeActions(policy) {
    return [...policy.thresholds]
      .sort((a, b) => a.score - b.score)
      .map((threshold) => `score ≥ ${threshold.score}: ${actionList(threshold.actions)}`)
      .join('; ');
  },
  validate(policy, report) {
    const scores = policy.thresholds.map((threshold) => threshold.score);
    scores.forEach((score, index) => {
      if (scores.indexOf(score) !== index) report(['thresholds', index, 'score'], `two thresholds at score ${score}`);
    });
    policy.allowed.forEach((entry, index) => {
      if (!entry.countries && !entry.prefixes) report(['allowed', index], 'say which destinations: countries and/or prefixes');
    });
    policy.officeHours.forEach((window, index) => {
      if (window.from === window.to) report(['officeHours', index, 'to'], 'from and to are equal: the window is empty');
    });
  },
  create(policy, environment) {
    const scope = compilePolicyScope(policy);
    const schedule = new WeeklySchedule(policy.timezone ?? environment.timezone, policy.officeHours, policy.holidays);
    const thresholds = [...policy.thresholds].sort((a, b) => b.score - a.score);
    const allowed = policy.allowed.map((entry) => ({ entry, endpoints: entry.endpoints ? globMatcher(entry.endpoints) : undefined }));
    const points = policy.points;
    const judgement = { learningMs: policy.newAddress.learningPeriod * 1000, settleMs: policy.newAddress.settleAfter * 1000 };
    const riskyWindowMs = policy.riskyCalls.window * 1000;
    const velocityWindowMs = policy.velocity.window * 1000;
    const spendWindowMs = (policy.spend?.window ?? 0) * 1000;
    const condemnedWindowMs = policy.condemned.window * 1000;
    const burstWindowMs = policy.burst.window * 1000;
    /** Per endpoint: the numbers dialled lately (burst). */
    const numbersDialled = new ExpiringMap<string, { at: number; number: string }[]>(burstWindowMs, MAX_ENDPOINTS);

    const judged = new ExpiringSet<string>(DAY_MS, 100_000);
    /** Per endpoint: international call attempts (velocity). */
    const attempts = new ExpiringMap<string, number[]>(velocityWindowMs, MAX_ENDPOINTS);
    /** Per endpoint: short answered calls to risky numbers (drip). */
    const riskyCalls = new ExpiringMap<string, RiskyCall[]>(riskyWindowMs, MAX_ENDPOINTS);
    /** Per endpoint: committed costs of calls in scope (spend), deduplicated by dial. */
    const spent = new ExpiringMap<string, Map<string, { at: number; micros: number }>>(Math.max(spendWindowMs, 1), MAX_ENDPOINTS);
    /** Calls this policy counted at their start, with the risk they were judged at (for the drip when they end). */
    const counted = new ExpiringMap<string, { endpoint: string; risk: RiskLevel; number: string }>(DAY_MS, 100_000);
    let pendingHistory: CostEntry[] = [];

    /** Texts that recur from call to call (see TextInterner); texts naming an endpoint or an address are not kept, a count's may be. */
    const texts = new TextInterner();

    /** The destination's risk as this policy counts it: allowed high-risk destinations count as medium. */
    const effectiveRisk = (facts: CallFacts): EffectiveRisk => {
      const classification = facts.classification!;
      const risk = classification.risk;
      if (risk !== 'high') return AS_CLASSIFIED[risk];
      const digits = classification.e164?.slice(1);
      for (const { entry, endpoints } of allowed) {
        if (endpoints && !endpoints(facts.endpoint)) continue;
        const byCountry = entry.countries !== undefined && classification.country !== undefined && (entry.countries as readonly string[]).includes(classification.country);
        const byPrefix = entry.prefixes !== undefined && digits !== undefined && entry.prefixes.some((prefix) => digits.startsWith(prefix));
        if (byCountry || byPrefix) return { risk: 'medium', allowedBy: entry.reason ?? (entry.countries ?? entry.prefixes?.map((prefix) => `+${prefix}`) ?? []).join(', ') };
      }
      return AS_CLASSIFIED.high;
    };

    const weightOf = (risk: RiskLevel): number => (riskRank(risk) >= riskRank('high') ? 2 : risk === 'medium' ? 1 : 0);

    const recordCost = (context: EvalContext, entry: CostEntry): void => {
      if (!policy.spend || entry.micros <= 0) return;
      const number = entry.dialled ?? entry.e164;
      if (number === undefined || entry.endedAt < context.now - spendWindowMs) return;
      const classification = context.classify(number);
      if (classification.scope !== 'international') return;
      const costs = spent.get(entry.endpoint, context.now) ?? new Map<string, { at: number; micros: number }>();
      costs.set(`${entry.linkedid}|${entry.destUniqueid}`, { at: entry.endedAt, micros: entry.micros });
      if (costs.size > MAX_PER_ENDPOINT) costs.delete(costs.keys().next().value!);
      spent.set(entry.endpoint, costs, context.now);
    };

    const spentBy = (context: EvalContext, endpoint: string): number => {
      let micros = 0;
      for (const cost of spent.get(endpoint, context.now)?.values() ?? []) if (cost.at > context.now - spendWindowMs) micros += cost.micros;
      // What the endpoint's calls in scope that are still up have cost so far.
      for (const call of context.table.liveCallValues()) {
        if (call.sourceEndpoint !== endpoint || call.answeredAt === undefined) continue;
        if (context.facts(call).classification?.scope === 'international') micros += context.liveCost(call).micros;
      }
      return micros;
    };

    const recordEndedCall = (context: EvalContext, call: Call): void => {
      const seen = counted.get(call.linkedid, context.now);
      if (!seen || weightOf(seen.risk) === 0) return;
      const talk = answeredTalkSeconds(call, context.now);
      if (talk === undefined || talk > policy.riskyCalls.shortSeconds) return;
      const calls = (riskyCalls.get(seen.endpoint, context.now) ?? []).filter((entry) => entry.at > context.now - riskyWindowMs);
      calls.push({ at: context.now, number: seen.number, weight: weightOf(seen.risk) });
      if (calls.length > MAX_PER_ENDPOINT) calls.shift();
      riskyCalls.set(seen.endpoint, calls, context.now);
    };

    /**
     * What one call showed, measured once without building any text: most calls score under every
     * threshold, and their signals' texts would only be garbage. Reused from call to call.
     */
    const seen: Measured = {
      verdict: undefined!,
      source: undefined,
      address: undefined,
      riskyDistinct: 0,
      riskyTotal: 0,
      riskyScores: false,
      recentAttempts: 0,
      dialledLately: 0,
      condemnedCalls: 0,
      spentMicros: 0,
      scoring: 0,
    };

    /** A signal's points, counted in `seen.scoring` when there are any. */
    const scored = (signalPoints: number): number => {
      if (signalPoints > 0) seen.scoring++;
      return signalPoints;
    };

    /** Measures the call into `seen` and returns its score. */
    const measure = (context: EvalContext, facts: CallFacts, risk: EffectiveRisk): number => {
      const now = context.now;
      let score = points.risk[risk.risk];
      seen.scoring = score > 0 ? 1 : 0;

      seen.verdict = schedule.check(now);
      if (!seen.verdict.open) score += scored(points.outsideOfficeHours);

      seen.source = context.addresses.sourceOf(facts.call.linkedid);
      seen.address = undefined;
      if (seen.source) {
        const address = context.addresses.judge(facts.endpoint, seen.source.address, now, judgement);
        if (address.status === 'new') {
          seen.address = address;
          score += scored(points.newAddress);
        }
      }

      const number = facts.classification!.e164 ?? facts.dialled ?? '';
      const weight = weightOf(risk.risk);
      seen.riskyScores = false;
      if (weight > 0) {
        measureRiskyCalls(riskyCalls.get(facts.endpoint, now), now - riskyWindowMs, number, seen);
        seen.riskyTotal += weight;
        if (seen.riskyTotal > policy.riskyCalls.budget) {
          seen.riskyScores = true;
          score += scored(points.riskyCalls);
        }
      }

      // Velocity counts risky calls only: a person calling five London numbers in an hour is no signal.
      seen.recentAttempts = countAfter(attempts.get(facts.endpoint, now), now - velocityWindowMs);
      if (weight > 0 && seen.recentAttempts >= policy.velocity.maxCalls) score += scored(points.velocity);

      seen.dialledLately = distinctNumbersAfter(numbersDialled.get(facts.endpoint, now), now - burstWindowMs, number);
      if (seen.dialledLately + 1 >= policy.burst.distinctNumbers) score += scored(points.burst);

      seen.condemnedCalls = 0;
      for (const entry of context.condemned(facts.endpoint, condemnedWindowMs)) if (entry.linkedid !== facts.call.linkedid) seen.condemnedCalls++;
      if (seen.condemnedCalls >= policy.condemned.calls) score += scored(points.condemned);

      if (policy.spend) {
        seen.spentMicros = spentBy(context, facts.endpoint);
        if (seen.spentMicros > policy.spend.over) score += scored(points.spend);
      }
      return score;
    };

    /** The destination signal's texts: one per classification (the classifier's cache keeps those) unless an `allowed` entry softened it. */
    const destinationMemo = new WeakMap<Classification, SharedTexts>();
    const destinationTexts = (classification: Classification, risk: EffectiveRisk): SharedTexts => {
      const known = risk.allowedBy === undefined ? destinationMemo.get(classification) : undefined;
      if (known !== undefined) return known;
      const where = classification.country ?? (classification.callingCode ? `+${classification.callingCode}` : 'unknown country');
      const text =
        risk.allowedBy !== undefined
          ? `${where} is high risk, allowed here (${risk.allowedBy}): counted as medium`
          : `${where}${classification.type !== 'UNKNOWN' ? ` ${classification.type.toLowerCase().replace(/_/g, ' ')}` : ''}, ${risk.risk} risk${classification.valid ? '' : ' (not a valid number)'}`;
      const allow = risk.risk === 'high' ? `if this office calls ${where} on purpose, add it to \`allowed\` in policy ${policy.id} (for everyone, or only for some endpoints)` : undefined;
      const made = sharedTexts('destination', points.risk[risk.risk], text, allow);
      if (risk.allowedBy === undefined) destinationMemo.set(classification, made);
      return made;
    };

    const officeHoursHint = `if people call abroad at this hour, add a window to \`officeHours\` in policy ${policy.id}`;
    /** The office-hours signal's texts for the minute last judged (the schedule's verdict is per minute). */
    let officeHoursMemo: { verdict: ScheduleVerdict; texts: SharedTexts } | undefined;
    const officeHoursTexts = (verdict: ScheduleVerdict & { open: false }): SharedTexts => {
      if (officeHoursMemo?.verdict === verdict) return officeHoursMemo.texts;
      const text = verdict.reason === 'holiday' ? `${schedule.format(verdict, 'yyyy-MM-dd')} is a holiday` : `${schedule.format(verdict, 'ccc HH:mm')} ${schedule.zone} is outside office hours (${schedule.describe()})`;
      officeHoursMemo = { verdict, texts: sharedTexts('outside-office-hours', points.outsideOfficeHours, text, officeHoursHint) };
      return officeHoursMemo.texts;
    };

    /** The signals `measure` saw, with their texts: only for a call that scored (before the call is counted). */
    /**
     * The signals of the call being judged, in objects reused from call to call (a finding keeps
     * only the texts made from them): the next one of a small pool (signalsOf starts it over).
     */
    const signalPool: Signal[] = [];
    let signalsUsed = 0;
    const nextSignal = (name: Signal['name'], signalPoints: number, text: string, allow: string | undefined, shared?: SharedTexts): Signal => {
      const signal = (signalPool[signalsUsed++] ??= { name, points: signalPoints, text });
      signal.name = name;
      signal.points = signalPoints;
      signal.text = text;
      signal.allow = allow;
      signal.shared = shared;
      return signal;
    };

    const signalsOf = (context: EvalContext, facts: CallFacts, risk: EffectiveRisk): Signal[] => {
      // Only the signals that scored, in a list of their number (measure counted them).
      const signals = new Array<Signal>(seen.scoring);
      let count = 0;
      signalsUsed = 0;
      const destination = destinationTexts(facts.classification!, risk);
      if (destination.points > 0) {
        signals[count++] = nextSignal('destination', destination.points, destination.text, destination.allow, destination);
      }

      const verdict = seen.verdict;
      if (!verdict.open) {
        const hours = officeHoursTexts(verdict);
        if (hours.points > 0) signals[count++] = nextSignal('outside-office-hours', hours.points, hours.text, hours.allow, hours);
      }

      const address = seen.address;
      if (seen.source && address && points.newAddress > 0) {
        const source = seen.source;
        const text = `${facts.endpoint} logged in from ${source.address} (${address.network}), a network it had never used${address.failures > 0 ? `; ${address.failures} failed logins came from that address` : ''}`;
        const allow =
          address.failures > 0
            ? `do NOT trust ${source.address}: it failed ${address.failures} logins — change ${facts.endpoint}'s password`
            : `if ${facts.endpoint} really moved there: tollgate trust-address ${facts.endpoint} ${source.address}`;
        signals[count++] = nextSignal('new-address', points.newAddress, text, allow);
      }

      if (seen.riskyScores && points.riskyCalls > 0) {
        const distinct = seen.riskyDistinct;
        signals[count++] = nextSignal('risky-calls', points.riskyCalls, `${distinct} short answered call${distinct === 1 ? '' : 's'} (≤ ${policy.riskyCalls.shortSeconds} s) to risky numbers from ${facts.endpoint} in the last ${formatWindow(policy.riskyCalls.window)}, and this one: ${seen.riskyTotal} risk-weighted, over ${policy.riskyCalls.budget}`, undefined);
      }

      if (weightOf(risk.risk) > 0 && seen.recentAttempts >= policy.velocity.maxCalls && points.velocity > 0) {
        signals[count++] = nextSignal('velocity', points.velocity, `risky call ${seen.recentAttempts + 1} from ${facts.endpoint} in ${formatWindow(policy.velocity.window)} (more than ${policy.velocity.maxCalls})`, undefined);
      }

      if (seen.dialledLately + 1 >= policy.burst.distinctNumbers && points.burst > 0) {
        signals[count++] = nextSignal('burst', points.burst, `${seen.dialledLately + 1} different numbers from ${facts.endpoint} within ${formatWindow(policy.burst.window)}: faster than a person dials`, undefined);
      }

      if (seen.condemnedCalls >= policy.condemned.calls && points.condemned > 0) {
        const condemned = context.condemned(facts.endpoint, condemnedWindowMs).filter((entry) => entry.linkedid !== facts.call.linkedid);
        const by = texts.intern([...new Set(condemned.map((entry) => entry.policy))].join(', '));
        signals[count++] = nextSignal('condemned', points.condemned, `${condemned.length} calls from ${facts.endpoint} were hung up in the last ${formatWindow(policy.condemned.window)} (${by})`, undefined);
      }

      if (policy.spend && seen.spentMicros > policy.spend.over && points.spend > 0) {
        signals[count++] = nextSignal('spend', points.spend, `${facts.endpoint} spent ${formatMicros(seen.spentMicros)} ${environment.currency} on such calls in ${formatWindow(policy.spend.window)}, over ${formatMicros(policy.spend.over)}`, undefined);
      }
      return signals;
    };

    /** Remembers the call's number (burst) and, for a risky call, its attempt (velocity): the endpoint's small arrays, updated in place. */
    const countCall = (endpoint: string, number: string, risky: boolean, now: number): void => {
      const dialled = numbersDialled.get(endpoint, now);
      if (dialled) {
        keepAfter(dialled, now - burstWindowMs, atOfDial);
        dialled.push({ at: now, number });
        trimFront(dialled, MAX_PER_ENDPOINT);
        numbersDialled.set(endpoint, dialled, now);
      } else {
        numbersDialled.set(endpoint, [{ at: now, number }], now);
      }
      if (!risky) return;
      const previous = attempts.get(endpoint, now);
      if (previous) {
        keepAfter(previous, now - velocityWindowMs, identity);
        previous.push(now);
        trimFront(previous, MAX_PER_ENDPOINT);
        attempts.set(endpoint, previous, now);
      } else {
        attempts.set(endpoint, [now], now);
      }
    };

    /**
     * `text (+points); text (+points)` of the signals that scored. Concatenated, not join()ed: the
     * message then points at texts the evidence holds instead of copying them; the usual tails
     * (the destination, and the office hours) are made once.
     */
    const messageTail = (added: readonly Signal[]): string => {
      const first = added[0]?.shared;
      if (first !== undefined && added.length === 1) return first.piece;
      const second = added[1]?.shared;
      if (first !== undefined && second !== undefined && added.length === 2 && added[1]!.name === 'outside-office-hours') {
        if (first.withHours?.hours !== second) first.withHours = { hours: second, tail: `${first.piece}; ${second.piece}` };
        return first.withHours.tail;
      }
      let tail = '';
      for (let index = 0; index < added.length; index++) {
        const signal = added[index]!;
        const piece = signal.shared?.piece ?? `${signal.text}${texts.intern(` (+${signal.points})`)}`;
        tail = index === 0 ? piece : `${tail}; ${piece}`;
      }
      return tail;
    };

    const scoredFinding = (context: EvalContext, facts: CallFacts, risk: EffectiveRisk, score: number, threshold: (typeof thresholds)[number]): Finding => {
      const added = signalsOf(context, facts, risk);
      const lines = added.map((signal) => signal.shared?.line ?? `${signal.name} +${signal.points}: ${signal.text}`);
      const toAllow = waysToAllow(added, score, threshold.score, facts, policy.id);
      for (let index = 0; index < toAllow.length; index++) toAllow[index] = texts.intern(toAllow[index]!);
      return callFinding(policy, context, facts, {
        level: `score-${threshold.score}`,
        actions: threshold.actions,
        ...(threshold.severity ? { severity: threshold.severity } : {}),
        message: `${describeCall(facts)}${texts.intern(`: risk score ${score} (≥ ${threshold.score}: ${actionList(threshold.actions)}) — `)}${messageTail(added)}`,
        evidence: {
          score,
          threshold: threshold.score,
          signals: lines,
          toAllow,
          classificationReasons: [...facts.classification!.reasons],
        },
      });
    };

    return {
      id: policy.id,
      // The spent map is left out: it is rebuilt from the spend ledger (restoreCost).
      ...checkpointed({ numbersDialled, judged: limited(judged, BY_CALL), attempts, riskyCalls, counted: limited(counted, BY_CALL) }),
      ...forgottenWithCall(judged, counted),
      restoreCost(entry) {
        pendingHistory.push(entry);
        if (pendingHistory.length > 100_000) pendingHistory = pendingHistory.slice(-50_000);
      },
      evaluate(context) {
        let findings: Finding[] | undefined;
        if (pendingHistory.length > 0) {
          for (const entry of pendingHistory) recordCost(context, entry);
          pendingHistory = [];
        }
        for (const entry of context.committed) recordCost(context, entry);
        for (const change of context.changes) if (change.kind === 'call.ended') recordEndedCall(context, change.call);

        for (const facts of unjudgedStartingCalls(context, scope, judged)) {
          const call = facts.call;
          if ((facts.direction !== 'outbound' && facts.direction !== 'transit') || !facts.classification || facts.dialled === undefined) continue;
          judged.add(call.linkedid, context.now);
          const risk = effectiveRisk(facts);
          const score = measure(context, facts, risk);
          const dialledNumber = facts.classification.e164 ?? facts.dialled;
          let threshold: (typeof thresholds)[number] | undefined;
          for (const candidate of thresholds) {
            if (score >= candidate.score) {
              threshold = candidate;
              break;
            }
          }
          // The finding's texts tell what was known before this call was counted.
          const finding = threshold ? scoredFinding(context, facts, risk, score, threshold) : undefined;
          countCall(facts.endpoint, dialledNumber, weightOf(risk.risk) > 0, context.now);
          counted.set(call.linkedid, { endpoint: facts.endpoint, risk: risk.risk, number: dialledNumber }, context.now);
          if (finding) findings = appended(findings, finding);
        }
        return findings ?? NO_FINDINGS;
      },
    };
  },
});
