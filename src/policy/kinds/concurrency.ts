/**
 * concurrency — a ceiling on simultaneous calls: per endpoint, per trunk, per destination country or
 * for the whole PBX. A hijacked phone or trunk account is typically driven by a script that opens
 * many international calls at once; an office phone has one or two up at a time.
 *
 *   kind: concurrency
 *   max: 2                        # calls allowed up at once in one group
 *   per: endpoint                 # endpoint | trunk | country | global
 *   match: { direction: [outbound], destination: { scopes: [international] } }   # which calls count
 *   actions: [alert, hangup]
 *
 * A call is a Linkedid group of the call table, so Local `;1`/`;2` halves, forwards and transfers
 * are one call, never two. A call is judged once, when it starts or first dials out: when it
 * pushes its group over `max` the finding is about that new call (the excess); the calls already
 * up within the limit are left alone.
 */
import { z } from 'zod';
import type { Call } from '../../calls/table.js';
import { callFinding, callsStartingOutbound, compilePolicyScope, defineKind, describeCall, NO_FINDINGS, appended } from '../kind.js';
import { BY_CALL, checkpointed, ExpiringMap, forgottenWithCall, limited } from '../state.js';
import type { CallFacts, EvalContext, Finding } from '../types.js';
import { EVIDENCE_LIST_LIMIT, groupLabel, groupOf, groupScope, perField } from '../group.js';

const DAY_MS = 86_400_000;
type Verdict = 'within' | 'excess';

export const concurrencyKind = defineKind({
  kind: 'concurrency',
  summary: 'limit simultaneous calls per endpoint, trunk, destination country or PBX; the calls over the limit are the finding',
  fields: {
    /** Calls allowed up at the same time in one group; the next one is the excess. */
    max: z.number().int().positive().max(100_000),
    per: perField,
  },
  create(policy) {
    const scope = compilePolicyScope(policy);
    // Once a call is judged it keeps its verdict: fire once per call, and know which calls hold a slot.
    const verdicts = new ExpiringMap<string, Verdict>(DAY_MS, 100_000);
    // An excess call this policy hangs up is about to end: it must not take a slot from the next call.
    // With alert only it stays up, and keeps counting.
    const excessEnds = policy.actions.includes('hangup');

    const groupIfCounted = (facts: CallFacts): string | undefined => (scope.applies(facts) ? groupOf(policy.per, facts) : undefined);

    /** Whether a live call of the group holds a slot (besides the one judged, and calls starting later in this input). */
    const holdsSlot = (context: EvalContext, other: Call, group: string, starting: readonly Call[], judging: number): boolean => {
      if (other === starting[judging]) return false;
      for (let later = judging + 1; later < starting.length; later++) if (starting[later] === other) return false;
      if (excessEnds && verdicts.get(other.linkedid, context.now) === 'excess') return false;
      return groupIfCounted(context.facts(other)) === group;
    };

    return {
      id: policy.id,
      ...checkpointed({ verdicts: limited(verdicts, BY_CALL) }),
      ...forgottenWithCall(verdicts),
      evaluate(context) {
        let starting: Call[] | undefined;
        for (const call of callsStartingOutbound(context)) if (!verdicts.has(call.linkedid, context.now)) starting = appended(starting, call);
        if (starting === undefined) return NO_FINDINGS;
        // Calls starting in the same input (a reconciliation after an outage) are admitted in start order.
        if (starting.length > 1) starting.sort((a, b) => a.createdAt - b.createdAt);
        let findings: Finding[] | undefined;
        for (let judging = 0; judging < starting.length; judging++) {
          const call = starting[judging]!;
          const facts = context.facts(call);
          const group = groupIfCounted(facts);
          // No group yet (a phone's call before it reaches a trunk): judged when it dials out.
          if (group === undefined) continue;
          let holders = 0;
          for (const other of context.table.liveCallValues()) if (holdsSlot(context, other, group, starting, judging)) holders++;
          const concurrent = holders + 1;
          // An emergency call is never the excess: it stays up, so it holds its slot.
          if (concurrent <= policy.max || facts.emergency) {
            verdicts.set(call.linkedid, 'within', context.now);
            continue;
          }
          const callsUp: string[] = [];
          for (const other of context.table.liveCallValues()) {
            if (callsUp.length >= EVIDENCE_LIST_LIMIT) break;
            if (holdsSlot(context, other, group, starting, judging)) callsUp.push(other.linkedid);
          }
          verdicts.set(call.linkedid, 'excess', context.now);
          findings = appended(
            findings,
            callFinding(policy, context, facts, {
              level: 'concurrent',
              scope: groupScope(policy.per, group),
              message: `${describeCall(facts)}: ${concurrent} simultaneous calls ${groupLabel(policy.per, group)} with this one, over the limit of ${policy.max} (policy ${policy.id})`,
              evidence: {
                per: policy.per,
                group,
                max: policy.max,
                concurrent,
                callsUp,
              },
            }),
          );
        }
        return findings ?? NO_FINDINGS;
      },
    };
  },
});
