/**
 * `tollgate demo`: the whole agent against the built-in AMI simulator on loopback, replaying
 * recorded attacks from a real Asterisk — no PBX needed. What the agent sees is printed as a
 * timeline while it happens. The incident mails are printed; with an SMTP server (--smtp, or the
 * smtp/alerts settings of --config / TOLLGATE_*), they are also sent, so a user can watch real mail
 * arrive (e.g. in a mail catcher on 127.0.0.1:1025).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxMail } from '../store/store.js';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { TollgateConfig } from '../config/schema.js';
import type { Mailer } from '../act/mail/mailer.js';
import { createLogger } from '../log.js';
import { createAgent } from '../main.js';
import { packagePath } from '../paths.js';
import { TimelineReport } from '../report/timeline.js';
import { AmiSimulator, loadTranscript } from '../sim/index.js';
import { classifierFor } from '../numbers/from-config.js';
import { configFromOptions, describeClassification } from './common.js';
import { numberMasker } from '../privacy.js';
import { describeRateSource, rateTableFromConfig } from '../rates/index.js';

export interface DemoOptions {
  speed: string;
  transcript?: string[];
  verbose?: boolean;
  /** Its smtp and alerts settings are used (the rest is the demo's own lab). */
  config?: string;
  /** smtp://host:port — overrides smtp.url. */
  smtp?: string;
  /** Recipients — override alerts.to. */
  to?: string;
}

/** Recipient of the demo's mails when neither --to nor alerts.to names one. */
const DEMO_RECIPIENT = 'pbx-admin@example.com';
/** How long the demo waits for its mails to reach the SMTP server before it stops. */
const MAIL_DRAIN_MS = 20_000;

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the agent against a built-in Asterisk simulator replaying recorded attacks (no PBX needed)')
    .option('--speed <factor>', 'replay speed: 1 = as recorded, 20 = twenty times faster, max = no pauses', '20')
    .option('--transcript <file...>', 'replay these captures instead of the shipped demo/*.ami')
    .option('--verbose', 'also print the agent log (JSON on stderr)')
    .option('--smtp <url>', 'also send the mails through this SMTP server, e.g. smtp://127.0.0.1:1025 (default: smtp.url of --config / TOLLGATE_SMTP_URL; none: mails are only printed)')
    .option('--to <addresses>', `recipients, comma-separated (default: alerts.to, else ${DEMO_RECIPIENT})`)
    .option('-c, --config <file>', 'take the smtp and alerts settings from this configuration file')
    .action(async (options: DemoOptions) => {
      await runDemo(options, (line) => console.log(line));
    });
}

