/**
 * Pre-dial gate latency: 1 000 FastAGI sessions a second over loopback, from a client process that
 * speaks AGI as Asterisk does (environment block, GET VARIABLE answered, SET VARIABLE answered) and
 * is built as Asterisk is when a C compiler is at hand (agi-client.c: a thread per session, no
 * garbage collector of its own; else a Node client, whose own pauses then count too),
 * against the gate backed by the live path's own tracker, engine (every shipped policy) and
 * decider, in a server process of its own (bench/gate-server.ts), as the agent runs. Two kinds of
 * traffic: ordinary calls only (what a gate answers most of the time), and an attack where a third
 * of the calls are fraud (premium numbers abroad, refused; the incidents, findings and decisions
 * they open are the costly part); each with Node's defaults and with the small young generation
 * the README advises for gates. Latency is what Asterisk waits: from the environment sent to the
 * connection closed, measured after a warm-up (the JIT and the engine's caches); the gate's own
 * decision, from the session handed to it to its verdict acknowledged, is what it reports.
 *
 * The harness's floor is measured the same way: a server that answers the same commands and judges
 * nothing, in a fresh process too (run after the gate in the gate's process, it inherited the
 * gate's garbage and full collections).
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateServerKind, GateServerReport } from './gate-server.js';
import { formatNumber, percentile, printSection, type BenchRow } from './report.js';

const RATE_PER_SECOND = 1000;
/** A small young generation (collections of ~1 ms): the README's advice for a gate taking hundreds of calls a second, and the Node client's own setting. */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=1';
const SECONDS = 5;
const WARMUP_SECONDS = 2;

