/**
 * Detection state survives a restart: every recorded policy case is replayed once straight through
 * and once "restarted" at several points between calls — the engine, decider and address memory
 * snapshotted, the snapshot sent through JSON (as the store keeps it), and a fresh stack built and
 * restored from it, the way main.ts does at start. Findings and decisions must be identical (event
 * time: nothing moves between the two runs). Without the restore, the split runs differ: the
 * snapshot is what carries the attack across.
 */
import { EndpointProfiles, type ProfileDay, type ProfileValue } from '../../../src/profile/profile.js';
import { userAgentListFor } from '../../../src/profile/user-agents.js';
import { EventTimeline } from '../../../src/calls/event-time.js';
import { CallTable, TrunkRegistry } from '../../../src/calls/table.js';
import { CallTracker } from '../../../src/calls/tracker.js';
import { ManualClock } from '../../../src/clock.js';
import { Decider, snapshotIncident, type Decision, type IncidentSnapshot } from '../../../src/decide/decider.js';
import { LockTable } from '../../../src/decide/locks.js';
import { caseCaptures, caseClassifier, caseConfig, caseLocks, loadCasePolicy, policyCaseDirs, SHIPPED_POLICIES_DIR } from '../../../src/corpus/cases.js';
import { PolicyEngine, type LoadedPolicy } from '../../../src/policy/engine.js';
import { loadPoliciesOrThrow } from '../../../src/policy/loader.js';
import type { CostEntry, Finding } from '../../../src/policy/types.js';
import { Pipeline } from '../../../src/pipeline.js';
import { AddressMemory, type AddressRecord } from '../../../src/profile/addresses.js';
import { rateTableFromConfig } from '../../../src/rates/index.js';
import { ReplayTicker } from '../../../src/replay.js';
import { parseTranscript, type TranscriptEntry } from '../../../src/sim/transcript.js';
import { DetectionState } from '../../../src/store/detection-state.js';
import { Store } from '../../../src/store/store.js';
import { silentLogger } from '../../../src/log.js';
import { until } from '../../helpers/wait.js';
import type { TollgateConfig } from '../../../src/config/schema.js';
import type { Classifier } from '../../../src/numbers/index.js';

interface Run {
  findings: string[];
  decisions: string[];
}

/** What the store would hold across a restart: incidents with decisions, costs, locks, addresses. */
interface Persisted {
  incidents: Map<string, IncidentSnapshot>;
  costs: CostEntry[];
  addresses: AddressRecord[];
  locks: LockTable;
  since: number | undefined;
  profileValues: Map<string, ProfileValue>;
  profileDays: Map<string, ProfileDay>;
  profilesSince: number | undefined;
}

interface Setting {
  policies: () => LoadedPolicy[];
  config: TollgateConfig;
  classifier: Classifier;
  locks: ReturnType<typeof caseLocks>;
}

