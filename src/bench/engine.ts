/**
 * Detection cost: every shipped policy loaded, synthetic calls in the exact event shape of the real
 * captures (src/sim/call-events.ts), fed through the whole pipeline — normaliser, call table,
 * policy engine, decider — measuring each event from "in" to "decisions out".
 */
import { CallTable, TrunkRegistry } from '../calls/table.js';
import { CallTracker } from '../calls/tracker.js';
import { ManualClock } from '../clock.js';
import { Decider } from '../decide/decider.js';
import { LockTable } from '../decide/locks.js';
import { createClassifier, loadRiskLists } from '../numbers/index.js';
import { packagePath } from '../paths.js';
import { PolicyEngine } from '../policy/engine.js';
import { loadPoliciesOrThrow } from '../policy/loader.js';
import { Pipeline } from '../pipeline.js';
import { loadRateTable } from '../rates/index.js';
import { CallEventFactory } from '../sim/call-events.js';
import { AsteriskIds } from '../sim/ids.js';
import type { TranscriptEntry } from '../sim/transcript.js';
import { percentile, printSection, type BenchRow } from './report.js';

/** A realistic mix: mostly national calls, some international, a few fraud destinations. */
const DESTINATIONS = [
  '12125550123', '13105550147', '16175550199', '14155550100', '12025550143', '17185550110', '13125550168', '12155550181',
  '011442079460000', '011493012345678', '011331234567890', '0115255123456', '011447700900123',
  '011535551234', '0112526155555', '00449098790123', '011882161234567', '19005550123',
];

interface Scenario {
  name: string;
  calls: number;
  /** New calls per second of event time. */
  callsPerSecond: number;
  talkMs: (index: number) => number;
}

export async function benchEngine(): Promise<void> {
  // TOLLGATE_BENCH_CALLS shortens a run (profiling); the default is what the README reports.
  const calls = Number(process.env.TOLLGATE_BENCH_CALLS) || 6000;
  const scenarios: Scenario[] = [
    { name: 'busy PBX: 10 new calls/s, 1–3 min calls', calls, callsPerSecond: 10, talkMs: (index) => 60_000 + (index % 120) * 1000 },
    { name: 'flood: 1 000 new calls/s, 5–15 s calls', calls, callsPerSecond: 1000, talkMs: (index) => 5000 + (index % 10) * 1000 },
  ];
  for (const scenario of scenarios) printSection(`policy engine — ${scenario.name}`, runScenario(scenario));
}

function runScenario(scenario: Scenario): BenchRow[] {
  const start = Date.parse('2026-11-23T09:00:00Z');
  const factory = new CallEventFactory(new AsteriskIds(() => start));
  const lists: TranscriptEntry[][] = [];
  for (let index = 0; index < scenario.calls; index++) {
    const script = factory.build({
      from: String(1001 + (index % 50)),
      to: DESTINATIONS[(index * 7) % DESTINATIONS.length]!,
      startAt: start + Math.floor((index * 1000) / scenario.callsPerSecond),
      talkMs: scenario.talkMs(index),
      ringMs: 200,
    });
    lists.push(script.entries);
  }
  // One sorted list (sort is stable: each call keeps its own event order at equal times).
  const entries = lists.flat().sort((a, b) => a.time - b.time);

  const policies = loadPoliciesOrThrow(packagePath('policies'));
  const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
  const rates = loadRateTable(packagePath('config', 'rates.example.csv'));
  const clock = new ManualClock(start);
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  const tracker = new CallTracker({ table, clock });
  const engine = new PolicyEngine({ policies, classifier, rates, clock, locks: new LockTable(), environment: { timezone: 'UTC' } });
  const pipeline = new Pipeline({ tracker, engine, decider: new Decider(), clock });
  let findings = 0;
  let decisions = 0;
  pipeline.onResult((result) => {
    findings += result.findings.length;
    decisions += result.decisions.length;
  });

  const latencies = new Float64Array(entries.length);
  const tickLatencies: number[] = [];
  let peakLive = 0;
  let lastTick = start;
  const wallStart = process.hrtime.bigint();
  entries.forEach((entry, index) => {
    while (lastTick + 1000 <= entry.time) {
      lastTick += 1000;
      clock.advanceTo(lastTick);
      const tickStart = process.hrtime.bigint();
      pipeline.tick();
      tickLatencies.push(Number(process.hrtime.bigint() - tickStart) / 1000);
    }
    clock.advanceTo(entry.time);
    const eventStart = process.hrtime.bigint();
    tracker.ingest(entry.message, clock.now());
    latencies[index] = Number(process.hrtime.bigint() - eventStart) / 1000;
    if (table.liveCallCount > peakLive) peakLive = table.liveCallCount;
  });
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  const samples = Array.from(latencies);
  const micro = (value: number) => `${value.toFixed(1)} µs`;
  return [
    { name: 'policies loaded', value: `${policies.length} (${[...new Set(policies.map((policy) => policy.definition.kind))].join(', ')})` },
    { name: 'calls / AMI events', value: `${scenario.calls.toLocaleString('en-US')} / ${entries.length.toLocaleString('en-US')} (peak ${peakLive.toLocaleString('en-US')} live calls)` },
    { name: 'throughput', value: `${Math.round(entries.length / wallSeconds).toLocaleString('en-US')} events/s, ${Math.round(scenario.calls / wallSeconds).toLocaleString('en-US')} calls/s (target ≥ 1 000 calls/s)` },
    { name: 'event in → decisions out', value: `p50 ${micro(percentile(samples, 50))}, p99 ${micro(percentile(samples, 99))}, max ${micro(samples.reduce((max, value) => Math.max(max, value), 0))} (target p99 ≤ 1 ms)` },
    { name: 'evaluation cost per event', value: micro((wallSeconds * 1e6) / entries.length) },
    { name: 'one-second tick', value: tickLatencies.length > 0 ? `p50 ${micro(percentile(tickLatencies, 50))}, p99 ${micro(percentile(tickLatencies, 99))} (${tickLatencies.length} ticks)` : 'no ticks' },
    { name: 'findings / decisions', value: `${findings.toLocaleString('en-US')} / ${decisions.toLocaleString('en-US')}` },
    { name: 'heap used after', value: `${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB` },
  ];
}
