/**
 * Pre-dial gate latency: 1 000 FastAGI sessions a second over loopback, from a client process that
 * speaks AGI as Asterisk does (environment block, GET VARIABLE answered, SET VARIABLE answered),
 * against the gate backed by the live path's own tracker, engine (every shipped policy) and
 * decider, in a server process of its own (bench/gate-server.ts), as the agent runs. A third of the
 * calls are fraud (premium numbers abroad, refused), the rest ordinary. Latency is what Asterisk
 * waits: from the environment sent to the connection closed, measured after a warm-up (the JIT and
 * the engine's caches).
 *
 * The harness's floor is measured the same way: a server that answers the same commands and judges
 * nothing, in a fresh process too (run after the gate in the gate's process, it inherited the
 * gate's garbage and full collections).
 */
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { GateServerKind, GateServerReport } from './gate-server.js';
import { formatNumber, percentile, printSection, type BenchRow } from './report.js';

const RATE_PER_SECOND = 1000;
const SECONDS = 5;
const WARMUP_SECONDS = 2;

/** The client: Asterisk's side of each session, in its own process (as Asterisk is). */
const CLIENT = `
const { connect } = require('node:net');
const { port, rate, seconds, warmupSeconds } = JSON.parse(process.argv[1]);
const numbers = ['12125550123', '011442079460123', '00449098790123', '0114930123456', '011882161234567', '18005550199'];
const latencies = [];
const verdicts = { allow: 0, deny: 0, none: 0 };
let started = 0, finished = 0;
// The first sessions warm the JIT and the engine's caches up: started, not measured.
const warmup = rate * warmupSeconds;
const total = rate * (warmupSeconds + seconds);
function session(index) {
  const uniqueid = '1796205600.' + (100000 + index);
  const endpoint = String(1000 + (index % 900));
  const number = numbers[index % numbers.length];
  const env = ['agi_network: yes', 'agi_network_script: tollgate', 'agi_channel: PJSIP/' + endpoint + '-' + index.toString(16).padStart(8, '0'),
    'agi_type: PJSIP', 'agi_uniqueid: ' + uniqueid, 'agi_callerid: ' + endpoint, 'agi_calleridname: Bench', 'agi_context: from-internal',
    'agi_extension: ' + number, 'agi_priority: 2', 'agi_accountcode: '].join('\\n') + '\\n\\n';
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let t0 = 0, buffer = '', verdict = 'none';
  socket.on('connect', () => { t0 = performance.now(); socket.write(env); });
  socket.on('data', (chunk) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\\n')) >= 0) {
      const line = buffer.slice(0, nl); buffer = buffer.slice(nl + 1);
      if (line.startsWith('GET VARIABLE')) socket.write('200 result=1 (' + uniqueid + ')\\n');
      else if (line.startsWith('SET VARIABLE')) {
        const m = /^SET VARIABLE TOLLGATE_VERDICT (\\S+)/.exec(line);
        if (m) verdict = m[1];
        socket.write('200 result=1\\n');
      }
    }
  });
  socket.on('end', () => socket.end());
  socket.on('close', () => {
    if (index >= warmup) {
      latencies.push(performance.now() - t0);
      verdicts[verdict] = (verdicts[verdict] || 0) + 1;
      if (index === warmup) measuredFrom = t0;
    }
    if (++finished === total) process.send({ latencies, verdicts, ms: performance.now() - measuredFrom }, () => process.exit(0));
  });
  socket.on('error', () => {});
}
const begin = performance.now();
let measuredFrom = begin;
const timer = setInterval(() => {
  const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * rate));
  while (started < due) session(started++);
  if (started >= total) clearInterval(timer);
}, 1);
`;

