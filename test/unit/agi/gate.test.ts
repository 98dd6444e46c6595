/**
 * The pre-dial gate over a real FastAGI socket, speaking as Asterisk does, with the live path's
 * own tracker, engine (the shipped policies) and decider behind it.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dialledExtension, linkedidArgument, PreDialGate } from '../../../src/agi/gate.js';
import { AgiServer } from '../../../src/agi/server.js';
import { EventTimeline } from '../../../src/calls/event-time.js';
import { CallTable, TrunkRegistry } from '../../../src/calls/table.js';
import { CallTracker } from '../../../src/calls/tracker.js';
import { ManualClock } from '../../../src/clock.js';
import { Decider } from '../../../src/decide/decider.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { PolicyEngine } from '../../../src/policy/engine.js';
import { loadPoliciesOrThrow } from '../../../src/policy/loader.js';
import { Pipeline } from '../../../src/pipeline.js';
import { packagePath } from '../../../src/paths.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { agiEnvironment, defaultAnswers, runAgiSession, type Answer } from '../../helpers/fake-asterisk-agi.js';
import { captureEvents } from '../../helpers/feed.js';

const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));

interface Rig {
  server: AgiServer;
  gate: PreDialGate;
  tracker: CallTracker;
  decider: Decider;
  clock: ManualClock;
}

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.server.stop();
  rig = undefined;
});

/** Wednesday 2026-12-02 10:00 UTC: office hours, so only what the call is decides. */
async function start(options: { mode?: 'enforce' | 'simulate'; timeoutMs?: number; failClosedContexts?: string[] } = {}): Promise<Rig> {
  const clock = new ManualClock(Date.parse('2026-12-02T10:00:00Z'));
  const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  const tracker = new CallTracker({ table, clock });
  const engine = new PolicyEngine({ policies: loadPoliciesOrThrow(packagePath('policies')), classifier, rates, clock, environment: { timezone: 'UTC' } });
  const decider = new Decider({ mode: options.mode ?? 'enforce' });
  new Pipeline({ tracker, engine, decider, clock });
  const gate = new PreDialGate({ table, decider, ingest: (message, at) => tracker.ingest(message, at), clock, timeoutMs: options.timeoutMs ?? 200, failClosedContexts: options.failClosedContexts ?? [] });
  const server = new AgiServer({ host: '127.0.0.1', port: 0, handler: gate.handle });
  await server.start();
  rig = { server, gate, tracker, decider, clock };
  return rig;
}

const call = (port: number, extension: string, uniqueid = '1796205600.11', channel = 'PJSIP/1001-0000000b', context?: string) =>
  agiEnvironment({ port, channel, uniqueid, extension, ...(context ? { context } : {}) });

