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
import { classifierFor } from './commands/common.js';
import { Decider, type Decision } from './decide/decider.js';
import { LockTable } from './decide/locks.js';
import { PolicyEngine } from './policy/engine.js';
import { PolicySource } from './policy/source.js';
import type { Finding } from './policy/types.js';
import { Pipeline } from './pipeline.js';
import { rateTableFromConfig } from './rates/index.js';

export interface AgentDeps {
  config: TollgateConfig;
  logger: Logger;
  clock?: Clock;
}

export interface Agent {
  readonly client: AmiClient;
  readonly tracker: CallTracker;
  readonly table: CallTable;
  readonly engine: PolicyEngine;
  readonly decider: Decider;
  readonly pipeline: Pipeline;
  readonly policies: PolicySource;
  readonly locks: LockTable;
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
  const mask = numberMasker(config.privacy.maskNumbers);
  const describe = callLogger(logger.child({ part: 'calls' }), mask);
  tracker.on('event', (event, changes) => {
    if (event.type === 'security') describe.security(event);
    describe.changes(changes);
  });
  tracker.on('reconciled', (_summary, changes) => describe.changes(changes));

  // Detection: policies are loaded (and validated) before anything connects: an invalid set refuses to start.
  const classifier = classifierFor(config);
  const rates = rateTableFromConfig(config.rates);
  const locks = new LockTable();
  const engineLog = logger.child({ part: 'policy' });
  const policies = new PolicySource({ dir: config.policies.dir, logger, onReload: (set) => engine.setPolicies(set) });
  const engine = new PolicyEngine({
    policies: policies.load(),
    classifier,
    rates,
    clock,
    locks,
    environment: { timezone: config.timezone },
    onPolicyError: (policy, error) => engineLog.error({ policy, err: error instanceof Error ? error.stack : String(error) }, 'policy failed; the others go on'),
  });
  const decider = new Decider({ mode: config.mode });
  const pipeline = new Pipeline({ tracker, engine, decider, clock });
  const verdicts = verdictLogger(logger.child({ part: 'decide' }), mask);
  pipeline.onResult((result) => verdicts(result.findings, result.decisions));
  let ticker: NodeJS.Timeout | undefined;

  return {
    client,
    tracker,
    table,
    engine,
    decider,
    pipeline,
    policies,
    locks,
    async start() {
      logger.info({ ami: `${config.ami.host}:${config.ami.port}`, user: config.ami.username, tls: config.ami.tls, mode: config.mode, timezone: config.timezone }, 'Tollgate starting');
      tracker.attach(client);
      policies.watch();
      // Budgets accrue and durations grow between events: evaluate once a second while calls are up.
      ticker = setInterval(() => pipeline.tick(), 1000);
      ticker.unref();
      client.start();
    },
    async stop() {
      clearInterval(ticker);
      policies.close();
      pipeline.close();
      tracker.detach();
      await client.stop();
      logger.info('Tollgate stopped');
    },
  };
}

/** Logs findings and decisions: what was seen, and what was (or in simulate mode would be) done. */
function verdictLogger(log: Logger, mask: (number: string | undefined) => string) {
  return (findings: Finding[], decisions: Decision[]): void => {
    for (const finding of findings) {
      const fields = { policy: finding.policy, level: finding.level, severity: finding.severity, endpoint: finding.endpoint, ip: finding.ip, linkedid: finding.call?.linkedid, dialled: finding.call?.dialled ? mask(finding.call.dialled) : undefined };
      log.warn(fields, `finding: ${finding.call?.dialled ? finding.message.replaceAll(finding.call.dialled, mask(finding.call.dialled)) : finding.message}`);
    }
    for (const decision of decisions) {
      log.warn({ decision: decision.id, action: decision.action, mode: decision.mode, policy: decision.policy, target: decision.target }, decision.mode === 'simulate' ? `SIMULATED: would ${decision.action}` : `decision: ${decision.action}`);
    }
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
