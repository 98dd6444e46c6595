/**
 * Helpers of the live tier: the running Asterisk (scripts/live-env.sh), sipp phones and carrier
 * (docker/sipp), the real agent as a child process (`node dist/cli.js run`), and a raw AMI query of
 * Asterisk's own channel list. Waits are on events (log lines, files) with generous deadlines.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagePath } from '../../src/paths.js';

export const RUN = process.env.TOLLGATE_LIVE_RUN ?? '/tmp/tollgate-live';
const LIVE_ENV = packagePath('scripts', 'live-env.sh');
const SIPP_DIR = packagePath('docker', 'sipp');
const ASTERISK_ETC = packagePath('docker', 'asterisk', 'etc');

/** `key = value` of `[section]` in one of the shipped Asterisk files (templates and `;` comments allowed). */
export function asteriskSetting(file: string, section: string, key: string): string {
  let current = '';
  for (const raw of readFileSync(join(ASTERISK_ETC, file), 'utf8').split('\n')) {
    const line = raw.replace(/;.*$/, '').trim();
    const header = /^\[([^\]]+)\]/.exec(line);
    if (header) current = header[1]!;
    else if (current === section) {
      const match = /^([^=]+?)\s*=>?\s*(.*)$/.exec(line);
      if (match && match[1] === key) return match[2]!;
    }
  }
  throw new Error(`${key} not found in [${section}] of docker/asterisk/etc/${file}`);
}

export const AMI_USER = 'tollgate';
export const AMI_SECRET = asteriskSetting('manager.conf', AMI_USER, 'secret');
export const PASSWORDS: Readonly<Record<string, string>> = {
  '1001': asteriskSetting('pjsip.conf', '1001-auth', 'password'),
  '1002': asteriskSetting('pjsip.conf', '1002-auth', 'password'),
};

function run(file: string, args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: { ...process.env, TOLLGATE_LIVE_RUN: RUN } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ stdout: stdout.toString(), stderr: stderr.toString(), code });
    });
  });
}

