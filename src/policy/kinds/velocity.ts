/**
 * velocity — call rates in a sliding window, per endpoint, trunk, destination country or PBX.
 * Toll fraud is fast: a script behind a hijacked account dials number after number, redials the
 * same premium number, or places a burst of short test calls to learn which routes connect.
 *
 *   kind: velocity
 *   per: endpoint                  # endpoint | trunk | country | global
 *   window: 10m
 *   maxCalls: 6                    # a 7th call attempt in the window fires
 *   maxRepeatsToOneNumber: 3       # a 4th call to the same number fires
 *   maxDistinctDestinations: 4     # a call to a 5th different number fires
 *   shortCalls: { maxSeconds: 6, maxCount: 5 }   # a 6th answered call of ≤ 6 s fires
 *   ruleActions: { shortCalls: [alert] }         # optional: a rule's own actions
 *   match: { direction: [outbound], destination: { scopes: [international] } }
 *   actions: [alert, hangup]
 *
 * A call attempt counts once, when it starts or first dials out (answered or not: refused and
 * failed attempts count too, so a script hammering away stays over the limit). The call that
 * crosses a threshold is the finding, and so is every later call that is still over it; the decider
 * turns them into one incident. Short calls count when they end, so their finding is about the
 * group (no call left to hang up), at most once per group and window.
 */
import { z } from 'zod';
import type { Call } from '../../calls/table.js';
import { actionsField, durationField } from '../schema.js';
import { actionList, appended, baseFinding, callFinding, callsStartingOutbound, compilePolicyScope, defineKind, describeCall, NO_FINDINGS } from '../kind.js';
import { BY_CALL, checkpointed, ExpiringSet, forgottenWithCall, limited, SlidingWindow } from '../state.js';
import type { CallFacts, EvalContext, Finding, PolicyAction } from '../types.js';
import { EVIDENCE_LIST_LIMIT, groupLabel, groupOf, groupScope, perField } from '../group.js';

const DAY_MS = 86_400_000;
/** Calls remembered per group and window: far above any sensible threshold, and a memory cap. */
const MAX_PER_GROUP = 1_000;
const threshold = z.number().int().positive().max(MAX_PER_GROUP - 1);

const RULES = ['maxCalls', 'maxRepeatsToOneNumber', 'maxDistinctDestinations', 'shortCalls'] as const;
type Rule = (typeof RULES)[number];

/** The finding's `level` for each rule (what an alert says fired). */
const LEVELS: Record<Rule, string> = {
  maxCalls: 'calls',
  maxRepeatsToOneNumber: 'repeats',
  maxDistinctDestinations: 'distinct-destinations',
  shortCalls: 'short-calls',
};

/**
 * Seconds of answered talk, or undefined for a call nobody answered. For a call that left through a
 * trunk, the longest answered trunk dial (what the carrier bills), so an IVR or Answer() in the
 * dialplan before the Dial does not make a short call look long.
 */
export function answeredTalkSeconds(call: Call, now: number): number | undefined {
  const outbound = call.outboundDials;
  if (outbound.length === 0) return call.answeredAt === undefined ? undefined : call.answeredSeconds(now);
  let longest: number | undefined;
  for (const dial of outbound) {
    if (dial.answeredAt === undefined) continue;
    const seconds = Math.max(0, ((dial.endedAt ?? call.endedAt ?? now) - dial.answeredAt) / 1000);
    longest = Math.max(longest ?? 0, seconds);
  }
  return longest;
}

