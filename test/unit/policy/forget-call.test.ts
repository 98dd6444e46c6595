/**
 * What is kept per call (what each policy judged, counted or fired for it, the decider's hang-ups)
 * goes when the call table forgets the ended call, not a day later: a busy PBX otherwise carries a
 * hundred thousand such entries per policy for calls long over. Real captures, every shipped policy.
 */
import { EventTimeline } from '../../../src/calls/event-time.js';
import { CallTable, TrunkRegistry } from '../../../src/calls/table.js';
import { CallTracker } from '../../../src/calls/tracker.js';
import { ManualClock } from '../../../src/clock.js';
import { Decider } from '../../../src/decide/decider.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { packagePath } from '../../../src/paths.js';
import { Pipeline } from '../../../src/pipeline.js';
import { PolicyEngine } from '../../../src/policy/engine.js';
import { loadPoliciesOrThrow, parsePolicy } from '../../../src/policy/loader.js';
import type { LoadedPolicy } from '../../../src/policy/engine.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { ReplayTicker } from '../../../src/replay.js';
import { deriveTranscript } from '../../../src/sim/derive.js';
import { parseTranscript } from '../../../src/sim/transcript.js';
import { fixturePath } from '../../helpers/fixtures.js';

const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));
const CALLS = 8;

/** The real Cuba call (answered, 20 s of talk), CALLS times a minute apart from Wednesday 2026-12-02 `hour`:00 UTC, each with its own ids. */
function cubaCalls(hour: number): string {
  return deriveTranscript(
    { steps: Array.from({ length: CALLS }, (_, index) => ({ from: 'intl-call-cuba.timestamped.ami', start: new Date(Date.UTC(2026, 11, 2, hour, index)).toISOString(), idOffset: index * 100 })) },
    fixturePath('ami'),
  );
}

function policy(text: string): LoadedPolicy {
  const { policy: loaded, issues } = parsePolicy(text, 'test.yaml');
  if (!loaded) throw new Error(JSON.stringify(issues));
  return loaded;
}

/** The kinds that keep per-call state and have no shipped policy that fires on these calls. */
const OTHER_KINDS = [
  policy('id: night\nkind: time-window\ndescription: test\nmatch: { direction: [outbound], destination: { scopes: [international] } }\nallow: [{ days: [mon-fri], from: "08:00", to: "19:00" }]\nactions: [alert]\n'),
  policy('id: short\nkind: duration\ndescription: test\nmatch: { direction: [outbound] }\nlimits: [{ warnAfter: 5s, maxDuration: 10s }]\nactions: [alert]\n'),
];

function run(recentCallLimit: number, options: { hour?: number; policies?: LoadedPolicy[] } = {}) {
  const clock = new ManualClock();
  const timeline = new EventTimeline(clock);
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']), recentCallLimit });
  const tracker = new CallTracker({ table, clock });
  const engine = new PolicyEngine({ policies: options.policies ?? loadPoliciesOrThrow(packagePath('policies')), classifier, rates, clock, environment: { timezone: 'UTC' } });
  const decider = new Decider({ mode: 'enforce' });
  const pipeline = new Pipeline({ tracker, engine, decider, clock });
  const started: string[] = [];
  const forgotten: string[] = [];
  const findings: string[] = [];
  pipeline.onResult((result) => {
    for (const change of result.changes) {
      if (change.kind === 'call.started') started.push(change.call.linkedid);
      if (change.kind === 'call.forgotten') forgotten.push(change.call.linkedid);
    }
    findings.push(...result.findings.map((finding) => `${finding.policy} ${finding.call?.linkedid ?? ''}`));
  });
  // As replay does: a tick each second while a call is up (durations are judged on ticks).
  const ticker = new ReplayTicker(clock, table, () => pipeline.tick());
  for (const entry of parseTranscript(cubaCalls(options.hour ?? 10))) {
    ticker.until(timeline.explicitTime(entry.message));
    tracker.ingest(entry.message, timeline.timeOf(entry.message));
  }
  const now = clock.now();
  const snapshot = engine.snapshot(now);
  return { table, started, forgotten, findings, policies: JSON.stringify(snapshot.policies), condemned: JSON.stringify(snapshot.condemned), hangups: JSON.stringify(decider.snapshot(now).hangups) };
}

describe('per-call state goes with the call the table forgets', () => {
  test('the table forgets the oldest ended calls beyond its limit, each once, in the order they ended', () => {
    const { started, forgotten, table } = run(3);
    expect(started).toHaveLength(CALLS);
    expect(forgotten).toEqual(started.slice(0, CALLS - 3));
    for (const linkedid of forgotten) expect(table.getCall(linkedid)).toBeUndefined();
    for (const linkedid of started.slice(CALLS - 3)) expect(table.getCall(linkedid)).toBeDefined();
  });

  test("a forgotten call is in no policy's checkpoint and not among the decider's hang-ups; the calls still remembered are", () => {
    const { started, forgotten, policies, condemned, hangups } = run(3);
    expect(forgotten.length).toBeGreaterThan(0);
    for (const linkedid of forgotten) {
      expect(policies).not.toContain(linkedid);
      expect(hangups).not.toContain(linkedid);
    }
    const last = started[CALLS - 1]!;
    expect(policies).toContain(last);
    expect(hangups).toContain(`enforce:${last}`);
    // What an endpoint did is history, not state of the call: its hung-up calls count against it for their window.
    for (const linkedid of started) expect(condemned).toContain(linkedid);
  });

  test('the same for the kinds no shipped policy fires here: a time window at night, a duration limit', () => {
    const { started, forgotten, policies, findings } = run(3, { hour: 22, policies: OTHER_KINDS });
    expect(findings.filter((finding) => finding.startsWith('night '))).toHaveLength(CALLS);
    expect(findings.filter((finding) => finding.startsWith('short '))).toHaveLength(CALLS * 2);
    for (const linkedid of forgotten) expect(policies).not.toContain(linkedid);
    // What is left is keyed by the calls still remembered: the time window judges per number reached, the duration per level.
    const state = JSON.parse(policies) as Record<string, { state: Record<string, [string, unknown, number][]> }>;
    const remembered = started.slice(CALLS - 3);
    const callOf = (key: string) => key.split('|')[0]!;
    expect(new Set(state.night!.state.judged!.map(([key]) => callOf(key)))).toEqual(new Set(remembered));
    expect(new Set(state.night!.state.fired!.map(([key]) => key))).toEqual(new Set(remembered));
    expect(state.short!.state.fired!.map(([key]) => key).sort()).toEqual(remembered.flatMap((linkedid) => [`${linkedid}|limit`, `${linkedid}|warn`]).sort());
  });

  test('forgetting changes no finding: the same findings, call by call, as with the default limit', () => {
    const small = run(3);
    const usual = run(2000);
    expect(usual.forgotten).toEqual([]);
    expect(small.findings.length).toBeGreaterThan(CALLS);
    expect(small.findings).toEqual(usual.findings);
  });
});
