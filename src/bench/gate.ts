/**
 * Pre-dial gate latency: 1 000 FastAGI sessions a second over loopback, from a client process that
 * speaks AGI as Asterisk does (environment block, GET VARIABLE answered, SET VARIABLE answered),
 * against the gate backed by the live path's own tracker, engine (every shipped policy) and
 * decider. A third of the calls are fraud (premium numbers abroad, refused), the rest ordinary.
 * Latency is what Asterisk waits: from the environment sent to the connection closed, measured
 * after a warm-up (the JIT and the engine's caches).
 */
import { spawn } from 'node:child_process';
import { PreDialGate } from '../agi/gate.js';
import { AgiServer } from '../agi/server.js';
import { AmiMessage } from '../ami/message.js';
import { CallTable, TrunkRegistry } from '../calls/table.js';
import { CallTracker } from '../calls/tracker.js';
import { systemClock } from '../clock.js';
import { Decider } from '../decide/decider.js';
import { createClassifier, loadRiskLists } from '../numbers/index.js';
import { packagePath } from '../paths.js';
import { PolicyEngine } from '../policy/engine.js';
import { loadPoliciesOrThrow } from '../policy/loader.js';
import { Pipeline } from '../pipeline.js';
import { loadRateTable } from '../rates/index.js';
import { percentile, printSection } from './report.js';

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
  const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  const tracker = new CallTracker({ table, clock: systemClock });
  const engine = new PolicyEngine({ policies: loadPoliciesOrThrow(packagePath('policies')), classifier, rates: loadRateTable(packagePath('config', 'rates.example.csv')), clock: systemClock, environment: { timezone: 'UTC' } });
  const decider = new Decider({ mode: 'enforce' });
  const pipeline = new Pipeline({ tracker, engine, decider, clock: systemClock });
  const gate = new PreDialGate({ table, decider, ingest: (message, at) => tracker.ingest(message, at), clock: systemClock, timeoutMs: 200 });
  // Each call ends once the gate has answered (as a refused or a short call would): the table stays the size of a real PBX's.
  const server = new AgiServer({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 10_000,
    handler: async (session) => {
      await gate.handle(session);
      const { agi_channel: channel = '', agi_uniqueid: uniqueid = '' } = session.environment;
      const call = table.callOfChannel(uniqueid);
      tracker.ingest(AmiMessage.from({ Event: 'Hangup', Channel: channel, Uniqueid: uniqueid, Linkedid: call?.linkedid ?? uniqueid, Cause: '16', 'Cause-txt': 'Normal Clearing', ChannelState: '6', Exten: '', Context: '' }), Date.now());
    },
  });
  await server.start();
  // The harness's own floor: the same client against a server that answers the same commands and judges nothing.
  const floor = new AgiServer({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 10_000,
    handler: async (session) => {
      await session.getVariable('CHANNEL(linkedid)');
      await Promise.all([session.setVariable('TOLLGATE_VERDICT', 'allow'), session.setVariable('TOLLGATE_REASON', 'no policy objects')]);
    },
  });
  await floor.start();
  try {
    const result = await runClient(server.port);
    // Second, on a warm process: the floor must not carry the first run's start-up.
    const floorResult = await runClient(floor.port);
    await floor.stop();
    const internal = gate.latency();
    printSection(`pre-dial gate over loopback (${RATE_PER_SECOND} sessions/s for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up, every shipped policy)`, [
      { name: 'sessions', value: result.latencies.length },
      { name: 'achieved rate', value: (result.latencies.length * 1000) / result.ms, unit: 'sessions/s' },
      { name: 'verdicts', value: `allow ${result.verdicts.allow ?? 0}, deny ${result.verdicts.deny ?? 0}, none ${result.verdicts.none ?? 0}` },
      { name: 'latency seen by Asterisk p50', value: percentile(result.latencies, 50), unit: 'ms' },
      { name: 'latency seen by Asterisk p99', value: percentile(result.latencies, 99), unit: 'ms' },
      { name: 'latency seen by Asterisk max', value: percentile(result.latencies, 100), unit: 'ms' },
      { name: 'the harness alone (judging nothing) p50', value: percentile(floorResult.latencies, 50), unit: 'ms' },
      { name: 'the harness alone (judging nothing) p99', value: percentile(floorResult.latencies, 99), unit: 'ms' },
      { name: 'gate decision p50 (last 2048)', value: internal.p50, unit: 'ms' },
      { name: 'gate decision p99 (last 2048)', value: internal.p99, unit: 'ms' },
      { name: 'timeouts', value: gate.stats.timeouts },
    ]);
  } finally {
    pipeline.close();
    await server.stop();
    await floor.stop();
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
