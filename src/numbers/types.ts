/** Types shared by the classifier, the risk lists and their consumers (policy engine, CLI). */

/** libphonenumber-js/max `getType()` values, plus UNKNOWN when it has none (or the number is invalid). */
export const NUMBER_TYPES = [
  'PREMIUM_RATE',
  'SHARED_COST',
  'TOLL_FREE',
  'MOBILE',
  'FIXED_LINE',
  'FIXED_LINE_OR_MOBILE',
  'VOIP',
  'PERSONAL_NUMBER',
  'UAN',
  'PAGER',
  'VOICEMAIL',
  'UNKNOWN',
] as const;
export type NumberType = (typeof NUMBER_TYPES)[number];

/**
 * Where a call goes, seen from the PBX:
 * - `internal`: an extension matching the configured internal patterns;
 * - `emergency`: an emergency number (never blocked, never hung up);
 * - `special`: a feature code (`*97`, `#31#…`), not a phone number;
 * - `national`: a number in the home country (or a home territory, e.g. PR from a US PBX);
 * - `international`: anything else, including +1 numbers outside the home NANP country and
 *   +44 numbers in the Crown dependencies seen from GB.
 */
export const SCOPES = ['internal', 'emergency', 'special', 'national', 'international'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * Risk grades, lowest first (classify.ts `assessRisk` and risk-lists.ts tell how they are reached):
 * - `critical`: premium rate, shared cost, an international number invalid for its country, ranges a
 *   list marks critical (non-geographic networks, IRSF ranges) — policies hang these up at any hour;
 * - `high`: countries IRSF reporting names year after year, personal numbers, unknown types,
 *   invalid national numbers;
 * - `medium`: an international destination whose country no list names;
 * - `low`: national destinations, and international ones on the low-risk list.
 */
export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** What Tollgate knows about one dialled string. */
export interface Classification {
  /** The string as given (dial string, URI or digits). */
  readonly input: string;
  /** The number taken out of the input (digits, leading `+`, `*`, `#`); absent when there is none. */
  readonly dialled?: string;
  /** E.164 form (`+447700900123`) when the digits could be read as a public number, valid or not. */
  readonly e164?: string;
  /** Country calling code without `+` (`44`, `1`, `882`). */
  readonly callingCode?: string;
  /** ISO 3166-1 alpha-2 region (`GB`, `JM`, `IM`); absent for non-geographic ranges (+881, +882 …). */
  readonly country?: string;
  readonly type: NumberType;
  /** A complete, assigned number for its country (libphonenumber), an internal extension or an emergency number. */
  readonly valid: boolean;
  readonly scope: Scope;
  readonly risk: RiskLevel;
  /** Why: what was stripped, what matched, why the risk is what it is. Never empty. */
  readonly reasons: readonly string[];
}

export function riskRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

export function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return riskRank(a) >= riskRank(b) ? a : b;
}

export function isRiskLevel(value: unknown): value is RiskLevel {
  return typeof value === 'string' && (RISK_LEVELS as readonly string[]).includes(value);
}
