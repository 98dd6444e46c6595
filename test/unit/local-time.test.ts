import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';
import { LocalCalendar } from '../../src/local-time.js';

const DAY = 86_400_000;

/** Instants to compare: every 6 h across 2026, and every 7 min within a day of each offset change (DST). */
function instants(zone: string): number[] {
  const start = Date.UTC(2026, 0, 1);
  const points: number[] = [];
  for (let day = 0; day < 365; day++) {
    const at = start + day * DAY;
    for (let hour = 0; hour < 24; hour += 6) points.push(at + hour * 3_600_000 + 60_000 * day);
    if (DateTime.fromMillis(at, { zone }).offset !== DateTime.fromMillis(at + DAY, { zone }).offset) {
      for (let t = at - DAY; t < at + 2 * DAY; t += 7 * 60_000) points.push(t);
    }
  }
  return points;
}

describe('LocalCalendar: local day, weekday and hour, computed once per UTC quarter-hour', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'])('agrees with luxon across 2026 in %s, minute by minute around its offset changes', (zone) => {
    const calendar = new LocalCalendar(zone);
    for (const at of instants(zone)) {
      const local = DateTime.fromMillis(at, { zone });
      expect(calendar.parts(at)).toEqual({ date: local.toFormat('yyyy-MM-dd'), weekday: local.toFormat('ccc', { locale: 'en' }).toLowerCase(), hour: local.toFormat('HH') });
    }
  });
});