export async function benchGate(): Promise<void> {
  const configurations: { label: string; kind: GateServerKind }[] = [
    { label: 'the gate', kind: 'gate' },
    { label: 'the harness alone (judging nothing)', kind: 'floor' },
  ];
  // This kind of machine stalls a process for several ms now and then: one round's p99 is mostly
  // where those stalls fell. Rounds, interleaved, show the spread; the median is the figure.
  const rounds = Math.max(1, Number(process.env.BENCH_GATE_ROUNDS ?? 3));
  const results = configurations.map(() => [] as { client: ClientResult; server: GateServerReport }[]);
  for (let round = 0; round < rounds; round++) {
    for (const [index, configuration] of configurations.entries()) results[index]!.push(await measure(configuration.kind));
  }
  const first = results[0]![0]!.client;
  const rows: BenchRow[] = [
    { name: 'sessions per round', value: first.latencies.length },
    { name: 'achieved rate', value: (first.latencies.length * 1000) / first.ms, unit: 'sessions/s' },
    { name: 'verdicts', value: `allow ${first.verdicts.allow ?? 0}, deny ${first.verdicts.deny ?? 0}, none ${first.verdicts.none ?? 0}` },
  ];
  for (const [index, configuration] of configurations.entries()) {
    const runs = results[index]!;
    rows.push(
      { name: `${configuration.label}: seen by Asterisk p50`, value: spread(runs.map((run) => percentile(run.client.latencies, 50))), unit: 'ms' },
      { name: `${configuration.label}: seen by Asterisk p99`, value: spread(runs.map((run) => percentile(run.client.latencies, 99))), unit: 'ms' },
      { name: `${configuration.label}: seen by Asterisk max`, value: spread(runs.map((run) => percentile(run.client.latencies, 100))), unit: 'ms' },
    );
    if (configuration.kind !== 'gate') continue;
    rows.push(
      { name: `${configuration.label}: gate decision p50`, value: spread(runs.map((run) => run.server.decision?.p50 ?? NaN)), unit: 'ms' },
      { name: `${configuration.label}: gate decision p99`, value: spread(runs.map((run) => run.server.decision?.p99 ?? NaN)), unit: 'ms' },
      { name: `${configuration.label}: timeouts`, value: runs.map((run) => run.server.timeouts).join(' / ') },
    );
  }
  printSection(`pre-dial gate over loopback (${RATE_PER_SECOND} sessions/s for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up, every shipped policy; each server in a fresh process; ${rounds} round${rounds === 1 ? '' : 's'}, median first)`, rows);
}

/** `median (round 1 / round 2 / …)`. */
function spread(values: number[]): string {
  const median = formatNumber(percentile(values, 50));
  return values.length === 1 ? median : `${median} (${values.map(formatNumber).join(' / ')})`;
}

/** One server process (`kind`; it inherits the bench's Node flags, so `node --flag dist/bench/index.js gate` tries one) and the client against it. */
async function measure(kind: GateServerKind): Promise<{ client: ClientResult; server: GateServerReport }> {
  const server = fork(fileURLToPath(new URL('./gate-server.js', import.meta.url)), [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (message) => resolve((message as { port: number }).port));
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`the gate server exited (${code}) before it listened`)));
    });
    const client = await runClient(port);
    const report = await new Promise<GateServerReport>((resolve, reject) => {
      server.removeAllListeners('exit');
      server.once('message', (message) => resolve(message as GateServerReport));
      server.once('exit', (code) => reject(new Error(`the gate server exited (${code}) before it reported`)));
      server.send('report');
    });
    return { client, server: report };
  } finally {
    if (server.exitCode === null) server.kill();
  }
}

interface ClientResult {
  latencies: number[];
  verdicts: Record<string, number>;
  ms: number;
}

function runClient(port: number): Promise<ClientResult> {
  return new Promise<ClientResult>((resolve, reject) => {
    const settings = JSON.stringify({ port, rate: RATE_PER_SECOND, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS });
    // Asterisk has no garbage collector: a small young generation keeps the harness's own pauses short.
    const client = spawn(process.execPath, ['--max-semi-space-size=1', '-e', CLIENT, settings], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    client.once('message', (message) => resolve(message as ClientResult));
    client.once('error', reject);
    client.once('exit', (code) => reject(new Error(`the AGI client exited (${code}) before it reported`)));
  });
}
