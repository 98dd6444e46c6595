/**
 * `kill -9` in the middle of an attack changes no decision and loses no mail. The agent runs as a
 * real child process (`node dist/cli.js run`, the shipped policies), fed over TCP by the AMI
 * simulator replaying a recorded attack — a REGISTER scan from 203.0.113.9 that guesses 1001's
 * password, then a minute later 1001 calls Cuba — and mails a real SMTP server on loopback.
 *
 * The attack is played twice on fresh databases: once straight through, once with the agent killed
 * with SIGKILL and restarted on the same database twice — three quarters through the scan (fewer
 * than the 10 failures a compromise needs are left after it: only the checkpointed failure run
 * makes the success a compromise) and after the compromise, before the call (only the
 * checkpointed compromise window makes the call one to hang up, in the compromise's incident).
 *
 * "The same" with a moving clock: the live agent runs on the wall clock and the replay is paused
 * while the agent is down, so times, durations ("61 s after …") and the time stamps in incident
 * ids differ between the runs. Decisions are compared by policy, action, level, severity, mode,
 * result and target; mails by kind, subject and text — with every run of digits replaced by `#`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../src/paths.js';
import { AmiSimulator } from '../../src/sim/index.js';
import { parseTranscript, type TranscriptEntry } from '../../src/sim/transcript.js';
import { Store } from '../../src/store/store.js';
import { childAgentConfig } from '../helpers/lab-agent.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { until } from '../helpers/wait.js';

const USER = { username: 'tollgate', secret: 'kill-mid-attack-secret' };
/** The recorded scan moves by a few hundred ms a step; 30× keeps the minute before the call to 2 s. */
const SPEED = 30;
const ATTACK = parseTranscript(readFileSync(packagePath('test', 'policies', 'account-compromise', 'derived-guessed-then-calls.ami')));

/** Three quarters through 1001's refused attempts, and the AMI login a second before the call. */
function killPoints(entries: readonly TranscriptEntry[]): number[] {
  const failures = entries.flatMap((entry, index) => (entry.message.get('Event') === 'ChallengeResponseFailed' && entry.message.get('AccountID') === '1001' ? [index] : []));
  const beforeCall = entries.findIndex((entry) => entry.message.get('Event') === 'SuccessfulAuth' && entry.message.get('Service') === 'AMI');
  return [failures[Math.floor((failures.length * 3) / 4)]!, beforeCall];
}

interface Outcome {
  decisions: string[];
  mails: string[];
}

/** A running agent process and its log (JSON lines). */
class AgentProcess {
  readonly lines: Record<string, unknown>[] = [];
  private buffer = '';
  private readonly child: ChildProcess;

  constructor(configFile: string) {
    this.child = spawn(process.execPath, [packagePath('dist', 'cli.js'), 'run', '--config', configFile], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const read = (chunk: Buffer): void => {
      this.buffer += chunk.toString();
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop()!;
      for (const line of lines) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ msg: line });
        }
      }
    };
    this.child.stdout!.on('data', read);
    this.child.stderr!.on('data', read);
  }

  count(msg: string): number {
    return this.lines.filter((line) => line.msg === msg).length;
  }

  /** Position of the `n`-th (1-based) line with this message, or -1. */
  position(msg: string, n: number): number {
    let seen = 0;
    return this.lines.findIndex((line) => line.msg === msg && ++seen === n);
  }

  log(): string {
    return this.lines.map((line) => JSON.stringify(line)).join('\n');
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill(signal);
    await exited;
  }
}

let sim: AmiSimulator | undefined;
let smtp: TestSmtpServer | undefined;
let agent: AgentProcess | undefined;

beforeAll(() => {
  execFileSync(process.execPath, [packagePath('node_modules', 'typescript', 'bin', 'tsc'), '-p', packagePath('tsconfig.build.json')], { stdio: 'inherit' });
}, 120_000);

afterEach(async () => {
  await agent?.kill('SIGKILL');
  agent = undefined;
  await sim?.stop();
  await smtp?.close();
});

