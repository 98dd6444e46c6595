/**
 * The whole agent in a test: the AMI simulator, a loopback SMTP server and createAgent on the lab
 * configuration (test/fixtures/lab-config.yaml), wired to each other. Tests add their own settings
 * as TOLLGATE_* variables; `stop()` tears the three down.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { MemoryLogger } from '../../src/log.js';
import { createAgent, type Agent } from '../../src/main.js';
import { AmiSimulator } from '../../src/sim/index.js';
import { fixturePath } from './fixtures.js';
import { startSmtpServer } from './smtp.js';

/** The AMI user the simulator accepts and the agent logs in as. */
export const LAB_AMI_USER = { username: 'tollgate', secret: 'lab-agent-test-secret' };

/** What a `tollgate run` child process of a test needs in its configuration file (see childAgentConfig). */
export interface ChildAgentConfig {
  amiPort: number;
  user: { username: string; secret: string };
  /** policies.dir (relative paths are taken from the file's directory). */
  policies: string;
  /** db.file */
  db: string;
  checkpointIntervalMs?: number;
  /** Alerts to pbx-admin@example.com through a loopback SMTP server on this port. */
  smtpPort?: number;
  logLevel?: string;
}

/**
 * The configuration file of an agent run as a child process (restart and kill tests): the lab's
 * numbering (a US PBX, extensions 1XXX, trunk `carrier`), the example rates, no AMI Ping, UTC, no
 * status port, hang-ups confirmed within 2 s.
 */
export function childAgentConfig(options: ChildAgentConfig): string {
  return [
    'ami:',
    `  port: ${options.amiPort}`,
    `  username: ${options.user.username}`,
    `  secret: ${options.user.secret}`,
    '  pingIntervalMs: 0',
    'numbering:',
    '  homeCountry: US',
    '  internationalPrefixes: ["011", "00"]',
    '  internalPatterns: ["_1XXX"]',
    'trunks: [carrier]',
    'rates:',
    `  file: ${fixturePath('..', '..', 'config', 'rates.example.csv')}`,
    'policies:',
    `  dir: ${options.policies}`,
    'db:',
    `  file: ${options.db}`,
    ...(options.checkpointIntervalMs !== undefined ? [`  checkpointIntervalMs: ${options.checkpointIntervalMs}`] : []),
    ...(options.smtpPort !== undefined ? ['smtp:', `  url: smtp://127.0.0.1:${options.smtpPort}`, 'alerts:', '  to: [pbx-admin@example.com]', '  from: tollgate@example.com'] : []),
    'timezone: UTC',
    'http:',
    '  port: 0',
    ...(options.logLevel !== undefined ? ['log:', `  level: ${options.logLevel}`] : []),
    'actions:',
    '  confirmTimeoutMs: 2000',
    '',
  ].join('\n');
}

export interface LabAgent {
  sim: AmiSimulator;
  smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  agent: Agent;
  logger: MemoryLogger;
  /** The directory of the agent's database. */
  dir: string;
  stop(): Promise<void>;
}

export interface LabAgentOptions {
  /** TOLLGATE_POLICIES: the policy directory. */
  policies: string;
  /** More TOLLGATE_* settings (they win over the defaults here). */
  env?: Record<string, string>;
  /** The SMTP server refuses connections from the start. */
  smtpAvailable?: boolean;
  /** Where the database goes (a restart test reuses one). @default a new temporary directory */
  dir?: string;
}

export async function startLabAgent(options: LabAgentOptions): Promise<LabAgent> {
  const user = LAB_AMI_USER;
  const sim = new AmiSimulator({ users: [user] });
  await sim.start();
  const smtp = await startSmtpServer();
  if (options.smtpAvailable === false) smtp.setAvailable(false);
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tollgate-agent-'));
  const { config } = loadConfig({
    file: fixturePath('lab-config.yaml'),
    env: {
      TOLLGATE_AMI_PORT: String(sim.port),
      TOLLGATE_AMI_USERNAME: user.username,
      TOLLGATE_AMI_SECRET: user.secret,
      TOLLGATE_AMI_PING_INTERVAL_MS: '0',
      TOLLGATE_DB: join(dir, 'tollgate.db'),
      TOLLGATE_POLICIES: options.policies,
      TOLLGATE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      TOLLGATE_ALERT_TO: 'pbx-admin@example.com',
      TOLLGATE_ALERT_FROM: 'tollgate@example.com',
      TOLLGATE_ALERTS_DIGEST: 'false',
      TOLLGATE_HTTP_PORT: '0',
      ...options.env,
    },
  });
  const logger = new MemoryLogger();
  const agent = createAgent({ config, logger, mailer: { retryBaseMs: 50, retryMaxMs: 200 } });
  await agent.start();
  await agent.client.waitForConnected(5000);
  return {
    sim,
    smtp,
    agent,
    logger,
    dir,
    async stop() {
      await agent.stop();
      await sim.stop();
      await smtp.close();
    },
  };
}
