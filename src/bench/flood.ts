/**
 * The whole agent end to end over TCP (createAgent: codec, client, normaliser, policies, decisions,
 * store, log at info), fed by the load generator (ami-load.ts) in its own process:
 * - a SIP scan: 1 000 000 failures, each from its own IPv6 address, as fast as the agent reads them
 *   (events/s, CPU per event, log lines, RSS after);
 * - busy call traffic: full recorded event sets of outbound calls, one in 50 refused;
 * - calls first: fraud calls during a paced scan, from their DialBegin written to the agent's
 *   Hangup action read (what the carrier would see).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig } from '../config/load.js';
import type { TollgateConfig } from '../config/schema.js';
import { createLogger } from '../log.js';
import { createAgent, type Agent } from '../main.js';
import { packagePath } from '../paths.js';
import { callTemplate, type LoadReport, type LoadSettings } from './ami-load.js';
import { percentile, printSection, type BenchRow } from './report.js';

// Smaller runs for development: BENCH_SCAN_ADDRESSES=100000 BENCH_CALLS=500 npm run bench agent.
const SCAN_ADDRESSES = Number(process.env.BENCH_SCAN_ADDRESSES) || 1_000_000;
const JUDGED_SCAN = Math.min(200_000, SCAN_ADDRESSES);
/** The parts, in the order they run; BENCH_AGENT=calls,mixed runs only those. */
const PART_NAMES = ['scan', 'judged', 'sustained', 'calls', 'mixed'];
const PARTS = new Set(process.env.BENCH_AGENT?.split(',') ?? PART_NAMES);
const CALLS = Number(process.env.BENCH_CALLS) || 5_000;
// BENCH_MIXED_RATE and BENCH_MIXED_CALLS change the calls-first part's scan rate and number of fraud calls.
const MIXED_FLOOD_RATE = Number(process.env.BENCH_MIXED_RATE) || 40_000;
/** The sustained scan: failures a second, for this many seconds (BENCH_SCAN_RATE to try another rate). */
const SUSTAINED_RATE = Number(process.env.BENCH_SCAN_RATE) || 50_000;
const SUSTAINED_SECONDS = Number(process.env.BENCH_SCAN_SECONDS) || 8;
const CALL_CAPTURE = packagePath('test', 'fixtures', 'ami', 'intl-call-cuba.ami');
const MIXED_CALLS = Number(process.env.BENCH_MIXED_CALLS) || 600;
/** The scan runs alone this long first: the figures are those of an agent already in the scan, not of its JIT warming up. */
const MIXED_WARMUP_MS = 2000;

interface Run {
  agent: Agent;
  lines: () => number;
  peakRss: () => number;
  cpuMs: () => number;
  report: <T extends LoadReport['type']>(type: T) => Promise<Extract<LoadReport, { type: T }>>;
}

/** Starts the load generator and an agent connected to it; always stops both. */
async function withAgent(settings: Omit<LoadSettings, 'template'>, body: (run: Run) => Promise<BenchRow[]>, title: string, configure?: (config: TollgateConfig) => void): Promise<void> {
  const generator = fork(fileURLToPath(new URL('./ami-load.js', import.meta.url)), [JSON.stringify({ ...settings, template: CALL_CAPTURE })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const reports: LoadReport[] = [];
  const waiters: (() => void)[] = [];
  generator.on('message', (message: LoadReport) => {
    reports.push(message);
    for (const wake of waiters.splice(0)) wake();
  });
  const report = async <T extends LoadReport['type']>(type: T): Promise<Extract<LoadReport, { type: T }>> => {
    for (;;) {
      const found = reports.find((message) => message.type === type);
      if (found) return found as Extract<LoadReport, { type: T }>;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  const { port } = await report('port');
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-agent-'));
  const { config } = loadConfig({
    env: {
      TOLLGATE_AMI_PORT: String(port),
      TOLLGATE_AMI_SECRET: 'bench',
      TOLLGATE_AMI_PING_INTERVAL_MS: '0',
      TOLLGATE_DB: join(dir, 'tollgate.db'),
      TOLLGATE_POLICIES: packagePath('policies'),
      TOLLGATE_HTTP_PORT: '0',
      TOLLGATE_ALERTS_DIGEST: 'false',
      TOLLGATE_TIMEZONE: 'UTC',
    },
  });
  config.trunks = ['carrier'];
  configure?.(config);
  // The log at info, as in production, into a counting sink: its cost is part of the path.
  let lines = 0;
  const sink = { write: (chunk: string) => ((lines += chunk.split('\n').length - 1), true) } as unknown as NodeJS.WritableStream;
  const agent = createAgent({ config, logger: createLogger('info', sink) });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const cpuStart = process.cpuUsage();
  try {
    await agent.start();
    await agent.client.waitForConnected(10_000);
    const rows = await body({
      agent,
      lines: () => lines,
      peakRss: () => peakRss,
      cpuMs: () => {
        const used = process.cpuUsage(cpuStart);
        return (used.user + used.system) / 1000;
      },
      report,
    });
    printSection(title, rows);
  } finally {
    clearInterval(sampler);
    await agent.stop();
    generator.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Waits until the agent has read `count` events (its clock starts at the first) — and, with
 * `judged`, until none is left waiting in the security lane: every one of them judged.
 */
async function throughput(agent: Agent, expected: number | Promise<number>, judged = false): Promise<number> {
  let firstAt: bigint | undefined;
  let count = Number.MAX_SAFE_INTEGER;
  void Promise.resolve(expected).then((known) => (count = known));
  const started = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`the agent did not process ${count} events in 300 s`)), 300_000);
    const poll = setInterval(() => {
      const seen = agent.tracker.normaliser.stats;
      const done = seen.normalised + seen.ignored + seen.unknown + seen.malformed + agent.tracker.lanes.stats.shed;
      if (firstAt === undefined && done > 0) firstAt = process.hrtime.bigint();
      if (done >= count && (!judged || agent.tracker.lanes.waitingCount === 0)) {
        clearInterval(poll);
        clearTimeout(deadline);
        resolve();
      }
    }, 5);
  });
  return count / (Number(process.hrtime.bigint() - (firstAt ?? started)) / 1e9);
}

function rss(): number {
  return process.memoryUsage().rss / 1048576;
}

/** The heap still in use after a full collection (what the agent holds, not garbage waiting). */
function liveHeap(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 1048576;
}

/**
 * Each part runs in a fresh process of its own (this file's section, one part): the figures, RSS
 * above all, must not carry the heap an earlier part or section left behind.
 */
export async function benchFlood(): Promise<void> {
  if (process.env.BENCH_AGENT_CHILD) return runParts();
  for (const part of PART_NAMES) {
    if (!PARTS.has(part)) continue;
    const child = fork(process.argv[1]!, ['agent flood'], { env: { ...process.env, BENCH_AGENT: part, BENCH_AGENT_CHILD: '1', BENCH_QUIET: '1' }, stdio: 'inherit' });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`the agent bench part "${part}" failed (exit ${code})`);
  }
}

