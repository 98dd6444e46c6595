/**
 * The whole agent under a SIP scan, end to end over TCP: an AMI server on loopback (its own thread)
 * sends security failures from distinct source addresses as fast as the agent reads them; the agent
 * (createAgent: codec, client, normaliser, policies, decisions, store, log) processes them.
 * Figures: events/s through the agent, RSS at the end, lines the log received.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { createAgent } from '../main.js';
import { packagePath } from '../paths.js';
import { printSection } from './report.js';

const EVENTS = 200_000;

/** The AMI server: banner, answers every action, then the flood once the agent has logged in. */
const SERVER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { count } = workerData;
let flooded = false;
function event(index) {
  const ip = '2001:db8:' + (index >>> 16).toString(16) + ':' + (index & 0xffff).toString(16) + '::1';
  return 'Event: ChallengeResponseFailed\\r\\nPrivilege: security,all\\r\\nSeverity: Error\\r\\nService: PJSIP\\r\\nEventVersion: 1\\r\\nAccountID: ' + (1000 + (index % 500)) +
    '\\r\\nSessionID: scan-' + index + '\\r\\nLocalAddress: IPV4/UDP/127.0.0.1/5060\\r\\nRemoteAddress: IPV6/UDP/' + ip + '/5060\\r\\nChallenge: 1a2b3c4d\\r\\nResponse: 5e6f\\r\\nExpectedResponse: \\r\\n\\r\\n';
}
function flood(socket) {
  let index = 0;
  const started = Date.now();
  const pump = () => {
    while (index < count) {
      let chunk = '';
      for (let n = 0; n < 200 && index < count; n++) chunk += event(index++);
      if (!socket.write(chunk)) return socket.once('drain', pump);
    }
    parentPort.postMessage({ type: 'sent', ms: Date.now() - started });
  };
  pump();
}
const server = net.createServer((socket) => {
  socket.write('Asterisk Call Manager/11.0.0\\r\\n');
  let buffer = '';
  socket.on('data', (data) => {
    buffer += data.toString();
    let end;
    while ((end = buffer.indexOf('\\r\\n\\r\\n')) >= 0) {
      const block = buffer.slice(0, end); buffer = buffer.slice(end + 4);
      const fields = Object.fromEntries(block.split('\\r\\n').map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
      const id = fields.actionid || '';
      const action = (fields.action || '').toLowerCase();
      if (action === 'login') {
        socket.write('Response: Success\\r\\nActionID: ' + id + '\\r\\nMessage: Authentication accepted\\r\\n\\r\\n');
        if (!flooded) { flooded = true; setTimeout(() => flood(socket), 300); }
      } else if (action === 'coreshowchannels') {
        socket.write('Response: Success\\r\\nActionID: ' + id + '\\r\\nEventList: start\\r\\nMessage: Channels will follow\\r\\n\\r\\nEvent: CoreShowChannelsComplete\\r\\nActionID: ' + id + '\\r\\nEventList: Complete\\r\\nListItems: 0\\r\\n\\r\\n');
      } else if (action === 'ping') {
        socket.write('Response: Success\\r\\nActionID: ' + id + '\\r\\nPing: Pong\\r\\n\\r\\n');
      } else {
        socket.write('Response: Success\\r\\nActionID: ' + id + '\\r\\n\\r\\n');
      }
    }
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'port', port: server.address().port }));
`;

export async function benchFlood(): Promise<void> {
  const worker = new Worker(SERVER, { eval: true, workerData: { count: EVENTS } });
  const port = await new Promise<number>((resolve) => worker.on('message', (message: { type: string; port?: number }) => message.type === 'port' && resolve(message.port!)));
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-flood-'));
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
  // The log at info, as in production, into a counting sink: its cost is part of the path.
  let lines = 0;
  const sink = { write: (chunk: string) => ((lines += chunk.split('\n').length - 1), true) } as unknown as NodeJS.WritableStream;
  const agent = createAgent({ config, logger: createLogger('info', sink) });
  const started = process.hrtime.bigint();
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  try {
    await agent.start();
    await agent.client.waitForConnected(10_000);
    let firstAt: bigint | undefined;
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error(`the agent processed ${agent.tracker.normaliser.stats.normalised} of ${EVENTS} events in 120 s`)), 120_000);
      const poll = setInterval(() => {
        const done = agent.tracker.normaliser.stats.normalised;
        if (firstAt === undefined && done > 0) firstAt = process.hrtime.bigint();
        if (done >= EVENTS) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 5);
    });
    const seconds = Number(process.hrtime.bigint() - (firstAt ?? started)) / 1e9;
    await agent.actor.settled();
    printSection(`the whole agent over TCP: a SIP scan, ${EVENTS.toLocaleString('en-US')} failures from as many IPv6 addresses`, [
      { name: 'events through the agent', value: EVENTS / seconds, unit: 'events/s' },
      { name: 'AMI client queue, high water', value: agent.client.stats.queueHighWater, unit: 'messages (read, not yet judged)' },
      { name: 'dropped by the AMI client', value: agent.client.stats.droppedEvents },
      { name: 'findings', value: agent.engine.stats.findings },
      { name: 'log lines written', value: lines },
      { name: 'peak rss', value: peakRss / 1048576, unit: 'MiB' },
    ]);
  } finally {
    clearInterval(sampler);
    await agent.stop();
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}
