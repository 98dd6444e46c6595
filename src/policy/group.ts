/**
 * `per:` — what one limit, counter or budget covers (endpoint, trunk, destination country or the
 * whole PBX), shared by the concurrency, velocity and spend kinds.
 */
import { z } from 'zod';
import type { CallFacts } from './types.js';

/** Lists in a finding's evidence stay mail-sized; the counts beside them are exact. */
export const EVIDENCE_LIST_LIMIT = 20;

export const GROUPINGS = ['endpoint', 'trunk', 'country', 'global'] as const;
export type Grouping = (typeof GROUPINGS)[number];

/** `per:` — what one limit or one counter covers. */
export const perField = z.enum(GROUPINGS).default('endpoint');

/**
 * The group a call belongs to under `per`, or undefined when it has none yet: a phone's call still
 * in the dialplan has no trunk, an unparsable number no country. Numbers without a country
 * (+882 networks, +800) are grouped by calling code.
 */
export function groupOf(per: Grouping, facts: CallFacts): string | undefined {
  switch (per) {
    case 'endpoint':
      return facts.endpoint || undefined;
    case 'trunk':
      return facts.trunk;
    case 'country': {
      const classification = facts.classification;
      if (!classification) return undefined;
      return classification.country ?? (classification.callingCode ? `+${classification.callingCode}` : undefined);
    }
    case 'global':
      return 'all';
  }
}

/** Incident scope of a group: `endpoint:1001`, `trunk:carrier`, `country:CU`, `global`. */
export function groupScope(per: Grouping, group: string): string {
  return per === 'global' ? 'global' : `${per}:${group}`;
}

/** For messages: `from endpoint 1001`, `on trunk carrier`, `to CU`, `across the PBX`. */
export function groupLabel(per: Grouping, group: string): string {
  switch (per) {
    case 'endpoint':
      return `from endpoint ${group}`;
    case 'trunk':
      return `on trunk ${group}`;
    case 'country':
      return `to ${group}`;
    case 'global':
      return 'across the PBX';
  }
}
