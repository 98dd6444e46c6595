import { parsePolicy } from '../../../src/policy/loader.js';
import { parseDays, parseTimeOfDay, WeeklySchedule, type AllowedWindow } from '../../../src/policy/kinds/time-window.js';

const at = (iso: string) => Date.parse(iso);
const MON_FRI = [1, 2, 3, 4, 5];
const officeHours: AllowedWindow[] = [{ days: MON_FRI, from: 8 * 60, to: 19 * 60 }];

/** Minutes of [fromIso, toIso) during which the schedule is open, checked every minute. */
function openMinutes(schedule: WeeklySchedule, fromIso: string, toIso: string): number {
  let count = 0;
  for (let ms = at(fromIso); ms < at(toIso); ms += 60_000) if (schedule.check(ms).open) count++;
  return count;
}

const open = (schedule: WeeklySchedule, iso: string) => schedule.check(at(iso)).open;

describe('WeeklySchedule: office hours Mon–Fri 08:00–19:00', () => {
  describe('Europe/London (clocks go forward 2026-03-29, back 2026-10-25)', () => {
    const london = new WeeklySchedule('Europe/London', officeHours);

    test('before the spring change local time is UTC (GMT)', () => {
      expect(open(london, '2026-03-27T07:59:59Z')).toBe(false); // Fri 07:59:59 GMT
      expect(open(london, '2026-03-27T08:00:00Z')).toBe(true);
      expect(open(london, '2026-03-27T18:59:59Z')).toBe(true);
      expect(open(london, '2026-03-27T19:00:00Z')).toBe(false);
    });

    test('after it, 08:00 local is 07:00 UTC (BST)', () => {
      expect(open(london, '2026-03-30T06:59:59Z')).toBe(false); // Mon 07:59:59 BST
      expect(open(london, '2026-03-30T07:00:00Z')).toBe(true); // 08:00 BST
      expect(open(london, '2026-03-30T17:59:59Z')).toBe(true); // 18:59:59 BST
      expect(open(london, '2026-03-30T18:00:00Z')).toBe(false); // 19:00 BST
    });

    test('around the autumn change', () => {
      expect(open(london, '2026-10-23T17:59:59Z')).toBe(true); // Fri 18:59:59 BST
      expect(open(london, '2026-10-23T18:00:00Z')).toBe(false); // 19:00 BST
      expect(open(london, '2026-10-26T07:59:59Z')).toBe(false); // Mon 07:59:59 GMT
      expect(open(london, '2026-10-26T08:00:00Z')).toBe(true);
      expect(open(london, '2026-10-26T18:59:59Z')).toBe(true); // 18:59:59 GMT
      expect(open(london, '2026-10-26T19:00:00Z')).toBe(false);
    });

    test('a weekday is open 11 hours on either side of each change; weekends never', () => {
      expect(openMinutes(london, '2026-03-27T00:00:00Z', '2026-03-28T00:00:00Z')).toBe(660);
      expect(openMinutes(london, '2026-03-30T00:00:00Z', '2026-03-31T00:00:00Z')).toBe(660);
      expect(openMinutes(london, '2026-10-23T00:00:00Z', '2026-10-24T00:00:00Z')).toBe(660);
      expect(openMinutes(london, '2026-10-26T00:00:00Z', '2026-10-27T00:00:00Z')).toBe(660);
      expect(openMinutes(london, '2026-03-28T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(0);
    });

    test('the verdict carries the local time and the reason', () => {
      const verdict = london.check(at('2026-03-30T18:30:00Z'));
      expect(verdict.open).toBe(false);
      expect(verdict.local.toFormat('ccc yyyy-MM-dd HH:mm ZZ')).toBe('Mon 2026-03-30 19:30 +01:00');
      expect(verdict.open ? undefined : verdict.reason).toBe('outside-hours');
    });
  });

  describe('America/New_York (clocks go forward 2026-03-08, back 2026-11-01)', () => {
    const newYork = new WeeklySchedule('America/New_York', officeHours);

    test('spring: 08:00 is 13:00 UTC on Friday (EST), 12:00 UTC on Monday (EDT)', () => {
      expect(open(newYork, '2026-03-06T12:59:59Z')).toBe(false);
      expect(open(newYork, '2026-03-06T13:00:00Z')).toBe(true);
      expect(open(newYork, '2026-03-09T11:59:59Z')).toBe(false);
      expect(open(newYork, '2026-03-09T12:00:00Z')).toBe(true);
    });

    test('autumn: 19:00 is 23:00 UTC on Friday (EDT), 00:00 UTC the next day on Monday (EST)', () => {
      expect(open(newYork, '2026-10-30T22:59:59Z')).toBe(true);
      expect(open(newYork, '2026-10-30T23:00:00Z')).toBe(false);
      expect(open(newYork, '2026-11-02T23:59:59Z')).toBe(true); // Mon 18:59:59 EST
      expect(open(newYork, '2026-11-03T00:00:00Z')).toBe(false); // Mon 19:00 EST
    });
  });
});

describe('WeeklySchedule on the days the clocks change', () => {
  const allDaySunday: AllowedWindow[] = [{ days: [7], from: 0, to: 1440 }];

  test('a whole local day lasts 23 hours in spring and 25 in autumn (not 24 from a UTC midnight)', () => {
    const london = new WeeklySchedule('Europe/London', allDaySunday);
    expect(openMinutes(london, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).toBe(23 * 60);
    expect(openMinutes(london, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toBe(25 * 60);
    const newYork = new WeeklySchedule('America/New_York', allDaySunday);
    expect(openMinutes(newYork, '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z')).toBe(23 * 60);
    expect(openMinutes(newYork, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z')).toBe(25 * 60);
  });

  test('spring: the skipped hour never occurs, a window across it is open for less time', () => {
    // London 2026-03-29: 01:00 GMT becomes 02:00 BST. A 01:30–02:30 window is open 02:00–02:30 BST only.
    const london = new WeeklySchedule('Europe/London', [{ days: [7], from: 90, to: 150 }]);
    expect(open(london, '2026-03-29T00:59:59Z')).toBe(false); // 00:59:59 GMT
    expect(open(london, '2026-03-29T01:00:00Z')).toBe(true); // 02:00 BST
    expect(open(london, '2026-03-29T01:29:59Z')).toBe(true); // 02:29:59 BST
    expect(open(london, '2026-03-29T01:30:00Z')).toBe(false); // 02:30 BST
    expect(openMinutes(london, '2026-03-29T00:00:00Z', '2026-03-30T00:00:00Z')).toBe(30);
  });

  test('autumn: the repeated hour is judged by its wall-clock time both times', () => {
    // London 2026-10-25: 01:00–02:00 local happens at 00:00–01:00 UTC (BST) and again at 01:00–02:00 UTC (GMT).
    const london = new WeeklySchedule('Europe/London', [{ days: [7], from: 60, to: 120 }]);
    expect(open(london, '2026-10-24T23:59:59Z')).toBe(false); // 00:59:59 BST
    expect(open(london, '2026-10-25T00:00:00Z')).toBe(true); // 01:00 BST
    expect(open(london, '2026-10-25T01:00:00Z')).toBe(true); // 01:00 GMT
    expect(open(london, '2026-10-25T02:00:00Z')).toBe(false); // 02:00 GMT
    expect(openMinutes(london, '2026-10-25T00:00:00Z', '2026-10-26T00:00:00Z')).toBe(120);
  });

  test('a window crossing midnight into a DST change: 7 hours in New York spring, 9 in autumn', () => {
    const lateShift: AllowedWindow[] = [{ days: [6], from: 22 * 60, to: 6 * 60 }]; // Sat 22:00 – Sun 06:00
    const newYork = new WeeklySchedule('America/New_York', lateShift);
    expect(openMinutes(newYork, '2026-03-07T12:00:00Z', '2026-03-09T00:00:00Z')).toBe(7 * 60);
    expect(open(newYork, '2026-03-08T02:59:59Z')).toBe(false); // Sat 21:59:59 EST
    expect(open(newYork, '2026-03-08T03:00:00Z')).toBe(true); // Sat 22:00 EST
    expect(open(newYork, '2026-03-08T09:59:59Z')).toBe(true); // Sun 05:59:59 EDT
    expect(open(newYork, '2026-03-08T10:00:00Z')).toBe(false); // Sun 06:00 EDT
    expect(openMinutes(newYork, '2026-10-31T12:00:00Z', '2026-11-02T00:00:00Z')).toBe(9 * 60);
  });
});

describe('WeeklySchedule: windows crossing midnight', () => {
  const friNight = new WeeklySchedule('UTC', [{ days: [5], from: 22 * 60, to: 6 * 60 }]); // Fri 22:00 – Sat 06:00

  test('the window belongs to the day it starts on', () => {
    expect(open(friNight, '2026-11-27T21:59:59Z')).toBe(false); // Fri
    expect(open(friNight, '2026-11-27T22:00:00Z')).toBe(true);
    expect(open(friNight, '2026-11-28T00:00:00Z')).toBe(true); // Sat, morning part
    expect(open(friNight, '2026-11-28T05:59:59Z')).toBe(true);
    expect(open(friNight, '2026-11-28T06:00:00Z')).toBe(false);
    expect(open(friNight, '2026-11-28T23:00:00Z')).toBe(false); // Sat evening: no Saturday window
    expect(open(friNight, '2026-11-27T05:00:00Z')).toBe(false); // Fri morning: no Thursday window
  });

  test('Sunday to Monday wraps the week', () => {
    const sunNight = new WeeklySchedule('UTC', [{ days: [7], from: 22 * 60, to: 6 * 60 }]);
    expect(open(sunNight, '2026-11-29T23:00:00Z')).toBe(true); // Sun
    expect(open(sunNight, '2026-11-30T05:00:00Z')).toBe(true); // Mon morning
    expect(open(sunNight, '2026-11-30T23:00:00Z')).toBe(false); // Mon evening
  });

  test('a window to 24:00 ends at midnight; without days it opens every day', () => {
    const evenings = new WeeklySchedule('UTC', [{ from: 18 * 60, to: 1440 }]);
    expect(open(evenings, '2026-11-28T23:59:59Z')).toBe(true);
    expect(open(evenings, '2026-11-29T00:00:00Z')).toBe(false);
    expect(openMinutes(evenings, '2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z')).toBe(7 * 6 * 60);
  });
});

describe('WeeklySchedule: holidays', () => {
  const everyNight: AllowedWindow[] = [{ from: 22 * 60, to: 6 * 60 }];

  test('a dated holiday closes the whole local date and cuts windows crossing into or out of it at midnight', () => {
    const schedule = new WeeklySchedule('Europe/London', everyNight, ['2026-12-25']);
    expect(open(schedule, '2026-12-24T23:00:00Z')).toBe(true); // Christmas Eve evening
    expect(schedule.check(at('2026-12-25T01:00:00Z'))).toMatchObject({ open: false, reason: 'holiday' });
    expect(open(schedule, '2026-12-25T23:00:00Z')).toBe(false);
    expect(open(schedule, '2026-12-26T01:00:00Z')).toBe(true); // the next date is not a holiday
    expect(open(schedule, '2027-12-25T01:00:00Z')).toBe(true); // dated: that year only
  });

  test('a yearly holiday (MM-DD) recurs, in local time', () => {
    const newYork = new WeeklySchedule('America/New_York', officeHours, ['07-03', '12-25']);
    expect(newYork.check(at('2026-07-03T14:00:00Z'))).toMatchObject({ open: false, reason: 'holiday' }); // Fri 10:00 EDT
    expect(newYork.check(at('2028-12-25T15:00:00Z'))).toMatchObject({ open: false, reason: 'holiday' }); // Mon 10:00 EST
    // 2026-12-26 03:00 UTC is still the 25th in New York (22:00 EST): a holiday there, not in UTC.
    expect(newYork.check(at('2026-12-26T03:00:00Z'))).toMatchObject({ open: false, reason: 'holiday' });
    expect(newYork.check(at('2026-12-28T15:00:00Z')).open).toBe(true);
  });

  test('outside the hours on a holiday the reason is still the holiday', () => {
    const schedule = new WeeklySchedule('UTC', officeHours, ['2026-12-25']);
    expect(schedule.check(at('2026-12-25T23:00:00Z'))).toMatchObject({ open: false, reason: 'holiday' });
    expect(schedule.check(at('2026-12-24T23:00:00Z'))).toMatchObject({ open: false, reason: 'outside-hours' });
  });
});

describe('WeeklySchedule: description and bad construction', () => {
  test('describe() for messages', () => {
    expect(new WeeklySchedule('UTC', officeHours).describe()).toBe('Mon–Fri 08:00–19:00');
    expect(new WeeklySchedule('UTC', [{ days: [1, 3], from: 0, to: 1440 }, { from: 1320, to: 360 }]).describe()).toBe('Mon, Wed 00:00–24:00; every day 22:00–06:00');
    expect(new WeeklySchedule('UTC', [{ days: [5, 6, 7, 1], from: 600, to: 660 }]).describe()).toBe('Mon, Fri–Sun 10:00–11:00');
  });

  test('an unknown zone or an empty window is refused', () => {
    expect(() => new WeeklySchedule('Mars/Olympus_Mons', officeHours)).toThrow('"Mars/Olympus_Mons" is not an IANA time zone');
    expect(() => new WeeklySchedule('UTC', [{ from: 480, to: 480 }])).toThrow('from and to are equal is empty');
  });
});

describe('parsing days and times', () => {
  test('day names, full names, any case, ranges (wrapping over the weekend)', () => {
    const days = (entries: string[]) => {
      const parsed = parseDays(entries);
      return 'days' in parsed ? [...parsed.days].sort() : parsed.error;
    };
    expect(days(['mon-fri'])).toEqual([1, 2, 3, 4, 5]);
    expect(days(['Sat', 'SUNDAY'])).toEqual([6, 7]);
    expect(days(['fri-mon'])).toEqual([1, 5, 6, 7]);
    expect(days(['wed-wed', 'wed'])).toEqual([3]);
    expect(days(['mo'])).toBe('"mo" is not a day: write mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri');
    expect(days(['mon-fri-sat'])).toMatch(/is not a day/);
    expect(days(['mon-'])).toMatch(/is not a day/);
  });

  test('times of day', () => {
    expect(parseTimeOfDay('08:00')).toBe(480);
    expect(parseTimeOfDay('8:30')).toBe(510);
    expect(parseTimeOfDay('23:59')).toBe(1439);
    expect(parseTimeOfDay('24:00')).toBeUndefined();
    expect(parseTimeOfDay('24:00', true)).toBe(1440);
    expect(parseTimeOfDay('24:01', true)).toBeUndefined();
    for (const bad of ['25:00', '12:60', '7pm', '0800', '', '08:00:00']) expect(parseTimeOfDay(bad, true)).toBeUndefined();
  });
});

describe('time-window policy files', () => {
  const file = (body: string) => `id: tw\nkind: time-window\ndescription: test\n${body}`;
  const issues = (body: string) => parsePolicy(file(body), 'tw.yaml').issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`);

  test('a valid file: days as names, times as minutes, holidays as dates', () => {
    const { policy, issues: problems } = parsePolicy(file('timezone: Europe/London\nallow:\n  - { days: [mon-fri], from: "08:00", to: "19:00" }\nholidays: ["2026-12-25", "01-01", "02-29"]\n'), 'tw.yaml');
    expect(problems).toEqual([]);
    expect(policy!.definition).toMatchObject({ timezone: 'Europe/London', allow: [{ days: [1, 2, 3, 4, 5], from: 480, to: 1140 }], holidays: ['2026-12-25', '01-01', '02-29'] });
  });

  test('every mistake names its line and key', () => {
    expect(issues('allow:\n  - { days: [mo], from: "08:00", to: "19:00" }\n')).toEqual(['5: allow[0].days: "mo" is not a day: write mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri']);
    expect(issues('allow:\n  - { from: "25:00", to: "19:00" }\n')).toEqual(['5: allow[0].from: "25:00" is not a time of day: write HH:MM from 00:00 to 23:59']);
    expect(issues('allow:\n  - { from: "08:00", to: "7pm" }\n')).toEqual(['5: allow[0].to: "7pm" is not a time of day: write HH:MM from 00:00 to 23:59 (or 24:00 for the end of the day)']);
    expect(issues('allow:\n  - { from: 800, to: "19:00" }\n')).toEqual(['5: allow[0].from: a local time such as "08:00" (quote it in YAML)']);
    expect(issues('allow:\n  - { from: "08:00", to: "08:00" }\n')).toEqual(['5: allow[0].to: from and to are equal: the window is empty (write from: "00:00", to: "24:00" for a whole day)']);
    expect(issues('allow:\n  - { from: "08:00", until: "19:00" }\n')[0]).toMatch(/^5: allow\[0\]\.until: unknown key/);
    expect(issues('allow: []\n')).toEqual(['4: allow: at least one window, e.g. { days: [mon-fri], from: "08:00", to: "19:00" }']);
    expect(issues('allow:\n  - { from: "08:00", to: "19:00" }\nholidays: ["2026-02-30", "12/25"]\n')).toEqual([
      '6: holidays[0]: a holiday is a local date: "2026-12-25" (that day) or "12-25" (every year)',
      '6: holidays[1]: a holiday is a local date: "2026-12-25" (that day) or "12-25" (every year)',
    ]);
    expect(issues('timezone: Europe/Londn\nallow:\n  - { from: "08:00", to: "19:00" }\n')).toEqual(['4: timezone: not an IANA time zone (e.g. Europe/London, America/New_York, UTC)']);
  });
});
