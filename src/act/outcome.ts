/**
 * What carrying out a decision came to: the audit trail records it, and the incident mail tells
 * the admin what was done and how to undo it.
 */
import type { Decision } from '../decide/decider.js';
import type { DecisionResult } from '../store/store.js';

export interface ActionOutcome {
  decision: Decision;
  /** done | failed | skipped (nothing to do, e.g. the call had already ended) | simulated (report only). */
  result: DecisionResult;
  /** One sentence for people: `Hung up PJSIP/1001-00000006 and PJSIP/carrier-00000007 (cause 21), confirmed after 12 ms`. */
  detail: string;
  /** How to undo it, when it can be undone: `tollgate unlock 1001`. */
  undo?: string;
  /** Milliseconds from the triggering event to the action being carried out (or failing). */
  latencyMs?: number;
}
