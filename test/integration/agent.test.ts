/**
 * The whole agent, over real sockets: the AMI simulator replays recorded fraud, the agent hangs up
 * on the wire, mails a real SMTP server on loopback, and remembers everything in a real SQLite file.
 */
import { executionAsyncId } from 'node:async_hooks';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { packagePath } from '../../src/paths.js';
import { AmiSimulator, loadTranscript } from '../../src/sim/index.js';
import { unlockEndpoint } from '../../src/commands/locks.js';
import { trustAddress } from '../../src/commands/addresses.js';
import { Store } from '../../src/store/store.js';
import { fixturePath } from '../helpers/fixtures.js';
import { LAB_AMI_USER, startLabAgent, type LabAgent } from '../helpers/lab-agent.js';
import { freePort } from '../helpers/smtp.js';
import { until } from '../helpers/wait.js';

const USER = LAB_AMI_USER;

type Setup = LabAgent;

let setup: Setup | undefined;

afterEach(async () => {
  await setup?.stop();
  setup = undefined;
});

/**
 * The agent's plumbing (hang-up in the same turn, mail, audit) is shown on the one premium call of
 * the recorded five: a destination policy for premium numbers at home and abroad. (The shipped
 * block-premium-rate guards the home country only; international-risk takes premium numbers abroad.)
 */
const PREMIUM_EVERYWHERE = `id: block-premium-rate
kind: destination
description: Hang up calls to premium-rate and shared-cost numbers, at home and abroad
severity: critical
match:
  direction: [outbound, transit]
  destination:
    types: [PREMIUM_RATE, SHARED_COST]
actions: [alert, hangup]
`;

/** The shipped international-risk with the office open around the clock: these tests run at any hour. */
const RISK_ANY_HOUR = readFileSync(packagePath('policies', 'international-risk.yaml'), 'utf8').replace('{ days: [mon-fri], from: "08:00", to: "19:00" }', '{ from: "00:00", to: "24:00" }');

/** A policy directory with only the named policies (so the weekday does not matter). */
function policyDir(ids: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-policies-'));
  for (const id of ids) {
    if (id === 'block-premium-rate') writeFileSync(join(dir, `${id}.yaml`), PREMIUM_EVERYWHERE);
    else if (id === 'international-risk') writeFileSync(join(dir, `${id}.yaml`), RISK_ANY_HOUR);
    else copyFileSync(packagePath('policies', `${id}.yaml`), join(dir, `${id}.yaml`));
  }
  // The risk lists only where a policy grades by risk (low-risk countries, IRSF destinations).
  if (ids.includes('international-risk')) cpSync(packagePath('policies', 'lists'), join(dir, 'lists'), { recursive: true });
  else mkdirSync(join(dir, 'lists'));
  return dir;
}

async function start(options: { policies: string[]; mode?: 'enforce' | 'simulate'; smtpAvailable?: boolean; httpPort?: number; dir?: string }): Promise<Setup> {
  setup = await startLabAgent({
    policies: policyDir(options.policies),
    ...(options.smtpAvailable !== undefined ? { smtpAvailable: options.smtpAvailable } : {}),
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    env: { TOLLGATE_MODE: options.mode ?? 'enforce', TOLLGATE_ACTIONS_CONFIRM_TIMEOUT_MS: '2000', TOLLGATE_HTTP_PORT: String(options.httpPort ?? 0) },
  });
  return setup;
}

async function replay(sim: AmiSimulator, file: string, speed = 40): Promise<void> {
  await sim.replay(await loadTranscript(file), { speed, times: 'now' });
}

