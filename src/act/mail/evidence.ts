/**
 * A finding's evidence as an admin reads it: a label for every key the policy kinds write (never
 * `windowSeconds` or `sessionId`), durations with their unit, and instants in the agent's one time
 * zone (never an ISO `Z` time beside local ones). Keys a policy adds later get a label made from
 * the key, so nothing raw reaches a mail.
 */
import { DateTime } from 'luxon';
import { formatTime, maskText, oneLine } from './format.js';

type Unit = 's' | '%';

/** Label and unit by key; `null` hides a key (internal ids, or shown elsewhere in the mail). */
const KEYS: Record<string, readonly [string, Unit?] | null> = {
  // security
  attempts: ['Failed attempts from the address'],
  reports: ['Security events from the address'],
  firstSeen: ['First seen'],
  lastSeen: ['Last seen'],
  services: ['Services'],
  distinctAccounts: ['Accounts tried'],
  distinctAccountsAtLeast: null,
  sampleAccounts: ['Accounts tried (first ones)'],
  bucketLevel: ['Failures in the bucket'],
  capacity: ['Bucket capacity'],
  leakEverySeconds: ['One failure forgiven every', 's'],
  accountsInWindow: ['Accounts tried in the window'],
  windowSeconds: ['Within', 's'],
  service: ['Service'],
  accountFailures: ['Failed attempts on the account'],
  firstFailure: ['First failed attempt'],
  lastFailure: ['Last failed attempt'],
  failuresBefore: ['Failures that make a guess'],
  sessionId: null,
  addressAttempts: ['Failed attempts from the address'],
  addressAccounts: ['Accounts tried from the address'],
  compromisedAt: ['Password guessed at'],
  compromisedFrom: ['Guessed from'],
  failuresBeforeCompromise: ['Failed attempts before the login'],
  secondsAfterCompromise: ['Call placed after the login', 's'],
  callsWithinSeconds: ['Calls hung up for', 's'],
  // spend
  budgetKey: null,
  threshold: ['Threshold'],
  spent: ['Spent on finished calls'],
  accrued: ['Spent on live calls so far'],
  projected: ['Projected for the live calls'],
  total: ['Total'],
  budget: ['Budget'],
  percent: ['Share of the budget', '%'],
  currency: ['Currency'],
  window: ['Period'],
  windowStart: ['Period starts'],
  windowEnd: ['Period ends'],
  projectSeconds: ['Projected over', 's'],
  liveCalls: ['Live calls'],
  // velocity, concurrency, duration
  per: ['Counted per'],
  group: ['For'],
  shortCalls: ['Short calls'],
  maxCount: ['Limit'],
  maxSeconds: ['Short means under', 's'],
  calls: null,
  max: ['Limit'],
  concurrent: ['Simultaneous calls'],
  callsUp: null,
  answeredSeconds: ['Talk time', 's'],
  thresholdSeconds: ['Threshold', 's'],
  maxDurationSeconds: ['Longest allowed', 's'],
  limit: ['Limit for'],
  // call risk, destination, time window, locks
  score: ['Risk score'],
  signals: null,
  toAllow: null,
  classificationReasons: ['How the number was classified'],
  reason: ['Reason'],
  rule: ['Rule'],
  numbers: ['Numbers'],
  localTime: ['Local time'],
  timezone: ['Time zone'],
  allowed: ['Allowed'],
  lockedSince: ['Locked since'],
  lockReason: ['Why it is locked'],
  lockedBy: ['Locked by policy'],
};

/** An ISO instant (`2026-11-21T02:04:10.000Z`, `2026-11-22T00:00:00+01:00`). */
const ISO_INSTANT = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** Rows for a finding's evidence: human labels, units, local times, numbers masked when asked. */
export function evidenceRows(
  evidence: Readonly<Record<string, string | number | boolean | string[]>>,
  timezone: string,
  mask: (number: string | undefined) => string,
  known: readonly (string | undefined)[],
): [string, string][] {
  const rows: [string, string][] = [];
  const seen = new Set<string>();
  for (const [key, value] of Object.entries(evidence)) {
    const entry: readonly [string, Unit?] | null | undefined = key in KEYS ? KEYS[key] : key.endsWith('Seconds') ? [labelOf(key), 's'] : [labelOf(key)];
    if (!entry) continue;
    const [label, unit] = entry;
    const text = valueText(value, unit, timezone);
    // Two keys with the same label and value (attempts, addressAttempts) read as one row.
    if (seen.has(`${label}|${text}`)) continue;
    seen.add(`${label}|${text}`);
    rows.push([label, oneLine(maskText(text, mask, known))]);
  }
  return rows;
}

/** ISO instants inside a sentence, shown in the agent's zone. */
export function localiseTimes(text: string, timezone: string): string {
  return text.replace(ISO_INSTANT, (iso) => {
    const parsed = DateTime.fromISO(iso, { setZone: true });
    return parsed.isValid ? formatTime(parsed.toMillis(), timezone) : iso;
  });
}

function valueText(value: string | number | boolean | string[], unit: Unit | undefined, timezone: string): string {
  if (Array.isArray(value)) return value.map((item) => localiseTimes(item, timezone)).join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return unit === 's' ? seconds(value) : unit === '%' ? `${value} %` : String(value);
  return localiseTimes(value, timezone);
}

/** `120` → `120 s`, `900` → `15 min`, `86400` → `24 h`. */
function seconds(value: number): string {
  if (value >= 3600 && value % 3600 === 0) return `${value / 3600} h`;
  if (value >= 120 && value % 60 === 0) return `${value / 60} min`;
  return `${value} s`;
}

/** `failuresBeforeLock` → `Failures before lock`; `maxSeconds` → `Max`. */
function labelOf(key: string): string {
  const words = key
    .replace(/Seconds$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