/** Replays `entries`; at each index in `restartAt` the whole detection stack is rebuilt (restored from a JSON snapshot unless `restore` is false). */
function replay(entries: readonly TranscriptEntry[], setting: Setting, restartAt: ReadonlySet<number>, restore = true): Run {
  const clock = new ManualClock();
  const timeline = new EventTimeline(clock);
  const table = new CallTable({ trunks: new TrunkRegistry(setting.config.trunks) });
  const tracker = new CallTracker({ table, clock });
  const persisted: Persisted = { incidents: new Map(), costs: [], addresses: [], locks: new LockTable(), since: undefined, profileValues: new Map(), profileDays: new Map(), profilesSince: undefined };
  for (const lock of setting.locks) persisted.locks.lock(lock);
  const run: Run = { findings: [], decisions: [] };

  const build = (snapshot?: string) => {
    const addresses = new AddressMemory();
    addresses.restore(persisted.addresses, persisted.since);
    // Habits persist through their own tables (saved in batches, restored at start), as the agent does.
    const profiles = new EndpointProfiles({ timezone: setting.config.timezone, scanners: userAgentListFor(setting.config) });
    profiles.restore(persisted.profileValues.values(), persisted.profileDays.values(), persisted.profilesSince);
    const engine = new PolicyEngine({ policies: setting.policies(), classifier: setting.classifier, rates: rateTableFromConfig(setting.config.rates), clock, locks: persisted.locks, addresses, profiles, environment: { timezone: setting.config.timezone } });
    engine.restoreCosts(persisted.costs);
    const decider = new Decider({ mode: 'enforce' });
    decider.restore([...persisted.incidents.values()].filter((incident) => incident.lastAt >= clock.now() - 30 * 60_000));
    if (snapshot) {
      const parts = JSON.parse(snapshot) as { engine: Parameters<PolicyEngine['restore']>[0]; decider: Parameters<Decider['restoreSnapshot']>[0]; addresses: Parameters<AddressMemory['restoreRecent']>[0] };
      engine.restore(parts.engine, clock.now());
      decider.restoreSnapshot(parts.decider, clock.now());
      addresses.restoreRecent(parts.addresses);
    }
    const pipeline = new Pipeline({ tracker, engine, decider, clock });
    pipeline.onResult((result) => {
      run.findings.push(...result.findings.map(describeFinding));
      run.decisions.push(...result.decisions.map(describeDecision));
      persisted.costs.push(...result.committed);
      persisted.addresses.push(...addresses.drainChanges());
      persisted.since = addresses.since;
      const habits = profiles.drainChanges();
      for (const value of habits.values) persisted.profileValues.set(`${value.endpoint}|${value.facet}|${value.value}`, value);
      for (const day of habits.days) persisted.profileDays.set(`${day.endpoint}|${day.day}`, day);
      persisted.profilesSince = profiles.since;
      for (const decision of result.decisions) {
        const incident = decider.incidentById(decision.incident);
        if (incident) persisted.incidents.set(incident.id, snapshotIncident(incident));
        if (decision.action === 'lock' && decision.target.endpoint) persisted.locks.lock({ endpoint: decision.target.endpoint, since: decision.at, reason: decision.finding.message, policy: decision.policy });
      }
    });
    return { engine, decider, addresses, pipeline };
  };

  let stack = build();
  // Ticks while calls are up, as the agent's timer (and tollgate replay) does.
  const ticker = new ReplayTicker(clock, table, () => stack.pipeline.tick());
  entries.forEach((entry, index) => {
    if (restartAt.has(index)) {
      const snapshot = JSON.stringify({ engine: stack.engine.snapshot(clock.now()), decider: stack.decider.snapshot(clock.now()), addresses: stack.addresses.snapshotRecent() });
      stack.pipeline.close();
      stack = build(restore ? snapshot : undefined);
    }
    ticker.until(timeline.explicitTime(entry.message));
    tracker.ingest(entry.message, timeline.timeOf(entry.message));
  });
  return run;
}

function describeFinding(finding: Finding): string {
  return `${new Date(finding.at).toISOString()} ${finding.policy} ${finding.level} ${finding.scope} ${finding.message}`;
}

function describeDecision(decision: Decision): string {
  return `${decision.id} ${decision.action}${decision.followUp ? ' (follow-up)' : ''} ${JSON.stringify(decision.target)}`;
}

/** Up to `count` event indexes, spread over the transcript, at which no call is up (a restart mid-call is restart.test.ts's subject). */
function quietPoints(entries: readonly TranscriptEntry[], config: TollgateConfig, count: number): number[] {
  const clock = new ManualClock();
  const timeline = new EventTimeline(clock);
  const table = new CallTable({ trunks: new TrunkRegistry(config.trunks) });
  const tracker = new CallTracker({ table, clock });
  const quiet: number[] = [];
  entries.forEach((entry, index) => {
    if (index > 0 && table.liveCallCount === 0) quiet.push(index);
    tracker.ingest(entry.message, timeline.timeOf(entry.message));
  });
  if (quiet.length <= count) return quiet;
  return Array.from({ length: count }, (_, i) => quiet[Math.floor(((i + 1) * quiet.length) / (count + 1))]!);
}

