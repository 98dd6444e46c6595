/**
 * User-Agents on the real Asterisk: after each registration the agent asks PJSIPShowContacts (the
 * AMI user of docker/asterisk/etc/manager.conf has write=system, nothing more). A phone registering
 * with its own User-Agent is learnt and left alone; a REGISTER that succeeds with a scanner's
 * User-Agent (friendly-scanner) is critical: endpoint-baseline locks the endpoint — in the store
 * and the AstDB mirror the dialplan checks — and its calls are refused.
 */
import { join } from 'node:path';
import { AgentProcess, call, cli, register, rx, stateDir, type LogRecord } from './live.js';

let agent: AgentProcess;
let db: string;

beforeAll(async () => {
  db = join(stateDir('profile'), 'tollgate.db');
  agent = await AgentProcess.start(db);
});

afterAll(async () => {
  await agent?.stop();
});

const baselineFindings = (from: number): LogRecord[] => agent.find((record) => record.msg.startsWith('finding:') && record.policy === 'endpoint-baseline', from);

test('an ordinary phone registers: its User-Agent is learnt, nothing is flagged', async () => {
  const mark = agent.records.length;
  expect(await register('1002', 'Yealink SIP-T46S 66.86.0.15')).toContain('registered 1002');
  const learnt = await agent.waitFor((record) => record.part === 'contacts' && record.endpoint === '1002', "1002's contact listing", 30_000, mark);
  expect(learnt).toMatchObject({ userAgent: 'Yealink SIP-T46S 66.86.0.15', ip: '127.0.0.1' });
  expect(baselineFindings(mark).filter((record) => record.endpoint === '1002')).toEqual([]);
  expect(agent.find((record) => record.msg === 'endpoint 1002 locked', mark)).toEqual([]);
  // Written within a few seconds, in one batch, and readable with `tollgate profile`.
  await agent.stop();
  const profile = JSON.parse(await cli(db, 'profile', '1002', '--json')) as { userAgents: { value: string }[] };
  expect(profile.userAgents.map((entry) => entry.value)).toEqual(['Yealink SIP-T46S 66.86.0.15']);
  agent = await AgentProcess.start(db);
});

test('a scanner User-Agent registers successfully: flagged critical, the endpoint locked, its calls refused', async () => {
  const mark = agent.records.length;
  expect(await register('1001', 'friendly-scanner')).toContain('registered 1001');
  const finding = await agent.waitFor((record) => record.msg.startsWith('finding:') && record.policy === 'endpoint-baseline' && record.endpoint === '1001', 'the scanner finding', 30_000, mark);
  expect(finding).toMatchObject({ level: 'scanner', severity: 'critical', ip: '127.0.0.1' });
  expect(finding.msg).toContain('friendly-scanner');
  // (From this agent's start: a scanner contact left registered by an earlier test is listed, and locked, at connect.)
  const locked = await agent.waitFor((record) => record.msg === 'endpoint 1001 locked' && record.policy === 'endpoint-baseline', 'the lock of 1001', 30_000, 0);
  expect(locked.endpoint).toBe('1001');
  expect(await rx('database show tollgate/lock')).toContain('/tollgate/lock/1001');
  // The hijacked account cannot call out: the dialplan's lock check refuses it.
  const refused = await call('12125550123', '1001', { holdMs: 3000 });
  expect(refused.lines).toContain('refused 403');
  // The phone registered before is still not flagged.
  expect(baselineFindings(mark).filter((record) => record.endpoint === '1002')).toEqual([]);
  expect(await cli(db, 'unlock', '1001')).toContain('1001 unlocked');
});
