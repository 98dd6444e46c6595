/**
 * duration — a maximum length per destination class. IRSF calls are held open for as long as the
 * carrier lets them (every minute is revenue for the number's owner); ordinary calls end.
 *
 *   kind: duration
 *   match: { direction: [outbound, transit] }
 *   limits:                                   # the first limit whose destination matches applies
 *     - destination: { minRisk: high }
 *       maxDuration: 15m
 *     - destination: { scopes: [international] }
 *       warnAfter: 1h                          # optional: an alert (only an alert) when passed
 *       maxDuration: 4h
 *       actions: [alert, hangup]               # optional: the policy's actions otherwise
 *     - maxDuration: 8h                        # no destination: every other call
 *       actions: [alert]
 *
 * Measured on answered time (from the answer to now), judged on the engine's once-a-second ticks;
 * each level (`warn`, `limit`) fires once per call. A call already past its limit when first seen
 * (after a restart) gets the limit finding only.
 */
import { z } from 'zod';
import type { Call } from '../../calls/table.js';
import { actionList, callFinding, compilePolicyScope, defineKind, describeCall } from '../kind.js';
import { compileMatch, type CallPredicate } from '../match.js';
import { actionsField, destinationMatchSchema, durationField } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringSet, limited } from '../state.js';
import type { CallFacts, Finding, PolicyAction } from '../types.js';

/** Long enough to outlive any call: a level must not fire twice for one call. */
const FIRED_TTL_MS = 7 * 86_400_000;

const limitSchema = z.object({
  /** Which calls the limit is for (same keys as match.destination); absent: every call. */
  destination: destinationMatchSchema.optional(),
  /** Answered time after which an alert is raised. */
  warnAfter: durationField.optional(),
  /** Answered time after which the limit's actions are taken. */
  maxDuration: durationField,
  actions: actionsField.optional(),
});

export interface DurationLimit {
  destination?: z.output<typeof destinationMatchSchema> | undefined;
  warnAfter?: number | undefined;
  maxDuration: number;
  actions?: PolicyAction[] | undefined;
}

export type DurationLevel = 'warn' | 'limit';
const DURATION_LEVELS: readonly DurationLevel[] = ['warn', 'limit'];

/** The first limit whose destination matches the call, with its position (1-based, for messages). */
export function compileLimits(limits: readonly DurationLimit[]): (facts: CallFacts) => { limit: DurationLimit; number: number } | undefined {
  const compiled: { limit: DurationLimit; number: number; matches: CallPredicate }[] = limits.map((limit, index) => ({
    limit,
    number: index + 1,
    matches: limit.destination ? compileMatch({ destination: limit.destination }) : () => true,
  }));
  return (facts) => compiled.find((entry) => entry.matches(facts));
}

/** The highest level an answered time has reached under a limit. */
export function levelReached(answeredSeconds: number, limit: DurationLimit): DurationLevel | undefined {
  if (answeredSeconds >= limit.maxDuration) return 'limit';
  if (limit.warnAfter !== undefined && answeredSeconds >= limit.warnAfter) return 'warn';
  return undefined;
}

/** `4h`, `1h 30m`, `4h 00m 02s`, `59m 30s`, `20s`: zero parts left out at the end. */
export function formatDuration(seconds: number): string {
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  const pad = (value: number, padded: boolean) => (padded ? String(value).padStart(2, '0') : String(value));
  const parts: string[] = [];
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0 || (hours > 0 && rest > 0)) parts.push(`${pad(minutes, hours > 0)}m`);
  if (rest > 0 || whole === 0) parts.push(`${pad(rest, parts.length > 0)}s`);
  return parts.join(' ');
}

export const durationKind = defineKind({
  kind: 'duration',
  summary: 'maximum answered call length per destination class, with an optional earlier warning',
  fields: {
    limits: z.array(limitSchema).min(1, 'at least one limit, e.g. { destination: { scopes: [international] }, maxDuration: 4h }'),
  },
  describeActions(policy) {
    return policy.limits
      .map((limit, index) => `limit ${index + 1}: ${limit.warnAfter !== undefined ? 'warn: alert, ' : ''}max: ${actionList(limit.actions ?? policy.actions)}`)
      .join('; ');
  },
  validate(policy, report) {
    policy.limits.forEach((limit, index) => {
      if (limit.warnAfter !== undefined && limit.warnAfter >= limit.maxDuration) {
        report(['limits', index, 'warnAfter'], 'must be shorter than maxDuration: the warning comes before the limit');
      }
      const catchAll = policy.limits.findIndex((candidate) => candidate.destination === undefined);
      if (catchAll >= 0 && index > catchAll) {
        report(['limits', index], `never applies: limit ${catchAll + 1} has no destination, so it takes every call (the first matching limit wins; put catch-alls last)`);
      }
    });
  },
  create(policy) {
    const scope = compilePolicyScope(policy);
    const limitFor = compileLimits(policy.limits);
    // No call can reach a level before the shortest threshold: skip computing facts until then.
    const earliest = Math.min(...policy.limits.map((limit) => limit.warnAfter ?? limit.maxDuration));
    const fired = new ExpiringSet<string>(FIRED_TTL_MS, 100_000);

    function judge(call: Call, now: number, facts: () => CallFacts): { level: DurationLevel; limit: DurationLimit; number: number; seconds: number; facts: CallFacts } | undefined {
      const seconds = call.answeredSeconds(now);
      if (seconds < earliest || fired.has(`${call.linkedid}|limit`, now)) return undefined;
      const callFacts = facts();
      if (!scope.applies(callFacts)) return undefined;
      const applicable = limitFor(callFacts);
      if (!applicable) return undefined;
      const level = levelReached(seconds, applicable.limit);
      if (!level) return undefined;
      if (level === 'limit') fired.add(`${call.linkedid}|warn`, now); // past the limit, the warning is moot
      if (!fired.add(`${call.linkedid}|${level}`, now)) return undefined;
      return { level, ...applicable, seconds, facts: callFacts };
    }

    return {
      id: policy.id,
      ...checkpointed({ fired: limited(fired, BY_CALL) }),
      forgetCall(call) {
        for (const level of DURATION_LEVELS) fired.delete(`${call.linkedid}|${level}`);
      },
      evaluate(context) {
        if (context.input.type !== 'tick') return [];
        const findings: Finding[] = [];
        for (const call of context.table.liveCalls()) {
          const due = judge(call, context.now, () => context.facts(call));
          if (!due) continue;
          const { level, limit, facts, seconds } = due;
          const threshold = level === 'limit' ? limit.maxDuration : limit.warnAfter!;
          const what = limit.destination ? `limit ${due.number}` : `limit ${due.number} (every call)`;
          const message =
            level === 'limit'
              ? `${describeCall(facts)} has lasted ${formatDuration(seconds)} since it was answered: over the ${formatDuration(limit.maxDuration)} maximum of ${what}, policy ${policy.id}`
              : `${describeCall(facts)} has lasted ${formatDuration(seconds)} since it was answered: past the ${formatDuration(threshold)} warning of ${what} (maximum ${formatDuration(limit.maxDuration)}), policy ${policy.id}`;
          findings.push(
            callFinding(policy, context, facts, {
              level,
              message,
              // A warning only ever alerts: nothing is hung up before the limit.
              actions: level === 'warn' ? ['alert'] : (limit.actions ?? policy.actions),
              evidence: {
                answeredSeconds: Math.floor(seconds),
                thresholdSeconds: threshold,
                maxDurationSeconds: limit.maxDuration,
                limit: due.number,
              },
            }),
          );
        }
        return findings;
      },
    };
  },
});
