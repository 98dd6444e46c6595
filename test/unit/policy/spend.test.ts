/**
 * The spend kind: calendar windows across DST (luxon), rolling buckets forgetting old spend, the
 * ledger counting an entry once however it is delivered (live and from history), the projection
 * maths, validation, and history after a restart keeping a spent budget closed.
 */
import { EventTimeline } from '../../../src/calls/event-time.js';
import { CallTable, TrunkRegistry } from '../../../src/calls/table.js';
import { CallTracker } from '../../../src/calls/tracker.js';
import { ManualClock } from '../../../src/clock.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { PolicyEngine, type LoadedPolicy } from '../../../src/policy/engine.js';
import { spendKind } from '../../../src/policy/kinds/spend.js';
import { CalendarWindow, RollingWindow, SpendLedger, describeDuration, projectedMicros } from '../../../src/policy/kinds/spend-windows.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import type { CostEntry, EvalContext, Finding, PolicyInstance } from '../../../src/policy/types.js';
import { packagePath } from '../../../src/paths.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { captureEvents } from '../../helpers/feed.js';

const classifier = createClassifier({
  numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] },
  riskLists: loadRiskLists(packagePath('policies', 'lists')),
});
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));

const at = (iso: string) => Date.parse(iso);
const hours = (ms: number) => ms / 3_600_000;

describe('calendar windows', () => {
  test('Europe/London, 29 Mar 2026: the day has 23 hours and the budget resets at local midnight', () => {
    const day = new CalendarWindow('day', 'Europe/London');
    const span = day.spanAt(at('2026-03-29T12:00:00Z'));
    expect(span).toEqual({ start: at('2026-03-29T00:00:00Z'), end: at('2026-03-29T23:00:00Z'), label: 'day 2026-03-29 (Europe/London)' });
    expect(hours(span.end - span.start)).toBe(23);
    // 23:30 UTC is already 00:30 BST on the 30th.
    expect(day.bucketOf(at('2026-03-29T22:59:59Z'))).toBe(span.start);
    expect(day.bucketOf(at('2026-03-29T23:30:00Z'))).toBe(at('2026-03-29T23:00:00Z'));
    expect(day.holdUntil(at('2026-03-29T01:30:00Z'))).toBe(at('2026-03-29T23:00:00Z'));

    const ledger = new SpendLedger(day);
    expect(ledger.add('global', 'a|b', at('2026-03-29T22:00:00Z'), 5_000_000, at('2026-03-29T22:00:00Z'))).toBe(true);
    expect(ledger.spent('global', at('2026-03-29T22:59:59.999Z'))).toBe(5_000_000);
    expect(ledger.spent('global', at('2026-03-29T23:00:00Z'))).toBe(0);
  });

  test('Europe/London, 25 Oct 2026: the day has 25 hours, from 00:00 BST to 00:00 GMT', () => {
    const day = new CalendarWindow('day', 'Europe/London');
    const span = day.spanAt(at('2026-10-25T23:30:00Z'));
    expect(span.start).toBe(at('2026-10-24T23:00:00Z'));
    expect(span.end).toBe(at('2026-10-26T00:00:00Z'));
    expect(hours(span.end - span.start)).toBe(25);
    // A cost from the first minutes of the local day still counts 24 h 59 min later, not a minute more.
    const ledger = new SpendLedger(day);
    ledger.add('global', 'a|b', at('2026-10-24T23:01:00Z'), 1_100_000, at('2026-10-24T23:01:00Z'));
    expect(ledger.spent('global', at('2026-10-25T23:59:59Z'))).toBe(1_100_000);
    expect(ledger.spent('global', at('2026-10-26T00:00:00Z'))).toBe(0);
  });

  test('a midnight that DST skips (America/Santiago, 6 Sep 2026) starts the day at the first valid instant', () => {
    const day = new CalendarWindow('day', 'America/Santiago');
    const sunday = day.spanAt(at('2026-09-06T12:00:00Z'));
    expect(sunday.start).toBe(at('2026-09-06T04:00:00Z')); // 01:00 -03, straight after 23:59:59 -04
    expect(hours(sunday.end - sunday.start)).toBe(23);
    expect(day.spanAt(at('2026-09-06T03:59:59Z')).end).toBe(sunday.start); // the days meet: no gap, no overlap
  });

  test('weeks start on Monday 00:00 local time (ISO weeks), months on the 1st', () => {
    const week = new CalendarWindow('week', 'Asia/Tokyo');
    const span = week.spanAt(at('2026-11-22T14:59:59Z')); // Sunday 23:59:59 JST
    expect(span).toMatchObject({ start: at('2026-11-15T15:00:00Z'), end: at('2026-11-22T15:00:00Z'), label: 'week 2026-W47 (Asia/Tokyo)' });
    expect(week.spanAt(at('2026-11-22T15:00:00Z')).label).toBe('week 2026-W48 (Asia/Tokyo)');

    const month = new CalendarWindow('month', 'America/New_York');
    const march = month.spanAt(at('2026-03-15T12:00:00Z'));
    expect(march).toMatchObject({ start: at('2026-03-01T05:00:00Z'), end: at('2026-04-01T04:00:00Z'), label: 'month 2026-03 (America/New_York)' });
    expect(hours(march.end - march.start)).toBe(31 * 24 - 1);
  });

  test('a cost from an earlier period neither counts nor is kept', () => {
    const day = new CalendarWindow('day', 'UTC');
    const ledger = new SpendLedger(day);
    const now = at('2026-11-24T10:00:00Z');
    expect(ledger.add('global', 'old|1', at('2026-11-23T23:59:59Z'), 9_000_000, now)).toBe(false);
    expect(ledger.spent('global', now)).toBe(0);
  });
});

