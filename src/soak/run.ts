/**
 * The soak: the agent as a child process (`node dist/cli.js run`) against its own load generator —
 * the AMI simulator on loopback (behind a relay that can stall or go half-open), a small SMTP
 * server that goes down and comes back — driving legitimate and fraudulent calls and a concurrent
 * scanner flood while faults are injected, then a fuzz stage of mutated AMI frames. Everything on
 * 127.0.0.1; it stops by itself.
 *
 * What must hold (the zero rows): no fraud call survives (each is hung up before it would have
 * ended), no legitimate call is hung up, no alert mail is lost or sent twice, and the agent is
 * alive after the fuzz.
 */
import Database from 'better-sqlite3';
import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../paths.js';
import { AmiSimulator } from '../sim/index.js';
import { AgentProcess } from './agent.js';
import { fixtureFrames, mutatedFrames, seededRandom } from './fuzz.js';
import { FaultyRelay } from './proxy.js';
import { SmtpSink } from './smtp-sink.js';

export interface SoakOptions {
  /** How long calls and the scanner run while faults are injected. */
  durationMs: number;
  /** Mutated frames in the fuzz stage. @default 100_000 */
  fuzzFrames?: number;
  /** Scanner security events per second. @default 300 */
  scannerRate?: number;
  /** New calls per second (a third of them fraudulent). @default 1.5 */
  callRate?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface SoakReport {
  durationMs: number;
  fraudPlaced: number;
  fraudSurvived: number;
  legitPlaced: number;
  legitHungUp: number;
  alertsQueued: number;
  alertsLost: number;
  alertsDuplicated: number;
  mailsDelivered: number;
  scannerEvents: number;
  /** Fault → agent logged in again, ms. */
  reconnects: { fault: string; ms: number | undefined }[];
  brokenReloadRejected: boolean;
  policiesKeptAfterBrokenReload: boolean;
  /** [seconds since start, MB] */
  rss: [number, number][];
  /** Fraud call set up → Hangup action received, ms (calls placed outside faults). */
  latency: { p50: number; p99: number; max: number; count: number };
  fuzzFrames: number;
  garbageCounted: number | undefined;
  aliveAfterFuzz: boolean;
  fraudStoppedAfterFuzz: boolean;
  /** What went wrong, for the reader: fraud calls that survived (placed at, s) and mails received twice. */
  survivors: { placedAtSeconds: number; channel: string; duringFault: boolean }[];
  /** The largest and slowest detection state checkpoint seen (from /metrics, sampled with the RSS). */
  checkpoint: { maxBytes: number; maxMs: number };
  /** Mails still in the outbox when the soak gave up waiting. */
  waitingMails: { key: string; attempts: number; ageSeconds: number; dueInSeconds: number; lastError: string }[];
  duplicateKeys: string[];
}

const USER = { username: 'tollgate', secret: 'soak-secret-not-for-production' };
const FRAUD_NUMBERS = ['00449098790123', '011535551234', '00449098790456', '011535557890'];
const LEGIT_NUMBERS = ['12125550123', '13105550142', '17735550142', '16502530000'];
/** A fraud call not hung up within this long after it was placed has survived (the carrier billed it). */
const FRAUD_TALK_MS = 30_000;

interface PlacedCall {
  kind: 'fraud' | 'legit';
  channel: string;
  placedAt: number;
  duringFault: boolean;
  hungUpAt?: number;
  ended: boolean;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => undefined);
  const fuzzCount = options.fuzzFrames ?? 100_000;
  const scannerRate = options.scannerRate ?? 300;
  const callRate = options.callRate ?? 1.5;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-soak-'));
  const random = seededRandom(20261205);

