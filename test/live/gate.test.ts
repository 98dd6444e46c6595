/**
 * The pre-dial gate on the real Asterisk: the demo dialplan's outbound route asks
 * AGI(agi://127.0.0.1:4573/tollgate) before Dial(). A fraudulent call is refused before the carrier
 * receives any INVITE; a legitimate call goes through; with the agent stopped, calls still go
 * through (fail-open).
 */
import { join } from 'node:path';
import { AgentProcess, asteriskLog, call, carrierEvents, carrierLog, rx, stateDir } from './live.js';

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
