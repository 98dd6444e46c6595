/**
 * `tollgate lock <endpoint>`, `tollgate unlock <endpoint>`, `tollgate locks`: the endpoint locks an
 * admin may set or lift by hand. They act on the agent's database — found through the same
 * configuration as `tollgate run` (--config, TOLLGATE_CONFIG, TOLLGATE_DB) — and say which file
 * they used; the running agent sees the change at once. When Asterisk answers they also act on
 * AstDB (the running agent rebuilds AstDB on reconnect anyway). They never create a database: a
 * missing file means the configuration does not point where the agent keeps its state. They warn
 * when no running agent has noted itself in that database lately.
 */
import type { Command } from 'commander';
import { AmiClient } from '../ami/client.js';
import { Locker } from '../act/locks.js';
import { systemClock } from '../clock.js';
import type { TollgateConfig } from '../config/schema.js';
import { parseDurationSeconds } from '../policy/schema.js';
import { agentDatabaseLines, openAgentDatabase, withAgentDatabase } from './agent-database.js';
import { ConfigError } from '../errors.js';
import { configFromOptions } from './common.js';

interface LockCommandOptions {
  config?: string;
  for?: string;
  reason?: string;
}

export function registerLockCommands(program: Command): void {
  program
    .command('unlock')
    .description('lift the lock on an endpoint (locked by a decision or by `tollgate lock`)')
    .argument('<endpoint>', 'endpoint name, e.g. 1001')
    .option('-c, --config <file>', 'configuration file')
    .action(async (endpoint: string, options: LockCommandOptions) => {
      for (const line of await unlockEndpoint(endpoint, configFromOptions(options).config)) console.log(line);
    });
  program
    .command('lock')
    .description("lock an endpoint by hand: its new outbound calls are refused (emergency calls still go through)")
    .argument('<endpoint>', 'endpoint name, e.g. 1001')
    .option('-c, --config <file>', 'configuration file')
    .option('--for <duration>', 'lock for this long (30m, 12h, 7d); default: until unlocked')
    .option('--reason <text>', 'why (kept with the lock)', 'locked by hand')
    .action(async (endpoint: string, options: LockCommandOptions) => {
      for (const line of await lockEndpoint(endpoint, configFromOptions(options).config, options)) console.log(line);
    });
  program
    .command('locks')
    .description('list the endpoints locked now')
    .option('-c, --config <file>', 'configuration file')
    .action((options: LockCommandOptions) => {
      for (const line of listLocks(configFromOptions(options).config, Date.now())) console.log(line);
    });
}

/** The locks in force, after a line naming the database (and a warning when no agent uses it). */
export function listLocks(config: TollgateConfig, now: number): string[] {
  return withAgentDatabase(config.db.file, (store) => {
    const locks = store.locks(now);
    const lines = locks.map((lock) => `${lock.endpoint}  since ${new Date(lock.since).toISOString()}  ${lock.until !== undefined ? `until ${new Date(lock.until).toISOString()}` : 'until unlocked'}  ${lock.policy ?? 'manual'}: ${lock.reason}`);
    return [...agentDatabaseLines(store, now), ...(lines.length > 0 ? lines : ['no endpoint is locked'])];
  });
}

export async function unlockEndpoint(endpoint: string, config: TollgateConfig): Promise<string[]> {
  checkEndpointName(endpoint);
  return withLocker(config, async (locker) => {
    const { removed, astdb } = await locker.unlock(endpoint);
    return [removed ? `${endpoint} unlocked` : `${endpoint} was not locked`, astdb ? `AstDB: ${astdb}` : 'AstDB: not reached (the agent clears it when it reconnects)'];
  });
}

export async function lockEndpoint(endpoint: string, config: TollgateConfig, options: { for?: string; reason?: string }): Promise<string[]> {
  checkEndpointName(endpoint);
  const seconds = options.for !== undefined ? parseDurationSeconds(options.for) : undefined;
  if (options.for !== undefined && seconds === undefined) throw new Error(`--for "${options.for}" is not a duration (e.g. 30m, 12h, 7d)`);
  return withLocker(config, async (locker) => {
    const outcome = await locker.lockManually(endpoint, options.reason ?? 'locked by hand', seconds !== undefined ? seconds * 1000 : undefined);
    return [outcome];
  });
}

/** A Locker on the agent's database, with a short-lived AMI connection for AstDB when Asterisk answers. */
async function withLocker(config: TollgateConfig, work: (locker: Locker) => Promise<string[]>): Promise<string[]> {
  const store = openAgentDatabase(config.db.file);
  const ami = config.ami.secret && config.actions.astdbLocks
    ? new AmiClient({ host: config.ami.host, port: config.ami.port, username: config.ami.username, secret: config.ami.secret, tls: config.ami.tls, events: 'off', pingIntervalMs: 0, connectTimeoutMs: 3000, loginRetryMs: 60_000 })
    : undefined;
  try {
    if (ami) {
      ami.start();
      await ami.waitForConnected(4000).catch(() => undefined);
    }
    const locker = new Locker({ store, clock: systemClock, astdb: config.actions.astdbLocks, ...(ami ? { ami } : {}) });
    const done = await work(locker);
    return [...agentDatabaseLines(store, Date.now()), ...done];
  } finally {
    await ami?.stop();
    store.close();
  }
}

/**
 * Refuses what is not an endpoint name: a channel (`PJSIP/1003`, `PJSIP/1003-0000002a`), a dial
 * string (`1003@carrier`) or a name with spaces — locking those would lock nothing.
 */
export function checkEndpointName(name: string): void {
  const problem = endpointNameProblem(name);
  if (problem) throw new ConfigError(problem);
}

export function endpointNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'the endpoint name is empty';
  const channel = /^(?:PJSIP|SIP|IAX2|DAHDI|Local)\/([^@/\s]+?)(?:-[0-9a-f]{8})?(?:@.*)?$/i.exec(name);
  if (channel) return `"${name}" is a channel, not an endpoint name: did you mean "${channel[1]}"?`;
  if (name.includes('/')) return `"${name}" is not an endpoint name (no "/"): give the name as in pjsip.conf, e.g. 1003`;
  const at = /^([^@\s]+)@/.exec(name);
  if (at) return `"${name}" is a dial string, not an endpoint name: did you mean "${at[1]}"?`;
  if (/[\s;,"'\\]/.test(name) || /[\u0000-\u001f]/.test(name)) return `"${name}" is not an endpoint name: no spaces, quotes or separators (e.g. 1003)`;
  return undefined;
}
