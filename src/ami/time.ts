/**
 * Event times in Asterisk's two printed forms: `Timestamp: 1795259064.261089` (epoch seconds with
 * microseconds, manager.conf `timestampevents=yes`) and `EventTV: 2026-11-21T11:00:21.789+0000`
 * (security events, server local time with its offset).
 */
import type { AmiMessage } from './message.js';

const EVENT_TV = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|([+-])(\d{2}):?(\d{2}))?$/;

/** ms since the epoch from a `Timestamp:` value, or undefined when it is not one. */
export function parseEpochMicros(value: string): number | undefined {
  if (!/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/** ms since the epoch from an `EventTV:` value, or undefined when it is not one. */
export function parseEventTv(value: string): number | undefined {
  const match = EVENT_TV.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, sign, offsetHours, offsetMinutes] = match;
  const utc = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  const fractionMs = fraction ? Number(`0.${fraction}`) * 1000 : 0;
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000 : 0;
  return utc + fractionMs - offsetMs;
}

/** The time an event carries: its `Timestamp:`, else its `EventTV:`, else undefined. */
export function eventTime(message: AmiMessage): number | undefined {
  const timestamp = message.get('Timestamp');
  if (timestamp !== undefined) {
    const ms = parseEpochMicros(timestamp);
    if (ms !== undefined) return ms;
  }
  const eventTv = message.get('EventTV');
  return eventTv !== undefined ? parseEventTv(eventTv) : undefined;
}

/** The UTC offset (minutes) an `EventTV:` value was written in, or undefined. */
export function eventTvOffsetMinutes(value: string): number | undefined {
  const match = EVENT_TV.exec(value.trim());
  if (!match?.[8]) return match && /Z$/.test(value.trim()) ? 0 : undefined;
  return (match[8] === '-' ? -1 : 1) * (Number(match[9]) * 60 + Number(match[10]));
}