/** `45 s`, `10 min`, `2 h`, `1 d` — the window as an admin wrote it. */
export function formatWindow(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

export const velocityKind = defineKind({
  kind: 'velocity',
  summary: 'call rates in a sliding window: too many calls, repeats to one number, distinct destinations or short calls',
  fields: {
    per: perField,
    /** How far back the counters look (`60s`, `10m`, `1h`): a sliding window. */
    window: durationField,
    /** Call attempts allowed in the window; the next one fires. */
    maxCalls: threshold.optional(),
    /** Calls allowed to one number (E.164) in the window; the next one to it fires. */
    maxRepeatsToOneNumber: threshold.optional(),
    /** Different numbers allowed in the window; a call to one more fires. */
    maxDistinctDestinations: threshold.optional(),
    /** Answered calls with at most `maxSeconds` of talk; more than `maxCount` in the window fires. Unanswered calls do not count. */
    shortCalls: z.object({ maxSeconds: z.number().nonnegative().max(3600), maxCount: threshold }).optional(),
    /** A rule's own actions, instead of the policy's `actions`. */
    ruleActions: z
      .object({
        maxCalls: actionsField.optional(),
        maxRepeatsToOneNumber: actionsField.optional(),
        maxDistinctDestinations: actionsField.optional(),
        shortCalls: actionsField.optional(),
      })
      .default({}),
  },
  describeActions(policy) {
    const rules = (['maxCalls', 'maxRepeatsToOneNumber', 'maxDistinctDestinations', 'shortCalls'] as const).filter((rule) => policy[rule] !== undefined);
    return rules.map((rule) => `${rule}: ${actionList(policy.ruleActions?.[rule] ?? policy.actions)}`).join('; ');
  },
  validate(policy, report) {
    const configured = RULES.filter((rule) => policy[rule] !== undefined);
    if (configured.length === 0) report(['maxCalls'], 'say what to limit: maxCalls, maxRepeatsToOneNumber, maxDistinctDestinations and/or shortCalls');
    for (const rule of RULES) {
      if (policy.ruleActions[rule] !== undefined && policy[rule] === undefined) report(['ruleActions', rule], `there is no ${rule} rule in this policy to give actions to`);
    }
    if (policy.shortCalls) {
      const actions = policy.ruleActions.shortCalls ?? policy.actions;
      if (actions.every((action) => action === 'hangup' || action === 'firewall')) {
        report(policy.ruleActions.shortCalls ? ['ruleActions', 'shortCalls'] : ['actions'], 'short calls are counted once they have ended: there is no call to hang up; use alert (or lock with per: endpoint)');
      }
      if (actions.includes('lock') && policy.per !== 'endpoint') report(['per'], 'shortCalls can only lock with per: endpoint (a trunk, country or the PBX is not an endpoint to lock)');
      if (policy.shortCalls.maxSeconds >= policy.window) report(['shortCalls', 'maxSeconds'], 'must be shorter than the window');
    }
  },
  create(policy) {
    const scope = compilePolicyScope(policy);
    const windowMs = policy.window * 1000;
    const windowText = formatWindow(policy.window);
    // Per group: the destination of every call attempt in the window (counts, repeats, distinct numbers).
    const attempts = new SlidingWindow<string>(windowMs, 10_000, MAX_PER_GROUP);
    const shortCalls = new SlidingWindow<string>(windowMs, 10_000, MAX_PER_GROUP);
    // A call is counted once, at its first outbound step that is in scope.
    const counted = new ExpiringSet<string>(DAY_MS, 100_000);
    const shortBurstReported = new ExpiringSet<string>(windowMs, 10_000);
    const actionsOf = (rule: Rule): PolicyAction[] => policy.ruleActions[rule] ?? policy.actions;

    const groupIfCounted = (facts: CallFacts): string | undefined => (scope.applies(facts) ? groupOf(policy.per, facts) : undefined);

    /** `evidence` starts with per, group and window (built whole by the caller: no object spread into another). */
    const fire = (findings: Finding[] | undefined, context: EvalContext, facts: CallFacts, group: string, rule: Rule, message: string, evidence: Finding['evidence']): Finding[] =>
      appended(
        findings,
        callFinding(policy, context, facts, {
          level: LEVELS[rule],
          actions: actionsOf(rule),
          scope: groupScope(policy.per, group),
          message: `${describeCall(facts)}: ${message} (policy ${policy.id})`,
          evidence,
        }),
      );

    /** Counts the attempt; returns `findings` with what it broke. */
    const judgeAttempt = (findings: Finding[] | undefined, context: EvalContext, facts: CallFacts, group: string): Finding[] | undefined => {
      const destination = facts.classification?.e164 ?? facts.dialled ?? '';
      // The group's earlier destinations, read before this one joins them (no copy: most calls break nothing).
      const earlier = attempts.peek(group, context.now);
      let repeats = 1;
      for (const number of earlier) if (number === destination) repeats++;
      const newNumber = repeats === 1;
      let distinct: Set<string> | undefined;
      // Only a call to a new number adds a destination; redialling one already called is not spread.
      if (policy.maxDistinctDestinations !== undefined && destination !== '' && newNumber) {
        distinct = new Set<string>();
        for (const number of earlier) if (number !== '') distinct.add(number);
        distinct.add(destination);
      }
      const count = attempts.add(group, context.now, destination);
      if (policy.maxCalls !== undefined && count > policy.maxCalls) {
        findings = fire(findings, context, facts, group, 'maxCalls', `${count} calls in ${windowText} ${groupLabel(policy.per, group)}, over the limit of ${policy.maxCalls}`, { per: policy.per, group, window: windowText, calls: count, max: policy.maxCalls });
      }
      if (destination === '') return findings;
      if (policy.maxRepeatsToOneNumber !== undefined && repeats > policy.maxRepeatsToOneNumber) {
        findings = fire(findings, context, facts, group, 'maxRepeatsToOneNumber', `call ${repeats} to ${destination} in ${windowText} ${groupLabel(policy.per, group)}, over the limit of ${policy.maxRepeatsToOneNumber}`, {
          per: policy.per,
          group,
          window: windowText,
          number: destination,
          calls: repeats,
          max: policy.maxRepeatsToOneNumber,
        });
      }
      if (distinct !== undefined && policy.maxDistinctDestinations !== undefined && distinct.size > policy.maxDistinctDestinations) {
        findings = fire(findings, context, facts, group, 'maxDistinctDestinations', `${distinct.size} different numbers in ${windowText} ${groupLabel(policy.per, group)}, over the limit of ${policy.maxDistinctDestinations}`, {
          per: policy.per,
          group,
          window: windowText,
          destinations: [...distinct].slice(-EVIDENCE_LIST_LIMIT),
          distinct: distinct.size,
          max: policy.maxDistinctDestinations,
        });
      }
      return findings;
    };

    const judgeEndedCall = (context: EvalContext, call: Call): readonly Finding[] => {
      const rule = policy.shortCalls;
      if (!rule) return NO_FINDINGS;
      const facts = context.facts(call);
      if (facts.emergency) return NO_FINDINGS;
      const group = groupIfCounted(facts);
      if (group === undefined) return NO_FINDINGS;
      const talk = answeredTalkSeconds(call, context.now);
      if (talk === undefined || talk > rule.maxSeconds) return NO_FINDINGS;
      const count = shortCalls.add(group, context.now, call.linkedid);
      if (count <= rule.maxCount || !shortBurstReported.add(group, context.now)) return NO_FINDINGS;
      return [
        baseFinding(policy, context, {
          level: LEVELS.shortCalls,
          actions: actionsOf('shortCalls'),
          scope: groupScope(policy.per, group),
          ...(policy.per === 'endpoint' ? { endpoint: group } : {}),
          message: `${count} answered calls of ${rule.maxSeconds} s or less in ${windowText} ${groupLabel(policy.per, group)}, over the limit of ${rule.maxCount}: test calls probing for a route? (policy ${policy.id})`,
          evidence: { per: policy.per, group, window: windowText, shortCalls: count, maxCount: rule.maxCount, maxSeconds: rule.maxSeconds, calls: shortCalls.values(group, context.now).slice(-EVIDENCE_LIST_LIMIT) },
        }),
      ];
    };

    return {
      id: policy.id,
      ...checkpointed({ attempts, shortCalls, counted: limited(counted, BY_CALL), shortBurstReported }),
      ...forgottenWithCall(counted),
      evaluate(context) {
        let findings: Finding[] | undefined;
        const starting = callsStartingOutbound(context);
        // Shared with the other policies: sorted as a copy, and only when there is an order to make.
        for (const call of starting.length > 1 ? [...starting].sort((a, b) => a.createdAt - b.createdAt) : starting) {
          if (counted.has(call.linkedid, context.now)) continue;
          const facts = context.facts(call);
          // Emergency calls are never held against the caller.
          if (facts.emergency) continue;
          const group = groupIfCounted(facts);
          // No group yet (a phone's call before it reaches a trunk): counted when it dials out.
          if (group === undefined) continue;
          counted.add(call.linkedid, context.now);
          findings = judgeAttempt(findings, context, facts, group);
        }
        for (const change of context.changes) {
          if (change.kind !== 'call.ended') continue;
          for (const finding of judgeEndedCall(context, change.call)) findings = appended(findings, finding);
        }
        return findings ?? NO_FINDINGS;
      },
    };
  },
});
