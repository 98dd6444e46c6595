/**
 * The read-only status endpoint (loopback by default): `/healthz` for a supervisor, `/metrics` for
 * Prometheus, `/status` (JSON) for a person or a script. It changes nothing and shows no secrets;
 * phone numbers are masked like everywhere else when `privacy.maskNumbers` is on. Every time in
 * /status is ISO 8601 (UTC); money is a decimal string in the rate table's currency.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { DateTime } from 'luxon';
import type { Agent } from '../main.js';
import { silentLogger, type Logger } from '../log.js';
import { SHEDDING_RECENT_MS } from '../report/shedding.js';
import type { PolicyMode } from '../policy/types.js';
import { describeRateSource, formatMicros } from '../rates/index.js';
import type { RateSource } from '../rates/index.js';
import { VERSION } from '../version.js';

export interface StatusServerOptions {
  agent: Agent;
  host: string;
  port: number;
  mask: (number: string | undefined) => string;
  /** The global mode (config `mode`). */
  mode: PolicyMode;
  /** Calendar days of "today's spend" (config `timezone`). */
  timezone: string;
  /** numbering.homeCountry: a call to it is national spend, to any other country international. */
  homeCountry: string;
  currency: string;
  rates?: RateSource | undefined;
  logger?: Logger;
  /** Wall clock. @default Date.now */
  now?: () => number;
}

type DecisionKey = `${string}\u0000${string}\u0000${string}`;

export class StatusServer {
  private server: Server | undefined;
  private readonly registry = new Registry();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly createdAt: number;
  /** Decisions by action, policy and mode since the agent started. */
  private readonly decisions = new Map<DecisionKey, number>();