export async function runDemo(options: DemoOptions, print: (line: string) => void): Promise<void> {
  const speed = options.speed === 'max' ? Infinity : Number(options.speed);
  if (!Number.isFinite(speed) && speed !== Infinity) throw new Error(`--speed must be a number or "max", not "${options.speed}"`);
  const transcripts = options.transcript ?? demoTranscripts();
  const user = { username: 'tollgate', secret: randomBytes(12).toString('hex') };
  const sim = new AmiSimulator({ users: [user] });
  const port = await sim.start();

  // The user's mail settings (file and/or environment), read before anything starts: a bad file is refused at once.
  const mail = demoMailSettings(options);
  // The lab the captures come from is in the US; its numbering and prices are the defaults of every command.
  const stateDir = mkdtempSync(join(tmpdir(), 'tollgate-demo-'));
  const { config } = loadConfig({
    env: {
      TOLLGATE_DB: join(stateDir, 'tollgate.db'),
      TOLLGATE_ALERT_TO: 'pbx-admin@example.com',
      TOLLGATE_ACTIONS_CONFIRM_TIMEOUT_MS: '1000',
      TOLLGATE_HTTP_PORT: '0',
      TOLLGATE_AMI_HOST: '127.0.0.1',
      TOLLGATE_AMI_PORT: String(port),
      TOLLGATE_AMI_USERNAME: user.username,
      TOLLGATE_AMI_SECRET: user.secret,
      TOLLGATE_HOME_COUNTRY: 'US',
      TOLLGATE_TRUNKS: 'carrier',
      TOLLGATE_POLICIES: packagePath('policies'),
      TOLLGATE_MODE: 'enforce',
    },
  });
  config.smtp = mail.smtp;
  config.alerts = mail.alerts;
  const logger = createLogger(options.verbose ? 'info' : 'silent');
  // Incident mails are printed as the admin would receive them, and sent when there is an SMTP server.
  const mails: OutboxMail[] = [];
  const mailQueue = {
    enqueue(mail: OutboxMail): void {
      mails.push(mail);
      print(`${' '.repeat(25)}MAIL      to ${mail.to.join(', ')}: ${mail.subject}`);
      agent.mailer?.enqueue(mail);
    },
  };
  const agent = createAgent({ config, logger, mailQueue, mailer: { retryBaseMs: 1000, retryMaxMs: 5000 } });
  const classifier = classifierFor(config);
  const report = new TimelineReport({ describeNumber: (number) => describeClassification(classifier.classify(number)), mask: numberMasker(config.privacy.maskNumbers) });
  agent.pipeline.onResult((result) => {
    if (result.event) report.add(result.event, result.changes).forEach(print);
    else report.addChanges(result.changes).forEach(print);
    report.addVerdicts(result.findings, result.decisions).forEach(print);
  });

  print(`Tollgate demo: AMI simulator on 127.0.0.1:${port}, replaying ${transcripts.length} recorded capture(s) at ${speed === Infinity ? 'full' : `${speed}×`} speed`);
  print(agent.mailer ? `Mails go to ${config.alerts.to.join(', ')} through ${agent.mailer.endpoint.host}:${agent.mailer.endpoint.port}, and are printed here.` : 'No SMTP server given (--smtp smtp://127.0.0.1:1025 or smtp.url): mails are printed here, not sent.');
  try {
    await agent.start();
    await agent.client.waitForConnected(10_000);
    for (const file of transcripts) {
      print(`\n── ${file.replace(/.*\//, '')} ──`);
      await sim.replay(await loadTranscript(file), { speed, times: 'now' });
    }
    // Let the last events and actions settle before summing up.
    await agent.client.action('Ping');
    await agent.actor.settled();
    print('');
    for (const line of report.summary(Date.now())) print(line);
    const hangups = sim.actions.filter((action) => action.name === 'Hangup').length;
    print(`  AMI Hangup actions sent to Asterisk: ${hangups}; mails: ${mails.length}; locked now: ${agent.store.locks(Date.now()).map((lock) => lock.endpoint).join(', ') || 'none'}`);
    print(`  prices: ${describeRateSource(rateTableFromConfig(config.rates).source)}`);
    if (agent.mailer) print(`  ${await deliveryReport(agent.mailer)}`);
    const first = mails.find((mail) => mail.subject.endsWith('hung up')) ?? mails[0];
    if (first) {
      print('');
      print(`One of the mails, as the admin reads it (${first.subject}):`);
      print('');
      for (const line of first.text.split('\n')) print(`  ${line}`);
    }
  } finally {
    await agent.stop();
    await sim.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** smtp and alerts from --config / the environment, with --smtp and --to on top; no digest in a demo. */
function demoMailSettings(options: DemoOptions): Pick<TollgateConfig, 'smtp' | 'alerts'> {
  const { config } = configFromOptions(options, {
    TOLLGATE_SMTP_URL: options.smtp,
    TOLLGATE_ALERTS_TO: options.to,
  });
  const to = config.alerts.to.length > 0 ? config.alerts.to : [DEMO_RECIPIENT];
  return { smtp: config.smtp, alerts: { ...config.alerts, to, digest: false } };
}

/** Waits (a while) for the outbox to empty and says how delivery went. */
async function deliveryReport(mailer: Mailer): Promise<string> {
  const deadline = Date.now() + MAIL_DRAIN_MS;
  let status = mailer.status();
  while (status.pending > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = mailer.status();
  }
  const where = `${mailer.endpoint.host}:${mailer.endpoint.port}`;
  if (status.pending === 0) return `mails delivered to the SMTP server ${where}: ${status.sent}`;
  return `mails delivered to ${where}: ${status.sent}; NOT delivered: ${status.pending}${status.lastError ? ` (${status.lastError})` : ''}`;
}

function demoTranscripts(): string[] {
  const dir = packagePath('demo');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ami'))
    .sort()
    .map((name) => join(dir, name));
}
