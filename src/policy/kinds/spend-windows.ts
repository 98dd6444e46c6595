/**
 * The windows of a spend budget and the ledger of committed costs kept in them.
 *
 * - Rolling window (`window: 1h`): costs are kept in buckets of a minute (a sixtieth of the window
 *   when it is shorter than an hour, never under a second). A bucket counts while any part of it is
 *   in the window, so spend is forgotten at most one bucket late — never early.
 * - Calendar period (`period: day | week | month` in an IANA zone, luxon): one bucket per period,
 *   from local midnight to local midnight; a day is 23 or 25 hours on DST days; weeks start on
 *   Monday (ISO weeks).
 *
 * A cost belongs to the window in which its dial ENDED (`CostEntry.endedAt`): a call from 23:50 to
 * 00:10 is spent on the new day, all of it. The ledger remembers which entries it counted (by
 * linkedid + destination uniqueid, inside the bucket they fall in), so an entry delivered twice —
 * live and again from history after a reload — is counted once.
 */
import { DateTime } from 'luxon';
import { mulDivCeil } from '../../rates/money.js';
import { ExpiringMap } from '../state.js';

export const CALENDAR_PERIODS = ['day', 'week', 'month'] as const;
export type CalendarPeriod = (typeof CALENDAR_PERIODS)[number];

/** The window as it stands at some instant, for evidence and messages. */
export interface WindowSpan {
  start: number;
  end: number;
  /** `day 2026-11-21 (Europe/London)`, `last 1h`. */
  label: string;
}

export interface SpendWindow {
  /** Start of the bucket that keeps a cost whose dial ended at `at`. */
  bucketOf(at: number): number;
  /** The bucket starting at `bucketStart` counts in the window as it stands at `now`. */
  counts(bucketStart: number, now: number): boolean;
  /** The bucket can never count again, at `now` or later. */
  expired(bucketStart: number, now: number): boolean;
  spanAt(now: number): WindowSpan;
  /**
   * Until when a threshold reached at `now` stays reached (fires no more, keeps refusing new calls):
   * the end of the calendar period; for a rolling window one window length, by when all the spend
   * that reached it has left the window.
   */
  holdUntil(now: number): number;
  /** How long after its last cost a budget can still matter (how long to keep it). */
  readonly retentionMs: number;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export class RollingWindow implements SpendWindow {
  readonly bucketMs: number;
  readonly retentionMs: number;
  private readonly label: string;

  constructor(readonly windowMs: number) {
    if (!(windowMs >= SECOND_MS)) throw new Error(`a rolling window must be at least a second long (got ${windowMs} ms)`);
    this.bucketMs = Math.min(MINUTE_MS, Math.max(SECOND_MS, Math.floor(windowMs / 60 / SECOND_MS) * SECOND_MS));
    this.retentionMs = windowMs + this.bucketMs;
    this.label = `last ${describeDuration(windowMs)}`;
  }

  bucketOf(at: number): number {
    return Math.floor(at / this.bucketMs) * this.bucketMs;
  }

  counts(bucketStart: number, now: number): boolean {
    return bucketStart <= now && bucketStart + this.bucketMs > now - this.windowMs;
  }

  expired(bucketStart: number, now: number): boolean {
    return bucketStart + this.bucketMs <= now - this.windowMs;
  }

  spanAt(now: number): WindowSpan {
    return { start: now - this.windowMs, end: now, label: this.label };
  }

  holdUntil(now: number): number {
    return now + this.windowMs;
  }
}

const PERIOD_UNIT = { day: 'day', week: 'week', month: 'month' } as const;
/** Longest period instance (a 31-day month with a DST hour), for retention. */
const PERIOD_MAX_MS: Record<CalendarPeriod, number> = { day: DAY_MS + HOUR_MS, week: 7 * DAY_MS + HOUR_MS, month: 31 * DAY_MS + HOUR_MS };

export class CalendarWindow implements SpendWindow {
  readonly retentionMs: number;
  /** The span last asked for (almost always the current one). */
  private current: WindowSpan | undefined;

  constructor(
    readonly period: CalendarPeriod,
    readonly zone: string,
  ) {
    if (!DateTime.now().setZone(zone).isValid) throw new Error(`"${zone}" is not an IANA time zone`);
    this.retentionMs = PERIOD_MAX_MS[period];
  }

  bucketOf(at: number): number {
    return this.spanAt(at, false).start;
  }

  counts(bucketStart: number, now: number): boolean {
    return bucketStart === this.spanAt(now).start;
  }

  expired(bucketStart: number, now: number): boolean {
    return bucketStart < this.spanAt(now).start;
  }

