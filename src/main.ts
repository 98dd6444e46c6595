/**
 * Composition root: builds every part from the configuration with explicit deps, starts them, and
 * stops them in reverse order. No module-level singletons anywhere else.
 *
 *   AMI ─▶ CallTracker ─▶ Pipeline (PolicyEngine ─▶ Decider) ─▶ Actor (hang-up, lock, firewall, mail)
 *                                                              └▶ Store (ledger, checkpoints, audit)
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tuneHeapForLongRunningAgent } from './heap.js';
import { AmiClient } from './ami/client.js';
import { Actor, type MailQueue } from './act/actor.js';
import { FirewallHook } from './act/firewall.js';
import { Hangups } from './act/hangup.js';
import { Locker } from './act/locks.js';
import { DailyDigest, localDay } from './act/mail/digest.js';
import { mailerOptionsFromConfig } from './act/mail/index.js';
import { Mailer, type MailerOptions } from './act/mail/mailer.js';
import { PreDialGate } from './agi/gate.js';
import { AgiServer } from './agi/server.js';
import { AriClient } from './ari/client.js';
import { CallTable, TrunkRegistry, type CallChange } from './calls/table.js';
import { CallTracker } from './calls/tracker.js';
import { systemClock, type Clock } from './clock.js';
import { classifierFor } from './numbers/from-config.js';
import type { TollgateConfig } from './config/schema.js';
import { Decider, incidentFromStore, type Decision } from './decide/decider.js';
import { ConfigError } from './errors.js';
import type { Logger } from './log.js';
import { PolicyEngine } from './policy/engine.js';
import { parseDurationSeconds } from './policy/schema.js';
import { PolicySource } from './policy/source.js';
import type { Finding } from './policy/types.js';
import { Pipeline } from './pipeline.js';
import { StatusServer } from './http/server.js';
import { numberMasker } from './privacy.js';
import { SecurityLog } from './report/security-log.js';
import { SheddingReport } from './report/shedding.js';
import { AddressMemory } from './profile/addresses.js';
import { EndpointProfiles } from './profile/profile.js';
import { userAgentListFor } from './profile/user-agents.js';
import { ContactLookup } from './calls/contacts.js';
import { describeRateSource, rateTableFromConfig } from './rates/index.js';
import { Store, type OutboxMail } from './store/store.js';
import { AGENT_HEARTBEAT_MS, writeAgentMarker, type AgentMarker } from './store/agent-marker.js';
import { DetectionState } from './store/detection-state.js';

export interface AgentDeps {
  config: TollgateConfig;
  logger: Logger;
  clock?: Clock;
  /** Where incident mails go instead of SMTP (the demo prints them). */
  mailQueue?: MailQueue;
  /** Mailer settings the configuration does not carry (retry pacing). */
  mailer?: Partial<Pick<MailerOptions, 'retryBaseMs' | 'retryMaxMs' | 'random'>>;
  /** How long an attack must be quiet before its summary mail (tests shorten it). @default 15 min */
  threadQuietMs?: number;
}

