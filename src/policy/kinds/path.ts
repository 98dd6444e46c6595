/**
 * path — calls that should never reach a trunk by the way they came in: trunk-to-trunk calls
 * (DISA, call forwards, IVR breakouts: a carrier call going back out on a carrier), calls from
 * guest contexts or PJSIP's `anonymous` endpoint (unauthenticated callers), and calls from
 * endpoints the admin does not know.
 *
 *   kind: path
 *   transit: true                              # a call that came in on a trunk dials out on a trunk
 *   guestContexts: [from-guest, public]        # the call landed in one of these contexts (wildcards)
 *   guestEndpoints: [anonymous]                # the call arrived on one of these endpoints
 *   knownEndpoints: ["1001", "1002", "2*"]     # optional: any other endpoint dialling out fires
 *   match: { destination: { scopes: [international] } }
 *   actions: [alert, hangup]
 *
 * Judged on every dial out on a trunk (the dialplan let the call out: that is the problem), with
 * that dial's number as the destination; fires once per call. Calls that came in on a trunk are
 * judged by `transit` only (a carrier's calls may land in a context named like a guest one), and
 * Originate'd calls (a Local channel first) have no calling endpoint for `knownEndpoints`.
 * The guest context is the one the call landed in: a Goto out of it does not hide it.
 */
import { z } from 'zod';
import type { Call, Dial } from '../../calls/table.js';
import { callFinding, compilePolicyScope, defineKind, describeCall } from '../kind.js';
import { globMatcher } from '../match.js';
import { nameField } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringMap, ExpiringSet, forgottenWithCall, limited } from '../state.js';
import type { CallFacts, EvalContext, Finding } from '../types.js';

const DAY_MS = 86_400_000;

export type PathRule = 'transit' | 'guest' | 'unknown-endpoint';

export interface PathRules {
  transit: boolean;
  guestContexts: readonly string[];
  guestEndpoints: readonly string[];
  knownEndpoints?: readonly string[] | undefined;
}

/** What a call dialling out on a trunk is, by the way it came in; undefined when none applies. */
export function compilePathRules(rules: PathRules): (call: Call, landedIn: string) => PathRule | undefined {
  const guestContext = globMatcher(rules.guestContexts);
  const guestEndpoint = globMatcher(rules.guestEndpoints);
  const known = rules.knownEndpoints ? globMatcher(rules.knownEndpoints) : undefined;
  return (call, landedIn) => {
    if (call.fromTrunk) return rules.transit ? 'transit' : undefined;
    if (guestContext(landedIn) || guestContext(call.origin.context) || guestEndpoint(call.sourceEndpoint)) return 'guest';
    if (known && !call.originated && !known(call.sourceEndpoint)) return 'unknown-endpoint';
    return undefined;
  };
}

/** The call's facts with this dial's number as the destination (a forward may try several). */
function factsForDial(context: EvalContext, facts: CallFacts, dial: Dial): CallFacts {
  const withTrunk: CallFacts = { ...facts, trunk: dial.trunk ?? facts.trunk };
  if (dial.number === undefined || dial.number === facts.dialled) return withTrunk;
  const classification = context.classify(dial.number);
  const quote = context.rates.quote(classification.e164);
  const dialFacts: CallFacts = { ...withTrunk, dialled: dial.number, classification, rateAssumed: quote.kind === 'assumed' };
  if (quote.kind === 'denied') delete dialFacts.rate;
  else dialFacts.rate = quote.rate;
  return dialFacts;
}

export const pathKind = defineKind({
  kind: 'path',
  summary: 'trunk-to-trunk (transit) calls and calls from guest contexts or unknown endpoints that dial out on a trunk',
  fields: {
    /** Fire when a call that came in on a trunk dials out on a trunk. */
    transit: z.boolean().default(false),
    /** Contexts where unauthenticated callers land (`*` and `?` wildcards). */
    guestContexts: z.array(nameField).default([]),
    /** Endpoints that take unauthenticated calls (PJSIP's `anonymous`). */
    guestEndpoints: z.array(nameField).default([]),
    /** When set, calls from any other (non-trunk) endpoint that dial out fire. */
    knownEndpoints: z.array(nameField).min(1, 'list at least one endpoint, or leave knownEndpoints out').optional(),
  },
  validate(policy, report) {
    if (!policy.transit && policy.guestContexts.length === 0 && policy.guestEndpoints.length === 0 && !policy.knownEndpoints) {
      report(['transit'], 'say which paths to stop: transit: true, guestContexts, guestEndpoints or knownEndpoints');
    }
  },
  create(policy) {
    const scope = compilePolicyScope(policy);
    const ruleFor = compilePathRules(policy);
    // The context each call landed in: the dialplan may Goto elsewhere before it dials out.
    const landedIn = new ExpiringMap<string, string>(DAY_MS, 100_000);
    const fired = new ExpiringSet<string>(DAY_MS, 100_000);
    return {
      id: policy.id,
      ...checkpointed({ landedIn: limited(landedIn, BY_CALL), fired: limited(fired, BY_CALL) }),
      ...forgottenWithCall(landedIn, fired),
      evaluate(context) {
        const findings: Finding[] = [];
        for (const change of context.changes) {
          if (change.kind === 'call.started') {
            landedIn.set(change.call.linkedid, change.call.origin.context, context.now);
            continue;
          }
          if (change.kind !== 'dial.started' || change.dial.trunk === undefined) continue;
          const call = change.call;
          if (!call.live || fired.has(call.linkedid, context.now)) continue;
          const landed = landedIn.get(call.linkedid, context.now) ?? call.origin.context;
          const rule = ruleFor(call, landed);
          if (!rule) continue;
          const facts = factsForDial(context, context.facts(call), change.dial);
          if (!scope.applies(facts)) continue;
          fired.add(call.linkedid, context.now);
          findings.push(
            callFinding(policy, context, facts, {
              level: rule,
              message: `${describeCall(facts)}: ${explain(rule, facts, landed, change.dial.trunk)}, policy ${policy.id}`,
              evidence: {
                rule,
                landedContext: landed,
                context: facts.context,
                outboundTrunk: change.dial.trunk,
                ...(call.origin.callerIdNum ? { callerIdNum: call.origin.callerIdNum } : {}),
              },
            }),
          );
        }
        return findings;
      },
    };
  },
});

function explain(rule: PathRule, facts: CallFacts, landed: string, trunk: string): string {
  switch (rule) {
    case 'transit':
      return `a call that came in on trunk ${facts.endpoint} is going back out on trunk ${trunk} (transit: DISA, call forward or IVR breakout)`;
    case 'guest':
      return `an unauthenticated call (endpoint ${facts.endpoint}, landed in context ${landed}) is dialling out on trunk ${trunk}`;
    case 'unknown-endpoint':
      return `endpoint ${facts.endpoint} is not in knownEndpoints and is dialling out on trunk ${trunk}`;
  }
}
