/**
 * Detection cost: every shipped policy loaded, synthetic calls in the exact event shape of the real
 * captures (src/sim/call-events.ts), fed through the whole pipeline — normaliser, call table,
 * policy engine, decider — measuring each event from "in" to "decisions out".
 */
import { AmiMessage } from '../ami/message.js';
import { CallTable, TrunkRegistry, type Leg } from '../calls/table.js';
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

/** An office's day: national landlines and mobiles, one call in ten to an ordinary foreign business. */
const LEGITIMATE = [
  '12125550123', '13105550147', '16175550199', '14155550100', '12025550143', '17185550110', '13125550168', '12155550181', '16465550100',
  '011442079460000',
];

/** What a hijacked PBX dials: Cuba, Somalia, UK premium, +882 satellite, US 900. */
const FRAUD = ['011535551234', '0112526155555', '00449098790123', '011882161234567', '19005550123', '0053721234567'];

interface Scenario {
  name: string;
  calls: number;
  /** New calls per second of event time. */
  callsPerSecond: number;
  endpoints: number;
  destinations: readonly string[];
  talkMs: (index: number) => number;
  /** A PBX this busy sets its own daily cap: the shipped 50.00 would close it by mid-morning. */
  dailyCap?: string;
}

export async function benchEngine(): Promise<void> {
  // TOLLGATE_BENCH_CALLS shortens a run (profiling); the default is what the README reports.
  const calls = Number(process.env.TOLLGATE_BENCH_CALLS) || 6000;
  const scenarios: Scenario[] = [
    {
      name: 'busy PBX, legitimate traffic: 10 new calls/s from 300 phones, 1–3 min calls',
      calls,
      callsPerSecond: 10,
      endpoints: 300,
      destinations: LEGITIMATE,
      talkMs: (index) => 60_000 + (index % 120) * 1000,
      dailyCap: '100000',
    },
    {
      name: 'toll-fraud flood: 1 000 new calls/s from 20 hijacked phones to IRSF ranges',
      calls,
      callsPerSecond: 1000,
      endpoints: 20,
      destinations: FRAUD,
      talkMs: (index) => 5000 + (index % 10) * 1000,
    },
  ];
  for (const scenario of scenarios) printSection(`policy engine — ${scenario.name}`, runScenario(scenario));
}

