/**
 * Local calendar fields (day, weekday, hour) of instants in one IANA zone, for code that asks on
 * every call. A zone's offset is a whole number of quarter-hours (Nepal's +05:45, Chatham's +12:45)
 * and changes only on such a boundary, so every instant of one UTC quarter-hour has the same local
 * day, weekday and hour: computed once per quarter-hour, not once per call.
 */
import { DateTime } from 'luxon';

export interface LocalParts {
  /** `2026-12-05` */
  date: string;
  /** `mon` … `sun` */
  weekday: string;
  /** `00` … `23` */
  hour: string;
}

const QUARTER_HOUR_MS = 900_000;
const CACHED_QUARTERS = 96;

export class LocalCalendar {
  private readonly cache = new Map<number, LocalParts>();

  constructor(readonly zone: string) {}

  parts(at: number): LocalParts {
    const quarter = Math.floor(at / QUARTER_HOUR_MS);
    let parts = this.cache.get(quarter);
    if (parts === undefined) {
      const local = DateTime.fromMillis(quarter * QUARTER_HOUR_MS, { zone: this.zone });
      parts = { date: local.toFormat('yyyy-MM-dd'), weekday: local.toFormat('ccc', { locale: 'en' }).toLowerCase(), hour: local.toFormat('HH') };
      if (this.cache.size >= CACHED_QUARTERS) this.cache.clear();
      this.cache.set(quarter, parts);
    }
    return parts;
  }
}
