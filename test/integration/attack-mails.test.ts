/**
 * One attack, end to end, as the admin's mailbox sees it: the AMI simulator replays the recorded
 * SIP scan that guesses 1001's password and the five international calls 1001 then places; the
 * agent mails a real SMTP server on loopback. One thread: the first mail, follow-ups that answer
 * it (`In-Reply-To`/`References`) only when something new happens, subjects with the real
 * outcome, and a summary once the attack is quiet — also when the agent restarts mid-attack.
 */
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/log.js';
import { createAgent, type Agent } from '../../src/main.js';
import { packagePath } from '../../src/paths.js';
import { AmiSimulator, loadTranscript } from '../../src/sim/index.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.js';

const USER = { username: 'tollgate', secret: 'attack-mails-secret' };
/** Policies that judge the same at any hour (no office-hours signal): the mail count is the same every run. */
const POLICIES = ['sip-brute-force', 'account-compromise', 'locked-endpoints', 'international-concurrency'];
const SCAN = packagePath('demo', '01-register-bruteforce.ami');
const CALLS = packagePath('demo', '02-five-concurrent-international.ami');
/** Short enough for a test, long enough that the replayed attack never looks quiet half-way. */
const QUIET_MS = 1_500;

let sim: AmiSimulator;
let smtp: TestSmtpServer;
let dir: string;
let agent: Agent | undefined;

beforeEach(async () => {
  sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  smtp = await startSmtpServer();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-attack-mails-'));
  mkdirSync(join(dir, 'policies', 'lists'), { recursive: true });
  for (const id of POLICIES) copyFileSync(packagePath('policies', `${id}.yaml`), join(dir, 'policies', `${id}.yaml`));
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
  await sim.stop();
  await smtp.close();
});

async function startAgent(): Promise<Agent> {
  const { config } = loadConfig({
    env: {
      TOLLGATE_AMI_HOST: '127.0.0.1',
      TOLLGATE_AMI_PORT: String(sim.port),
      TOLLGATE_AMI_USERNAME: USER.username,
      TOLLGATE_AMI_SECRET: USER.secret,
      TOLLGATE_AMI_PING_INTERVAL_MS: '0',
      TOLLGATE_HOME_COUNTRY: 'US',
      TOLLGATE_NUMBERING_INTERNATIONAL_PREFIXES: '011,00',
      TOLLGATE_TRUNKS: 'carrier',
      TOLLGATE_RATES: packagePath('config', 'rates.example.csv'),
      TOLLGATE_DB: join(dir, 'tollgate.db'),
      TOLLGATE_POLICIES: join(dir, 'policies'),
      TOLLGATE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      TOLLGATE_ALERT_TO: 'pbx-admin@example.com',
      TOLLGATE_ALERT_FROM: 'tollgate@example.com',
      TOLLGATE_ALERTS_DIGEST: 'false',
      TOLLGATE_TIMEZONE: 'UTC',
      TOLLGATE_ACTIONS_CONFIRM_TIMEOUT_MS: '2000',
      TOLLGATE_HTTP_PORT: '0',
    },
  });
  const started = createAgent({ config, logger: new MemoryLogger(), mailer: { retryBaseMs: 50, retryMaxMs: 200 }, threadQuietMs: QUIET_MS });
  await started.start();
  await started.client.waitForConnected(5000);
  agent = started;
  return started;
}

async function replay(file: string): Promise<void> {
  await sim.replay(await loadTranscript(file), { speed: Infinity, times: 'now' });
  // Everything the replay set off is decided and carried out.
  await agent!.client.action('Ping');
  await agent!.actor.settled();
}

/** The mails of the thread, and the checks every thread must pass. */
function expectOneThread(mails: ReceivedMail[]): void {
  const [first, ...rest] = mails;
  expect(first!.messageId).toMatch(/^<tollgate\..+@example\.com>$/);
  expect(first!.header('in-reply-to')).toBeUndefined();
  for (const mail of rest) {
    expect(mail.header('in-reply-to')).toBe(first!.messageId);
    expect(mail.header('references')).toBe(first!.messageId);
    expect(mail.header('x-tollgate-incident')).toBe(first!.header('x-tollgate-incident'));
  }
  expect(new Set(mails.map((mail) => mail.messageId)).size).toBe(mails.length);
}