/** The Node client: Asterisk's side of each session, in its own process (as Asterisk is), when agi-client.c cannot be built. */
const CLIENT = `
const { connect } = require('node:net');
const { port, rate, seconds, warmupSeconds, traffic, linkedid } = JSON.parse(process.argv[1]);
// The same numbers, in the same order, as agi-client.c.
const numbers = traffic === 'ordinary'
  ? ['12125550123', '18005550199', '12125550188', '13125550123', '16175550101', '18005550142']
  : ['12125550123', '011442079460123', '00449098790123', '0114930123456', '011882161234567', '18005550199'];
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
    'agi_extension: ' + number, 'agi_priority: 2', 'agi_accountcode: ', ...(linkedid === 'pass' ? ['agi_arg_1: linkedid=' + uniqueid] : [])].join('\\n') + '\\n\\n';
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let t0 = 0, buffer = '', verdict = 'none';
  socket.on('connect', () => { t0 = performance.now(); socket.write(env); });
  // As res_agi reads: one line per arrival of bytes (a buffered fgets after poll); what is still
  // buffered when the gate closes the connection is read then.
  const answerFirstLine = () => {
    const nl = buffer.indexOf('\\n');
    if (nl < 0) return false;
    const line = buffer.slice(0, nl); buffer = buffer.slice(nl + 1);
    if (line.startsWith('GET VARIABLE')) socket.write('200 result=1 (' + uniqueid + ')\\n');
    else if (line.startsWith('SET VARIABLE')) {
      const m = /^SET VARIABLE TOLLGATE_VERDICT (\\S+)/.exec(line);
      if (m) verdict = m[1];
      socket.write('200 result=1\\n');
    }
    return true;
  };
  socket.on('data', (chunk) => {
    buffer += chunk.toString();
    answerFirstLine();
  });
  socket.on('end', () => {
    while (answerFirstLine());
    socket.end();
  });
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

/** What Asterisk dials: `attack` makes a third of the calls fraud, `ordinary` none. */
type Traffic = 'attack' | 'ordinary';
/**
 * `pass`: the linkedid comes with the environment, as the README's dialplan line sends it;
 * `ask` (BENCH_GATE_LINKEDID=ask): a bare AGI() line, and the gate asks for it (one round trip more).
 */
type LinkedidSource = 'pass' | 'ask';

export async function benchGate(): Promise<void> {
  // Node's defaults, and the small young generation the README advises for a gate taking hundreds of calls a second.
  const small = [SMALL_YOUNG_GENERATION];
  const configurations: { label: string; kind: GateServerKind; traffic: Traffic; flags: readonly string[] }[] = [
    { label: 'the gate, ordinary calls', kind: 'gate', traffic: 'ordinary', flags: [] },
    { label: 'the gate, a third of the calls fraud', kind: 'gate', traffic: 'attack', flags: [] },
    { label: `the gate, ordinary calls, ${SMALL_YOUNG_GENERATION}`, kind: 'gate', traffic: 'ordinary', flags: small },
    { label: `the gate, a third of the calls fraud, ${SMALL_YOUNG_GENERATION}`, kind: 'gate', traffic: 'attack', flags: small },
    { label: 'the harness alone (judging nothing)', kind: 'floor', traffic: 'ordinary', flags: [] },
  ];
  // This kind of machine stalls a process for several ms now and then: one round's p99 is mostly
  // where those stalls fell. Rounds, interleaved, show the spread; the median is the figure.
  const rounds = Math.max(1, Number(process.env.BENCH_GATE_ROUNDS ?? 3));
  const linkedid: LinkedidSource = process.env.BENCH_GATE_LINKEDID === 'ask' ? 'ask' : 'pass';
  const client = prepareClient();
  const results = configurations.map(() => [] as { client: ClientResult; server: GateServerReport }[]);
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [index, configuration] of configurations.entries()) results[index]!.push(await measure(configuration, linkedid, client));
    }
  } finally {
    client.dispose();
  }
  const first = results[0]![0]!.client;
  const rows: BenchRow[] = [
    { name: "Asterisk's side", value: client.label },
    { name: 'the linkedid', value: linkedid === 'pass' ? 'passed with the environment (the README\'s dialplan line)' : 'asked for (a bare AGI() line: BENCH_GATE_LINKEDID=ask)' },
    { name: 'sessions per round', value: first.latencies.length },
    { name: 'achieved rate', value: (first.latencies.length * 1000) / first.ms, unit: 'sessions/s' },
  ];
  for (const [index, configuration] of configurations.entries()) {
    const runs = results[index]!;
    const verdicts = runs[0]!.client.verdicts;
    if (configuration.kind === 'gate') rows.push({ name: `${configuration.label}: verdicts`, value: `allow ${verdicts.allow ?? 0}, deny ${verdicts.deny ?? 0}, none ${verdicts.none ?? 0}` });
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

/**
 * One server process (`kind`, with `flags` after the bench's own Node flags: `node --flag
 * dist/bench/index.js gate` tries one) and the client against it.
 */
async function measure(
  { kind, traffic, flags }: { kind: GateServerKind; traffic: Traffic; flags: readonly string[] },
  linkedid: LinkedidSource,
  client: Client,
): Promise<{ client: ClientResult; server: GateServerReport }> {
  const server = fork(fileURLToPath(new URL('./gate-server.js', import.meta.url)), [kind], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...flags] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (message) => resolve((message as { port: number }).port));
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`the gate server exited (${code}) before it listened`)));
    });
    const result = await client.run(port, traffic, linkedid);
    const report = await new Promise<GateServerReport>((resolve, reject) => {
      server.removeAllListeners('exit');
      server.once('message', (message) => resolve(message as GateServerReport));
      server.once('exit', (code) => reject(new Error(`the gate server exited (${code}) before it reported`)));
      server.send('report');
    });
    return { client: result, server: report };
  } finally {
    if (server.exitCode === null) server.kill();
  }
}

interface ClientResult {
  latencies: number[];
  verdicts: Record<string, number>;
  ms: number;
}

interface Client {
  label: string;
  run(port: number, traffic: Traffic, linkedid: LinkedidSource): Promise<ClientResult>;
  dispose(): void;
}

/**
 * The C client, compiled here with `cc` from the repository's source, or the Node client when that
 * is not possible (no compiler, an installed package without sources, BENCH_GATE_CLIENT=node).
 */
function prepareClient(): Client {
  const source = fileURLToPath(new URL('../../src/bench/agi-client.c', import.meta.url));
  const why = process.env.BENCH_GATE_CLIENT === 'node' ? 'BENCH_GATE_CLIENT=node' : !existsSync(source) ? 'no agi-client.c here' : undefined;
  if (why === undefined) {
    const directory = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
    const binary = join(directory, 'agi-client');
    try {
      execFileSync('cc', ['-O2', '-pthread', '-o', binary, source], { stdio: ['ignore', 'ignore', 'pipe'] });
      return { label: 'agi-client.c (a thread per session, as Asterisk)', run: (port, traffic, linkedid) => runNativeClient(binary, port, traffic, linkedid), dispose: () => rmSync(directory, { recursive: true, force: true }) };
    } catch (error) {
      rmSync(directory, { recursive: true, force: true });
      return nodeClient(`cc failed: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`);
    }
  }
  return nodeClient(why);
}

function nodeClient(why: string): Client {
  return { label: `a Node process (${why}; its own pauses count too)`, run: runNodeClient, dispose: () => undefined };
}

function runNativeClient(binary: string, port: number, traffic: Traffic, linkedid: LinkedidSource): Promise<ClientResult> {
  return new Promise<ClientResult>((resolve, reject) => {
    const client = spawn(binary, [String(port), String(RATE_PER_SECOND), String(SECONDS), String(WARMUP_SECONDS), traffic, linkedid], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    client.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    client.once('error', reject);
    client.once('close', (code) => {
      if (code !== 0) reject(new Error(`the AGI client exited (${code}): not every session ended`));
      else resolve(JSON.parse(output) as ClientResult);
    });
  });
}

function runNodeClient(port: number, traffic: Traffic, linkedid: LinkedidSource): Promise<ClientResult> {
  return new Promise<ClientResult>((resolve, reject) => {
    const settings = JSON.stringify({ port, rate: RATE_PER_SECOND, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS, traffic, linkedid });
    // Asterisk has no garbage collector: a small young generation keeps the harness's own pauses short.
    const client = spawn(process.execPath, [SMALL_YOUNG_GENERATION, '-e', CLIENT, settings], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    client.once('message', (message) => resolve(message as ClientResult));
    client.once('error', reject);
    client.once('exit', (code) => reject(new Error(`the AGI client exited (${code}) before it reported`)));
  });
}
