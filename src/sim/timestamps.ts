/**
 * Event times in Asterisk's two printed forms: `Timestamp: 1795259064.261089` (epoch seconds with
 * microseconds, `timestampevents=yes`) and `EventTV: 2026-11-21T11:00:21.789+0000` (security events).
 */
import { AmiMessage, type AmiField } from '../ami/message.js';

export { eventTime, parseEpochMicros, parseEventTv } from '../ami/time.js';

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
