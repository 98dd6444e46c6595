/**
 * time-window — outbound calls only in allowed hours: weekdays and local times in a time zone, with
 * holidays closed. IRSF is run at night and at weekends, when nobody in the office hears the phones.
 *
 *   kind: time-window
 *   timezone: Europe/London                 # optional: the agent's `timezone` otherwise
 *   match: { destination: { scopes: [international] } }
 *   allow:
 *     - { days: [mon-fri], from: "08:00", to: "19:00" }
 *     - { days: [sat], from: "09:00", to: "13:00" }
 *     - { days: [sun], from: "22:00", to: "06:00" }   # crosses midnight: Sun 22:00 – Mon 06:00
 *   holidays: ["2026-12-25", "01-01"]       # local dates with no window open; MM-DD recurs every year
 *   actions: [alert, hangup]
 *
 * Times are local wall-clock times (luxon, DST-correct): on the day clocks go forward the skipped
 * hour simply never occurs, and when they go back the repeated hour is judged by its wall-clock
 * time both times. A window crossing midnight belongs to the day it starts on; on a holiday no
 * window is open from 00:00 to 24:00, so a window crossing into or out of one is cut at midnight.
 *
 * A call is judged when it first reaches an outside number (the phone's dialled exten, or a dial
 * out on a trunk), at that moment; it fires once. A call judged inside the window at 18:59:59 is
 * not judged again when its trunk is dialled a moment later at 19:00:00.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { callFinding, compilePolicyScope, defineKind, describeCall, unjudgedStartingCalls, NO_FINDINGS, appended } from '../kind.js';
import { timezoneField } from '../schema.js';
import { BY_CALL, checkpointed, ExpiringSet, limited } from '../state.js';
import type { Finding } from '../types.js';

const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = 1440;

/** Luxon's weekday numbers: 1 = Monday … 7 = Sunday. */
export const WEEKDAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const FULL_WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/** `mon`, `Monday` → 1 … 7; undefined for anything else. */
function weekdayNumber(name: string): number | undefined {
  const lower = name.trim().toLowerCase();
  const index = (WEEKDAY_NAMES as readonly string[]).indexOf(lower);
  if (index >= 0) return index + 1;
  const full = FULL_WEEKDAY_NAMES.indexOf(lower);
  return full >= 0 ? full + 1 : undefined;
}

/**
 * Day names (`mon`, `tuesday`) and ranges (`mon-fri`, `fri-mon` wraps over the weekend) → the set
 * of weekday numbers; an error message for the first entry that is neither.
 */
export function parseDays(entries: readonly string[]): { days: Set<number> } | { error: string } {
  const days = new Set<number>();
  for (const entry of entries) {
    const parts = entry.split('-');
    const first = parts[0] !== undefined ? weekdayNumber(parts[0]) : undefined;
    const last = parts.length === 2 && parts[1] !== undefined ? weekdayNumber(parts[1]) : first;
    if (first === undefined || last === undefined || parts.length > 2) {
      return { error: `"${entry}" is not a day: write mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri` };
    }
    for (let day = first; ; day = (day % 7) + 1) {
      days.add(day);
      if (day === last) break;
    }
  }
  return { days };
}

/** `08:00`, `8:30` → minutes after midnight; `24:00` only where `endOfDay` is allowed. */
export function parseTimeOfDay(text: string, endOfDay = false): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (endOfDay && hours === 24 && minutes === 0) return MINUTES_PER_DAY;
  if (hours > 23 || minutes > 59) return undefined;
  return hours * 60 + minutes;
}

