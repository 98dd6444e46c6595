/**
 * Event time for replays, taken from the messages themselves so the same transcript always gives
 * the same times: `Timestamp:` (manager.conf timestampevents=yes), else `EventTV:` (security
 * events), else a Cdr's EndTime, else the creation second hidden in a new channel's Uniqueid.
 * Messages without any of these happen "at the time of the previous one". Time never goes back.
 */
import type { AmiMessage } from '../ami/message.js';
import { eventTime, eventTvOffsetMinutes } from '../ami/time.js';
import type { ManualClock } from '../clock.js';

const UNIQUEID_EPOCH = /(?:^|[^\d])(\d{9,11})\.\d+$/;

export class EventTimeline {
  /** The PBX's UTC offset in minutes, learnt from EventTV; CDR times are written in it. */
  private utcOffsetMinutes: number | undefined;

  constructor(private readonly clock: ManualClock) {}

  /** Advances the clock to this message's time (when it carries one) and returns the clock's time. */
  timeOf(message: AmiMessage): number {
    const at = this.explicitTime(message);
    if (at !== undefined) this.clock.advanceTo(at);
    return this.clock.now();
  }

  /** The time this message carries, if any, without moving the clock. */
  explicitTime(message: AmiMessage): number | undefined {
    const eventTv = message.get('EventTV');
    if (eventTv) this.utcOffsetMinutes = eventTvOffsetMinutes(eventTv) ?? this.utcOffsetMinutes;
    const own = eventTime(message);
    if (own !== undefined) return Math.round(own);
    if (message.name === 'Cdr' && this.utcOffsetMinutes !== undefined) {
      const end = message.get('EndTime');
      const ms = end ? Date.parse(`${end.replace(' ', 'T')}Z`) : NaN;
      if (Number.isFinite(ms)) return ms - this.utcOffsetMinutes * 60_000;
    }
    if (message.name === 'Newchannel') {
      const epoch = UNIQUEID_EPOCH.exec(message.get('Uniqueid') ?? '');
      if (epoch) return Number(epoch[1]) * 1000;
    }
    return undefined;
  }
}
