/**
 * The duration kind: the threshold maths, first-matching-limit, once per level, and calls the
 * policy first sees after they passed their limit. Transcripts are the real Cuba capture (answered
 * at 11:04:25.761, 20 s of talk) or derived from it in memory with a hold.
 */
import { readFileSync } from 'node:fs';
import { CallTable, TrunkRegistry } from '../../../src/calls/table.js';
import { CallTracker } from '../../../src/calls/tracker.js';
import { ManualClock } from '../../../src/clock.js';
import { loadConfig } from '../../../src/config/load.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { PolicyEngine } from '../../../src/policy/engine.js';
import { compileLimits, formatDuration, levelReached } from '../../../src/policy/kinds/duration.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import type { CallFacts } from '../../../src/policy/types.js';
import { packagePath } from '../../../src/paths.js';
import { rateTableFromConfig } from '../../../src/rates/index.js';
import { replayTranscript } from '../../../src/replay.js';
import { deriveTranscript } from '../../../src/sim/derive.js';
import { parseTranscript } from '../../../src/sim/transcript.js';
import { fixturePath } from '../../helpers/fixtures.js';

const CUBA = 'ami/intl-call-cuba.timestamped.ami';
const { config } = loadConfig({ file: fixturePath('lab-config.yaml'), env: {} });
const classifier = createClassifier({ numbering: config.numbering, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const rates = rateTableFromConfig(config.rates);

function policyFrom(body: string) {
  const { policy, issues } = parsePolicy(`id: duration-test\nkind: duration\ndescription: test\n${body}`, 'duration-test.yaml');
  if (!policy) throw new Error(issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`).join('; '));
  return policy;
}

function replay(policyBody: string, transcript: string | Buffer) {
  return replayTranscript(transcript, { trunks: config.trunks, policies: [policyFrom(policyBody)], classifier, rates, mode: 'enforce', timezone: 'UTC' });
}

/** The Cuba call to `number`, paused `seconds` once both legs are in the bridge. */
const heldCall = (number: string, seconds: number) =>
  deriveTranscript({ steps: [{ from: CUBA, start: '2026-11-24T10:00:00Z', replace: { '011535551234': number }, hold: { afterEvent: 'BridgeEnter', occurrence: 2, seconds } }] }, fixturePath());
/** In the derived calls the carrier answers at 10:00:01.500; ticks fall on whole seconds. */
const ANSWERED = Date.parse('2026-11-24T10:00:01.500Z');
const firstTickAfter = (seconds: number) => new Date(Math.ceil((ANSWERED + seconds * 1000) / 1000) * 1000).toISOString();
const summary = (result: ReturnType<typeof replay>) => result.findings.map((finding) => ({ level: finding.level, at: new Date(finding.at).toISOString(), actions: finding.actions, limit: finding.evidence.limit }));

describe('threshold maths', () => {
  const limit = { maxDuration: 14_400, warnAfter: 3600 };

  test('levelReached: nothing, then warn, then limit (thresholds inclusive)', () => {
    expect(levelReached(0, limit)).toBeUndefined();
    expect(levelReached(3599.999, limit)).toBeUndefined();
    expect(levelReached(3600, limit)).toBe('warn');
    expect(levelReached(14_399.9, limit)).toBe('warn');
    expect(levelReached(14_400, limit)).toBe('limit');
    expect(levelReached(100_000, limit)).toBe('limit');
    expect(levelReached(3600, { maxDuration: 7200 })).toBeUndefined();
  });

  test('formatDuration for messages', () => {
    expect([0, 20, 59.9, 90, 3600, 5400, 14_402, 86_400].map(formatDuration)).toEqual(['0s', '20s', '59s', '1m 30s', '1h', '1h 30m', '4h 00m 02s', '24h']);
  });

  test('the first limit whose destination matches wins; a limit without one takes every call', () => {
    const limitFor = compileLimits([
      { destination: { minRisk: 'high' }, maxDuration: 1800 },
      { destination: { scopes: ['international'] }, maxDuration: 14_400 },
      { maxDuration: 7200 },
    ]);
    const facts = (number: string) => ({ classification: classifier.classify(number) }) as CallFacts;
    expect(limitFor(facts('011535551234'))?.number).toBe(1); // Cuba: international and high risk
    expect(limitFor(facts('011442079460000'))?.number).toBe(2); // a London landline
    expect(limitFor(facts('12125550123'))?.number).toBe(3); // national
    expect(limitFor({} as CallFacts)?.number).toBe(3); // no number at all
    expect(compileLimits([{ destination: { scopes: ['international'] }, maxDuration: 60 }])(facts('12125550123'))).toBeUndefined();
  });
});

describe('on replayed calls', () => {
  test('seconds are answered time, judged on whole-second ticks, each level once (the real 20 s call)', () => {
    // Answered 11:04:25.761: 10 s of talk on the 11:04:36 tick, 15 s on the 11:04:41 tick.
    const result = replay('limits:\n  - { warnAfter: 10s, maxDuration: 15s }\nactions: [alert, hangup]\n', readFileSync(fixturePath(CUBA)));
    expect(summary(result)).toEqual([
      { level: 'warn', at: '2026-11-21T11:04:36.000Z', actions: ['alert'], limit: 1 },
      { level: 'limit', at: '2026-11-21T11:04:41.000Z', actions: ['alert', 'hangup'], limit: 1 },
    ]);
    expect(result.findings[1]!.message).toBe('1001 → 011535551234 (CU, critical risk) has lasted 15s since it was answered: over the 15s maximum of limit 1 (every call), policy duration-test');
    expect(result.decisions.map((decision) => `${decision.level}:${decision.action}`)).toEqual(['warn:alert', 'limit:alert', 'limit:hangup']);
  });

  test('ringing does not count: time runs from the answer, not from the start of the call', () => {
    // The last tick before the hang-up (11:04:45.769) is 11:04:45: 19.55 s after the call started
    // (11:04:25.449), 19.24 s after the answer (11:04:25.761). A 19.4 s limit is not reached.
    const transcript = readFileSync(fixturePath(CUBA));
    expect(replay('limits:\n  - { maxDuration: 19.4s }\n', transcript).findings).toEqual([]);
    expect(summary(replay('limits:\n  - { maxDuration: 19.2s }\n', transcript))).toEqual([{ level: 'limit', at: '2026-11-21T11:04:45.000Z', actions: ['alert'], limit: 1 }]);
  });

  describe('first matching limit per destination class', () => {
    const policy = [
      'limits:',
      '  - { destination: { minRisk: high }, warnAfter: 10m, maxDuration: 30m, actions: [alert, hangup] }',
      '  - { destination: { scopes: [international] }, maxDuration: 4h }',
      '  - { maxDuration: 2h, actions: [alert] }',
      'actions: [alert, hangup]',
      '',
    ].join('\n');

    test('high risk (Cuba, held 1 h): warned at 10 min, hung up at 30 min', () => {
      expect(summary(replay(policy, heldCall('011535551234', 3600)))).toEqual([
        { level: 'warn', at: firstTickAfter(600), actions: ['alert'], limit: 1 },
        { level: 'limit', at: firstTickAfter(1800), actions: ['alert', 'hangup'], limit: 1 },
      ]);
      expect(firstTickAfter(1800)).toBe('2026-11-24T10:30:02.000Z');
    });

    test('an ordinary international call held 3 h is under its own 4 h limit: the 2 h catch-all does not apply to it', () => {
      expect(replay(policy, heldCall('011442079460000', 3 * 3600)).findings).toEqual([]);
    });

    test('a national call held 3 h reaches the catch-all at 2 h, which only alerts', () => {
      expect(summary(replay(policy, heldCall('12125550123', 3 * 3600)))).toEqual([{ level: 'limit', at: firstTickAfter(7200), actions: ['alert'], limit: 3 }]);
    });
  });

  test('match and exceptions apply to every limit', () => {
    const body = 'limits:\n  - { maxDuration: 15s }\nexceptions:\n  - { reason: the lab phone, endpoints: ["1001"] }\n';
    expect(replay(body, readFileSync(fixturePath(CUBA))).findings).toEqual([]);
  });
});

describe('a call already past its limit when the policy first sees it (after a restart or a reload)', () => {
  test('gets the limit finding only, once', () => {
    const clock = new ManualClock();
    const table = new CallTable({ trunks: new TrunkRegistry(config.trunks) });
    const tracker = new CallTracker({ table, clock });
    // Feed the Cuba call up to the bridge: answered, up, not hung up.
    const entries = parseTranscript(readFileSync(fixturePath(CUBA)));
    const bridged = entries.findIndex((entry, index) => entry.message.name === 'BridgeEnter' && entries[index - 1]?.message.name === 'BridgeEnter');
    for (const entry of entries.slice(0, bridged + 1)) {
      clock.advanceTo(Math.round(entry.time));
      tracker.ingest(entry.message, clock.now());
    }
    const call = table.liveCalls()[0]!;
    expect(call.answeredAt).toBeDefined();
    const engine = new PolicyEngine({ policies: [policyFrom('limits:\n  - { warnAfter: 1h, maxDuration: 4h }\n')], classifier, rates, clock });
    clock.advanceTo(call.answeredAt! + 5 * 3600_000);
    expect(engine.evaluate({ type: 'tick' }, table).findings.map((finding) => [finding.level, finding.evidence.answeredSeconds])).toEqual([['limit', 18_000]]);
    clock.advanceBy(1000);
    expect(engine.evaluate({ type: 'tick' }, table).findings).toEqual([]);
    // Events are not ticks: the kind judges on ticks only.
    expect(engine.evaluate({ type: 'reconciled', changes: [] }, table).findings).toEqual([]);
  });
});

describe('duration policy files', () => {
  const issues = (body: string) => parsePolicy(`id: d\nkind: duration\ndescription: test\n${body}`, 'd.yaml').issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`);

  test('a valid file: durations in seconds', () => {
    expect(policyFrom('limits:\n  - { destination: { scopes: [international] }, warnAfter: 1h, maxDuration: 4h, actions: [alert] }\n').definition).toMatchObject({
      limits: [{ destination: { scopes: ['international'] }, warnAfter: 3600, maxDuration: 14_400, actions: ['alert'] }],
    });
  });

  test('every mistake names its line and key', () => {
    expect(issues('limits: []\n')).toEqual(['4: limits: at least one limit, e.g. { destination: { scopes: [international] }, maxDuration: 4h }']);
    expect(issues('limits:\n  - { warnAfter: 4h, maxDuration: 4h }\n')).toEqual(['5: limits[0].warnAfter: must be shorter than maxDuration: the warning comes before the limit']);
    expect(issues('limits:\n  - { maxDuration: 4 hours }\n')).toEqual(['5: limits[0].maxDuration: "4 hours" is not a duration: write seconds or a number with s, m, h or d (e.g. 90s, 15m, 2h)']);
    expect(issues('limits:\n  - { warnAfter: 1h }\n')[0]).toMatch(/^5: limits\[0\]\.maxDuration: /);
    expect(issues('limits:\n  - { maxDuration: 4h, actions: [explode] }\n')[0]).toMatch(/^5: limits\[0\]\.actions\[0\]: /);
    expect(issues('limits:\n  - { maxDuration: 4h, destination: { scope: [international] } }\n')[0]).toMatch(/^5: limits\[0\]\.destination\.scope: unknown key — did you mean "scopes"\?/);
    expect(issues('limits:\n  - { maxDuration: 8h }\n  - { destination: { scopes: [international] }, maxDuration: 4h }\n')).toEqual([
      '6: limits[1]: never applies: limit 1 has no destination, so it takes every call (the first matching limit wins; put catch-alls last)',
    ]);
  });
});