async function startAgent(configFile: string): Promise<AgentProcess> {
  const started = new AgentProcess(configFile);
  agent = started;
  await sim!.waitForSessions(1, { loggedIn: true, timeoutMs: 20_000 }).catch((error: unknown) => {
    throw new Error(`${String(error)}\nagent log:\n${started.log()}`);
  });
  await sim!.waitForAction('CoreShowChannels', { includePast: false, timeoutMs: 10_000 }).catch(() => undefined);
  return started;
}

/** Plays the attack against a fresh agent; at each kill point the agent is killed (SIGKILL) once its state is checkpointed, and restarted on the same database. */
async function playAttack(kills: readonly number[]): Promise<Outcome> {
  sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  smtp = await startSmtpServer();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-kill-'));
  const db = join(dir, 'tollgate.db');
  const configFile = join(dir, 'tollgate.yaml');
  writeFileSync(configFile, childAgentConfig({ amiPort: sim.port, user: USER, policies: packagePath('policies'), db, checkpointIntervalMs: 200, smtpPort: smtp.port, logLevel: 'debug' }));

  let current = await startAgent(configFile);
  /** Security events sent since the current agent started. */
  let securitySent = 0;
  await sim.replay(ATTACK, {
    speed: SPEED,
    onEvent: async (entry, index) => {
      if (/^(ChallengeResponseFailed|InvalidAccountID|SuccessfulAuth|ChallengeSent|InvalidPassword)$/.test(entry.message.get('Event') ?? '')) securitySent++;
      if (!kills.includes(index)) return;
      // The event was judged, and a checkpoint written after it (the log is written in order).
      await until(() => current.count('security event') >= securitySent, `the agent's judgement of event ${index}`, 10_000);
      const judged = current.position('security event', securitySent);
      await until(() => current.lines.findIndex((line, at) => at > judged && line.msg === 'detection state saved') >= 0, 'a checkpoint after it', 10_000);
      await current.kill('SIGKILL');
      await sim!.waitForSessions(0, { loggedIn: false, exact: true, timeoutMs: 10_000 });
      current = await startAgent(configFile);
      securitySent = 0;
    },
  });

  // Everything decided is carried out and every mail delivered.
  const settled = (): boolean => {
    const store = new Store(db);
    try {
      return store.outboxCounts().pending === 0 && store.decisions().every((decision) => decision.result !== 'pending') && smtp!.messages.length === store.outboxCounts().sent;
    } finally {
      store.close();
    }
  };
  await until(() => current.count('call ended') >= 1 || sim!.actions.some((action) => action.name === 'Hangup'), 'the call judged', 20_000);
  await until(settled, 'every decision carried out and every mail delivered', 20_000, 50);
  await current.kill('SIGTERM');
  agent = undefined;

  const store = new Store(db);
  try {
    // Spans are shown to a tenth below 10 s and whole above: a restart in the middle may cross that line.
    const digits = (text: string): string => text.replace(/\d+(?:\.\d+)?/g, '#');
    return {
      decisions: store
        .decisions()
        .map((decision) => digits(JSON.stringify([decision.policy, decision.action, decision.level, decision.severity, decision.mode, decision.result, decision.target])))
        .sort(),
      mails: smtp.messages.map((mail) => digits([mail.header('x-tollgate-kind') ?? '', mail.subject, mail.text].join('\n'))).sort(),
    };
  } finally {
    store.close();
    await sim.stop();
    sim = undefined;
    await smtp.close();
    smtp = undefined;
  }
}

test('SIGKILL mid-scan and again before the call, restarted on the same database: the same decisions and the same mails as straight through', async () => {
  const straight = await playAttack([]);
  // The attack is caught: the compromise (alert, lock, firewall), the call hung up within its window.
  expect(straight.decisions.filter((decision) => decision.includes('"account-compromise"'))).toEqual(
    expect.arrayContaining([expect.stringContaining('"compromise"'), expect.stringContaining('"call-after-compromise"')]),
  );
  expect(straight.mails.length).toBeGreaterThanOrEqual(3);

  const killed = await playAttack(killPoints(ATTACK));
  expect(killed).toEqual(straight);
}, 180_000);
