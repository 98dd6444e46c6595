/**
 * What every policy file has in common, and the field types kinds build their own keys from.
 *
 *   id: block-premium               # unique, lower-case, used in logs, mail and the audit trail
 *   kind: destination               # one of src/policy/registry.ts
 *   description: …                  # for people
 *   mode: enforce | simulate        # simulate: report what would be done, do nothing
 *   severity: info|low|medium|high|critical
 *   enabled: true
 *   match: { direction, endpoints, contexts, trunks, accountCodes, destination: {…} }
 *   exceptions: [ { reason, …same keys as match… } ]   # an allow-list: any exception that matches wins
 *   actions: [alert, hangup, lock, firewall]
 */
import { isSupportedCountry } from 'libphonenumber-js/max';
import { z } from 'zod';
import { NUMBER_TYPES, RISK_LEVELS, SCOPES } from '../numbers/index.js';
import { parseMicros } from '../rates/money.js';
import { POLICY_ACTIONS, POLICY_MODES, SEVERITIES } from './types.js';

// ───────────────────────────── field types for kinds ─────────────────────────────

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 };

/** `90`, `90s`, `15m`, `2h`, `1d` → seconds. */
export function parseDurationSeconds(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] ?? 's']!;
}

/** A duration written as seconds or with a unit (`30s`, `15m`, `2h`, `1d`); parsed to seconds. */
export const durationField = z.union([z.number(), z.string()]).transform((value, context) => {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined || seconds <= 0) {
    context.addIssue({ code: 'custom', message: `"${value}" is not a duration: write seconds or a number with s, m, h or d (e.g. 90s, 15m, 2h)` });
    return z.NEVER;
  }
  return seconds;
});

/** A money amount (`50`, `12.50`), parsed to integer micro-units. */
export const moneyField = z.union([z.number(), z.string()]).transform((value, context) => {
  const micros = parseMicros(String(value).trim());
  if (micros === undefined) {
    context.addIssue({ code: 'custom', message: `"${value}" is not an amount: write a non-negative decimal such as 50 or 12.50` });
    return z.NEVER;
  }
  return micros;
});

export const countryField = z
  .string()
  .trim()
  .toUpperCase()
  .refine((code) => isSupportedCountry(code), { message: 'not an ISO 3166-1 alpha-2 country code known to libphonenumber (e.g. CU, GB, JM)' });

/** `+53`, `53`, `+1876` — an E.164 prefix, stored without `+`. */
export const prefixField = z
  .union([z.string(), z.number()])
  .transform((value) => String(value).trim())
  .refine((value) => /^\+?\d{1,15}$/.test(value), { message: 'an E.164 prefix is + and 1 to 15 digits, e.g. "+53" (quote it in YAML)' })
  .transform((value) => value.replace(/^\+/, ''));

/** Endpoint / context / trunk names; `*` and `?` wildcards allowed. */
export const nameField = z.union([z.string(), z.number()]).transform((value) => String(value).trim()).pipe(z.string().min(1));

export const timezoneField = z
  .string()
  .trim()
  .refine((zone) => isValidTimezone(zone), { message: 'not an IANA time zone (e.g. Europe/London, America/New_York, UTC)' });

function isValidTimezone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const actionsField = z.array(z.enum(POLICY_ACTIONS)).min(1, 'at least one action: alert, hangup, lock or firewall');

// ───────────────────────────── match blocks ─────────────────────────────

export const DIRECTIONS = ['outbound', 'inbound', 'internal', 'transit'] as const;

export const destinationMatchSchema = z.object({
  /** internal | emergency | special | national | international */
  scopes: z.array(z.enum(SCOPES)).optional(),
  countries: z.array(countryField).optional(),
  /** libphonenumber types: PREMIUM_RATE, SHARED_COST, MOBILE, … */
  types: z.array(z.enum(NUMBER_TYPES)).optional(),
  /** Risk at or above this tier. */
  minRisk: z.enum(RISK_LEVELS).optional(),
  /** E.164 prefixes (`+53`, `+882`). */
  prefixes: z.array(prefixField).optional(),
  /** Numbers libphonenumber says are not valid numbers (true) or are (false). */
  invalid: z.boolean().optional(),
});

export const matchSchema = z.object({
  direction: z.array(z.enum(DIRECTIONS)).optional(),
  endpoints: z.array(nameField).optional(),
  contexts: z.array(nameField).optional(),
  trunks: z.array(nameField).optional(),
  accountCodes: z.array(nameField).optional(),
  destination: destinationMatchSchema.optional(),
});

export const exceptionSchema = matchSchema.extend({
  /** Why this exception exists (kept in the audit trail). */
  reason: z.string().optional(),
});

export type MatchBlock = z.output<typeof matchSchema>;
export type ExceptionBlock = z.output<typeof exceptionSchema>;

export const POLICY_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Keys every policy file has. Kinds add their own (see registry.ts). */
export const basePolicyFields = {
  id: z.string().regex(POLICY_ID, 'ids are lower-case letters, digits and dashes (e.g. block-premium), at most 63 characters'),
  kind: z.string(),
  description: z.string().trim().min(1, 'say in a sentence what the policy is for'),
  mode: z.enum(POLICY_MODES).default('enforce'),
  severity: z.enum(SEVERITIES).default('high'),
  enabled: z.boolean().default(true),
  match: matchSchema.default({}),
  exceptions: z.array(exceptionSchema).default([]),
  actions: actionsField.default(['alert']),
};

export const basePolicySchema = z.object(basePolicyFields);
export type BasePolicy = z.output<typeof basePolicySchema>;