/** scripts/live-env.sh <command>; throws with its output on failure. */
export async function liveEnv(...args: string[]): Promise<string> {
  const result = await run(LIVE_ENV, args, 180_000);
  if (result.code !== 0) throw new Error(`scripts/live-env.sh ${args.join(' ')} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** An Asterisk CLI command. */
export function rx(command: string): Promise<string> {
  return liveEnv('rx', command);
}

/** Lines of a growing log file; `mark()` then `since(mark)` reads only what a test caused. */
export class LogFile {
  constructor(readonly path: string) {}
  lines(): string[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8').split('\n').filter((line) => line.length > 0);
  }
  mark(): number {
    return this.lines().length;
  }
  since(mark: number): string[] {
    return this.lines().slice(mark);
  }
}

/** The sipp carrier's record: `invite|answered|cancelled|ended <number> <call-id>`. */
export const carrierLog = new LogFile(join(RUN, 'carrier.log'));
/** Asterisk's full log (verbose, notices, warnings, errors). */
export const asteriskLog = new LogFile(join(RUN, 'log', 'full.log'));
/** Asterisk's messages log (notices, warnings, errors: no verbose). */
export const asteriskMessages = new LogFile(join(RUN, 'log', 'messages.log'));

/** Carrier events about `number` since `mark`, e.g. ['invite', 'answered', 'ended']. */
export function carrierEvents(number: string, mark: number): string[] {
  return carrierLog
    .since(mark)
    .map((line) => line.split(' '))
    .filter((fields) => fields[1] === number)
    .map((fields) => fields[0]!);
}

/** Polls `condition` (files written by other processes have no events to wait on). */
export async function until<T>(condition: () => T | undefined | false | null | Promise<T | undefined | false | null>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface CallOutcome {
  /** call.sh's record: `registered <ext>`, `answered` | `refused <code>`, `hungup-by-pbx` | `hungup-by-phone`. */
  lines: string[];
  exitCode: number | null;
  stderr: string;
}

/** A phone call placed by docker/sipp/call.sh (its own process group, so it can be cut off). */
export class PhoneCall {
  readonly done: Promise<CallOutcome>;
  private readonly child: ChildProcess;

  constructor(readonly number: string, readonly extension: string, options: CallOptions = {}) {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-live-call-'));
    const logfile = join(dir, 'call.log');
    const password = options.password ?? PASSWORDS[extension] ?? '';
    const env = { ...process.env, ...(options.localIp ? { LOCAL_IP: options.localIp } : {}) };
    this.child = spawn(join(SIPP_DIR, 'call.sh'), [number, extension, password, String(options.holdMs ?? 3000), logfile], { detached: true, stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    this.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.done = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        const lines = existsSync(logfile) ? readFileSync(logfile, 'utf8').split('\n').filter((line) => line.length > 0) : [];
        resolve({ lines, exitCode: code, stderr });
      });
    });
  }

  /** Cuts the phone off (SIGKILL to call.sh and its sipp). */
  kill(): void {
    if (this.child.exitCode !== null || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface CallOptions {
  holdMs?: number;
  password?: string;
  /** The phone's own address (another loopback address, e.g. 127.0.1.1: a phone somewhere new). */
  localIp?: string;
}

/** Places a call and waits for its end. */
export function call(number: string, extension: string, options: CallOptions = {}): Promise<CallOutcome> {
  return new PhoneCall(number, extension, options).done;
}

/** docker/sipp/register.sh: one REGISTER with digest authentication and the given User-Agent; its record (`registered <ext>` or `register-refused <ext> <code>`). */
export async function register(extension: string, userAgent: string, options: { password?: string; localIp?: string } = {}): Promise<string[]> {
  const env = options.localIp ? { LOCAL_IP: options.localIp } : {};
  const result = await new Promise<{ stdout: string }>((resolve) => {
    execFile(join(SIPP_DIR, 'register.sh'), [extension, options.password ?? PASSWORDS[extension] ?? '', userAgent], { timeout: 60_000, env: { ...process.env, ...env } }, (_error, stdout) => resolve({ stdout: stdout.toString() }));
  });
  return result.stdout.split('\n').filter((line) => line.length > 0);
}

/** docker/sipp/bruteforce.sh: the scanner's guesses, then `FOUND <user> <password>` or `not found`. */
export async function bruteForce(user: string): Promise<string[]> {
  const result = await run(join(SIPP_DIR, 'bruteforce.sh'), [user], 180_000);
  return result.stdout.split('\n').filter((line) => line.length > 0);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** One pino record of the agent's log. */
export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** TOLLGATE_* settings of the live tier: Asterisk on loopback, the shipped policies, a state file; `extra` adds or overrides. */
export function agentEnvironment(db: string, httpPort: number, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    TOLLGATE_AMI_HOST: '127.0.0.1',
    TOLLGATE_AMI_PORT: '5038',
    TOLLGATE_AMI_USERNAME: AMI_USER,
    TOLLGATE_AMI_SECRET: AMI_SECRET,
    TOLLGATE_DB: db,
    TOLLGATE_HTTP_PORT: String(httpPort),
    TOLLGATE_HOME_COUNTRY: 'US',
    TOLLGATE_NUMBERING_INTERNAL_PATTERNS: '_1XXX',
    TOLLGATE_TRUNKS: 'carrier',
    TOLLGATE_POLICIES: packagePath('policies'),
    TOLLGATE_TIMEZONE: 'UTC',
    TOLLGATE_LOG_LEVEL: 'debug',
    ...extra,
  };
}

/**
 * The agent's clock moved to `at` (and running from there), with Debian's libfaketime: the live
 * tier's way to try the agent at office hours or at night, whatever the hour CI runs.
 */
export function faketime(at: string): Record<string, string> {
  const library = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'].find((path) => existsSync(path));
  if (!library) throw new Error('libfaketime is missing: scripts/live-env.sh setup installs Debian\'s faketime package');
  return { LD_PRELOAD: library, FAKETIME: `@${at}`, FAKETIME_DONT_FAKE_MONOTONIC: '1', TZ: 'UTC' };
}

/** A state directory for one agent (kept after the run for a look at the database). */
export function stateDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `tollgate-live-${name}-`));
}

/** `node dist/cli.js <args>` with the agent's environment (lock, unlock, locks). */
export async function cli(db: string, ...args: string[]): Promise<string> {
  const result = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile(process.execPath, [packagePath('dist', 'cli.js'), ...args], { timeout: 60_000, env: agentEnvironment(db, 0) }, (error, stdout, stderr) => {
      resolve({ stdout: stdout.toString(), stderr: stderr.toString(), code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 });
    });
  });
  if (result.code !== 0) throw new Error(`tollgate ${args.join(' ')} failed (${result.code}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The real agent, `node dist/cli.js run`, configured through TOLLGATE_* variables. */
export class AgentProcess {
  readonly records: LogRecord[] = [];
  output = '';
  private readonly events = new EventEmitter();
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  private constructor(
    readonly db: string,
    readonly httpPort: number,
    private readonly extraEnv: Readonly<Record<string, string>>,
  ) {
    this.events.setMaxListeners(0);
  }

  /**
   * Starts the agent and waits until it is logged in, has mirrored its locks and reconciled its
   * call table. `env` adds settings (e.g. TOLLGATE_AGI_LISTEN) or a shifted clock (faketime()).
   * `{ ami: false }`: the agent's AMI is meant to be unreachable; only the status endpoint is awaited.
   */
  static async start(db: string, env: Readonly<Record<string, string>> = {}, options: { ami?: boolean } = {}): Promise<AgentProcess> {
    const agent = new AgentProcess(db, await freePort(), env);
    agent.spawn();
    try {
      if (options.ami ?? true) {
        await agent.waitFor((record) => record.msg === 'connected to Asterisk AMI', 'the agent logged in to AMI');
        await agent.waitFor((record) => record.msg === 'AstDB locks synchronised', 'the AstDB lock mirror');
        await agent.waitFor((record) => record.msg === 'call table reconciled with CoreShowChannels', 'the first reconciliation');
      }
      await agent.waitFor((record) => record.msg.startsWith('status endpoint listening'), 'the status endpoint');
    } catch (error) {
      await agent.kill();
      throw error;
    }
    return agent;
  }

  private spawn(): void {
    const child = spawn(process.execPath, [packagePath('dist', 'cli.js'), 'run'], { env: agentEnvironment(this.db, this.httpPort, this.extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    // pino writes to stderr (the first line may come on stdout): read both, line by line.
    const reader = (): ((chunk: Buffer) => void) => {
      let partial = '';
      return (chunk) => {
        const text = chunk.toString();
        this.output += text;
        partial += text;
        const lines = partial.split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          let record: LogRecord;
          try {
            record = JSON.parse(line) as LogRecord;
          } catch {
            continue; // not a log record
          }
          this.records.push(record);
          this.events.emit('record', record);
        }
      };
    };
    child.stdout!.on('data', reader());
    child.stderr!.on('data', reader());
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** The first record (from index `from`, default: all) that satisfies `predicate`, waiting for it if needed. */
  waitFor(predicate: (record: LogRecord) => boolean, what: string, timeoutMs = 30_000, from = 0): Promise<LogRecord> {
    const found = this.records.slice(from).find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('record', listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} in the agent's log:\n${this.output.slice(-6000)}`));
      }, timeoutMs);
      const listener = (record: LogRecord): void => {
        if (!predicate(record)) return;
        clearTimeout(timer);
        this.events.off('record', listener);
        resolve(record);
      };
      this.events.on('record', listener);
    });
  }

  /** Records from index `from` that satisfy `predicate`. */
  find(predicate: (record: LogRecord) => boolean, from = 0): LogRecord[] {
    return this.records.slice(from).filter(predicate);
  }

  async get(path: string): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}${path}`);
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  }

  async status(): Promise<AgentStatus> {
    return (await this.get('/status')).body as AgentStatus;
  }

  /** SIGKILL, as a crash or the OOM killer would. */
  async kill(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: a clean stop. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface AgentStatus {
  ami: { state: string; connects: number; [key: string]: unknown };
  liveCalls: { linkedid: string; endpoint?: string; dialled?: string; trunk?: string; direction: string; answeredSeconds: number }[];
  locks: { endpoint: string; reason: string; policy?: string }[];
  [key: string]: unknown;
}

export interface ChannelItem {
  channel: string;
  uniqueid: string;
  linkedid: string;
  exten: string;
}

/**
 * Asterisk's own channel list: CoreShowChannels over a separate AMI session (Tollgate's user, which
 * may log in more than once), read without any of the project's code.
 */
export function coreShowChannels(): Promise<ChannelItem[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: 5038 });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('CoreShowChannels: no answer within 10 s'));
    }, 10_000);
    let buffer = '';
    let loggedIn = false;
    const items: ChannelItem[] = [];
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      socket.end('Action: Logoff\r\n\r\n');
      if (error) reject(error);
      else resolve(items);
    };
    socket.on('error', (error) => finish(error));
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      if (!buffer.includes('\r\n')) return;
      if (buffer.startsWith('Asterisk Call Manager')) {
        buffer = buffer.slice(buffer.indexOf('\r\n') + 2);
        socket.write(`Action: Login\r\nUsername: ${AMI_USER}\r\nSecret: ${AMI_SECRET}\r\nEvents: off\r\n\r\n`);
      }
      let end: number;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        const fields = new Map<string, string>();
        for (const line of block.split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon > 0 && !fields.has(line.slice(0, colon).toLowerCase())) fields.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
        }
        if (!loggedIn && fields.get('response') === 'Error') return finish(new Error(`AMI login refused: ${fields.get('message')}`));
        if (!loggedIn && fields.get('response') === 'Success') {
          loggedIn = true;
          socket.write('Action: CoreShowChannels\r\nActionID: live-test\r\n\r\n');
        } else if (fields.get('event') === 'CoreShowChannel') {
          items.push({ channel: fields.get('channel') ?? '', uniqueid: fields.get('uniqueid') ?? '', linkedid: fields.get('linkedid') ?? '', exten: fields.get('exten') ?? '' });
        } else if (fields.get('event') === 'CoreShowChannelsComplete') {
          return finish();
        }
      }
    });
  });
}
