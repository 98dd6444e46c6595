/**
 * `kill -9` mid-call: the agent runs as a real child process (`tollgate run`), is killed with
 * SIGKILL while a call is up, and is started again on the same SQLite file. Spend totals and locks
 * must be unchanged, a spending cap crossed before the kill must still block after it, and the call
 * that was up keeps its real answer time.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../src/paths.js';
import { AmiSimulator } from '../../src/sim/index.js';
import { Store } from '../../src/store/store.js';
import { childAgentConfig } from '../helpers/lab-agent.js';
import { until } from '../helpers/wait.js';

const USER = { username: 'tollgate', secret: 'restart-test-secret' };
const CUBA = '011535551234'; // 1.10/min, 60/60 in the example rates
const UK_MOBILE = '011447700900123'; // 0.045/min, 30/6
const UK_PREMIUM = '00449098790123';



let sim: AmiSimulator;
let dir: string;
let configFile: string;
let child: ChildProcess | undefined;
let output = '';

beforeAll(() => {
  // The agent runs as `node dist/cli.js run`, as an admin would run it.
  execFileSync(process.execPath, [packagePath('node_modules', 'typescript', 'bin', 'tsc'), '-p', packagePath('tsconfig.build.json')], { stdio: 'inherit' });
}, 120_000);

beforeEach(async () => {
  sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-restart-'));
  const policies = join(dir, 'policies');
  mkdirSync(policies);
  writeFileSync(
    join(policies, 'cuba-daily-cap.yaml'),
    ['id: cuba-daily-cap', 'kind: spend', 'description: 1.00 a day for calls to Cuba', 'budget: 1.00', 'period: day', 'per: global', 'projectSeconds: 60', 'match: { destination: { countries: [CU] } }', 'thresholds:', '  - { percent: 100, actions: [alert, hangup] }', ''].join('\n'),
  );
  writeFileSync(join(policies, 'lock-premium.yaml'), ['id: lock-premium', 'kind: destination', 'description: premium numbers lock the phone', 'match: { destination: { types: [PREMIUM_RATE] } }', 'actions: [alert, hangup, lock]', ''].join('\n'));
  writeFileSync(join(policies, 'locked-endpoints.yaml'), ['id: locked-endpoints', 'kind: lock', 'description: locked phones cannot call out', 'actions: [alert, hangup]', ''].join('\n'));
  configFile = join(dir, 'tollgate.yaml');
  writeFileSync(configFile, childAgentConfig({ amiPort: sim.port, user: USER, policies: 'policies', db: 'state/tollgate.db' }));
});

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await sim.stop();
});

async function startAgent(): Promise<void> {
  output = '';
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
  child = spawn(process.execPath, [packagePath('dist', 'cli.js'), 'run', '--config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await sim.waitForSessions(1, { timeoutMs: 20_000 }).catch((error: unknown) => {
    throw new Error(`${String(error)}\nagent output:\n${output}`);
  });
  // The first reconciliation (CoreShowChannels) follows the login.
  await sim.waitForAction('CoreShowChannels', { includePast: false, timeoutMs: 10_000 }).catch(() => undefined);
}

async function killAgent(): Promise<void> {
  const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
  child!.kill('SIGKILL');
  await exited;
  child = undefined;
  await sim.waitForSessions(0, { loggedIn: false, exact: true, timeoutMs: 10_000 });
}

/** Reads the agent's database as an outside process would. */
function readStore<T>(read: (store: Store) => T): T {
  const store = new Store(join(dir, 'state', 'tollgate.db'));
  try {
    return read(store);
  } finally {
    store.close();
  }
}

function hangupsOf(channel: string): number {
  return sim.actions.filter((action) => action.name === 'Hangup' && action.message.get('Channel') === channel).length;
}

test('killed with SIGKILL mid-call and restarted: spend and locks unchanged, the cap still blocks, the live call keeps its answer time', async () => {
  await startAgent();

  // A premium call from 1002: hung up, and 1002 locked.
  const premium = sim.callEvents({ from: '1002', to: UK_PREMIUM, talkMs: 60_000 });
  sim.emitEvents(premium.setup.map((entry) => entry.message));
  await until(() => hangupsOf(premium.caller.channel) === 1, 'the premium call hung up', 10_000);
  await until(() => readStore((store) => store.lockOf('1002', Date.now())), 'the lock of 1002 in the database', 10_000);

  // A call to Cuba from 1001: once answered, its projection crosses the 1.00 cap at once — hung up, 1.10 spent (60/60 billing).
  const cuba = sim.callEvents({ from: '1001', to: CUBA, talkMs: 60_000 });
  sim.emitEvents([...cuba.setup, ...cuba.answer].map((entry) => entry.message));
  await until(() => hangupsOf(cuba.caller.channel) >= 1, 'the Cuba call hung up at the cap', 10_000);
  await until(() => readStore((store) => store.spentSince(0)) === 1_100_000, 'the Cuba call in the spend ledger', 10_000);

  // A call to a UK mobile from 1003 (not under the Cuba cap) is up when the agent is killed.
  const mobile = sim.callEvents({ from: '1003', to: UK_MOBILE, talkMs: 60_000 });
  sim.emitEvents([...mobile.setup, ...mobile.answer].map((entry) => entry.message));
  const checkpoint = await until(() => readStore((store) => store.checkpoints().find((saved) => saved.linkedid === mobile.linkedid && saved.dials[0]?.answeredAt !== undefined)), 'the live call checkpointed', 10_000);
  const answeredAt = checkpoint.dials[0]!.answeredAt!;
  const before = readStore((store) => ({ spent: store.spentSince(0), costs: store.costsSince(0).length, locks: store.locks(Date.now()).map((lock) => lock.endpoint) }));
  // The premium call was hung up before anyone answered: it cost nothing, and has no ledger entry.
  expect(before).toEqual({ spent: 1_100_000, costs: 1, locks: ['1002'] });

  await killAgent();
  await new Promise((resolve) => setTimeout(resolve, 1000)); // the call goes on while nobody watches
  await startAgent();

  // Nothing committed was lost or counted twice.
  await until(() => output.includes('call table reconciled'), 'the reconciliation after the restart', 10_000).catch(() => undefined);
  expect(readStore((store) => ({ spent: store.spentSince(0), costs: store.costsSince(0).length, locks: store.locks(Date.now()).map((lock) => lock.endpoint) }))).toEqual(before);
  expect(hangupsOf(mobile.caller.channel)).toBe(0);

  // The cap crossed before the kill still blocks: a new call to Cuba is refused.
  const again = sim.callEvents({ from: '1001', to: CUBA, talkMs: 60_000 });
  sim.emitEvents([...again.setup, ...again.answer].map((entry) => entry.message));
  await until(() => hangupsOf(again.caller.channel) >= 1, 'the new Cuba call refused after the restart', 10_000);
  // And the lock still refuses 1002.
  const locked = sim.callEvents({ from: '1002', to: '12125550123', talkMs: 60_000 });
  sim.emitEvents(locked.setup.map((entry) => entry.message));
  await until(() => hangupsOf(locked.caller.channel) >= 1, 'the locked phone refused after the restart', 10_000);

  // The mobile call ends: billed from its real answer time, before the kill, not from the restart.
  sim.emitEvents(mobile.hangup.map((entry) => entry.message));
  const mobileCost = await until(() => readStore((store) => store.costsSince(0).find((entry) => entry.linkedid === mobile.linkedid)), 'the mobile call in the ledger', 10_000);
  expect(mobileCost.answeredAt).toBe(answeredAt);
  expect(mobileCost.billableSeconds).toBeGreaterThan(1);
}, 120_000);
