/**
 * The pre-dial gate on the real Asterisk: the demo dialplan's outbound route asks
 * AGI(agi://127.0.0.1:4573/tollgate,linkedid=${CHANNEL(linkedid)}) before Dial(), and Asterisk is
 * read as it reads: one command at a time (a second one sent with the first would wait, unread,
 * until the gate closed the connection). A fraudulent call
 * is refused before the carrier receives any INVITE; a legitimate call goes through; with AMI out of
 * reach the gate judges calls from the AGI environment alone, with that line and with a bare
 * AGI(agi://127.0.0.1:4573/tollgate); with the agent stopped, calls still go through (fail-open).
 */
import { join } from 'node:path';
import { AgentProcess, asteriskLog, call, carrierEvents, carrierLog, freePort, rx, stateDir } from './live.js';

const GATE = { TOLLGATE_AGI_LISTEN: '127.0.0.1:4573' };
let agent: AgentProcess | undefined;

beforeAll(async () => {
  await rx('dialplan set global TOLLGATE_GATE yes');
});

afterAll(async () => {
  await agent?.stop();
});

test('a premium-rate call is refused before Dial(): the carrier never sees an INVITE; a legitimate call goes through', async () => {
  agent = await AgentProcess.start(join(stateDir('gate'), 'tollgate.db'), GATE);
  await agent.waitFor((record) => String(record.msg).startsWith('pre-dial gate listening'), 'the gate listening');
  const mark = agent.records.length;
  const carrierMark = carrierLog.mark();
  const asteriskMark = asteriskLog.mark();

  const fraud = await call('011449098790123', '1001', { holdMs: 5000 });
  expect(fraud.lines).not.toContain('answered');
  expect(fraud.lines.some((line) => line.startsWith('refused '))).toBe(true);
  // The gate's verdict (the AMI path may also have judged the call at its Newchannel and be
  // hanging it up at the same moment: one decision, whichever path delivers it first).
  const denied = await agent.waitFor((record) => record.msg === 'gate: deny', 'the gate refusing the call', 30_000, mark);
  expect(denied.reason).toMatch(/^international-risk: 1001 → 011449098790123 \(GB, premium rate, critical risk\)/);
  // What matters: the carrier never received an INVITE for it.
  expect(carrierEvents('011449098790123', carrierMark)).toEqual([]);
  expect(asteriskLog.since(asteriskMark).some((line) => /Tollgate refused the call|AGI Script .*tollgate/.test(line) || line.includes('011449098790123'))).toBe(true);

  const legit = await call('12125550123', '1001', { holdMs: 2000 });
  expect(legit.lines).toContain('answered');
  expect(carrierEvents('12125550123', carrierMark).some((line) => line.startsWith('answered'))).toBe(true);
});

test('AMI out of reach: the gate builds each call from the AGI environment, with the linkedid the dialplan passes or, on a bare AGI() line, the one it asks for', async () => {
  await agent?.stop();
  // Nothing listens on this port: the agent keeps retrying AMI and only its gate sees the calls.
  // A long timeout: a command Asterisk left unread until the gate hung up would hold the call that long.
  agent = await AgentProcess.start(join(stateDir('gate-no-ami'), 'tollgate.db'), { ...GATE, TOLLGATE_AGI_TIMEOUT_MS: '5000', TOLLGATE_AMI_PORT: String(await freePort()) }, { ami: false });
  await agent.waitFor((record) => String(record.msg).startsWith('pre-dial gate listening'), 'the gate listening');
  const carrierMark = carrierLog.mark();
  // Asterisk then logs each AGI line it sends (Tx) and reads (Rx).
  await rx('agi set debug on');
  try {
    const agiLines = (from: number) => asteriskLog.since(from).filter((line) => /AGI (Tx|Rx) /.test(line));

    // The demo's line: the linkedid comes with the environment; Asterisk is asked nothing.
    let asteriskMark = asteriskLog.mark();
    let mark = agent.records.length;
    const passed = await call('011449098790123', '1001', { holdMs: 5000 });
    expect(passed.lines).not.toContain('answered');
    expect((await agent.waitFor((record) => record.msg === 'gate: deny', 'the gate refusing the call', 30_000, mark)).reason).toMatch(/^international-risk: 1001 → 011449098790123 /);
    expect(agiLines(asteriskMark).some((line) => /AGI Tx >> agi_arg_1: linkedid=\S+/.test(line))).toBe(true);
    expect(agiLines(asteriskMark).filter((line) => line.includes('GET VARIABLE'))).toEqual([]);
    // Both variables were read as they came, not when the gate closed the session (after its 5 s timeout).
    expect(agiSessionMs(asteriskLog.since(asteriskMark))).toBeLessThan(2000);

    // The line as a new user may write it: the gate asks for CHANNEL(linkedid).
    // The outbound route's 4th priority is the gate's AGI() (docker/asterisk/etc/extensions.conf).
    await rx('dialplan add extension _X.,4,AGI,agi://127.0.0.1:4573/tollgate into from-internal replace');
    asteriskMark = asteriskLog.mark();
    mark = agent.records.length;
    const asked = await call('011449098790124', '1002', { holdMs: 5000 });
    expect(asked.lines).not.toContain('answered');
    expect((await agent.waitFor((record) => record.msg === 'gate: deny', 'the gate refusing the call', 30_000, mark)).reason).toMatch(/^international-risk: 1002 → 011449098790124 /);
    expect(agiLines(asteriskMark).some((line) => /AGI Rx << GET VARIABLE CHANNEL\(linkedid\)/.test(line))).toBe(true);
    const legit = await call('12125550125', '1001', { holdMs: 2000 });
    expect(legit.lines).toContain('answered');

    // Neither refused call reached the carrier.
    expect(carrierEvents('011449098790123', carrierMark)).toEqual([]);
    expect(carrierEvents('011449098790124', carrierMark)).toEqual([]);
  } finally {
    await rx('agi set debug off');
    // The demo's dialplan back (its [globals] turn the gate on again).
    await rx('dialplan reload');
  }
});

/** From AGI() starting to Asterisk seeing the script end, by the timestamps of Asterisk's full log. */
function agiSessionMs(lines: string[]): number {
  const at = (pattern: RegExp) => {
    const line = lines.find((candidate) => pattern.test(candidate));
    if (!line) throw new Error(`no line matching ${pattern} in Asterisk's log`);
    return Date.parse(line.slice(1, 24).replace(' ', 'T') + 'Z');
  };
  return at(/AGI Script agi:\/\/127\.0\.0\.1:4573\/tollgate completed/) - at(/Executing \[[^\]]*\] AGI\(/);
}

test('with the agent stopped, calls go through at once (fail-open)', async () => {
  await agent?.stop();
  agent = undefined;
  const carrierMark = carrierLog.mark();
  const asteriskMark = asteriskLog.mark();
  const outcome = await call('12125550124', '1001', { holdMs: 1000 });
  expect(outcome.lines).toContain('answered');
  expect(carrierEvents('12125550124', carrierMark).some((line) => line.startsWith('answered'))).toBe(true);
  // Asterisk tried the gate, found nobody listening and went on (AGISTATUS=FAILURE).
  expect(asteriskLog.since(asteriskMark).some((line) => /FastAGI|agi:\/\/127\.0\.0\.1:4573/.test(line))).toBe(true);
});