export interface Agent {
  readonly client: AmiClient;
  readonly tracker: CallTracker;
  readonly table: CallTable;
  readonly engine: PolicyEngine;
  readonly decider: Decider;
  readonly pipeline: Pipeline;
  readonly policies: PolicySource;
  readonly store: Store;
  /** Detection state checkpoints (windows, buckets, compromises) in the store. */
  readonly detectionState: DetectionState;
  readonly actor: Actor;
  /** Security events at info: a line per attacking source per minute. */
  readonly securityLog: SecurityLog;
  readonly hangups: Hangups;
  readonly mailer: Mailer | undefined;
  /** The pre-dial gate, when agi.listen is set. */
  readonly gate: PreDialGate | undefined;
  readonly agiServer: AgiServer | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Spend history older than this is never needed again (the longest calendar budget is a month). */
const HISTORY_MS = 32 * 86_400_000;
const DAY_MS = 86_400_000;
/** What an endpoint has not done for this long is forgotten; its daily counters are kept this many days. */
const PROFILE_MEMORY_MS = 90 * DAY_MS;
const PROFILE_DAYS_KEPT = 35;

export function createAgent(deps: AgentDeps): Agent {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  tuneHeapForLongRunningAgent();
  if (!config.ami.secret) {
    throw new ConfigError('is empty: set it in the configuration file, TOLLGATE_AMI_SECRET or TOLLGATE_AMI_SECRET_FILE (a dedicated manager.conf user; see README)', undefined, undefined, 'ami.secret');
  }
  const lockDurationSeconds = config.actions.lockDuration ? parseDurationSeconds(config.actions.lockDuration) : undefined;
  if (config.actions.lockDuration && lockDurationSeconds === undefined) {
    throw new ConfigError(`"${config.actions.lockDuration}" is not a duration (e.g. 12h, 7d)`, undefined, undefined, 'actions.lockDuration');
  }
  const mask = numberMasker(config.privacy.maskNumbers);
  const agentName = hostname();

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
  // Calls first: a scan's security events wait in a bounded lane; what it sheds is reported (below, once the mailer exists).
  const tracker = new CallTracker({
    table,
    clock,
    logger,
    reconcileIntervalMs: config.ami.reconcileIntervalMs,
    lanes: { maxWaiting: config.ami.securityBacklog, onShed: (count, byKind) => shedding.shed(count, byKind) },
  });
  const describe = callLogger(logger.child({ part: 'calls' }), mask);
  // Security events: each at debug; at info a line per attacking source per minute, never per event.
  const securityLog = new SecurityLog({ log: logger.child({ part: 'security' }), clock });
  tracker.on('event', (event, changes) => {
    if (event.type === 'security') securityLog.record(event);
    describe.changes(changes);
  });
  tracker.on('reconciled', (_summary, changes) => describe.changes(changes));

  // State first: a restart continues with the spend, locks and incidents it had.
  const store = new Store(config.db.file);

  // Detection: policies are loaded (and validated) before anything connects: an invalid set refuses to start.
  const classifier = classifierFor(config);
  const rates = rateTableFromConfig(config.rates);
  const engineLog = logger.child({ part: 'policy' });
  const policies = new PolicySource({ dir: config.policies.dir, logger, onReload: (set) => engine.setPolicies(set) });
  // Where each endpoint logs in from: learning starts at the first start of the agent on this database.
  let memorySince = Number(store.meta('addresses.since'));
  if (!memorySince) {
    memorySince = clock.now();
    store.setMeta('addresses.since', String(memorySince));
  }
  const addresses = new AddressMemory({ since: memorySince, trust: store });
  addresses.restore(store.addresses(), memorySince);
  // Each endpoint's habits: learning starts at the first start with profiles on this database.
  let profilesSince = Number(store.meta('profiles.since'));
  if (!profilesSince) {
    profilesSince = clock.now();
    store.setMeta('profiles.since', String(profilesSince));
  }
  const profiles = new EndpointProfiles({ since: profilesSince, timezone: config.timezone, forgetAfterMs: PROFILE_MEMORY_MS, scanners: userAgentListFor(config) });
  profiles.restore(store.profileValues(), store.profileDays(), profilesSince);
  const engine = new PolicyEngine({
    policies: policies.load(),
    classifier,
    rates,
    clock,
    locks: store,
    addresses,
    profiles,
    environment: { timezone: config.timezone },
    onPolicyError: (policy, error) => engineLog.error({ policy, err: error instanceof Error ? error.stack : String(error) }, 'policy failed; the others go on'),
  });
  const decider = new Decider({ mode: config.mode });
  const detectionState = new DetectionState({ store, engine, decider, addresses, clock, logger: logger.child({ part: 'state' }), intervalMs: config.db.checkpointIntervalMs });
  // Before the pipeline sees a reconciliation: calls known before a restart get their real answer times first.
  tracker.on('reconciled', () => restoreCheckpoints());
  const pipeline = new Pipeline({ tracker, engine, decider, clock });
  const verdicts = verdictLogger(logger.child({ part: 'decide' }), mask);
  pipeline.onResult((result) => verdicts(result.findings, result.decisions));
  // New networks and refreshed last-seen times (at most hourly per network) reach the database
  // right after the event, not on its path: a phone's login comes just before its call's first
  // events, often in the same read, and a write can take milliseconds on a busy disk.
  let addressesScheduled = false;
  const saveAddresses = (): void => {
    addressesScheduled = false;
    if (store.isOpen) store.saveAddresses(addresses.drainChanges());
  };
  pipeline.onResult(() => {
    if (!addresses.hasChanges || addressesScheduled) return;
    addressesScheduled = true;
    setImmediate(saveAddresses);
  });
  // Profiles change with every call: written in one transaction every few seconds, never on the live path.
  const saveProfiles = (): void => {
    const changes = profiles.drainChanges();
    store.saveProfiles(changes.values, changes.days);
  };
  // The User-Agent of each registration: the contact listing after it joins the same flow as an event.
  const contacts = new ContactLookup({ source: client, ingest: (message, at) => tracker.ingest(message, at), clock, logger });
  const contactLog = logger.child({ part: 'contacts' });
  tracker.on('event', (event) => {
    if (event.type === 'registration') contacts.registered(event);
    else if (event.type === 'contact') contactLog.info({ endpoint: event.endpoint, userAgent: event.userAgent, ip: event.ip, port: event.port, callId: event.callId }, `${event.endpoint} registered from ${event.ip ?? event.uri} as "${event.userAgent}"`);
  });
  client.on('connected', () => contacts.listAll());
  // Detection state reaches the store on a timer, and right after a finding (never on the event's path).
  pipeline.onResult((result) => (result.findings.length > 0 ? detectionState.saveSoon() : detectionState.markChanged()));

  // Action.
  const ari = config.ari.url
    ? new AriClient({
        url: config.ari.url,
        username: config.ari.username,
        password: config.ari.password,
        app: config.ari.app,
        timeoutMs: config.ari.timeoutMs,
        tls: { rejectUnauthorized: config.ari.tlsRejectUnauthorized, ...(config.ari.tlsCaFile ? { ca: readFileSync(config.ari.tlsCaFile) } : {}) },
        logger,
      })
    : undefined;
  const via = config.actions.hangupVia === 'ari' || (config.actions.hangupVia === 'auto' && ari) ? 'ari' : 'ami';
  if (via === 'ari' && !ari) throw new ConfigError('is "ari" but ari.url is empty', undefined, undefined, 'actions.hangupVia');
  const hangups = new Hangups({ ami: client, ...(ari ? { ari } : {}), via, table, endings: tracker, cause: config.actions.hangupCause, confirmTimeoutMs: config.actions.confirmTimeoutMs, logger });
  const locker = new Locker({ store, ami: client, astdb: config.actions.astdbLocks, clock, logger, ...(lockDurationSeconds !== undefined ? { durationMs: lockDurationSeconds * 1000 } : {}) });
  const firewall = new FirewallHook({ command: config.firewall.command, timeoutMs: config.firewall.timeoutMs, neverBlock: config.firewall.neverBlock });
  const mailing = mailerOptionsFromConfig(config, { store, clock, logger });
  const mailer = mailing.options ? new Mailer({ ...mailing.options, ...deps.mailer }) : undefined;
  if (!mailing.options && !deps.mailQueue) logger.warn({ reason: mailing.reason }, 'alerts will be logged but not mailed');
  const digest =
    mailer && config.alerts.digest
      ? new DailyDigest({ store, mailer, to: config.alerts.to, timezone: config.timezone, at: config.alerts.digestAt, clock, logger, mask, agent: agentName, currency: rates.currency ?? config.rates.currency })
      : undefined;
  const mailQueue = deps.mailQueue ?? mailer;
  const shedding = new SheddingReport({
    log: logger.child({ part: 'security' }),
    clock,
    to: config.alerts.to,
    timezone: config.timezone,
    agent: agentName,
    backlog: config.ami.securityBacklog,
    ...(mailQueue ? { mail: (mail: OutboxMail) => void mailQueue.enqueue(mail) } : {}),
  });
  const actor = new Actor({ store, decider, hangups, locker, firewall, recipients: config.alerts.to, mask, timezone: config.timezone, agent: agentName, currency: rates.currency ?? config.rates.currency, clock, logger, ...(mailQueue ? { mailer: mailQueue } : {}), ...(deps.threadQuietMs !== undefined ? { threadQuietMs: deps.threadQuietMs } : {}) });
  pipeline.onResult((result) => actor.handle(result));

  // The pre-dial gate: the same tracker, engine and decider answer Asterisk before it dials.
  const gate = config.agi.listen
    ? new PreDialGate({ table, decider, ingest: (message, at) => tracker.ingest(message, at), clock, timeoutMs: config.agi.timeoutMs, failClosedContexts: config.agi.failClosedContexts, logger })
    : undefined;
  const agiServer = gate ? new AgiServer({ ...listenAddress(config.agi.listen), handler: gate.handle, logger }) : undefined;

  // Continuity across restarts.
  engine.restoreCosts(store.costsSince(clock.now() - HISTORY_MS));
  decider.restore(store.incidentsSince(clock.now() - 30 * 60_000).map(incidentFromStore));
  detectionState.restore();
  client.on('connected', () => void locker.syncAstDb().catch((error: unknown) => logger.warn({ err: String(error) }, 'AstDB lock sync failed')));

  /** After a reconciliation: calls known before a restart get their real answer times back; calls that ended while we were away are billed up to now. */
  function restoreCheckpoints(): void {
    const now = clock.now();
    for (const checkpoint of store.checkpoints()) {
      if (table.restoreCheckpoint(checkpoint)) continue;
      if (table.getCall(checkpoint.linkedid)) continue; // ended while we watched: already committed
      for (const dial of checkpoint.dials) {
        if (dial.answeredAt === undefined) continue;
        const entry = engine.priceDial({ linkedid: checkpoint.linkedid, destUniqueid: dial.destUniqueid, endpoint: checkpoint.endpoint, answeredAt: dial.answeredAt, ...(dial.number ? { number: dial.number } : {}), ...(dial.trunk ? { trunk: dial.trunk } : {}) }, now);
        if (store.recordCost(entry)) engine.restoreCosts([entry]);
      }
      store.endCheckpoint(checkpoint.linkedid);
      logger.info({ linkedid: checkpoint.linkedid }, 'a call ended while Tollgate was not watching: billed up to now (an upper bound)');
    }
  }

  let ticker: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  // Wall-clock times: another process (tollgate lock) compares them with its own clock.
  let startedAt = Date.now();
  const writeMarker = (stopped = false): void => {
    const marker: AgentMarker = { pid: process.pid, host: agentName, startedAt: new Date(startedAt).toISOString(), seenAt: new Date().toISOString() };
    if (stopped) marker.stoppedAt = marker.seenAt;
    if (status?.port) marker.http = `${config.http.host}:${status.port}`;
    try {
      writeAgentMarker(store, marker);
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not note the agent as running in the database');
    }
  };
  let securityTicker: NodeJS.Timeout | undefined;
  let profileTicker: NodeJS.Timeout | undefined;
  let purger: NodeJS.Timeout | undefined;
  const purge = (): void => {
    const before = clock.now() - config.db.retentionDays * DAY_MS;
    const removed = store.purge(before, localDay(before, config.timezone));
    const now = clock.now();
    const profileValues = store.forgetProfiles(now - PROFILE_MEMORY_MS, localDay(now - PROFILE_DAYS_KEPT * DAY_MS, config.timezone));
    logger.info({ retentionDays: config.db.retentionDays, ...removed, profileValues }, 'old records purged');
  };

  let status: StatusServer | undefined;
  let statusServer: StatusServer | undefined;
  const agent: Agent = {
    client,
    tracker,
    table,
    engine,
    decider,
    pipeline,
    policies,
    store,
    detectionState,
    actor,
    securityLog,
    hangups,
    mailer,
    gate,
    agiServer,
    async start() {
      startedAt = Date.now();
      logger.info({ ami: `${config.ami.host}:${config.ami.port}`, user: config.ami.username, tls: config.ami.tls, mode: config.mode, timezone: config.timezone, db: config.db.file, hangupVia: via }, 'Tollgate starting');
      if (rates.source?.kind !== 'file') logger.warn({ rates: describeRateSource(rates.source) }, rates.source?.kind === 'example' ? 'prices are EXAMPLE rates, not your carrier\'s: set rates.file' : 'no rate table: every destination is priced by rates.unknownPrefix');
      tracker.attach(client);
      policies.watch();
      // Budgets accrue and durations grow between events: evaluate once a second while calls are up.
      ticker = setInterval(() => pipeline.tick(), 1000);
      ticker.unref();
      securityTicker = setInterval(() => securityLog.tick(), 5000);
      securityTicker.unref();
      profileTicker = setInterval(saveProfiles, 5000);
      profileTicker.unref();
      purge();
      purger = setInterval(purge, DAY_MS);
      purger.unref();
      detectionState.start();
      mailer?.start();
      digest?.start();
      actor.start();
      client.start();
      // A gate that cannot listen is an error the admin must see: the dialplan would fail open.
      await agiServer?.start();
      if (statusServer) {
        status = statusServer;
        // The status page is a convenience: a busy port must not keep the guard from running.
        await status.start().catch((error: unknown) => {
          logger.error({ host: config.http.host, port: config.http.port, err: error instanceof Error ? error.message : String(error) }, 'status endpoint could not listen (http.port); the agent runs without it');
          status = undefined;
        });
      }
      writeMarker();
      heartbeat = setInterval(() => writeMarker(), AGENT_HEARTBEAT_MS);
      heartbeat.unref();
    },
    async stop() {
      await status?.stop();
      await agiServer?.stop();
      clearInterval(ticker);
      clearInterval(heartbeat);
      writeMarker(true);
      clearInterval(securityTicker);
      securityLog.flush();
      contacts.stop();
      clearInterval(purger);
      policies.close();
      // Security events still waiting are judged before the pipeline closes.
      tracker.lanes.flush();
      shedding.stop();
      pipeline.close();
      tracker.detach();
      detectionState.stop();
      await actor.settled();
      actor.stop();
      clearInterval(profileTicker);
      saveProfiles();
      if (addresses.hasChanges) saveAddresses();
      digest?.stop();
      await mailer?.stop();
      await client.stop();
      ari?.close();
      store.close();
      logger.info('Tollgate stopped');
    },
  };
  // Built now, listening from start(): it counts every decision from the first one.
  statusServer = config.http.port > 0 ? new StatusServer({ agent, host: config.http.host, port: config.http.port, mask, mode: config.mode, timezone: config.timezone, homeCountry: config.numbering.homeCountry, currency: rates.currency ?? config.rates.currency, rates: rates.source, logger }) : undefined;
  return agent;
}

/** `127.0.0.1:4573`, `[::1]:4573` → host and port. */
function listenAddress(listen: string): { host: string; port: number } {
  const colon = listen.lastIndexOf(':');
  return { host: listen.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(listen.slice(colon + 1)) };
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

/** Logs call table changes in words an admin can read (security events: report/security-log.ts). */
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
  };
}
