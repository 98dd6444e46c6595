/**
 * destination — deny (or allow only) destinations by prefix, country, number type and risk tier:
 * the "forbidden direction → alarm" dialplan trick, done centrally for every phone and trunk.
 *
 *   kind: destination
 *   match: { direction: [outbound], destination: { types: [PREMIUM_RATE], minRisk: high } }
 *   allow: { scopes: [national], countries: [GB, IE] }   # optional: everything else fires
 *   denyUnpriced: true                                   # optional: fire when the rate table cannot price it
 *   actions: [alert, hangup]
 *
 * Evaluated when a call starts (the phone's dialled exten, before the trunk is even dialled) and
 * when it dials out; fires once per call.
 */
import { compileMatch } from '../match.js';
import { callFinding, compilePolicyScope, defineKind, describeCall, unjudgedStartingCalls, NO_FINDINGS, appended } from '../kind.js';
import { destinationMatchSchema } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringSet, forgottenWithCall, limited } from '../state.js';
import type { Finding } from '../types.js';
import { z } from 'zod';

const DAY_MS = 86_400_000;

export const destinationKind = defineKind({
  kind: 'destination',
  summary: 'deny or allow destinations by prefix, country, number type and risk tier',
  fields: {
    /** Allow-list: when set, destinations that do NOT match it fire. */
    allow: destinationMatchSchema.optional(),
    /** Fire for outside numbers the rate table cannot price (rates.unknownPrefix: deny). */
    denyUnpriced: z.boolean().default(false),
  },
  validate(policy, report) {
    if (!policy.match.destination && !policy.allow && !policy.denyUnpriced) {
      report(['match'], 'say which destinations: match.destination (deny these), allow (only these) or denyUnpriced: true');
    }
  },
  create(policy) {
    const scope = compilePolicyScope(policy);
    const allowed = policy.allow ? compileMatch({ destination: policy.allow }) : undefined;
    const fired = new ExpiringSet<string>(DAY_MS, 100_000);
    return {
      id: policy.id,
      ...checkpointed({ fired: limited(fired, BY_CALL) }),
      ...forgottenWithCall(fired),
      evaluate(context) {
        let findings: Finding[] | undefined;
        for (const facts of unjudgedStartingCalls(context, scope, fired)) {
          const call = facts.call;
          if (!facts.classification) continue;
          const outside = facts.classification.scope === 'national' || facts.classification.scope === 'international';
          let reason: string | undefined;
          if (allowed && !allowed(facts)) reason = 'destination not in the allowed list';
          else if (policy.denyUnpriced && outside && facts.rate === undefined) reason = 'destination has no rate (unpriced)';
          else if (policy.match.destination) reason = 'destination denied';
          if (!reason) continue;
          fired.add(call.linkedid, context.now);
          findings = appended(
            findings,
            callFinding(policy, context, facts, {
              level: 'match',
              message: `${describeCall(facts)}: ${reason} by policy ${policy.id}`,
              evidence: { reason, classificationReasons: [...facts.classification.reasons] },
            }),
          );
        }
        return findings ?? NO_FINDINGS;
      },
    };
  },
});