describe('rolling windows', () => {
  test('bucket size: a minute for an hour or more, a sixtieth of shorter windows, at least a second', () => {
    expect(new RollingWindow(3_600_000).bucketMs).toBe(60_000);
    expect(new RollingWindow(86_400_000).bucketMs).toBe(60_000);
    expect(new RollingWindow(300_000).bucketMs).toBe(5_000);
    expect(new RollingWindow(90_000).bucketMs).toBe(1_000);
    expect(describeDuration(3_600_000)).toBe('1h');
    expect(describeDuration(5_400_000)).toBe('90m');
    expect(describeDuration(86_400_000)).toBe('1d');
    expect(describeDuration(45_000)).toBe('45s');
  });

  test('old spend leaves the window with its minute bucket: never early, at most a bucket late', () => {
    const hour = new RollingWindow(3_600_000);
    const ledger = new SpendLedger(hour);
    ledger.add('endpoint:1001', 'a|1', at('2026-11-23T10:00:30Z'), 1_100_000, at('2026-11-23T10:00:30Z'));
    ledger.add('endpoint:1001', 'a|2', at('2026-11-23T10:20:00Z'), 2_000_000, at('2026-11-23T10:20:00Z'));
    expect(ledger.spent('endpoint:1001', at('2026-11-23T11:00:29Z'))).toBe(3_100_000);
    // Exactly an hour old at 11:00:30, still counted until its bucket (10:00:00-10:01:00) has left.
    expect(ledger.spent('endpoint:1001', at('2026-11-23T11:00:59Z'))).toBe(3_100_000);
    expect(ledger.spent('endpoint:1001', at('2026-11-23T11:01:00Z'))).toBe(2_000_000);
    expect(ledger.spent('endpoint:1001', at('2026-11-23T11:21:00Z'))).toBe(0);
    expect(ledger.spent('endpoint:1002', at('2026-11-23T10:30:00Z'))).toBe(0);
  });

  test('a threshold reached on a rolling window holds for one window length', () => {
    expect(new RollingWindow(3_600_000).holdUntil(at('2026-11-23T10:30:02Z'))).toBe(at('2026-11-23T11:30:02Z'));
  });
});

