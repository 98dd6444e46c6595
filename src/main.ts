/**
 * Composition root: builds every part from the configuration with explicit deps, starts them, and
 * stops them in reverse order. No module-level singletons anywhere else.
 */
import { readFileSync } from 'node:fs';
import { AmiClient } from './ami/client.js';
import type { SecurityEvent } from './calls/events.js';
import { CallTable, TrunkRegistry, type CallChange } from './calls/table.js';
import { CallTracker } from './calls/tracker.js';
import { systemClock, type Clock } from './clock.js';
import type { TollgateConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import type { Logger } from './log.js';
import { numberMasker } from './privacy.js';

export interface AgentDeps {
  config: TollgateConfig;
  logger: Logger;
  clock?: Clock;
}

export interface Agent {
  readonly client: AmiClient;
  readonly tracker: CallTracker;
  readonly table: CallTable;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAgent(deps: AgentDeps): Agent {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  if (!config.ami.secret) {
    throw new ConfigError('is empty: set it in the configuration file, TOLLGATE_AMI_SECRET or TOLLGATE_AMI_SECRET_FILE (a dedicated manager.conf user; see README)', undefined, undefined, 'ami.secret');
  }
  const client = new AmiClient({
    host: config.ami.host,
    port: config.ami.port,
    username: config.ami.username,
    secret: config.ami.secret,
    tls: config.ami.tls ? { rejectUnauthorized: config.ami.tlsRejectUnauthorized, ...(config.ami.tlsCaFile ? { ca: readFileSync(config.ami.tlsCaFile) } : {}) } : false,
    events: config.ami.events,
    connectTimeoutMs: config.ami.connectTimeoutMs,
    actionTimeoutMs: config.ami.actionTimeoutMs,
    pingIntervalMs: config.ami.pingIntervalMs,
    reconnectMaxMs: config.ami.reconnectMaxMs,
    loginRetryMs: config.ami.loginRetryMs,
    logger,
  });
  const table = new CallTable({ trunks: new TrunkRegistry(config.trunks) });
  const tracker = new CallTracker({ table, clock, logger, reconcileIntervalMs: config.ami.reconcileIntervalMs });
  const describe = callLogger(logger.child({ part: 'calls' }), numberMasker(config.privacy.maskNumbers));
  tracker.on('event', (event, changes) => {
    if (event.type === 'security') describe.security(event);
    describe.changes(changes);
  });
  tracker.on('reconciled', (_summary, changes) => describe.changes(changes));

  return {
    client,
    tracker,
    table,
    async start() {
      logger.info({ ami: `${config.ami.host}:${config.ami.port}`, user: config.ami.username, tls: config.ami.tls, mode: config.mode }, 'Tollgate starting');
      tracker.attach(client);
      client.start();
    },
    async stop() {
      tracker.detach();
      await client.stop();
      logger.info('Tollgate stopped');
    },
  };
}

/** Logs call table changes and security events in words an admin can read. */
function callLogger(log: Logger, mask: (number: string | undefined) => string) {
  return {
    changes(changes: CallChange[]): void {
      for (const change of changes) {
        const call = change.call;
        const base = { linkedid: call.linkedid, endpoint: call.sourceEndpoint, dialled: call.dialled ? mask(call.dialled) : undefined, trunk: call.outboundTrunk };
        if (change.kind === 'call.started') log.info({ ...base, direction: call.direction, startedDuringOutage: call.startedDuringOutage || undefined }, 'call started');
        else if (change.kind === 'dial.started') log.info({ ...base, destination: change.dial.destChannel, number: change.dial.number ? mask(change.dial.number) : undefined }, 'call dialling out');
        else if (change.kind === 'call.answered') log.info(base, 'call answered');
        else if (change.kind === 'call.ended') {
          log.info({ ...base, talkSeconds: Number(call.answeredSeconds(change.at).toFixed(1)), cause: call.cause?.cause, causeText: call.cause?.causeText, closedByReconcile: call.closedByReconcile || undefined }, 'call ended');
        }
      }
    },
    security(event: SecurityEvent): void {
      if (event.kind === 'ChallengeSent') return;
      const fields = { kind: event.kind, service: event.service, account: event.accountId, ip: event.remote?.ip, port: event.remote?.port };
      if (event.severity === 'Error') log.warn(fields, 'security event');
      else log.info(fields, 'security event');
    },
  };
}