const shippedPolicies = loadPoliciesOrThrow(SHIPPED_POLICIES_DIR);
const shipped = (): LoadedPolicy[] => shippedPolicies;
const cases = policyCaseDirs().flatMap((dir) => dir.cases.map((testCase) => ({ dir, testCase, name: `${dir.id}: ${testCase.description.split(/[.:]/)[0]!.slice(0, 80)}` })));

/** Classifiers by numbering plan: building one reads the risk lists. */
const classifiers = new Map<string, Classifier>();
function classifierOf(config: TollgateConfig): Classifier {
  const key = JSON.stringify(config.numbering);
  let classifier = classifiers.get(key);
  if (!classifier) classifiers.set(key, (classifier = caseClassifier(config)));
  return classifier;
}

describe.each(cases)('$name', ({ dir, testCase }) => {
  const config = caseConfig(testCase);
  const classifier = classifierOf(config);
  const entries = caseCaptures(testCase).flatMap((capture) => parseTranscript(capture));
  const restarts = new Set(quietPoints(entries, config, 3));

  // The shipped set, and the case's own policy when it is not one of them.
  const policies = dir.shipped ? shippedPolicies : [...shippedPolicies, loadCasePolicy(dir)];

  test('restarted between calls: the same findings and decisions as straight through', () => {
    const setting: Setting = { policies: () => policies, config, classifier, locks: caseLocks(testCase) };
    const straight = replay(entries, setting, new Set());
    expect(replay(entries, setting, restarts)).toEqual(straight);
  });
});

test('without the snapshot a restart mid-scan loses the compromise: the snapshot is what carries it', () => {
  const dir = policyCaseDirs().find((candidate) => candidate.id === 'account-compromise')!;
  const testCase = dir.cases.find((candidate) => candidate.transcript === 'derived-guessed-then-calls.ami')!;
  const config = caseConfig(testCase);
  const setting: Setting = { policies: () => [loadCasePolicy(dir)], config, classifier: caseClassifier(config), locks: [] };
  const entries = caseCaptures(testCase).flatMap((capture) => parseTranscript(capture));
  // Three quarters through the scan's failures for 1001: fewer than failuresBefore (10) are left after the restart.
  const failures = entries.flatMap((entry, index) => (entry.message.get('Event') === 'ChallengeResponseFailed' && entry.message.get('AccountID') === '1001' ? [index] : []));
  const midScan = new Set([failures[Math.floor((failures.length * 3) / 4)]!]);

  const straight = replay(entries, setting, new Set());
  expect(straight.findings.map((finding) => finding.split(' ').slice(1, 3).join(' '))).toEqual(['account-compromise compromise', 'account-compromise call-after-compromise']);
  expect(replay(entries, setting, midScan)).toEqual(straight);
  expect(replay(entries, setting, midScan, false).findings).toEqual([]);
});