const dayListField = z.array(z.string()).transform((entries, context) => {
  const parsed = parseDays(entries);
  if ('error' in parsed) {
    context.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return [...parsed.days].sort();
});

const timeOfDayField = (endOfDay: boolean) =>
  z.string({ error: 'a local time such as "08:00" (quote it in YAML)' }).transform((text, context) => {
    const minutes = parseTimeOfDay(text, endOfDay);
    if (minutes === undefined) {
      context.addIssue({ code: 'custom', message: `"${text}" is not a time of day: write HH:MM from 00:00 to 23:59${endOfDay ? ' (or 24:00 for the end of the day)' : ''}` });
      return z.NEVER;
    }
    return minutes;
  });

export const windowSchema = z.object({
  /** Days the window opens on (a window crossing midnight runs into the next day). @default every day */
  days: dayListField.optional(),
  from: timeOfDayField(false),
  to: timeOfDayField(true),
});

export type AllowedWindow = { days?: number[]; from: number; to: number };

/** `2026-12-25` (that date) or `12-25` (every year). */
export const holidayField = z
  .union([z.string(), z.date()])
  .transform((value) => (value instanceof Date ? value.toISOString().slice(0, 10) : value.trim()))
  .refine((text) => isHoliday(text), { message: 'a holiday is a local date: "2026-12-25" (that day) or "12-25" (every year)' });

function isHoliday(text: string): boolean {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return DateTime.fromISO(text, { zone: 'UTC' }).isValid;
  // 02-29 is a valid yearly holiday (leap years only), so check it in a leap year.
  if (/^\d{2}-\d{2}$/.test(text)) return DateTime.fromISO(`2024-${text}`, { zone: 'UTC' }).isValid;
  return false;
}

export type ScheduleVerdict =
  | { open: true; local: DateTime }
  | { open: false; reason: 'holiday' | 'outside-hours'; local: DateTime };

/**
 * Allowed windows in a time zone, compiled once. `check(ms)` says whether an instant is inside
 * one, judging the local wall-clock time (which is what makes it right on DST days).
 */
export class WeeklySchedule {
  private readonly windows: { days: Set<number>; from: number; to: number }[];
  private readonly datedHolidays: Set<string>;
  private readonly yearlyHolidays: Set<string>;

  constructor(
    readonly zone: string,
    windows: readonly AllowedWindow[],
    holidays: readonly string[] = [],
  ) {
    if (!DateTime.fromMillis(0, { zone }).isValid) throw new Error(`time-window: "${zone}" is not an IANA time zone`);
    this.windows = windows.map((window) => {
      if (window.from === window.to) throw new Error('time-window: a window whose from and to are equal is empty (write 00:00 to 24:00 for a whole day)');
      return { days: new Set(window.days ?? [1, 2, 3, 4, 5, 6, 7]), from: window.from, to: window.to };
    });
    this.datedHolidays = new Set(holidays.filter((day) => day.length === 10));
    this.yearlyHolidays = new Set(holidays.filter((day) => day.length === 5));
  }

  /** The verdict of the last minute asked about: calls come in bursts, and a zoned date costs ~50 µs. */
  private lastMinute: { minute: number; verdict: ScheduleVerdict; formats: Map<string, string> } | undefined;

  check(ms: number): ScheduleVerdict {
    // Zone offsets are whole minutes: one verdict per UTC minute is the verdict of that local minute.
    const minute = Math.floor(ms / 60_000);
    if (this.lastMinute?.minute === minute) return this.lastMinute.verdict;
    const verdict = this.checkUncached(ms);
    this.lastMinute = { minute, verdict, formats: new Map() };
    return verdict;
  }

  private checkUncached(ms: number): ScheduleVerdict {
    const local = DateTime.fromMillis(ms, { zone: this.zone });
    if (this.isHoliday(local)) return { open: false, reason: 'holiday', local };
    const minute = local.hour * 60 + local.minute;
    const today = local.weekday;
    const yesterday = today === 1 ? 7 : today - 1;
    for (const window of this.windows) {
      if (window.from < window.to) {
        if (window.days.has(today) && minute >= window.from && minute < window.to) return { open: true, local };
      } else if ((window.days.has(today) && minute >= window.from) || (window.days.has(yesterday) && minute < window.to)) {
        // Crosses midnight: this evening's part, or the morning part of a window opened yesterday.
        return { open: true, local };
      }
    }
    return { open: false, reason: 'outside-hours', local };
  }

  private isHoliday(local: DateTime): boolean {
    return this.datedHolidays.has(local.toFormat('yyyy-MM-dd')) || this.yearlyHolidays.has(local.toFormat('MM-dd'));
  }

  /** `Mon–Fri 08:00–19:00; Sat 09:00–13:00` for messages. */
  describe(): string {
    // The windows never change: described once, on the first message that needs it.
    this.description ??= this.windows.map((window) => `${describeDays(window.days)} ${clock(window.from)}–${clock(window.to)}`).join('; ');
    return this.description;
  }

  private description: string | undefined;

  /**
   * The verdict's local time in a luxon format (`ccc HH:mm`): formatted once per format for the
   * minute last checked (every call of a burst gets the same text), freshly for any other verdict.
   */
  format(verdict: ScheduleVerdict, format: string): string {
    const last = this.lastMinute;
    if (last === undefined || last.verdict !== verdict) return verdict.local.toFormat(format);
    let text = last.formats.get(format);
    if (text === undefined) {
      text = verdict.local.toFormat(format);
      // The few formats messages use; bounded all the same.
      if (last.formats.size < 8) last.formats.set(format, text);
    }
    return text;
  }
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Runs of consecutive days as ranges: {1,2,3,4,5} → `Mon–Fri`, {1,3} → `Mon, Wed`. */
function describeDays(days: Set<number>): string {
  if (days.size === 7) return 'every day';
  const title = (day: number) => WEEKDAY_NAMES[day - 1]!.charAt(0).toUpperCase() + WEEKDAY_NAMES[day - 1]!.slice(1);
  const sorted = [...days].sort();
  const runs: string[] = [];
  for (let index = 0; index < sorted.length; ) {
    let end = index;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++;
    runs.push(end - index >= 2 ? `${title(sorted[index]!)}–${title(sorted[end]!)}` : sorted.slice(index, end + 1).map(title).join(', '));
    index = end + 1;
  }
  return runs.join(', ');
}

export const timeWindowKind = defineKind({
  kind: 'time-window',
  summary: 'outbound calls only in allowed hours and weekdays (time zone, holidays, DST-correct)',
  fields: {
    /** IANA zone of the windows; the agent's `timezone` when absent. */
    timezone: timezoneField.optional(),
    /** Windows in which matching calls are allowed; a call outside all of them fires. */
    allow: z.array(windowSchema).min(1, 'at least one window, e.g. { days: [mon-fri], from: "08:00", to: "19:00" }'),
    /** Local dates on which no window is open. */
    holidays: z.array(holidayField).default([]),
  },
  validate(policy, report) {
    policy.allow.forEach((window, index) => {
      if (window.from === window.to) report(['allow', index, 'to'], 'from and to are equal: the window is empty (write from: "00:00", to: "24:00" for a whole day)');
    });
  },
  create(policy, environment) {
    const schedule = new WeeklySchedule(policy.timezone ?? environment.timezone, policy.allow, policy.holidays);
    const scope = compilePolicyScope(policy);
    // A call is judged once per outside number it reaches, at the moment it first reaches it.
    const judged = new ExpiringSet<string>(DAY_MS, 100_000);
    const fired = new ExpiringSet<string>(DAY_MS, 100_000);
    return {
      id: policy.id,
      ...checkpointed({ judged: limited(judged, BY_CALL), fired: limited(fired, BY_CALL) }),
      forgetCall(call) {
        fired.delete(call.linkedid);
        // Judged per number the call reached: the numbers call.dialled can have been.
        judged.delete(`${call.linkedid}|${call.origin.exten}`);
        for (const dial of call.dials) if (dial.number) judged.delete(`${call.linkedid}|${dial.number}`);
      },
      evaluate(context) {
        let findings: Finding[] | undefined;
        for (const facts of unjudgedStartingCalls(context, scope, fired)) {
          const call = facts.call;
          if ((facts.direction !== 'outbound' && facts.direction !== 'transit') || facts.dialled === undefined) continue;
          if (!judged.add(`${call.linkedid}|${facts.dialled}`, context.now)) continue;
          const verdict = schedule.check(context.now);
          if (verdict.open) continue;
          fired.add(call.linkedid, context.now);
          const localTime = schedule.format(verdict, 'ccc yyyy-MM-dd HH:mm');
          const allowed = schedule.describe();
          const why = verdict.reason === 'holiday' ? `${schedule.format(verdict, 'yyyy-MM-dd')} is a holiday` : `outside the allowed hours (${allowed})`;
          findings = appended(
            findings,
            callFinding(policy, context, facts, {
              level: verdict.reason,
              message: `${describeCall(facts)} at ${localTime} ${schedule.zone}: ${why}, policy ${policy.id}`,
              evidence: { localTime, timezone: schedule.zone, allowed, reason: verdict.reason },
            }),
          );
        }
        return findings ?? NO_FINDINGS;
      },
    };
  },
});