  const sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  const relay = new FaultyRelay({ host: '127.0.0.1', port: sim.port });
  await relay.start();
  const smtp = new SmtpSink();
  await smtp.start();
  const httpPort = await freePort();
  const db = join(dir, 'tollgate.db');
  const policiesDir = join(dir, 'policies');
  cpSync(packagePath('policies'), policiesDir, { recursive: true });
  const configFile = join(dir, 'tollgate.yaml');
  writeFileSync(
    configFile,
    [
      'ami:',
      `  port: ${relay.port}`,
      `  username: ${USER.username}`,
      `  secret: ${USER.secret}`,
      // Two unanswered Pings (4 s) declare a stalled or half-open link dead.
      '  pingIntervalMs: 2000',
      '  actionTimeoutMs: 3000',
      '  reconnectMaxMs: 2000',
      'numbering:',
      '  homeCountry: US',
      '  internationalPrefixes: ["011", "00"]',
      '  internalPatterns: ["_XXXX"]',
      'trunks: [carrier]',
      'rates:',
      `  file: ${packagePath('config', 'rates.example.csv')}`,
      'policies:',
      `  dir: ${policiesDir}`,
      'db:',
      `  file: ${db}`,
      'smtp:',
      `  url: smtp://127.0.0.1:${smtp.port}`,
      'alerts:',
      '  to: [pbx-admin@example.com]',
      '  from: tollgate@example.com',
      '  digest: false',
      'timezone: UTC',
      'http:',
      `  port: ${httpPort}`,
      '',
    ].join('\n'),
  );