describe('pre-dial gate', () => {
  test('a UK premium number is denied before Dial(); the reason names the policy; the verdict is a decision of the live path', async () => {
    const { server, gate, decider, clock } = await start();
    const exchange = await runAgiSession(server.port, call(server.port, '00449098790123'), defaultAnswers('1796205600.11'));
    expect(exchange.commands[0]).toBe('GET VARIABLE CHANNEL(linkedid)');
    expect(exchange.variables.TOLLGATE_VERDICT).toBe('deny');
    expect(exchange.variables.TOLLGATE_REASON).toMatch(/^international-risk: 1001 → 00449098790123 \(GB, premium rate, critical risk\): risk score 6/);
    // Each command was sent after the one before was answered: Asterisk read every one at once, none only when the gate hung up.
    expect(exchange.readAtClose).toEqual([]);
    expect(decider.hangupOf('1796205600.11', clock.now())).toMatchObject({ mode: 'enforce' });
    expect(gate.stats).toMatchObject({ deny: 1, allow: 0, timeouts: 0 });
  });

  test('a London landline in office hours, a US number and 911 are allowed', async () => {
    const { server, gate } = await start();
    for (const [index, extension] of ['011442079460123', '12125550123', '911'].entries()) {
      const uniqueid = `1796205600.${20 + index}`;
      const exchange = await runAgiSession(server.port, call(server.port, extension, uniqueid, `PJSIP/1001-0000002${index}`), defaultAnswers(uniqueid));
      expect({ extension, verdict: exchange.variables.TOLLGATE_VERDICT }).toEqual({ extension, verdict: 'allow' });
    }
    expect(gate.stats).toMatchObject({ allow: 3, deny: 0 });
  });

  test('a call the live path already saw on AMI is answered from its judgement, without asking Asterisk anything', async () => {
    const { server, tracker, clock } = await start();
    // The real capture's Newchannel of 1001 dialling the UK premium number, as AMI delivered it.
    const timeline = new EventTimeline(clock);
    const premium = captureEvents('five-concurrent-intl.timestamped.ami').find((message) => message.name === 'Newchannel' && message.get('Exten') === '00449098790123')!;
    tracker.ingest(premium, timeline.timeOf(premium));
    const env = call(server.port, '00449098790123', premium.get('Uniqueid')!, premium.get('Channel')!);
    const exchange = await runAgiSession(server.port, env, defaultAnswers(premium.get('Linkedid')!));
    expect(exchange.commands.filter((command) => command.startsWith('GET'))).toEqual([]);
    expect(exchange.variables.TOLLGATE_VERDICT).toBe('deny');
  });

  test('the dialplan passes the linkedid (AGI(…/tollgate,linkedid=${CHANNEL(linkedid)})): the gate asks Asterisk nothing and judges that call', async () => {
    const { server, gate, decider, clock } = await start();
    // A second channel of a call (a Local channel's other half, a transfer): its linkedid is not its uniqueid.
    const env = { ...call(server.port, '00449098790123', '1796205600.31', 'PJSIP/1001-0000001f'), agi_arg_1: 'linkedid=1796205600.30' };
    const exchange = await runAgiSession(server.port, env, defaultAnswers('never-asked'));
    expect(exchange.commands).toEqual(['SET VARIABLE TOLLGATE_VERDICT deny', expect.stringMatching(/^SET VARIABLE TOLLGATE_REASON "international-risk: /)]);
    expect(exchange.readAtClose).toEqual([]);
    expect(decider.hangupOf('1796205600.30', clock.now())).toMatchObject({ mode: 'enforce' });
    expect(decider.hangupOf('1796205600.31', clock.now())).toBeUndefined();
    expect(gate.stats).toMatchObject({ deny: 1, errors: 0 });
  });

  test('an argument that is not a linkedid (the expression arrived unexpanded): the gate asks Asterisk, as with a bare AGI() line', async () => {
    const { server } = await start();
    const env = { ...call(server.port, '00449098790123'), agi_arg_1: 'linkedid=${CHANNEL(linkedid)}' };
    const exchange = await runAgiSession(server.port, env, defaultAnswers('1796205600.11'));
    expect(exchange.commands[0]).toBe('GET VARIABLE CHANNEL(linkedid)');
    expect(exchange.variables.TOLLGATE_VERDICT).toBe('deny');
  });

  test('asked from a subroutine (Gosub(tollgate-gate,s,1)): the extension is `s`, the number dialled is agi_dnid, and that is what is judged', async () => {
    const { server } = await start();
    const env = { ...call(server.port, 's', '1796205600.41', 'PJSIP/1001-00000029', 'tollgate-gate'), agi_dnid: '011449098790123' };
    const exchange = await runAgiSession(server.port, env, defaultAnswers('1796205600.41'));
    expect(exchange.variables.TOLLGATE_VERDICT).toBe('deny');
    expect(exchange.variables.TOLLGATE_REASON).toMatch(/^international-risk: 1001 → 011449098790123 /);
  });

  test('simulate mode: allowed, the reason says what would have happened', async () => {
    const { server, gate } = await start({ mode: 'simulate' });
    const exchange = await runAgiSession(server.port, call(server.port, '011882161234567'), defaultAnswers('1796205600.11'));
    expect(exchange.variables.TOLLGATE_VERDICT).toBe('allow');
    expect(exchange.variables.TOLLGATE_REASON).toMatch(/^SIMULATED, would deny — international-risk: /);
    expect(gate.stats).toMatchObject({ allow: 1, simulatedDeny: 1 });
  });

  test('no answer from Asterisk in time: the session closes with no verdict within the timeout (fail-open); a fail-closed context is denied', async () => {
    const { server, gate } = await start({ timeoutMs: 100, failClosedContexts: ['secure-*'] });
    const silent = (command: string) => (command.startsWith('GET VARIABLE') ? 'SILENCE' : '200 result=1');
    const open = await runAgiSession(server.port, call(server.port, '00449098790123'), silent);
    expect(open.variables).toEqual({});
    expect(open.ms).toBeLessThan(1000);
    const closed = await runAgiSession(server.port, call(server.port, '00449098790123', '1796205600.12', 'PJSIP/1001-0000000c', 'secure-outbound'), silent);
    // This Asterisk never answers the GET: its next reply is taken as that one, so only the verdict gets through.
    expect(closed.variables.TOLLGATE_VERDICT).toBe('deny');
    expect(gate.stats.timeouts).toBe(2);
  });

  test('the caller hangs up mid-dialogue: HANGUP is understood, nothing breaks, nothing more is sent', async () => {
    const { server, gate } = await start();
    const exchange = await runAgiSession(server.port, call(server.port, '00449098790123'), (command) => (command.startsWith('GET VARIABLE') ? 'HANGUP' : '200 result=1'));
    expect(exchange.commands).toEqual(['GET VARIABLE CHANNEL(linkedid)']);
    expect(gate.stats).toMatchObject({ hungUp: 1, errors: 0 });
  });

  test('Asterisk refuses the verdict: a dead channel (511) counts as a hang-up, another refusal as an error; the session ends either way', async () => {
    const { server, gate } = await start();
    const refusing =
      (variable: string, reply: string): Answer =>
      (command, socket) =>
        command.startsWith(`SET VARIABLE ${variable}`) ? reply : defaultAnswers('1796205600.11')(command, socket);
    const dead = await runAgiSession(server.port, call(server.port, '00449098790123'), refusing('TOLLGATE_REASON', '511 Command Not Permitted on a dead channel or intercepted channel'));
    // The reason is sent once the verdict is answered.
    expect(dead.commands).toEqual(['GET VARIABLE CHANNEL(linkedid)', 'SET VARIABLE TOLLGATE_VERDICT deny', expect.stringMatching(/^SET VARIABLE TOLLGATE_REASON "international-risk: 1001 → 00449098790123 /)]);
    expect(gate.stats).toMatchObject({ hungUp: 1, errors: 0 });
    await runAgiSession(server.port, call(server.port, '00449098790123', '1796205600.12', 'PJSIP/1001-0000000c'), refusing('TOLLGATE_VERDICT', '510 Invalid or unknown command'));
    expect(gate.stats).toMatchObject({ hungUp: 1, errors: 1 });
  });

  test('an environment sent a byte at a time, and one without a channel (an error: the dialplan goes on)', async () => {
    const { server, gate } = await start();
    const bytewise = await runAgiSession(server.port, call(server.port, '00449098790123'), defaultAnswers('1796205600.11'), { chunked: true });
    expect(bytewise.variables.TOLLGATE_VERDICT).toBe('deny');
    const broken = await runAgiSession(server.port, { agi_network: 'yes', agi_extension: '00449098790123' }, defaultAnswers('x'));
    expect(broken.variables).toEqual({});
    expect(gate.stats.errors).toBe(1);
  });

  test('latency percentiles are kept', async () => {
    const { server, gate } = await start();
    await runAgiSession(server.port, call(server.port, '011442079460123'), defaultAnswers('1796205600.11'));
    expect(gate.latency()).toMatchObject({ samples: 1 });
    expect(gate.latency().p99).toBeGreaterThan(0);
  });
});

test('linkedidArgument: linkedid=… among the AGI arguments, an id or nothing', () => {
  expect(linkedidArgument({ agi_arg_1: 'linkedid=1796205600.30' })).toBe('1796205600.30');
  expect(linkedidArgument({ agi_arg_1: 'fast', agi_arg_2: 'linkedid=pbx-eu-1796205600.30' })).toBe('pbx-eu-1796205600.30');
  expect(linkedidArgument({ agi_arg_1: 'linkedid= 1796205600.30 ' })).toBe('1796205600.30');
  expect(linkedidArgument({})).toBeUndefined();
  expect(linkedidArgument({ agi_arg_1: 'linkedid=' })).toBeUndefined();
  expect(linkedidArgument({ agi_arg_1: 'linkedid=${CHANNEL(linkedid)}' })).toBeUndefined();
  expect(linkedidArgument({ agi_arg_1: 'linkedid=a b' })).toBeUndefined();
  // Arguments are numbered from 1 without gaps: nothing after a missing one.
  expect(linkedidArgument({ agi_arg_2: 'linkedid=1796205600.30' })).toBeUndefined();
});

test('dialledExtension: the extension when it is a number, else the number the caller dialled', () => {
  expect(dialledExtension({ agi_extension: '011449098790123', agi_dnid: '011449098790123' })).toBe('011449098790123');
  expect(dialledExtension({ agi_extension: '+442079460123', agi_dnid: 'unknown' })).toBe('+442079460123');
  expect(dialledExtension({ agi_extension: '*98' })).toBe('*98');
  expect(dialledExtension({ agi_extension: 's', agi_dnid: '011449098790123' })).toBe('011449098790123');
  expect(dialledExtension({ agi_extension: 's', agi_dnid: 'unknown' })).toBe('s');
  expect(dialledExtension({})).toBe('');
});

test('every shipped policy loads for the gate', () => {
  expect(readdirSync(packagePath('policies')).filter((name) => name.endsWith('.yaml')).length).toBe(loadPoliciesOrThrow(join(packagePath('policies'))).length);
});