function runScenario(scenario: Scenario): BenchRow[] {
  const start = Date.parse('2026-11-23T09:00:00Z');
  const factory = new CallEventFactory(new AsteriskIds(() => start));
  const lists: TranscriptEntry[][] = [];
  for (let index = 0; index < scenario.calls; index++) {
    const script = factory.build({
      from: String(1001 + (index % scenario.endpoints)),
      // Each phone works through the list over the day (index % endpoints is the phone, the rest the round).
      to: scenario.destinations[((index % scenario.endpoints) * 7 + Math.floor(index / scenario.endpoints) * 3) % scenario.destinations.length]!,
      startAt: start + Math.floor((index * 1000) / scenario.callsPerSecond),
      talkMs: scenario.talkMs(index),
      ringMs: 200,
    });
    lists.push(script.entries);
  }
  // One sorted list (sort is stable: each call keeps its own event order at equal times).
  const entries = lists.flat().sort((a, b) => a.time - b.time);

  const policies = loadPoliciesOrThrow(packagePath('policies')).map((policy) =>
    scenario.dailyCap && policy.definition.id === 'daily-spend-cap' ? { ...policy, definition: { ...policy.definition, budget: Number(scenario.dailyCap) * 1_000_000 } } : policy,
  );
  const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
  const rates = loadRateTable(packagePath('config', 'rates.example.csv'));
  const clock = new ManualClock(start);
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  const tracker = new CallTracker({ table, clock });
  const engine = new PolicyEngine({ policies, classifier, rates, clock, locks: new LockTable(), environment: { timezone: 'UTC' } });
  const pipeline = new Pipeline({ tracker, engine, decider: new Decider(), clock });
  let findings = 0;
  let decisions = 0;
  const byPolicy = new Map<string, number>();
  // Enforced hang-ups take effect as on a live PBX: Asterisk ends the call's channels (Hangup events,
  // cause 21) and the call's later events never happen.
  const hungUp = new Set<string>();
  const pendingHangups: AmiMessage[] = [];
  pipeline.onResult((result) => {
    findings += result.findings.length;
    decisions += result.decisions.length;
    for (const finding of result.findings) byPolicy.set(finding.policy, (byPolicy.get(finding.policy) ?? 0) + 1);
    for (const decision of result.decisions) {
      if (decision.action !== 'hangup' || decision.mode !== 'enforce' || !decision.target.linkedid || hungUp.has(decision.target.linkedid)) continue;
      hungUp.add(decision.target.linkedid);
      const call = table.getCall(decision.target.linkedid);
      for (const leg of call?.liveLegs ?? []) pendingHangups.push(hangupEvent(leg));
    }
  });

  const latencies: number[] = [];
  const tickLatencies: number[] = [];
  let peakLive = 0;
  let lastTick = start;
  const wallStart = process.hrtime.bigint();
  for (const entry of entries) {
    while (lastTick + 1000 <= entry.time) {
      lastTick += 1000;
      clock.advanceTo(lastTick);
      const tickStart = process.hrtime.bigint();
      pipeline.tick();
      tickLatencies.push(Number(process.hrtime.bigint() - tickStart) / 1000);
    }
    clock.advanceTo(entry.time);
    if (hungUp.has(entry.message.get('Linkedid') ?? entry.message.get('DestLinkedid') ?? '')) continue;
    const queue = [entry.message];
    while (queue.length > 0) {
      const eventStart = process.hrtime.bigint();
      tracker.ingest(queue.shift()!, clock.now());
      latencies.push(Number(process.hrtime.bigint() - eventStart) / 1000);
      queue.push(...pendingHangups.splice(0));
    }
    if (table.liveCallCount > peakLive) peakLive = table.liveCallCount;
  }
  const wallSeconds = Number(process.hrtime.bigint() - wallStart) / 1e9;
  const samples = latencies;
  const micro = (value: number) => `${value.toFixed(1)} µs`;
  return [
    { name: 'policies loaded', value: `${policies.length} shipped (${[...new Set(policies.map((policy) => policy.definition.kind))].join(', ')})${scenario.dailyCap ? `; daily cap set to ${scenario.dailyCap}` : ''}` },
    { name: 'calls / AMI events', value: `${scenario.calls.toLocaleString('en-US')} / ${latencies.length.toLocaleString('en-US')} (peak ${peakLive.toLocaleString('en-US')} live calls; ${hungUp.size.toLocaleString('en-US')} calls hung up by decisions)` },
    { name: 'throughput', value: `${Math.round(latencies.length / wallSeconds).toLocaleString('en-US')} events/s, ${Math.round(scenario.calls / wallSeconds).toLocaleString('en-US')} calls/s (target ≥ 1 000 calls/s)` },
    { name: 'event in → decisions out', value: `p50 ${micro(percentile(samples, 50))}, p99 ${micro(percentile(samples, 99))}, max ${micro(samples.reduce((max, value) => Math.max(max, value), 0))} (target p99 ≤ 1 ms)` },
    { name: 'evaluation cost per event', value: micro((wallSeconds * 1e6) / latencies.length) },
    { name: 'one-second tick', value: tickLatencies.length > 0 ? `p50 ${micro(percentile(tickLatencies, 50))}, p99 ${micro(percentile(tickLatencies, 99))} (${tickLatencies.length} ticks)` : 'no ticks' },
    { name: 'findings / decisions', value: `${findings.toLocaleString('en-US')} / ${decisions.toLocaleString('en-US')}` },
    { name: 'findings by policy', value: [...byPolicy].sort((a, b) => b[1] - a[1]).map(([policy, count]) => `${policy} ${count}`).join(', ') || 'none' },
    { name: 'heap used after', value: `${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB` },
  ];
}

/** The Hangup event Asterisk sends for a channel Tollgate hung up (Cause 21, as in the captures). */
function hangupEvent(leg: Leg): AmiMessage {
  return AmiMessage.from({
    Event: 'Hangup',
    Privilege: 'call,all',
    Channel: leg.channel,
    ChannelState: String(leg.state),
    ChannelStateDesc: leg.stateDesc,
    CallerIDNum: leg.callerIdNum ?? '<unknown>',
    Context: leg.context,
    Exten: leg.exten,
    Uniqueid: leg.uniqueid,
    Linkedid: leg.linkedid,
    Cause: '21',
    'Cause-txt': 'Call Rejected',
  });
}