  /** Created with the agent (before it starts), so every decision is counted. */
  constructor(private readonly options: StatusServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'http' });
    this.now = options.now ?? Date.now;
    this.createdAt = this.now();
    options.agent.pipeline.onResult((result) => {
      for (const decision of result.decisions) {
        const key: DecisionKey = `${decision.action}\u0000${decision.policy}\u0000${decision.mode}`;
        this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
      }
    });
    this.defineMetrics();
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      void this.route(request.method ?? 'GET', (request.url ?? '/').split('?')[0]!).then(
        ({ status, type, body }) => {
          response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
          response.end(body);
        },
        (error: unknown) => {
          this.log.error({ err: error instanceof Error ? error.message : String(error) }, 'status request failed');
          response.writeHead(500, { 'content-type': 'text/plain' });
          response.end('internal error\n');
        },
      );
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.log.info({ host: this.options.host, port: this.port }, 'status endpoint listening (/healthz, /metrics, /status)');
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(method: string, path: string): Promise<{ status: number; type: string; body: string }> {
    if (method !== 'GET') return { status: 405, type: 'text/plain', body: 'read-only\n' };
    const agent = this.options.agent;
    switch (path) {
      case '/healthz': {
        const healthy = agent.client.connected;
        const lane = agent.tracker.lanes;
        // Shedding is not down: calls are still judged first. It is said here so a supervisor can see it.
        const security = { waiting: lane.waitingCount, shed: lane.stats.shed, shedding: lane.stats.lastShedAt > 0 && Date.now() - lane.stats.lastShedAt < SHEDDING_RECENT_MS, lastShedAt: lane.stats.lastShedAt > 0 ? new Date(lane.stats.lastShedAt).toISOString() : null };
        return { status: healthy ? 200 : 503, type: 'application/json', body: JSON.stringify({ ok: healthy, ami: agent.client.state, policies: agent.policies.policies.length, security }) + '\n' };
      }
      case '/metrics':
        return { status: 200, type: this.registry.contentType, body: await this.registry.metrics() };
      case '/status':
        return { status: 200, type: 'application/json', body: JSON.stringify(this.status(), null, 2) + '\n' };
      default:
        return { status: 404, type: 'text/plain', body: 'not found: try /healthz, /metrics or /status\n' };
    }
  }

  private status(): Record<string, unknown> {
    const { agent, mask } = this.options;
    const now = this.now();
    const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
    return {
      version: VERSION,
      mode: this.options.mode,
      now: iso(now),
      startedAt: iso(this.createdAt),
      uptimeSeconds: Math.round((now - this.createdAt) / 1000),
      ami: { state: agent.client.state, version: agent.client.amiVersion, ...agent.client.stats, reconnects: Math.max(0, agent.client.stats.connects - 1) },
      rates: { source: this.options.rates?.kind ?? 'none', description: describeRateSource(this.options.rates) },
      spendToday: this.spendToday(now),
      policies: agent.policies.policies.map((policy) => ({ id: policy.definition.id, kind: policy.definition.kind, mode: policy.definition.mode, enabled: policy.definition.enabled })),
      liveCalls: agent.table.liveCalls().map((call) => ({
        linkedid: call.linkedid,
        endpoint: call.sourceEndpoint,
        dialled: call.dialled !== undefined ? mask(call.dialled) : undefined,
        trunk: call.outboundTrunk,
        direction: call.direction,
        startedAt: iso(call.createdAt),
        answeredSeconds: Math.round(call.answeredSeconds(now)),
      })),
      locks: agent.store.locks(now).map((lock) => ({ endpoint: lock.endpoint, since: iso(lock.since), until: iso(lock.until) ?? null, policy: lock.policy ?? 'manual', reason: lock.reason })),
      openIncidents: agent.decider.openIncidents(now).map((incident) => ({ id: incident.id, policy: incident.policy, scope: incident.scope, severity: incident.severity, findings: incident.findings, lastAt: iso(incident.lastAt) })),
      hangups: { ...agent.hangups.stats },
      outbox: { ...agent.store.outboxCounts(), ...agent.store.outboxFailures() },
      engine: agent.engine.stats,
    };
  }

  /** What ended calls cost since local midnight (config timezone): in total and by scope (national, international), endpoint, trunk, country and direction. */
  private spendToday(now: number): Record<string, unknown> {
    const since = DateTime.fromMillis(now, { zone: this.options.timezone }).startOf('day');
    const entries = this.options.agent.store.costsSince(since.toMillis());
    const by = (pick: (entry: (typeof entries)[number]) => string | undefined): Record<string, string> => {
      const sums = new Map<string, number>();
      for (const entry of entries) {
        const key = pick(entry) ?? 'unknown';
        sums.set(key, (sums.get(key) ?? 0) + entry.micros);
      }
      return Object.fromEntries([...sums.entries()].sort((a, b) => b[1] - a[1]).map(([key, micros]) => [key, formatMicros(micros)]));
    };
    return {
      since: since.toUTC().toISO(),
      timezone: this.options.timezone,
      currency: this.options.currency,
      calls: entries.length,
      total: formatMicros(entries.reduce((total, entry) => total + entry.micros, 0)),
      // A number with no country is a non-geographic international service (+882, +883, +979).
      byScope: by((entry) => (entry.country !== undefined ? (entry.country === this.options.homeCountry ? 'national' : 'international') : entry.e164 !== undefined ? 'international' : undefined)),
      byEndpoint: by((entry) => entry.endpoint),
      byTrunk: by((entry) => entry.trunk),
      byCountry: by((entry) => entry.country),
      byDirection: by((entry) => entry.direction),
      note: 'ended calls; calls up now are in liveCalls',
    };
  }

  private defineMetrics(): void {
    const { agent } = this.options;
    const registry = this.registry;
    new Gauge({ name: 'tollgate_ami_connected', help: '1 when logged in to Asterisk AMI', registers: [registry], collect() { this.set(agent.client.connected ? 1 : 0); } });
    new Gauge({ name: 'tollgate_live_calls', help: 'Calls up now (Linkedid groups)', registers: [registry], collect() { this.set(agent.table.liveCallCount); } });
    new Gauge({ name: 'tollgate_locked_endpoints', help: 'Endpoints locked now', registers: [registry], collect() { this.set(agent.store.locks(Date.now()).length); } });
    new Gauge({ name: 'tollgate_outbox_pending', help: 'Mails waiting for the mail server', registers: [registry], collect() { this.set(agent.store.outboxCounts().pending); } });
    new Gauge({ name: 'tollgate_policies_loaded', help: 'Policies in force', registers: [registry], collect() { this.set(agent.policies.policies.length); } });
    const amiTotal = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
    };
    amiTotal('tollgate_ami_events_total', 'AMI events received', () => agent.client.stats.events);
    // The first login is a connection, not a reconnection.
    amiTotal('tollgate_ami_reconnects_total', 'AMI logins after the first one (reconnections)', () => Math.max(0, agent.client.stats.connects - 1));
    amiTotal('tollgate_ami_disconnects_total', 'AMI connections lost', () => agent.client.stats.disconnects);
    amiTotal('tollgate_ami_garbage_total', 'Malformed AMI frames ignored', () => agent.client.stats.garbage);
    amiTotal('tollgate_ami_dropped_events_total', 'AMI events dropped because consumers fell behind', () => agent.client.stats.droppedEvents);
    new Gauge({ name: 'tollgate_security_lane_waiting', help: 'Security events waiting to be judged (calls go first)', registers: [registry], collect() { this.set(agent.tracker.lanes.waitingCount); } });
    new Counter({
      name: 'tollgate_security_events_shed_total',
      help: 'Security events counted without detail because they arrived faster than they could be judged, by kind',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [kind, count] of agent.tracker.lanes.stats.shedByKind) this.inc({ kind }, count);
      },
    });
    // Every per-address and per-account memory is bounded: how full each is, and what it dropped.
    const memories = (): { structure: string; entries: number; evicted: number }[] => [
      ...agent.engine.memory().map((row) => ({ structure: `policy:${row.policy}`, entries: row.entries, evicted: row.evicted })),
      { structure: 'address-memory', entries: agent.engine.addresses.failingSources, evicted: agent.engine.addresses.evicted },
      { structure: 'security-log', entries: agent.securityLog.size, evicted: agent.securityLog.stats.evicted },
    ];
    new Gauge({ name: 'tollgate_state_entries', help: 'Entries in a bounded per-address/per-account memory', labelNames: ['structure'], registers: [registry], collect() { this.reset(); for (const row of memories()) this.set({ structure: row.structure }, row.entries); } });
    new Counter({ name: 'tollgate_state_evictions_total', help: 'Entries dropped from a bounded memory to make room (not expired ones)', labelNames: ['structure'], registers: [registry], collect() { this.reset(); for (const row of memories()) this.inc({ structure: row.structure }, row.evicted); } });
    amiTotal('tollgate_findings_total', 'Findings made by the policies', () => agent.engine.stats.findings);
    amiTotal('tollgate_policy_errors_total', 'Policy evaluations that threw', () => agent.engine.stats.policyErrors);
    amiTotal('tollgate_emergency_exempted_total', 'Findings dropped because the call reaches an emergency number', () => agent.engine.stats.emergencyExempted);
    const decisions = this.decisions;
    new Counter({
      name: 'tollgate_decisions_total',
      help: 'Decisions made, by action (hangup, lock, firewall, alert), policy and mode (enforce, simulate)',
      labelNames: ['action', 'policy', 'mode'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, count] of decisions) {
          const [action, policy, mode] = key.split('\u0000') as [string, string, string];
          this.inc({ action, policy, mode }, count);
        }
      },
    });
    new Counter({
      name: 'tollgate_hangups_total',
      help: 'Hang-ups carried out: confirmed by Asterisk, failed (the call may still be up), skipped (the call had already ended)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        const stats = agent.hangups.stats;
        this.inc({ result: 'confirmed' }, stats.confirmed);
        this.inc({ result: 'failed' }, stats.failed);
        this.inc({ result: 'skipped' }, stats.skipped);
      },
    });
    amiTotal('tollgate_mails_sent_total', 'Mails accepted by the SMTP server (rows kept in the outbox, db.retentionDays)', () => agent.store.outboxCounts().sent);
    amiTotal('tollgate_mail_failures_total', 'Failed mail delivery attempts (each is retried)', () => agent.store.outboxFailures().failedAttempts);
    new Gauge({ name: 'tollgate_mails_failing', help: 'Mails waiting whose last delivery attempt failed', registers: [registry], collect() { this.set(agent.store.outboxFailures().failing); } });
    const uptime = (): number => (this.now() - this.createdAt) / 1000;
    new Gauge({ name: 'tollgate_uptime_seconds', help: 'Seconds since the agent started', registers: [registry], collect() { this.set(uptime()); } });
    new Gauge({ name: 'tollgate_info', help: 'Always 1: the version and global mode as labels', labelNames: ['version', 'mode'], registers: [registry] }).set({ version: VERSION, mode: this.options.mode }, 1);
    amiTotal('tollgate_state_checkpoints_total', 'Detection state checkpoints written', () => agent.detectionState.stats.saves);
    amiTotal('tollgate_state_checkpoint_failures_total', 'Detection state checkpoints that could not be written', () => agent.detectionState.stats.failures);
    new Gauge({ name: 'tollgate_state_checkpoint_bytes', help: 'Size of the last detection state checkpoint (JSON)', registers: [registry], collect() { this.set(agent.detectionState.stats.lastBytes); } });
    new Gauge({ name: 'tollgate_state_checkpoint_block_ms', help: 'Longest the last detection state checkpoint held the event loop at once (it is taken one policy per turn)', registers: [registry], collect() { this.set(agent.detectionState.stats.lastBlockMs); } });
    const gate = agent.gate;
    if (gate) {
      new Counter({
        name: 'tollgate_gate_decisions_total',
        help: 'Pre-dial gate verdicts given to Asterisk',
        labelNames: ['verdict'],
        registers: [registry],
        collect() {
          this.reset();
          this.inc({ verdict: 'allow' }, gate.stats.allow);
          this.inc({ verdict: 'deny' }, gate.stats.deny);
        },
      });
      amiTotal('tollgate_gate_timeouts_total', 'Pre-dial gate sessions with no verdict in time (the dialplan went on, or denied in fail-closed contexts)', () => gate.stats.timeouts);
      amiTotal('tollgate_gate_errors_total', 'Pre-dial gate sessions that failed', () => gate.stats.errors);
      new Gauge({
        name: 'tollgate_gate_latency_ms',
        help: 'Pre-dial gate decision latency over the latest decisions, milliseconds',
        labelNames: ['quantile'],
        registers: [registry],
        collect() {
          const latency = gate.latency();
          this.set({ quantile: '0.5' }, latency.p50);
          this.set({ quantile: '0.99' }, latency.p99);
          this.set({ quantile: '1' }, latency.max);
        },
      });
    }
  }
}
