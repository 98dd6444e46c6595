/**
 * The read-only status endpoint (loopback by default): `/healthz` for a supervisor, `/metrics` for
 * Prometheus, `/status` (JSON) for a person or a script. It changes nothing and shows no secrets;
 * phone numbers are masked like everywhere else when `privacy.maskNumbers` is on.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Agent } from '../main.js';
import { silentLogger, type Logger } from '../log.js';

export interface StatusServerOptions {
  agent: Agent;
  host: string;
  port: number;
  mask: (number: string | undefined) => string;
  logger?: Logger;
}

export class StatusServer {
  private server: Server | undefined;
  private readonly registry = new Registry();
  private readonly log: Logger;

  constructor(private readonly options: StatusServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'http' });
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
        return { status: healthy ? 200 : 503, type: 'application/json', body: JSON.stringify({ ok: healthy, ami: agent.client.state, policies: agent.policies.policies.length }) + '\n' };
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
    const now = Date.now();
    return {
      ami: { state: agent.client.state, version: agent.client.amiVersion, ...agent.client.stats },
      policies: agent.policies.policies.map((policy) => ({ id: policy.definition.id, kind: policy.definition.kind, mode: policy.definition.mode, enabled: policy.definition.enabled })),
      liveCalls: agent.table.liveCalls().map((call) => ({
        linkedid: call.linkedid,
        endpoint: call.sourceEndpoint,
        dialled: call.dialled !== undefined ? mask(call.dialled) : undefined,
        trunk: call.outboundTrunk,
        direction: call.direction,
        startedAt: new Date(call.createdAt).toISOString(),
        answeredSeconds: Math.round(call.answeredSeconds(now)),
      })),
      locks: agent.store.locks(now),
      openIncidents: agent.decider.openIncidents(now).map((incident) => ({ id: incident.id, policy: incident.policy, scope: incident.scope, severity: incident.severity, findings: incident.findings, lastAt: new Date(incident.lastAt).toISOString() })),
      outbox: agent.store.outboxCounts(),
      engine: agent.engine.stats,
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
    amiTotal('tollgate_ami_reconnects_total', 'AMI connections made', () => agent.client.stats.connects);
    amiTotal('tollgate_ami_garbage_total', 'Malformed AMI frames ignored', () => agent.client.stats.garbage);
    amiTotal('tollgate_ami_dropped_events_total', 'AMI events dropped because consumers fell behind', () => agent.client.stats.droppedEvents);
    amiTotal('tollgate_findings_total', 'Findings made by the policies', () => agent.engine.stats.findings);
    amiTotal('tollgate_policy_errors_total', 'Policy evaluations that threw', () => agent.engine.stats.policyErrors);
    amiTotal('tollgate_emergency_exempted_total', 'Findings dropped because the call reaches an emergency number', () => agent.engine.stats.emergencyExempted);
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
