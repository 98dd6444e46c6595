/**
 * Event times in Asterisk's two printed forms: `Timestamp: 1795259064.261089` (epoch seconds with
 * microseconds, `timestampevents=yes`) and `EventTV: 2026-11-21T11:00:21.789+0000` (security events).
 */
import { AmiMessage, type AmiField } from '../ami/message.js';

const EVENT_TV = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|([+-])(\d{2}):?(\d{2}))?$/;
/** A failed login's SessionTV: left alone when times are rewritten. */
const EPOCH_TV = '1970-01-01T00:00:00.000+0000';

/** `2026-11-21T11:00:21.789+0000` for a time in ms (printed in UTC). */
export function formatEventTv(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

/** `1795259064.261089` for a time in ms. */
export function formatEpochMicros(ms: number): string {
  const micros = Math.round(ms * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return `${seconds}.${String(micros - seconds * 1_000_000).padStart(6, '0')}`;
}

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

/**
 * The event with a `Timestamp:` where manager.c puts it (right after `Privilege:`, or after the
 * first line when there is none). An existing Timestamp is replaced in place.
 */
export function withTimestamp(message: AmiMessage, ms: number): AmiMessage {
  const stamp = formatEpochMicros(ms);
  const fields: AmiField[] = [...message.fields];
  const existing = fields.findIndex(([key]) => key.toLowerCase() === 'timestamp');
  if (existing >= 0) {
    fields[existing] = [fields[existing]![0], stamp];
  } else {
    const privilege = fields.findIndex(([key]) => key.toLowerCase() === 'privilege');
    fields.splice(privilege >= 0 ? privilege + 1 : Math.min(1, fields.length), 0, ['Timestamp', stamp]);
  }
  return new AmiMessage(fields, message.output, message.unparsedLines);
}

/**
 * The event as if it happened at `ms`: its Timestamp, EventTV and (non-epoch) SessionTV moved
 * there, so a live agent sees current times in a replayed capture.
 */
export function retimed(message: AmiMessage, ms: number): AmiMessage {
  let changed = false;
  const fields: AmiField[] = message.fields.map(([key, value]) => {
    const lower = key.toLowerCase();
    if (lower === 'timestamp') {
      changed = true;
      return [key, formatEpochMicros(ms)];
    }
    if (lower === 'eventtv' || (lower === 'sessiontv' && value !== EPOCH_TV)) {
      changed = true;
      return [key, formatEventTv(ms)];
    }
    return [key, value];
  });
  return changed ? new AmiMessage(fields, message.output, message.unparsedLines) : message;
}
