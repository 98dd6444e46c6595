/**
 * The server side of the pre-dial gate bench, in a process of its own (as the agent is): forked by
 * bench/gate.ts (with the bench's own Node flags), it listens on loopback, sends its port over IPC,
 * and answers `report` with its own figures before it exits.
 *
 * `gate`: the gate backed by the live path's own tracker, engine (every shipped policy) and
 * decider. `floor`: a server that answers the same commands and judges nothing (the harness's own
 * latency).
 */
import { linkedidArgument, PreDialGate } from '../agi/gate.js';
import { AgiServer, type AgiSession } from '../agi/server.js';
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

export type GateServerKind = 'gate' | 'floor';

/** What the server process reports when asked. */
export interface GateServerReport {
  decision: { p50: number; p99: number; max: number; samples: number } | undefined;
  timeouts: number;
}

interface Server {
  port: number;
  report(): GateServerReport;
  stop(): Promise<void>;
}

async function startGate(): Promise<Server> {
  const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  const tracker = new CallTracker({ table, clock: systemClock });
  const engine = new PolicyEngine({ policies: loadPoliciesOrThrow(packagePath('policies')), classifier, rates: loadRateTable(packagePath('config', 'rates.example.csv')), clock: systemClock, environment: { timezone: 'UTC' } });
  const decider = new Decider({ mode: 'enforce' });
  const pipeline = new Pipeline({ tracker, engine, decider, clock: systemClock });
  const gate = new PreDialGate({ table, decider, ingest: (message, at) => tracker.ingest(message, at), clock: systemClock, timeoutMs: 200 });
  // Each call ends once the gate has answered (as a refused or a short call would): the table stays the size of a real PBX's.
  // Its Hangup is judged in a turn of its own, after the session is handed back, as the agent
  // judges the Hangup that Asterisk sends on AMI: Asterisk does not wait for that.
  const hangUp = (channel: string, uniqueid: string): void => {
    const call = table.callOfChannel(uniqueid);
    tracker.ingest(AmiMessage.from({ Event: 'Hangup', Channel: channel, Uniqueid: uniqueid, Linkedid: call?.linkedid ?? uniqueid, Cause: '16', 'Cause-txt': 'Normal Clearing', ChannelState: '6', Exten: '', Context: '' }), Date.now());
  };
  const server = new AgiServer({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 10_000,
    handler: async (session) => {
      await gate.handle(session);
      const { agi_channel: channel = '', agi_uniqueid: uniqueid = '' } = session.environment;
      setImmediate(hangUp, channel, uniqueid);
    },
  });
  await server.start();
  return {
    port: server.port,
    report: () => ({ decision: gate.latency(), timeouts: gate.stats.timeouts }),
    stop: async () => {
      pipeline.close();
      await server.stop();
    },
  };
}

async function startFloor(): Promise<Server> {
  const server = new AgiServer({
    host: '127.0.0.1',
    port: 0,
    maxConnections: 10_000,
    handler: async (session: AgiSession) => {
      // As the gate: it asks only when the dialplan did not pass the linkedid.
      if (linkedidArgument(session.environment) === undefined) await session.getVariable('CHANNEL(linkedid)');
      await session.setVariables([
        ['TOLLGATE_VERDICT', 'allow'],
        ['TOLLGATE_REASON', 'no policy objects'],
      ]);
    },
  });
  await server.start();
  return { port: server.port, report: () => ({ decision: undefined, timeouts: 0 }), stop: () => server.stop() };
}

async function main(): Promise<void> {
  const kind = process.argv[2] as GateServerKind;
  if (kind !== 'gate' && kind !== 'floor') throw new Error(`gate-server: expected "gate" or "floor", not ${String(kind)}`);
  if (!process.send) throw new Error('gate-server: run by bench/gate.ts (it needs the IPC channel)');
  const server = kind === 'gate' ? await startGate() : await startFloor();
  process.on('message', (message) => {
    if (message !== 'report') return;
    const report = server.report();
    void server.stop().finally(() => process.send!(report, () => process.exit(0)));
  });
  process.send({ port: server.port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