  holdUntil(now: number): number {
    return this.spanAt(now).end;
  }

  spanAt(at: number, remember = true): WindowSpan {
    const cached = this.current;
    if (cached && at >= cached.start && at < cached.end) return cached;
    const unit = PERIOD_UNIT[this.period];
    // startOf() in the zone: local midnight (luxon moves a midnight that DST skips to the first valid instant).
    const start = DateTime.fromMillis(at, { zone: this.zone }).startOf(unit);
    const end = start.plus({ [unit]: 1 }).startOf(unit);
    const span = { start: start.toMillis(), end: end.toMillis(), label: `${this.period} ${start.toFormat(PERIOD_FORMAT[this.period])} (${this.zone})` };
    if (remember) this.current = span;
    return span;
  }
}

const PERIOD_FORMAT: Record<CalendarPeriod, string> = { day: 'yyyy-LL-dd', week: "kkkk-'W'WW", month: 'yyyy-LL' };

/** `3600000` → `1h`, `5400000` → `90m`, `86400000` → `1d`. */
export function describeDuration(ms: number): string {
  if (ms % DAY_MS === 0) return `${ms / DAY_MS}d`;
  if (ms % HOUR_MS === 0) return `${ms / HOUR_MS}h`;
  if (ms % MINUTE_MS === 0) return `${ms / MINUTE_MS}m`;
  return `${Math.round(ms / SECOND_MS)}s`;
}

interface Bucket {
  micros: number;
  /** Entries counted in this bucket (linkedid|destUniqueid): a second delivery is ignored. */
  ids: Set<string>;
}

interface Budget {
  buckets: Map<number, Bucket>;
  /** Until when a bucket of this budget can still count: `retentionMs` after its latest cost. */
  keepUntil: number;
}

/**
 * Committed spend per budget key, in the buckets of a window. Bounded: at most `maxKeys` budgets
 * (the least recently written go first), each forgotten `retentionMs` after its last cost, and
 * expired buckets dropped whenever a budget is read or written.
 */
export class SpendLedger {
  private readonly budgets: ExpiringMap<string, Budget>;

  constructor(
    private readonly window: SpendWindow,
    maxKeys = 10_000,
    private readonly maxIdsPerBucket = 100_000,
  ) {
    this.budgets = new ExpiringMap(window.retentionMs, maxKeys);
  }

  /** Counts a cost of `micros` that ended at `endedAt`; false when it was already counted or can no longer count. */
  add(key: string, entryId: string, endedAt: number, micros: number, now: number): boolean {
    const bucketStart = this.window.bucketOf(endedAt);
    if (this.window.expired(bucketStart, now)) return false;
    const budget = this.pruned(key, now) ?? { buckets: new Map<number, Bucket>(), keepUntil: now };
    const buckets = budget.buckets;
    let bucket = buckets.get(bucketStart);
    if (!bucket) {
      bucket = { micros: 0, ids: new Set() };
      buckets.set(bucketStart, bucket);
    }
    if (bucket.ids.has(entryId)) return false;
    // Past the cap an entry is still counted; only its dedupe is lost (a bucket of 100 000 calls).
    if (bucket.ids.size < this.maxIdsPerBucket) bucket.ids.add(entryId);
    bucket.micros += micros;
    // Kept for the retention after the latest cost, even one stamped later than `now` (clock skew, history).
    budget.keepUntil = Math.max(budget.keepUntil, now + this.window.retentionMs, endedAt + this.window.retentionMs);
    this.budgets.set(key, budget, now, budget.keepUntil - now);
    return true;
  }

  /** Committed spend of the budget in the window as it stands at `now`. */
  spent(key: string, now: number): number {
    const budget = this.pruned(key, now);
    if (!budget) return 0;
    let micros = 0;
    for (const [start, bucket] of budget.buckets) if (this.window.counts(start, now)) micros += bucket.micros;
    return micros;
  }

  private pruned(key: string, now: number): Budget | undefined {
    const budget = this.budgets.get(key, now);
    if (!budget) return undefined;
    for (const start of budget.buckets.keys()) if (this.window.expired(start, now)) budget.buckets.delete(start);
    return budget;
  }
}

/**
 * What a budget will have cost once the live calls have talked `projectSeconds` more: the sum of
 * their prices per minute (micro-units) × seconds / 60, rounded up to the micro-unit.
 */
export function projectedMicros(pricePerMinuteMicros: number, projectSeconds: number): number {
  if (pricePerMinuteMicros <= 0 || projectSeconds <= 0) return 0;
  return mulDivCeil(pricePerMinuteMicros, Math.ceil(projectSeconds), 60);
}
