/**
 * The only list of policy kinds. The loader, the engine, `tollgate check` and the docs read it;
 * adding a kind is one file in kinds/ and one line here.
 */
import type { AnyPolicyKind } from './kind.js';
import { destinationKind } from './kinds/destination.js';
import { lockKind } from './kinds/lock.js';

export const POLICY_KINDS: readonly AnyPolicyKind[] = [
  destinationKind,
  lockKind,
];
