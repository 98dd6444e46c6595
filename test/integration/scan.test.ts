/**
 * The agent under a scan from many addresses, over real sockets: security events wait in their own
 * bounded lane, what cannot be judged is shed, counted and reported (/healthz, /metrics, the log, a
 * mail), and the digest's counters name a day's first addresses one by one and count the rest.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Agent } from '../../src/main.js';
import { packagePath } from '../../src/paths.js';
import { startLabAgent, type LabAgent } from '../helpers/lab-agent.js';
import { freePort } from '../helpers/smtp.js';
import { until } from '../helpers/wait.js';

let setup: (LabAgent & { httpPort: number }) | undefined;

afterEach(async () => {
  await setup?.stop();
  setup = undefined;
});

async function start(securityBacklog: number): Promise<LabAgent & { httpPort: number }> {
  const policies = join(mkdtempSync(join(tmpdir(), 'tollgate-scan-')), 'policies');
  mkdirSync(join(policies, 'lists'), { recursive: true });
  copyFileSync(packagePath('policies', 'sip-brute-force.yaml'), join(policies, 'sip-brute-force.yaml'));
  const httpPort = await freePort();
  setup = { ...(await startLabAgent({ policies, env: { TOLLGATE_AMI_SECURITY_BACKLOG: String(securityBacklog), TOLLGATE_HTTP_PORT: String(httpPort) } })), httpPort };
  return setup;
}

/** One refused REGISTER from its own address (a scan cycling addresses). */
function scanEvent(index: number) {
  return {
    Event: 'ChallengeResponseFailed',
    Privilege: 'security,all',
    Severity: 'Error',
    Service: 'PJSIP',
    EventVersion: '1',
    AccountID: String(1000 + (index % 50)),
    SessionID: `scan-${index}`,
    LocalAddress: 'IPV4/UDP/127.0.0.1/5060',
    RemoteAddress: `IPV6/UDP/2001:db8:${(index >>> 16).toString(16)}:${(index & 0xffff).toString(16)}::1/5060`,
  };
}

function judged(agent: Agent): number {
  return agent.tracker.normaliser.stats.normalised - agent.tracker.lanes.waitingCount - agent.tracker.lanes.stats.shed;
}

describe('a scan from many addresses', () => {
  test("the digest's counters name a day's first 10 000 addresses and count the others on one row", async () => {
    const { sim, agent } = await start(20_000);
    const scanned = 10_050;
    const before = judged(agent);
    sim.emitEvents(Array.from({ length: scanned }, (_, index) => scanEvent(index)));
    await until(() => judged(agent) - before >= scanned, 'the scan judged', 30_000);
    expect(agent.tracker.lanes.stats.shed).toBe(0);
    agent.actor.flushSecurityCounts();
    const day = new Date().toISOString().slice(0, 10); // the lab configuration's timezone is UTC
    const rows = agent.store.securityCounts(day).filter((row) => row.kind === 'ChallengeResponseFailed');
    expect(rows.filter((row) => row.address !== 'other addresses')).toHaveLength(10_000);
    expect(rows.find((row) => row.address === 'other addresses')?.count).toBe(scanned - 10_000);
    expect(rows.reduce((sum, row) => sum + row.count, 0)).toBe(scanned);
  });

  test('what arrives faster than it can be judged is shed, counted by kind, and reported in /healthz, /metrics, the log and one mail', async () => {
    const { sim, agent, smtp, logger, httpPort } = await start(100);
    // One burst the agent reads in a few socket reads: far more than the lane's 100 places.
    // Read in full, or passed over by name once the lane is full (the client counts those as shed).
    const arrived = () => agent.client.stats.events + agent.client.stats.shedSecurityEvents;
    const received = arrived();
    const normalised = agent.tracker.normaliser.stats.normalised;
    sim.emitEvents(Array.from({ length: 5000 }, (_, index) => scanEvent(index)));
    await until(() => arrived() - received >= 5000 && agent.tracker.lanes.waitingCount === 0, 'the burst read and drained', 30_000);
    await new Promise((resolve) => setImmediate(resolve));
    const { shed, shedByKind, highWater } = agent.tracker.lanes.stats;
    // Every event of the burst was judged or shed (counted); none twice.
    expect(shed).toBeGreaterThan(0);
    expect(shed + agent.tracker.normaliser.stats.normalised - normalised).toBe(5000);
    expect(shedByKind.get('ChallengeResponseFailed')).toBe(shed);
    expect(highWater).toBeLessThanOrEqual(101);

    const health = (await (await fetch(`http://127.0.0.1:${httpPort}/healthz`)).json()) as { ok: boolean; security: { shed: number; shedding: boolean; waiting: number } };
    expect(health.ok).toBe(true);
    expect(health.security).toMatchObject({ shed, shedding: true, waiting: 0 });
    const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(metrics).toContain(`tollgate_security_events_shed_total{kind="ChallengeResponseFailed"} ${shed}`);
    expect(metrics).toMatch(/tollgate_state_entries\{structure="policy:sip-brute-force"\} \d+/);
    expect(metrics).toMatch(/tollgate_state_evictions_total\{structure="address-memory"\} \d+/);

    await until(() => logger.entries.some((entry) => entry.msg?.startsWith('security events arrive faster than they can be judged')), 'the shedding warning');
    const [mail] = await smtp.waitFor(1, 10_000);
    expect(mail!.subject).toMatch(/security events shed \(scan faster than the agent\)/);
    expect(mail!.text).toContain('Every call event was still judged first');
    // The log stays small: one warning for the burst, not one per event.
    expect(logger.entries.filter((entry) => entry.msg?.startsWith('security events arrive faster')).length).toBe(1);
  });
});