describe('ledger dedupe', () => {
  test('an entry (linkedid + destination uniqueid) counts once, however often it is delivered', () => {
    const ledger = new SpendLedger(new CalendarWindow('day', 'UTC'));
    const now = at('2026-11-21T12:00:00Z');
    expect(ledger.add('global', '1795259065.0|1795259065.1', now - 60_000, 1_100_000, now)).toBe(true);
    expect(ledger.add('global', '1795259065.0|1795259065.1', now - 60_000, 1_100_000, now)).toBe(false);
    // The same call's second dial (a forward) is another cost.
    expect(ledger.add('global', '1795259065.0|1795259065.7', now - 30_000, 450_000, now)).toBe(true);
    expect(ledger.spent('global', now)).toBe(1_550_000);
  });
});

describe('projection', () => {
  test('Σ price per minute × seconds / 60, rounded up to the micro-unit', () => {
    // The five concurrent calls: 1.10 + 1.20 + 3.00 + 1.10 + 4.50 = 10.90 per minute.
    expect(projectedMicros(10_900_000, 60)).toBe(10_900_000);
    expect(projectedMicros(1_100_000, 30)).toBe(550_000);
    // 0.01 per minute for one second is 166.67 micro-units: rounded up, never down.
    expect(projectedMicros(10_000, 1)).toBe(167);
    expect(projectedMicros(10_900_000, 0)).toBe(0);
    expect(projectedMicros(0, 60)).toBe(0);
  });
});