async function runParts(): Promise<void> {
  // First, in a fresh process (its RSS is the figure). Default settings: as fast as the generator writes; the lane sheds what the agent cannot judge.
  if (PARTS.has('scan')) await withAgent(
    { scenario: 'security', count: SCAN_ADDRESSES },
    async ({ agent, lines, peakRss }) => {
      const rate = await throughput(agent, SCAN_ADDRESSES);
      await agent.actor.settled();
      const { shed, highWater } = agent.tracker.lanes.stats;
      return [
        { name: 'events read by the agent', value: rate, unit: 'events/s' },
        { name: 'judged in detail', value: SCAN_ADDRESSES - shed },
        { name: 'shed (counted, reported)', value: shed },
        { name: 'security lane high water', value: highWater, unit: 'events waiting' },
        { name: 'dropped by the AMI client', value: agent.client.stats.droppedEvents },
        { name: 'log lines written', value: lines() },
        { name: 'rss after the scan', value: rss(), unit: 'MiB' },
        { name: 'live heap after the scan (after a full GC)', value: liveHeap(), unit: 'MiB' },
        { name: 'peak rss', value: peakRss() / 1048576, unit: 'MiB' },
      ];
    },
    `the whole agent over TCP: a SIP scan from ${SCAN_ADDRESSES.toLocaleString('en-US')} distinct IPv6 addresses at full speed (default settings)`,
  );

  // Every event judged in detail (a backlog that never sheds): the agent's own speed.
  if (PARTS.has('judged')) await withAgent(
    { scenario: 'security', count: JUDGED_SCAN },
    async ({ agent, lines, cpuMs }) => {
      const rate = await throughput(agent, JUDGED_SCAN, true);
      const cpu = cpuMs();
      await agent.actor.settled();
      return [
        { name: 'events judged by the agent', value: rate, unit: 'events/s' },
        { name: 'CPU per event (agent process)', value: (cpu * 1000) / JUDGED_SCAN, unit: 'µs' },
        { name: 'security lane high water', value: agent.tracker.lanes.stats.highWater, unit: 'events waiting' },
        { name: 'findings', value: agent.engine.stats.findings },
        { name: 'log lines written', value: lines() },
      ];
    },
    `the whole agent over TCP: a SIP scan from ${JUDGED_SCAN.toLocaleString('en-US')} distinct IPv6 addresses, every event judged`,
    (config) => {
      config.ami.securityBacklog = JUDGED_SCAN;
    },
  );

  // A scan as a scanner sends it, at a steady rate, with the default lane: does every event get judged?
  if (PARTS.has('sustained')) await withAgent(
    { scenario: 'security', count: SUSTAINED_RATE * SUSTAINED_SECONDS, floodRate: SUSTAINED_RATE },
    async ({ agent, lines, cpuMs, report }) => {
      const sending = report('sent');
      const read = await throughput(agent, sending.then((sent) => sent.events), true);
      const sent = await sending;
      const offered = sent.events + (sent.notWritten ?? 0);
      const cpu = cpuMs();
      await agent.actor.settled();
      const { shed, highWater } = agent.tracker.lanes.stats;
      return [
        { name: 'scan offered', value: `${SUSTAINED_RATE.toLocaleString('en-US')} events/s for ${SUSTAINED_SECONDS} s` },
        { name: 'events judged by the agent', value: (read * (sent.events - shed)) / sent.events, unit: 'events/s' },
        { name: 'judged in detail', value: `${(sent.events - shed).toLocaleString('en-US')} of ${offered.toLocaleString('en-US')}` },
        { name: 'shed (counted, reported)', value: shed },
        { name: 'not written (agent not reading)', value: sent.notWritten ?? 0 },
        { name: 'security lane high water', value: highWater, unit: 'events waiting' },
        { name: 'CPU per event (agent process)', value: (cpu * 1000) / sent.events, unit: 'µs' },
        { name: 'log lines written', value: lines() },
      ];
    },
    `the whole agent over TCP: a SIP scan at a steady ${SUSTAINED_RATE.toLocaleString('en-US')} failures/s from distinct IPv6 addresses (default settings)`,
    (config) => {
      if (process.env.BENCH_BACKLOG) config.ami.securityBacklog = Number(process.env.BENCH_BACKLOG);
    },
  );

  if (PARTS.has('calls')) await withAgent(
    { scenario: 'calls', count: CALLS, fraudEvery: 50 },
    async ({ agent, lines, cpuMs }) => {
      // Counted from the template, so the clock runs from the first event, not from the last one written.
      const events = CALLS * (callTemplate(CALL_CAPTURE).split('\r\n\r\n').length - 1);
      const rate = await throughput(agent, events);
      const cpu = cpuMs();
      await agent.actor.settled();
      return [
        { name: 'events through the agent', value: rate, unit: 'events/s' },
        { name: 'calls', value: `${CALLS.toLocaleString('en-US')} (${events.toLocaleString('en-US')} events; one in 50 refused)` },
        { name: 'CPU per event (agent process)', value: (cpu * 1000) / events, unit: 'µs' },
        { name: 'findings', value: agent.engine.stats.findings },
        { name: 'log lines written', value: lines() },
        { name: 'rss', value: rss(), unit: 'MiB' },
      ];
    },
    `the whole agent over TCP: busy call traffic (recorded call event sets)`,
  );

  if (PARTS.has('mixed')) await withAgent(
    { scenario: 'mixed', count: Number.MAX_SAFE_INTEGER, floodRate: MIXED_FLOOD_RATE, calls: MIXED_CALLS, callEveryMs: 20, warmupMs: MIXED_WARMUP_MS },
    async ({ agent, report }) => {
      // In the agent: from reading the bytes of a fraud call's first events to writing its Hangup.
      // The Hangup is usually written while the agent's own listener handles the Newchannel, before
      // this one sees it: whichever of the two comes second completes the pair.
      const arrivals = new Map<string, number>();
      const written = new Map<string, number>();
      const inAgent: number[] = [];
      agent.client.on('event', (message) => {
        const channel = message.name === 'Newchannel' ? message.get('Channel') : undefined;
        if (!channel || message.receivedAt === undefined || channel.startsWith('PJSIP/carrier-')) return;
        const sentAt = written.get(channel);
        if (sentAt === undefined) arrivals.set(channel, message.receivedAt);
        else inAgent.push(sentAt - message.receivedAt);
        written.delete(channel);
      });
      agent.client.on('sent', (info) => {
        if (info.action !== 'Hangup' || Array.isArray(info.fields)) return;
        const channel = String((info.fields as Record<string, unknown>).Channel);
        const arrived = arrivals.get(channel);
        if (arrived === undefined) written.set(channel, performance.now());
        else inAgent.push(performance.now() - arrived);
        arrivals.delete(channel);
      });
      const { latencies, unanswered, floodSent, floodNotWritten } = await report('latencies');
      return [
        { name: 'fraud calls hung up', value: `${latencies.length} of ${MIXED_CALLS} (${unanswered} not)` },
        { name: 'scan events sent meanwhile', value: floodSent },
        { name: 'scan events not written (agent not reading)', value: floodNotWritten },
        { name: 'in the agent: call read → Hangup written p50', value: percentile(inAgent, 50), unit: 'ms' },
        { name: 'in the agent: call read → Hangup written p99', value: percentile(inAgent, 99), unit: 'ms' },
        { name: 'in the agent: call read → Hangup written max', value: percentile(inAgent, 100), unit: 'ms' },
        { name: 'DialBegin → Hangup action p50', value: percentile(latencies, 50), unit: 'ms' },
        { name: 'DialBegin → Hangup action p99', value: percentile(latencies, 99), unit: 'ms' },
        { name: 'DialBegin → Hangup action max (as the generator saw it)', value: percentile(latencies, 100), unit: 'ms' },
        { name: 'security lane high water', value: agent.tracker.lanes.stats.highWater, unit: 'events waiting' },
        { name: 'shed', value: agent.tracker.lanes.stats.shed },
      ];
    },
    `calls first: ${MIXED_CALLS} fraud calls during a scan of ${MIXED_FLOOD_RATE.toLocaleString('en-US')} failures/s (from ${MIXED_WARMUP_MS / 1000} s into it)`,
  );
}
