/**
 * `tollgate lock <endpoint>`, `tollgate unlock <endpoint>`, `tollgate locks`: the endpoint locks an
 * admin may set or lift by hand. They act on the agent's database (the running agent sees them at
 * once) and, when Asterisk answers, on AstDB too (the running agent also rebuilds AstDB on reconnect).
 */
import type { Command } from 'commander';
import { AmiClient } from '../ami/client.js';
import { Locker } from '../act/locks.js';
import { systemClock } from '../clock.js';
import type { TollgateConfig } from '../config/schema.js';
import { parseDurationSeconds } from '../policy/schema.js';
import { Store } from '../store/store.js';
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
      const store = new Store(configFromOptions(options).config.db.file);
      try {
        const locks = store.locks(Date.now());
        if (locks.length === 0) console.log('no endpoint is locked');
        for (const lock of locks) {
          console.log(`${lock.endpoint}  since ${new Date(lock.since).toISOString()}  ${lock.until !== undefined ? `until ${new Date(lock.until).toISOString()}` : 'until unlocked'}  ${lock.policy ?? 'manual'}: ${lock.reason}`);
        }
      } finally {
        store.close();
      }
    });
}

export async function unlockEndpoint(endpoint: string, config: TollgateConfig): Promise<string[]> {
  return withLocker(config, async (locker) => {
    const { removed, astdb } = await locker.unlock(endpoint);
    return [removed ? `${endpoint} unlocked` : `${endpoint} was not locked`, astdb ? `AstDB: ${astdb}` : 'AstDB: not reached (the agent clears it when it reconnects)'];
  });
}

export async function lockEndpoint(endpoint: string, config: TollgateConfig, options: { for?: string; reason?: string }): Promise<string[]> {
  const seconds = options.for !== undefined ? parseDurationSeconds(options.for) : undefined;
  if (options.for !== undefined && seconds === undefined) throw new Error(`--for "${options.for}" is not a duration (e.g. 30m, 12h, 7d)`);
  return withLocker(config, async (locker) => {
    const outcome = await locker.lockManually(endpoint, options.reason ?? 'locked by hand', seconds !== undefined ? seconds * 1000 : undefined);
    return [outcome];
  });
}

/** A Locker on the agent's database, with a short-lived AMI connection for AstDB when Asterisk answers. */
async function withLocker(config: TollgateConfig, work: (locker: Locker) => Promise<string[]>): Promise<string[]> {
  const store = new Store(config.db.file);
  const ami = config.ami.secret && config.actions.astdbLocks
    ? new AmiClient({ host: config.ami.host, port: config.ami.port, username: config.ami.username, secret: config.ami.secret, tls: config.ami.tls, events: 'off', pingIntervalMs: 0, connectTimeoutMs: 3000, loginRetryMs: 60_000 })
    : undefined;
  try {
    if (ami) {
      ami.start();
      await ami.waitForConnected(4000).catch(() => undefined);
    }
    const locker = new Locker({ store, clock: systemClock, astdb: config.actions.astdbLocks, ...(ami ? { ami } : {}) });
    return await work(locker);
  } finally {
    await ami?.stop();
    store.close();
  }
}
