/**
 * lock — an endpoint locked by an earlier decision (or by `tollgate lock`) has every new outbound
 * call refused until it is unlocked or the lock expires.
 *
 *   kind: lock
 *   actions: [hangup]
 */
import { callFinding, compilePolicyScope, defineKind, unjudgedStartingCalls, NO_FINDINGS, appended } from '../kind.js';
import { BY_CALL, checkpointed, ExpiringSet, forgottenWithCall, limited } from '../state.js';
import type { Finding } from '../types.js';

export const lockKind = defineKind({
  kind: 'lock',
  summary: 'refuse every new outbound call from an endpoint locked by an earlier decision',
  fields: {},
  create(policy) {
    const scope = compilePolicyScope(policy);
    const fired = new ExpiringSet<string>(86_400_000, 100_000);
    return {
      id: policy.id,
      ...checkpointed({ fired: limited(fired, BY_CALL) }),
      ...forgottenWithCall(fired),
      evaluate(context) {
        let findings: Finding[] | undefined;
        for (const facts of unjudgedStartingCalls(context, scope, fired)) {
          if (facts.direction !== 'outbound' && facts.direction !== 'transit') continue;
          const lock = context.locks.lockOf(facts.endpoint, context.now);
          if (!lock) continue;
          fired.add(facts.call.linkedid, context.now);
          const until = lock.until !== undefined ? ` until ${new Date(lock.until).toISOString()}` : ' until unlocked';
          findings = appended(
            findings,
            callFinding(policy, context, facts, {
              level: 'locked',
              message: `${facts.endpoint} is locked${until} (${lock.reason}); call to ${facts.dialled ?? '?'} refused`,
              evidence: { lockedSince: new Date(lock.since).toISOString(), lockReason: lock.reason, ...(lock.policy ? { lockedBy: lock.policy } : {}) },
            }),
          );
        }
        return findings ?? NO_FINDINGS;
      },
    };
  },
});