test('the checkpointer writes every part in one row each and a fresh agent reads them back', () => {
  const store = new Store(':memory:');
  const clock = new ManualClock(Date.parse('2026-11-21T11:00:00Z'));
  const config = caseConfig({});
  const classifier = caseClassifier(config);
  const make = () => {
    const addresses = new AddressMemory({ since: clock.now() - 86_400_000 * 30 });
    const engine = new PolicyEngine({ policies: shipped(), classifier, rates: rateTableFromConfig(config.rates), clock, addresses });
    const decider = new Decider();
    return { engine, decider, addresses, state: new DetectionState({ store, engine, decider, addresses, clock, logger: silentLogger }) };
  };
  const first = make();
  const table = new CallTable({ trunks: new TrunkRegistry(config.trunks) });
  const tracker = new CallTracker({ table, clock });
  const pipeline = new Pipeline({ tracker, engine: first.engine, decider: first.decider, clock });
  const failure = (n: number) =>
    parseTranscript(`Event: ChallengeResponseFailed\r\nEventTV: 2026-11-21T11:00:0${n}.000+0000\r\nSeverity: Error\r\nService: PJSIP\r\nAccountID: 1001\r\nSessionID: s${n}\r\nRemoteAddress: IPV4/UDP/203.0.113.9/5060\r\nChallenge: x\r\nResponse: y\r\nExpectedResponse: z\r\n\r\n`)[0]!;
  for (let n = 0; n < 5; n++) tracker.ingest(failure(n).message, clock.now());
  pipeline.close();

  first.state.save();
  const saved = store.detectionState();
  expect([...saved.keys()].sort()).toEqual(['addresses', 'decider', 'engine']);
  expect(first.state.stats).toMatchObject({ saves: 1, failures: 0 });
  expect(first.state.stats.lastBytes).toBeGreaterThan(0);

  const second = make();
  second.state.restore();
  const snapshot = (parts: ReturnType<typeof make>) => JSON.stringify({ engine: parts.engine.snapshot(clock.now()), decider: parts.decider.snapshot(clock.now()), addresses: parts.addresses.snapshotRecent() });
  expect(snapshot(second)).toEqual(snapshot(first));
  // The failures are there: five attempts from 203.0.113.9 in the compromise policy's run for 1001.
  expect(JSON.stringify(second.engine.snapshot(clock.now()).policies['account-compromise'])).toContain('203.0.113.9');
  store.close();
});

test('a flood: per-source state keeps its most recent sources, and the timer checkpoint works one policy per turn', async () => {
  const store = new Store(':memory:');
  const clock = new ManualClock(Date.parse('2026-11-21T11:00:00Z'));
  const config = caseConfig({});
  const addresses = new AddressMemory({ since: clock.now() - 86_400_000 * 30 });
  const engine = new PolicyEngine({ policies: shipped(), classifier: caseClassifier(config), rates: rateTableFromConfig(config.rates), clock, addresses });
  const table = new CallTable({ trunks: new TrunkRegistry(config.trunks) });
  const tracker = new CallTracker({ table, clock });
  const pipeline = new Pipeline({ tracker, engine, decider: new Decider(), clock });
  // 5 000 scanning addresses, one refused attempt each.
  for (let n = 0; n < 5000; n++) {
    clock.advanceBy(10);
    const address = `2001:db8::${n.toString(16)}`;
    tracker.ingest(parseTranscript(`Event: InvalidAccountID\r\nSeverity: Error\r\nService: PJSIP\r\nAccountID: ${100 + n}\r\nSessionID: s${n}\r\nRemoteAddress: IPV6/UDP/${address}/5060\r\nLocalAddress: IPV4/UDP/198.51.100.1/5060\r\n\r\n`)[0]!.message, clock.now());
  }
  pipeline.close();
  const state = new DetectionState({ store, engine, decider: new Decider(), addresses, clock, logger: silentLogger });
  state.start();
  state.saveSoon();
  await until(() => state.stats.saves === 1, 'the sliced checkpoint', 5000);
  state.stop();
  expect(state.stats.lastBlockMs).toBeLessThanOrEqual(state.stats.lastMs);
  const saved = JSON.parse(store.detectionState().get('engine')!.state) as { policies: Record<string, { state: { sources: { newcomers: [string, unknown, number][] } } }> };
  // One attempt each: newcomers, all of them.
  const sources = saved.policies['sip-brute-force']!.state.sources.newcomers;
  // Bounded (a flood from a million addresses must not make a checkpoint of megabytes), and the
  // newest sources: the last address of the flood is there, the first is not.
  expect(sources.length).toBeGreaterThan(100);
  expect(sources.length).toBeLessThanOrEqual(1000);
  expect(sources.at(-1)![0]).toBe('2001:db8::1387');
  expect(sources.some(([key]) => key === '2001:db8::0')).toBe(false);
  store.close();
});