describe('the agent against recorded fraud', () => {
  test('a premium-rate call is hung up on the wire in the same event-loop turn, and the admin gets a mail saying so', async () => {
    const { sim, smtp, agent } = await start({ policies: ['block-premium-rate'] });
    // The event that condemns the call, and the Hangup written for it, must share one turn.
    let triggerTurn: number | undefined;
    let hangupTurn: number | undefined;
    agent.client.on('event', (message) => {
      if (message.name === 'Newchannel' && message.get('Exten') === '00449098790123') triggerTurn = executionAsyncId();
    });
    agent.client.on('sent', (info) => {
      if (info.action === 'Hangup' && hangupTurn === undefined) hangupTurn = executionAsyncId();
    });

    await replay(sim, fixturePath('ami', 'five-concurrent-intl.timestamped.ami'));
    const hangup = await sim.waitForAction((action) => action.name === 'Hangup');
    expect(hangup.message.get('Channel')).toMatch(/^PJSIP\/1001-[0-9a-f]{8}$/);
    expect(hangup.message.get('Cause')).toBe('21');
    expect(triggerTurn).toBeDefined();
    expect(hangupTurn).toBe(triggerTurn);
    // Only the premium call: the four other international calls are not this policy's business.
    await agent.actor.settled();
    expect(sim.actions.filter((action) => action.name === 'Hangup')).toHaveLength(1);

    const [mail] = await smtp.waitFor(1);
    expect(mail!.subject).toBe('[Tollgate][CRITICAL] 1001 → +44 909 879 0123 hung up');
    expect(mail!.parsed.from?.text).toBe('tollgate@example.com');
    expect(mail!.parsed.to && 'text' in mail!.parsed.to ? mail!.parsed.to.text : '').toBe('pbx-admin@example.com');
    const text = mail!.text ?? '';
    for (const expected of ['block-premium-rate', 'Endpoint:', '1001', 'GB (United Kingdom)', 'premium rate', 'Rate:', '3.00 USD/min', 'Cost so far:', '0.00 USD (not answered)', 'How to undo', 'policies/block-premium-rate.yaml']) {
      expect(text).toContain(expected);
    }
    expect(text).toMatch(/hang-up: done — Hung up PJSIP\/1001-[0-9a-f]{8} \(cause 21, via AMI\), confirmed by Asterisk after \d+ ms/);
    expect(mail!.html).toContain('premium rate');

    // The audit trail: what was decided, why, and how it ended.
    const decisions = agent.store.decisions();
    expect(decisions.map((decision) => [decision.policy, decision.action, decision.result])).toEqual([
      ['block-premium-rate', 'alert', 'done'],
      ['block-premium-rate', 'hangup', 'done'],
    ]);
    expect(decisions[1]!.latencyMs).toBeLessThan(50);
    expect(decisions[1]!.detail).toMatch(/^Hung up PJSIP\/1001-/);
  });

  test('the read-only status endpoint: /healthz, /metrics, /status on loopback', async () => {
    const port = await freePort();
    const { sim, smtp, agent } = await start({ policies: ['block-premium-rate'], httpPort: port });
    await replay(sim, fixturePath('ami', 'five-concurrent-intl.timestamped.ami'));
    await sim.waitForAction((action) => action.name === 'Hangup');
    await agent.actor.settled();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, ami: 'connected', policies: 1, security: { waiting: 0, shed: 0, shedding: false, lastShedAt: null } });
    // The call's alert mail reached the relay and every call has ended (the ledger has them).
    await smtp.waitFor(1);
    await until(() => agent.table.liveCallCount === 0 && agent.store.outboxCounts().sent === 1, 'the calls to end and the mail to be marked sent');
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^tollgate_ami_connected 1$/m);
    expect(metrics).toMatch(/^tollgate_findings_total 1$/m);
    expect(metrics).toMatch(/^tollgate_policies_loaded 1$/m);
    expect(metrics).toMatch(/^tollgate_decisions_total\{action="hangup",policy="block-premium-rate",mode="enforce"\} 1$/m);
    expect(metrics).toMatch(/^tollgate_decisions_total\{action="alert",policy="block-premium-rate",mode="enforce"\} 1$/m);
    expect(metrics).toMatch(/^tollgate_hangups_total\{result="confirmed"\} 1$/m);
    expect(metrics).toMatch(/^tollgate_hangups_total\{result="failed"\} 0$/m);
    // One connection, no reconnection.
    expect(metrics).toMatch(/^tollgate_ami_reconnects_total 0$/m);
    expect(metrics).toMatch(/^tollgate_mails_sent_total 1$/m);
    expect(metrics).toMatch(/^tollgate_mail_failures_total 0$/m);
    expect(metrics).toMatch(/^tollgate_outbox_pending 0$/m);
    expect(metrics).toMatch(/^tollgate_info\{version="\d+\.\d+\.\d+[^"]*",mode="enforce"\} 1$/m);
    // The finding's detection state was checkpointed right after it.
    expect(metrics).toMatch(/^tollgate_state_checkpoints_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^tollgate_state_checkpoint_bytes [1-9]\d*$/m);
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Record<string, unknown>;
    expect(status.policies).toEqual([{ id: 'block-premium-rate', kind: 'destination', mode: 'enforce', enabled: true }]);
    expect(status).toMatchObject({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), mode: 'enforce', uptimeSeconds: expect.any(Number), hangups: { confirmed: 1, failed: 0, skipped: 0 }, outbox: { pending: 0, sent: 1, failedAttempts: 0, failing: 0 } });
    expect(status.rates).toMatchObject({ source: 'example' });
    // Today's spend: the four calls that were answered and ended normally (the lab's timezone is UTC).
    const spend = status.spendToday as { since: string; currency: string; calls: number; total: string; byEndpoint: Record<string, string>; byTrunk: Record<string, string>; byScope: Record<string, string> };
    expect(spend).toMatchObject({ currency: 'USD', timezone: 'UTC' });
    expect(spend.since).toMatch(/^\d{4}-\d\d-\d\dT00:00:00\.000Z$/);
    expect(spend.calls).toBeGreaterThanOrEqual(4);
    expect(Number(spend.total)).toBeGreaterThan(0);
    expect(spend.byEndpoint['1001']).toBe(spend.total);
    expect(spend.byTrunk.carrier).toBe(spend.total);
    // The lab is in the US; every call went abroad.
    expect(spend.byScope).toEqual({ international: spend.total });
    // Every time is ISO 8601: no epoch milliseconds anywhere.
    const epochMs: number[] = [];
    JSON.stringify(status, (_key, value: unknown) => {
      if (typeof value === 'number' && value > 1e11) epochMs.push(value);
      return value;
    });
    expect(epochMs).toEqual([]);
    expect(status.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(status)).not.toContain(USER.secret);
    expect((await fetch(`http://127.0.0.1:${port}/status`, { method: 'POST' })).status).toBe(405);
  });

  test('simulate mode mails SIMULATED and hangs up nothing', async () => {
    const { sim, smtp, agent } = await start({ policies: ['block-premium-rate'], mode: 'simulate' });
    await replay(sim, fixturePath('ami', 'five-concurrent-intl.timestamped.ami'));
    const [mail] = await smtp.waitFor(1);
    await agent.actor.settled();
    expect(mail!.subject).toBe('[Tollgate][CRITICAL][SIMULATED] 1001 → +44 909 879 0123 would hang up (simulate)');
    expect(mail!.text).toContain('SIMULATED');
    expect(sim.actions.filter((action) => action.name === 'Hangup')).toEqual([]);
    expect(agent.store.decisions().map((decision) => [decision.action, decision.result])).toEqual([
      ['alert', 'simulated'],
      ['hangup', 'simulated'],
    ]);
  });

  test('SMTP down during the incident and back later: the one mail of the call arrives exactly once', async () => {
    const { sim, smtp, agent } = await start({ policies: ['block-premium-rate', 'international-concurrency'], smtpAvailable: false });
    await replay(sim, fixturePath('ami', 'five-concurrent-intl.timestamped.ami'));
    await agent.actor.settled();
    // Two incidents (premium, concurrency) about one call: one mail; the relay refuses every attempt for a while.
    await until(() => agent.store.outboxCounts().pending === 1 && (agent.mailer?.status().failureStreak ?? 0) >= 4, 'a few failed attempts while SMTP is down', 10_000);
    expect(smtp.messages).toEqual([]);
    smtp.setAvailable(true);
    await smtp.waitFor(1, 10_000);
    await until(() => agent.store.outboxCounts().pending === 0, 'the outbox to drain');
    // Nothing more arrives: the mail exactly once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The premium call is also the third concurrent one: two policies, two incidents, one mail listing both.
    expect(smtp.messages.map((message) => message.subject)).toEqual(['[Tollgate][CRITICAL] 1001 → +44 909 879 0123 hung up']);
    expect(smtp.messages[0]!.text).toMatch(/What the policies found \(2 flagged it\)/);
    expect(smtp.messages[0]!.text).toContain('block-premium-rate (critical, match)');
    expect(smtp.messages[0]!.text).toContain('international-concurrency (high, concurrent)');
  });

  test('a guessed password locks the endpoint in the store and in AstDB; its next call is hung up; unlock lifts both', async () => {
    const port = await freePort();
    const { sim, smtp, agent, logger } = await start({ policies: ['account-compromise', 'locked-endpoints'], httpPort: port });
    await replay(sim, fixturePath('..', 'policies', 'account-compromise', 'derived-guessed-then-calls.ami'), 40);
    await sim.waitForAction((action) => action.name === 'Hangup');
    await agent.actor.settled();
    expect(agent.store.lockOf('1001', Date.now())).toMatchObject({ endpoint: '1001', policy: 'account-compromise' });
    // /status shows the lock with ISO times.
    const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { locks: Record<string, unknown>[] };
    expect(status.locks).toEqual([{ endpoint: '1001', since: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), until: null, policy: 'account-compromise', reason: expect.any(String) }]);
    // The scan's failures reached the digest's counters (gathered, then written in one transaction).
    const days = [Date.now(), Date.now() - 86_400_000].map((ms) => new Date(ms).toISOString().slice(0, 10)); // the lab's timezone is UTC; a run across midnight counts both days
    const counted = days.flatMap((day) => agent.store.securityCounts(day)).filter((row) => row.address === '203.0.113.9');
    expect(counted.reduce((sum, row) => sum + row.count, 0)).toBeGreaterThanOrEqual(20);
    expect(sim.astdb.get('tollgate/lock', '1001')).toMatch(/account-compromise$/);
    const subjects = (await smtp.waitFor(2)).map((message) => message.subject);
    // The address that guessed it goes to the firewall hook (none is configured in this test).
    expect(subjects).toContain('[Tollgate][CRITICAL] password guessed on 1001 from 203.0.113.9 — locked, not blocked (no firewall hook)');
    expect(subjects.some((subject) => subject.startsWith('[Tollgate][CRITICAL][UPDATE] 1001 → +53 5551234 hung up'))).toBe(true);

    const lines = await unlockEndpoint('1001', { ...loadConfig({ env: {} }).config, db: { file: agent.store.file, retentionDays: 90, checkpointIntervalMs: 1000 }, ami: { ...loadConfig({ env: {} }).config.ami, port: sim.port, ...USER, secret: USER.secret } });
    expect(lines).toEqual([`database: ${agent.store.file}`, expect.stringMatching(new RegExp(`^agent running on it: pid ${process.pid} on `)), '1001 unlocked', 'AstDB: removed from AstDB']);
    expect(agent.store.lockOf('1001', Date.now())).toBeUndefined();
    expect(sim.astdb.get('tollgate/lock', '1001')).toBeUndefined();
    expect(logger.text()).not.toContain(USER.secret);
  });

  test('a phone logging in from a network it never used: its call to London is reported with the command to trust the address; once trusted, nothing', async () => {
    // A database that has known 1001 for eight days, from its office network.
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-agent-'));
    const eightDaysAgo = Date.now() - 8 * 86_400_000;
    const seed = new Store(join(dir, 'tollgate.db'));
    seed.setMeta('addresses.since', String(eightDaysAgo));
    seed.saveAddresses([{ endpoint: '1001', network: '198.51.100.0/24', address: '198.51.100.10', firstSeen: eightDaysAgo, lastSeen: eightDaysAgo, via: 'registration', trusted: false }]);
    seed.close();
    const { sim, smtp, agent } = await start({ policies: ['international-risk'], dir });
    // 1001 logs in from 127.0.0.1 (the capture's phone) and calls a London landline.
    const london = packagePath('test', 'policies', 'international-risk', 'derived-london-office-hours.ami');
    await replay(sim, london);
    const [mail] = await smtp.waitFor(1);
    await agent.actor.settled();
    expect(mail!.subject).toBe('[Tollgate][MEDIUM] 1001 → +44 20 7946 0123 reported, not hung up');
    const text = mail!.text ?? '';
    expect(text).toContain('Why: the signals that added up (score 3)');
    expect(text).toContain('new-address +3: 1001 logged in from 127.0.0.1 (127.0.0.0/24), a network it had never used');
    expect(text).toContain('tollgate trust-address 1001 127.0.0.1');
    expect(sim.actions.filter((action) => action.name === 'Hangup')).toEqual([]);
    // What was learnt is in the database (a restart keeps it).
    expect(agent.store.addressesOf('1001').map((record) => record.network).sort()).toEqual(['127.0.0.0/24', '198.51.100.0/24']);

    // The admin checks with the phone's user and confirms the address: the running agent sees it.
    trustAddress(agent.store.file, '1001', '127.0.0.1', Date.now());
    const decisionsBefore = agent.store.decisions().length;
    await replay(sim, london);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await agent.actor.settled();
    expect(agent.store.decisions()).toHaveLength(decisionsBefore);
  });
});
