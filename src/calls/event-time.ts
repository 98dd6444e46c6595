/**
 * Event time for replays, taken from the messages themselves so the same transcript always gives
 * the same times: `Timestamp:` (manager.conf timestampevents=yes), else `EventTV:` (security
 * events), else a Cdr's EndTime, else the creation second hidden in a new channel's Uniqueid.
 * Messages without any of these happen "at the time of the previous one". Time never goes back.
 */
import type { AmiMessage } from '../ami/message.js';
import type { ManualClock } from '../clock.js';

const UNIQUEID_EPOCH = /(?:^|[^\d])(\d{9,11})\.\d+$/;
const TV_OFFSET = /([+-])(\d{2}):?(\d{2})$/;

export class EventTimeline {
  /** The PBX's UTC offset in minutes, learned from EventTV; CDR times are written in it. */
  private utcOffsetMinutes: number | undefined;

  constructor(private readonly clock: ManualClock) {}

  /** Advances the clock to this message's time (when it carries one) and returns the clock's time. */
  timeOf(message: AmiMessage): number {
    const at = this.explicitTime(message);
    if (at !== undefined) this.clock.advanceTo(at);
    return this.clock.now();
  }

  private explicitTime(message: AmiMessage): number | undefined {
    const timestamp = message.get('Timestamp');
    if (timestamp) {
      const seconds = Number(timestamp);
      if (Number.isFinite(seconds) && seconds > 0) return Math.round(seconds * 1000);
    }
    const eventTv = message.get('EventTV');
    if (eventTv) {
      const offset = TV_OFFSET.exec(eventTv);
      if (offset) this.utcOffsetMinutes = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3]));
      const ms = Date.parse(eventTv.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (Number.isFinite(ms)) return ms;
    }
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