function spendPolicy(body: string): LoadedPolicy {
  const { policy, issues } = parsePolicy(`id: spend-test\nkind: spend\ndescription: test\n${body}`, 'spend-test.yaml');
  if (!policy) throw new Error(issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`).join('; '));
  return policy;
}

function issuesOf(body: string): string[] {
  return parsePolicy(`id: spend-test\nkind: spend\ndescription: test\n${body}`, 'spend-test.yaml').issues.map((issue) => `${issue.key}: ${issue.message}`);
}

describe('validation', () => {
  const thresholds = 'thresholds: [{ percent: 100, actions: [alert, hangup] }]\n';

  test('one window: a calendar period or a rolling window, not both, not none', () => {
    expect(issuesOf(`budget: 50\n${thresholds}`)).toEqual([expect.stringContaining('period: say which window')]);
    expect(issuesOf(`budget: 50\nperiod: day\nwindow: 1h\n${thresholds}`)).toEqual([expect.stringContaining('window: a budget has one window')]);
    expect(issuesOf(`budget: 50\nwindow: 10s\n${thresholds}`)).toEqual([expect.stringContaining('between 1m and 31d')]);
    expect(issuesOf(`budget: 50\nwindow: 1h\ntimezone: Europe/London\n${thresholds}`)).toEqual([expect.stringContaining('calendar periods only')]);
    expect(issuesOf(`budget: 50\nperiod: fortnight\n${thresholds}`)).toEqual([expect.stringContaining('period')]);
  });

  test('amounts, thresholds and actions', () => {
    expect(issuesOf(`budget: 0\nperiod: day\n${thresholds}`)).toEqual([expect.stringContaining('budget: the budget must be above 0')]);
    expect(issuesOf(`budget: 12.5.0\nperiod: day\n${thresholds}`)).toEqual([expect.stringContaining('is not an amount')]);
    expect(issuesOf('budget: 50\nperiod: day\nthresholds: []\n')).toEqual([expect.stringContaining('at least one threshold')]);
    expect(issuesOf('budget: 50\nperiod: day\nthresholds: [{ percent: 80, actions: [alert] }, { percent: 80, actions: [hangup] }]\n')).toEqual([expect.stringContaining('80% appears twice')]);
    expect(issuesOf('budget: 50\nperiod: day\nthresholds: [{ percent: 33.333, actions: [alert] }]\n')).toEqual([expect.stringContaining('at most two decimals')]);
    expect(issuesOf('budget: 50\nperiod: day\nthresholds: [{ percnt: 80, actions: [alert] }]\n').join('\n')).toMatch(/percnt/);
    expect(issuesOf(`budget: 50\nperiod: day\nactions: [alert, hangup]\n${thresholds}`)).toEqual([expect.stringContaining('thresholds[].actions')]);
  });

  test('the shipped daily cap is valid', () => {
    expect(() => spendPolicy('budget: 50.00\nperiod: day\nprojectSeconds: 60\nthresholds: [{ percent: 50, actions: [alert] }, { percent: 100, actions: [alert, hangup] }]\n')).not.toThrow();
  });
});

/** A history entry: 1001's call to Cuba, `micros` of it, ended at `endedAt`. */
function entry(id: string, endedAt: number, micros: number, overrides: Partial<CostEntry> = {}): CostEntry {
  return {
    linkedid: `${id}.0`,
    destUniqueid: `${id}.1`,
    endpoint: '1001',
    trunk: 'carrier',
    country: 'CU',
    callingCode: '53',
    e164: '+535551234',
    dialled: '011535551234',
    answeredAt: endedAt - 600_000,
    endedAt,
    billableSeconds: 600,
    ratePrefix: '53',
    pricePerMinuteMicros: 1_100_000,
    micros,
    currency: 'USD',
    ...overrides,
  };
}

/** What the engine gives a policy when no call is up: a tick, maybe with costs just committed. */
function quietContext(now: number, committed: CostEntry[] = []): EvalContext {
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  const engine = new PolicyEngine({ policies: [], classifier, rates, clock: { now: () => now } });
  return {
    input: committed.length > 0 ? { type: 'reconciled', changes: [] } : { type: 'tick' },
    now,
    table,
    rates,
    locks: { lockOf: () => undefined },
    addresses: engine.addresses,
    profiles: engine.profiles,
    facts: (call) => engine.factsOf(call),
    classify: (number) => classifier.classify(number),
    liveCost: () => ({ micros: 0, microsPerSecond: 0, stepMicros: 0 }),
    condemned: () => [],
    committed,
    changes: [],
  };
}

function instanceOf(body: string): PolicyInstance {
  return spendKind.create(spendPolicy(body).definition as never, { timezone: 'UTC', currency: 'USD' });
}

const summary = (findings: readonly Finding[]) => findings.map((finding) => ({ level: finding.level, spent: finding.evidence.spent, scope: finding.scope }));

describe('history (restoreCost) and committed costs', () => {
  const twoThresholds = 'budget: 2.00\nperiod: day\nthresholds: [{ percent: 50, actions: [alert] }, { percent: 100, actions: [alert] }]\n';
  const noon = at('2026-11-21T12:00:00Z');

  test('an entry restored and then committed live is counted once', () => {
    const budgets = instanceOf(twoThresholds);
    const cuba = entry('h1', noon - 60_000, 1_100_000);
    budgets.restoreCost!(cuba);
    // 1.10 of 2.00 from history: 50% is marked reached quietly (it was reported before the restart).
    expect(budgets.evaluate(quietContext(noon, [cuba]))).toEqual([]);
    const second = entry('h2', noon, 1_100_000);
    expect(summary(budgets.evaluate(quietContext(noon + 1000, [second])))).toEqual([{ level: '100%', spent: '2.20', scope: 'global' }]);
  });

  test('an entry committed live and then restored by a reload is counted once', () => {
    const budgets = instanceOf(twoThresholds);
    const cuba = entry('h1', noon, 1_100_000);
    expect(summary(budgets.evaluate(quietContext(noon, [cuba])))).toEqual([{ level: '50%', spent: '1.10', scope: 'global' }]);
    budgets.restoreCost!(cuba);
    budgets.restoreCost!(cuba);
    expect(budgets.evaluate(quietContext(noon + 1000))).toEqual([]);
    const small = entry('h2', noon + 2000, 800_000);
    // 1.10 + 0.80 = 1.90: under 100% (counted twice it would be 3.00).
    expect(budgets.evaluate(quietContext(noon + 2000, [small]))).toEqual([]);
    const last = entry('h3', noon + 3000, 100_000);
    expect(summary(budgets.evaluate(quietContext(noon + 3000, [last])))).toEqual([{ level: '100%', spent: '2.00', scope: 'global' }]);
  });

  test('history of an earlier day, or out of the policy scope, does not count', () => {
    const budgets = instanceOf(`${twoThresholds}match: { destination: { scopes: [international] } }\n`);
    budgets.restoreCost!(entry('yesterday', at('2026-11-20T23:59:00Z'), 5_000_000));
    budgets.restoreCost!(entry('national', noon - 60_000, 5_000_000, { country: 'US', callingCode: '1', e164: '+12125550123', dialled: '12125550123' }));
    expect(budgets.evaluate(quietContext(noon))).toEqual([]);
    expect(summary(budgets.evaluate(quietContext(noon + 1000, [entry('today', noon, 1_000_000)])))).toEqual([{ level: '50%', spent: '1.00', scope: 'global' }]);
  });

  test('budget keys of history: per trunk, per country (non-geographic ranges by calling code)', () => {
    const perTrunk = instanceOf('budget: 1.00\nperiod: day\nper: trunk\nthresholds: [{ percent: 100, actions: [alert] }]\n');
    expect(summary(perTrunk.evaluate(quietContext(noon, [entry('t', noon, 1_100_000)])))).toEqual([{ level: '100%', spent: '1.10', scope: 'trunk:carrier' }]);
    const perCountry = instanceOf('budget: 1.00\nperiod: day\nper: country\nthresholds: [{ percent: 100, actions: [alert] }]\n');
    const satellite = entry('s', noon, 4_500_000, { country: undefined, callingCode: '882', e164: '+882161234567', dialled: '011882161234567' });
    delete satellite.country;
    expect(summary(perCountry.evaluate(quietContext(noon, [entry('c', noon, 1_100_000), satellite])))).toEqual([
      { level: '100%', spent: '1.10', scope: 'country:CU' },
      { level: '100%', spent: '4.50', scope: 'country:+882' },
    ]);
  });

  test('after a restart, a budget the history has spent stays closed: the next call is refused at its start', () => {
    const policy = spendPolicy('budget: 10.00\nperiod: day\nthresholds: [{ percent: 50, actions: [alert] }, { percent: 100, actions: [alert, hangup] }]\n');
    // The agent's clock is the wall clock: never before the history it restores.
    const clock = new ManualClock(at('2026-11-21T11:04:24Z'));
    const engine = new PolicyEngine({ policies: [policy], classifier, rates, clock });
    // Earlier that day (the Cuba capture is from 2026-11-21 11:04): 10.00 spent before the restart.
    engine.restoreCosts([entry('morning', at('2026-11-21T09:00:00Z'), 10_000_000)]);
    const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
    const tracker = new CallTracker({ table, clock });
    const timeline = new EventTimeline(clock);
    const findings: Finding[] = [];
    tracker.on('event', (event, changes) => findings.push(...engine.evaluate({ type: 'event', event, changes }, table).findings));
    for (const message of captureEvents('intl-call-cuba.timestamped.ami')) tracker.ingest(message, timeline.timeOf(message));
    expect(findings.map((finding) => ({ level: finding.level, actions: finding.actions, linkedid: finding.call?.linkedid, at: new Date(finding.at).toISOString(), spent: finding.evidence.spent }))).toEqual([
      { level: '100%', actions: ['alert', 'hangup'], linkedid: '1795259065.0', at: '2026-11-21T11:04:25.449Z', spent: '10.00' },
    ]);
  });
});
