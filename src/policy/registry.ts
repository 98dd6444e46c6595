/**
 * The only list of policy kinds. The loader, the engine, `tollgate check` and the docs read it;
 * adding a kind is one file in kinds/ and one line here.
 */
import type { AnyPolicyKind } from './kind.js';
import { destinationKind } from './kinds/destination.js';
import { lockKind } from './kinds/lock.js';
import { securityKind } from './kinds/security.js';
import { durationKind } from './kinds/duration.js';
import { pathKind } from './kinds/path.js';
import { timeWindowKind } from './kinds/time-window.js';
import { concurrencyKind } from './kinds/concurrency.js';
import { velocityKind } from './kinds/velocity.js';
import { spendKind } from './kinds/spend.js';
import { callRiskKind } from './kinds/call-risk.js';
import { baselineKind } from './kinds/baseline.js';

export const POLICY_KINDS: readonly AnyPolicyKind[] = [
  destinationKind,
  lockKind,
  securityKind,
  timeWindowKind,
  pathKind,
  durationKind,
  concurrencyKind,
  velocityKind,
  spendKind,
  callRiskKind,
  baselineKind,
];