  const calls = new Map<string, PlacedCall>();
  const logins: number[] = [];
  sim.on('login', () => logins.push(Date.now()));
  sim.on('action', (action) => {
    if (action.name !== 'Hangup') return;
    const call = calls.get(action.message.get('Channel') ?? '');
    if (call && call.hungUpAt === undefined) call.hungUpAt = Date.now();
  });
  const started = Date.now();
  const rss: [number, number][] = [];
  const reconnects: SoakReport['reconnects'] = [];
  let faultActive = 0;
  const checkpoint = { maxBytes: 0, maxMs: 0 };
  let scannerEvents = 0;
  let agent = new AgentProcess(configFile);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, work: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      work();
    }, ms);
    timers.add(timer);
  };

  try {
    await sim.waitForSessions(1, { timeoutMs: 30_000 });
    log(`agent logged in (pid ${agent.pid}); ${Math.round(options.durationMs / 1000)} s of calls and scanner with faults`);

    // ── load ──
    let sequence = 0;
    const placeCall = (): void => {
      const fraud = random() < 1 / 3;
      sequence++;
      // Fraud from a few hijacked phones of its own (never the legitimate ones: a phone caught is
      // watched closely), so an attack is a few incidents, as it is on a real PBX.
      const from = fraud ? String(3001 + (sequence % 6)) : String(2000 + (sequence % 40));
      const to = fraud ? FRAUD_NUMBERS[sequence % FRAUD_NUMBERS.length]! : LEGIT_NUMBERS[sequence % LEGIT_NUMBERS.length]!;
      const script = sim.callEvents({ from, to, ringMs: 300, talkMs: fraud ? FRAUD_TALK_MS : 3000 + Math.floor(random() * 7000) });
      const call: PlacedCall = { kind: fraud ? 'fraud' : 'legit', channel: script.caller.channel, placedAt: Date.now(), duringFault: faultActive > 0, ended: false };
      calls.set(call.channel, call);
      sim.emitEvents(script.setup.map((entry) => entry.message));
      later(300, () => {
        if (call.hungUpAt === undefined) sim.emitEvents(script.answer.map((entry) => entry.message));
      });
      const talk = fraud ? FRAUD_TALK_MS : 3000 + Math.floor(random() * 7000);
      later(300 + talk, () => {
        call.ended = true;
        if (call.hungUpAt === undefined) sim.emitEvents(script.hangup.map((entry) => entry.message));
      });
    };
    let scanSequence = 0;
    const scan = (count: number): void => {
      const events = [];
      for (let i = 0; i < count; i++) {
        scanSequence++;
        // 8 busy scanners and a trickle of one-shot IPv6 sources.
        const ip = scanSequence % 50 === 0 ? `IPV6/UDP/2001:db8::${(scanSequence % 65_536).toString(16)}/5060` : `IPV4/UDP/203.0.113.${1 + (scanSequence % 8)}/${5060 + (scanSequence % 100)}`;
        const kind = scanSequence % 2 === 0 ? 'InvalidAccountID' : 'ChallengeResponseFailed';
        events.push({
          Event: kind,
          Privilege: 'security,all',
          EventTV: new Date().toISOString(),
          Severity: 'Error',
          Service: 'PJSIP',
          EventVersion: '1',
          AccountID: kind === 'InvalidAccountID' ? `${100 + (scanSequence % 900)}` : `${2000 + (scanSequence % 40)}`,
          SessionID: `scan-${scanSequence}`,
          LocalAddress: 'IPV4/UDP/127.0.0.1/5060',
          RemoteAddress: ip,
        });
      }
      sim.emitEvents(events);
      scannerEvents += count;
    };
    const loadTimer = setInterval(() => {
      scan(Math.round(scannerRate / 10));
      if (random() < callRate / 10) placeCall();
    }, 100);
    const rssTimer = setInterval(() => {
      const bytes = agent.rss();
      if (bytes !== undefined) rss.push([Math.round((Date.now() - started) / 1000), Math.round(bytes / 1_048_576)]);
      void metric(httpPort, 'tollgate_state_checkpoint_bytes').then((value) => (checkpoint.maxBytes = Math.max(checkpoint.maxBytes, value ?? 0)));
      void metric(httpPort, 'tollgate_state_checkpoint_block_ms').then((value) => (checkpoint.maxMs = Math.max(checkpoint.maxMs, value ?? 0)));
    }, Math.max(1000, Math.min(10_000, options.durationMs / 36)));

    // ── faults, at fixed fractions of the duration ──
    const at = (fraction: number): Promise<void> => sleep(Math.max(0, started + fraction * options.durationMs - Date.now()));
    const relogin = async (fault: string, since: number, timeoutMs = 30_000): Promise<void> => {
      const before = logins.length;
      const deadline = Date.now() + timeoutMs;
      while (logins.length === before && Date.now() < deadline) await sleep(20);
      const ms = logins.length > before ? logins[before]! - since : undefined;
      reconnects.push({ fault, ms });
      log(`${fault}: ${ms === undefined ? 'NOT reconnected' : `logged in again after ${ms} ms`}`);
    };
    const fault = async (work: () => Promise<void>): Promise<void> => {
      faultActive++;
      try {
        await work();
      } finally {
        // Calls placed in the seconds after a fault are still judged late (reconciliation): not latency samples.
        await sleep(2000);
        faultActive--;
      }
    };

    await at(0.1);
    await fault(async () => {
      log('AMI server restart with calls up (2 s down)');
      const restart = sim.restart({ downtimeMs: 2000, announce: true });
      const since = Date.now();
      await restart;
      await relogin('AMI server restart (from going down)', since);
    });

    await at(0.2);
    await fault(async () => {
      log('stalled socket: nothing relayed for 10 s');
      const since = Date.now();
      relay.stall(10_000);
      await relogin('stalled socket (from the stall)', since);
    });

    await at(0.3);
    await fault(async () => {
      log('half-open connection: the link goes silent for good');
      const since = Date.now();
      relay.halfOpen();
      await relogin('half-open connection (from going silent)', since);
    });

    await at(0.4);
    log('SMTP server down');
    await smtp.stop();
    later(Math.max(0, started + 0.75 * options.durationMs - Date.now()), () => {
      log('SMTP server back');
      void smtp.start();
    });

    await at(0.5);
    log('SIGHUP with a broken policy set');
    const rejections = (): number => agent.lines.filter((line) => String(line.msg).startsWith('policy reload rejected')).length;
    const rejectedBefore = rejections();
    const broken = join(policiesDir, 'zz-broken.yaml');
    writeFileSync(broken, 'id: zz-broken\nkind: destination\nactions: [alert, explode]\nmatch: { destination: { countries: [XX] } }\n');
    agent.signal('SIGHUP');
    const brokenReloadRejected = await waitFor(() => rejections() > rejectedBefore, 10_000);
    unlinkSync(broken);
    agent.signal('SIGHUP');
    log(`broken set ${brokenReloadRejected ? 'rejected; the last good set stays in force' : 'NOT rejected'}`);

    await at(0.6);
    await fault(async () => {
      log('kill -9 of the agent, restarted on the same database');
      const since = Date.now();
      await agent.stop('SIGKILL');
      agent = new AgentProcess(configFile);
      await relogin('kill -9 (from the kill)', since);
    });

    await at(1);
    clearInterval(loadTimer);
    log('load stopped; waiting for the last calls to end and every mail to be delivered');
    await waitFor(() => [...calls.values()].every((call) => call.ended || call.hungUpAt !== undefined), FRAUD_TALK_MS + 5000);
    if (!smtp.running) await smtp.start();
    // The outbox drains: mails held back during the outage go out (the mailer retries with backoff
    // and sends at most 30 a minute).
    await waitFor(() => outbox(db).pending === 0, 300_000, 500);
    await sleep(1000);
    clearInterval(rssTimer);

    const placed = [...calls.values()];
    const fraud = placed.filter((call) => call.kind === 'fraud');
    const legit = placed.filter((call) => call.kind === 'legit');
    const samples = fraud.filter((call) => !call.duringFault && call.hungUpAt !== undefined).map((call) => call.hungUpAt! - call.placedAt);
    const mail = outbox(db);
    const received = [...smtp.keys];
    const delivered = new Set(received);
    const policiesLoaded = await metric(httpPort, 'tollgate_policies_loaded');

    // ── fuzz ──
    log(`fuzz: ${fuzzCount} mutated frames from the fixtures`);
    const garbageBefore = await metric(httpPort, 'tollgate_ami_garbage_total');
    const base = fixtureFrames(packagePath('test', 'fixtures', 'ami'));
    let fuzzed = 0;
    for (const { data, frames } of mutatedFrames(base, fuzzCount)) {
      sim.sendRaw(data, { loggedInOnly: true });
      fuzzed += frames;
      // About 5 000 frames a second: the agent keeps up, the soak's buffers stay small.
      await sleep(100);
    }
    await sleep(3000);
    const garbageAfter = await metric(httpPort, 'tollgate_ami_garbage_total');
    const aliveAfterFuzz = agent.running;
    // Still guarding: one more fraud call is hung up.
    const probe = sim.callEvents({ from: '3999', to: FRAUD_NUMBERS[0]!, ringMs: 300, talkMs: 10_000 });
    const probeCall: PlacedCall = { kind: 'fraud', channel: probe.caller.channel, placedAt: Date.now(), duringFault: true, ended: false };
    calls.set(probeCall.channel, probeCall);
    await sim.waitForSessions(1, { timeoutMs: 15_000 }).catch(() => undefined);
    sim.emitEvents(probe.setup.map((entry) => entry.message));
    await waitFor(() => probeCall.hungUpAt !== undefined, 10_000);

    return {
      durationMs: options.durationMs,
      fraudPlaced: fraud.length,
      fraudSurvived: fraud.filter((call) => call.hungUpAt === undefined).length,
      legitPlaced: legit.length,
      legitHungUp: legit.filter((call) => call.hungUpAt !== undefined).length,
      alertsQueued: mail.keys.length,
      alertsLost: mail.keys.filter((key) => !delivered.has(key)).length,
      alertsDuplicated: received.length - delivered.size,
      mailsDelivered: received.length,
      scannerEvents,
      reconnects,
      brokenReloadRejected,
      policiesKeptAfterBrokenReload: policiesLoaded !== undefined && policiesLoaded > 0,
      rss,
      latency: percentiles(samples),
      fuzzFrames: fuzzed,
      garbageCounted: garbageBefore !== undefined && garbageAfter !== undefined ? garbageAfter - garbageBefore : undefined,
      aliveAfterFuzz,
      fraudStoppedAfterFuzz: probeCall.hungUpAt !== undefined,
      survivors: fraud.filter((call) => call.hungUpAt === undefined).map((call) => ({ placedAtSeconds: Math.round((call.placedAt - started) / 100) / 10, channel: call.channel, duringFault: call.duringFault })),
      waitingMails: mail.waiting,
      checkpoint,
      duplicateKeys: [...new Set(received.filter((key, index) => received.indexOf(key) !== index))],
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await agent.stop('SIGTERM');
    await sim.stop();
    await relay.stop();
    await smtp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The zero rows that failed (empty: the soak passed). */
export function failedChecks(report: SoakReport): string[] {
  const failed: string[] = [];
  if (report.fraudSurvived !== 0) failed.push(`${report.fraudSurvived} fraud calls survived`);
  if (report.legitHungUp !== 0) failed.push(`${report.legitHungUp} legitimate calls hung up`);
  if (report.alertsLost !== 0) failed.push(`${report.alertsLost} alerts lost`);
  if (report.alertsDuplicated !== 0) failed.push(`${report.alertsDuplicated} alerts duplicated`);
  if (report.reconnects.some((entry) => entry.ms === undefined)) failed.push('a fault left the agent disconnected');
  if (!report.brokenReloadRejected || !report.policiesKeptAfterBrokenReload) failed.push('the broken policy set was not rejected');
  if (!report.aliveAfterFuzz || !report.fraudStoppedAfterFuzz) failed.push('the agent did not survive the fuzz');
  if (report.fraudPlaced === 0 || report.legitPlaced === 0) failed.push('no calls were placed');
  return failed;
}

/** The report as the table `npm run soak` prints. */
export function formatReport(report: SoakReport): string {
  const rows: [string, string, string][] = [
    ['fraud calls placed / survived', `${report.fraudPlaced} / ${report.fraudSurvived}`, 'survived = 0'],
    ['legitimate calls placed / hung up', `${report.legitPlaced} / ${report.legitHungUp}`, 'hung up = 0'],
    ['alert mails queued / delivered', `${report.alertsQueued} / ${report.mailsDelivered}`, ''],
    ['alerts lost', String(report.alertsLost), '0'],
    ['alerts duplicated', String(report.alertsDuplicated), '0'],
    ...report.reconnects.map((entry): [string, string, string] => [`reconnect: ${entry.fault}`, entry.ms === undefined ? 'never' : `${entry.ms} ms`, 'reconnects']),
    ['SIGHUP with a broken policy set', report.brokenReloadRejected && report.policiesKeptAfterBrokenReload ? 'rejected, last good set kept' : 'NOT rejected', 'rejected'],
    ['scanner security events sent', String(report.scannerEvents), ''],
    ['decision latency p50 / p99 / max', `${report.latency.p50} / ${report.latency.p99} / ${report.latency.max} ms (${report.latency.count} fraud calls)`, ''],
    ['detection state checkpoint: largest / longest block', `${Math.round(report.checkpoint.maxBytes / 1024)} KiB / ${Math.round(report.checkpoint.maxMs)} ms`, ''],
    ['fuzz frames sent / garbage counted', `${report.fuzzFrames} / ${report.garbageCounted ?? '?'}`, ''],
    ['agent after the fuzz', report.aliveAfterFuzz && report.fraudStoppedAfterFuzz ? 'alive, still hangs up fraud' : 'DEAD or not guarding', 'alive'],
  ];
  const width = [Math.max(...rows.map((row) => row[0].length)), Math.max(...rows.map((row) => row[1].length))];
  const table = rows.map(([name, value, must]) => `${name.padEnd(width[0]!)}  ${value.padEnd(width[1]!)}  ${must ? `(${must})` : ''}`.trimEnd());
  // At most a dozen samples, evenly spread: the shape is what matters.
  const step = Math.max(1, Math.ceil(report.rss.length / 12));
  const rss = report.rss.filter((_sample, index) => index % step === 0 || index === report.rss.length - 1);
  table.push(`${'agent RSS over time'.padEnd(width[0]!)}  ${rss.map(([seconds, mb]) => `${seconds} s: ${mb} MB`).join(', ')}`);
  for (const call of report.survivors) table.push(`  survived: ${call.channel} placed at ${call.placedAtSeconds} s${call.duringFault ? ' (during a fault)' : ''}`);
  for (const key of report.duplicateKeys) table.push(`  received twice: ${key}`);
  for (const mail of report.waitingMails) table.push(`  still in the outbox: ${mail.key} (${mail.attempts} attempts, queued ${mail.ageSeconds} s ago, next try in ${mail.dueInSeconds} s: ${mail.lastError})`);
  return table.join('\n');
}

function percentiles(samples: number[]): SoakReport['latency'] {
  if (samples.length === 0) return { p50: 0, p99: 0, max: 0, count: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]!, count: sorted.length };
}

/** Outbox rows (every mail the agent queued) and how many wait for the mail server. */
function outbox(file: string): { keys: string[]; pending: number; waiting: SoakReport['waitingMails'] } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT dedupe_key AS key, sent_at AS sentAt, attempts, next_attempt_at AS nextAt, created_at AS createdAt, last_error AS lastError FROM outbox').all() as {
      key: string;
      sentAt: number | null;
      attempts: number;
      nextAt: number;
      createdAt: number;
      lastError: string | null;
    }[];
    const waiting = rows.filter((row) => row.sentAt === null).map((row) => ({ key: row.key, attempts: row.attempts, ageSeconds: Math.round((Date.now() - row.createdAt) / 1000), dueInSeconds: Math.round((row.nextAt - Date.now()) / 1000), lastError: row.lastError ?? '' }));
    return { keys: rows.map((row) => row.key), pending: waiting.length, waiting };
  } finally {
    db.close();
  }
}

/** One value from the agent's /metrics, or undefined when it does not answer. */
async function metric(port: number, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(intervalMs);
  }
  return true;
}