function expectSummary(summary: ReceivedMail, agentRun: Agent): void {
  const figures = /\]\[SUMMARY\] attack on 1001 from 127\.0\.0\.1: 5 calls stopped, ([\d.]+) s of talk, ([\d ]+\.\d\d) USD got through, estimated ([\d ]+\.\d\d) USD avoided$/.exec(summary.subject);
  expect(figures ? summary.subject : `${summary.subject}\n${summary.text}`).toBe(summary.subject);
  // Talk time and cost are the spend ledger's; the estimate is an hour of each call at its rate.
  const ledger = agentRun.store.costsSince(0);
  // Under 10 s the subject gives one decimal: the ledger's sum rounded so (a tolerance of 0.05 failed when the sum was 0.05, shown 0.1).
  const talkSeconds = ledger.reduce((sum, entry) => sum + entry.billableSeconds, 0);
  expect(Number(figures![1])).toBe(Number(talkSeconds.toFixed(talkSeconds < 10 ? 1 : 0)));
  expect(Number(figures![2]!.replace(/ /g, ''))).toBeCloseTo(ledger.reduce((sum, entry) => sum + entry.micros, 0) / 1e6, 2);
  const rates = [...summary.text.matchAll(/ (\d+\.\d+)\/min +hung up/g)].map((match) => Number(match[1]));
  expect(rates).toHaveLength(5);
  expect(Number(figures![3]!.replace(/ /g, ''))).toBeCloseTo(rates.reduce((sum, rate) => sum + rate * 60, 0), 2);
  expect(summary.text).toMatch(/^What you must do now: +Change the secret of 1001, check the phone's provisioning, look at its calls since .+, then unlock it \(`tollgate unlock 1001`\)/m);
  expect(summary.text).toMatch(/127\.0\.0\.1 +\d+ +not blocked \(no firewall hook\)/);
  expect(summary.header('x-tollgate-kind')).toBe('summary');
}

describe('one attack, one thread of mails', () => {
  test('the scan, the guessed password and five calls hung up: four mails, threaded, with the real outcome, then the summary', async () => {
    const running = await startAgent();
    await replay(SCAN);
    await replay(CALLS);
    const mails = await smtp.waitFor(4, 15_000);
    // Nothing more arrives: the calls after the first are folded into the thread and its summary.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(smtp.messages).toHaveLength(4);
    expect(mails.map((mail) => mail.subject)).toEqual([
      '[Tollgate][HIGH] brute force from 127.0.0.1 — not blocked (no firewall hook)',
      '[Tollgate][CRITICAL][UPDATE] password guessed on 1001 from 127.0.0.1 — locked, not blocked (no firewall hook)',
      '[Tollgate][CRITICAL][UPDATE] 1001 → +53 5551234 hung up',
      expect.stringMatching(/^\[Tollgate\]\[CRITICAL\]\[SUMMARY\] attack on 1001 from 127\.0\.0\.1: 5 calls stopped/),
    ]);
    expectOneThread(mails);
    // The call's mail lists every policy that flagged it, once; the hang-ups are all on the wire.
    expect(mails[2]!.text).toMatch(/What the policies found \(\d flagged it\)/);
    expect(mails[2]!.text).toMatch(/^What Tollgate did: +Hung up the call/m);
    expect(sim.actions.filter((action) => action.name === 'Hangup')).toHaveLength(5);
    expectSummary(mails[3]!, running);
    // The folded alerts are on record, not lost.
    const folded = running.store.decisions().filter((decision) => decision.action === 'alert' && /folded into attack thread/.test(decision.detail ?? ''));
    expect(folded.length).toBeGreaterThan(0);
  }, 30_000);

  test('restarted between the guessed password and the calls: the follow-up still answers the first mail, and the summary comes', async () => {
    await startAgent();
    await replay(SCAN);
    await smtp.waitFor(2, 10_000);
    await agent!.stop();
    agent = undefined;

    const restarted = await startAgent();
    await replay(CALLS);
    const mails = await smtp.waitFor(4, 15_000);
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    expect(smtp.messages).toHaveLength(4);
    expect(mails.map((mail) => mail.subject)).toEqual([
      '[Tollgate][HIGH] brute force from 127.0.0.1 — not blocked (no firewall hook)',
      '[Tollgate][CRITICAL][UPDATE] password guessed on 1001 from 127.0.0.1 — locked, not blocked (no firewall hook)',
      '[Tollgate][CRITICAL][UPDATE] 1001 → +53 5551234 hung up',
      expect.stringMatching(/\[SUMMARY\] attack on 1001 from 127\.0\.0\.1: 5 calls stopped/),
    ]);
    expectOneThread(mails);
    expectSummary(mails[3]!, restarted);
  }, 30_000);

  test('stopped before the attack went quiet: the next start sends the summary once', async () => {
    await startAgent();
    await replay(SCAN);
    await replay(CALLS);
    await smtp.waitFor(3, 10_000);
    await agent!.stop();
    agent = undefined;
    expect(smtp.messages).toHaveLength(3);
    // Down for longer than the quiet time: the summary is due as soon as the agent is back.
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const restarted = await startAgent();
    const mails = await smtp.waitFor(4, 10_000);
    expectOneThread(mails);
    expectSummary(mails[3]!, restarted);
    await restarted.stop();
    agent = undefined;
    // And never again.
    const again = await startAgent();
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS / 2));
    expect(smtp.messages).toHaveLength(4);
    expect(again.store.outboxCounts()).toEqual({ pending: 0, sent: 4 });
  }, 30_000);
});
