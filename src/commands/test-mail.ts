/**
 * `tollgate test-mail`: sends one mail through the configured (or given) SMTP server to the alert
 * recipients with the same sender the agent uses (TLS, authentication, From), and says plainly
 * whether the server took it. Exit code 1 with the server's error when it did not — so an admin
 * finds a wrong relay, port or password before the first incident, not during it.
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { Mailer } from '../act/mail/mailer.js';
import { mailerOptionsFromConfig } from '../act/mail/index.js';
import { ConfigError } from '../errors.js';
import { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import { configFromOptions } from './common.js';

export interface TestMailOptions {
  config?: string;
  /** smtp://host:port (overrides smtp.url). */
  smtp?: string;
  /** Comma-separated recipients (override alerts.to). */
  to?: string;
  /** The From address (overrides alerts.from). */
  from?: string;
  /** Give up after this many milliseconds. @default 20000 */
  timeoutMs?: number;
}

export function registerTestMailCommand(program: Command): void {
  program
    .command('test-mail')
    .description('send a test mail to the alert recipients through the configured SMTP server, and say whether it was accepted')
    .option('-c, --config <file>', 'configuration file (smtp.* and alerts.*)')
    .option('--smtp <url>', 'SMTP server, e.g. smtp://127.0.0.1:1025 or smtp://user:pass@relay:587 (default: smtp.url / TOLLGATE_SMTP_URL)')
    .option('--to <addresses>', 'recipients, comma-separated (default: alerts.to / TOLLGATE_ALERT_TO)')
    .option('--from <address>', 'sender (default: alerts.from)')
    .action(async (options: TestMailOptions) => {
      const result = await sendTestMail(options);
      for (const line of result.lines) (result.ok ? console.log : console.error)(line);
      if (!result.ok) process.exitCode = 1;
    });
}

/** Sends the test mail; never throws for a delivery failure (ok: false and the reason instead). */
export async function sendTestMail(options: TestMailOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; lines: string[] }> {
  const { config } = configFromOptions(options, { TOLLGATE_SMTP_URL: options.smtp, TOLLGATE_ALERTS_TO: options.to, TOLLGATE_ALERTS_FROM: options.from }, env);
  // An in-memory outbox: the test mail is tried once, now, and leaves nothing in the agent's database.
  const store = new Store(':memory:');
  const mailing = mailerOptionsFromConfig(config, { store });
  if (!mailing.options) {
    store.close();
    throw new ConfigError(`cannot send a test mail: ${mailing.reason} — or give --smtp smtp://host:port and --to you@example.com`);
  }
  // One attempt only: the retry of the first failure is scheduled far beyond the deadline.
  const mailer = new Mailer({ ...mailing.options, retryBaseMs: 3_600_000, connectTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 15_000 });
  const where = `${mailer.endpoint.host}:${mailer.endpoint.port}${mailer.endpoint.secure ? ' (TLS)' : ''}${mailer.endpoint.user ? ` as ${mailer.endpoint.user}` : ''}`;
  const host = hostname();
  mailer.enqueue({
    kind: 'test',
    dedupeKey: `test:${Date.now()}`,
    to: config.alerts.to,
    subject: `[Tollgate] test mail from ${host}`,
    text: testMailText(host, where),
    html: `<p>${testMailText(host, where).split('\n\n').join('</p><p>')}</p>`,
  });
  mailer.start();
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    let status = mailer.status();
    while (status.sent === 0 && status.failureStreak === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      status = mailer.status();
    }
    if (status.sent > 0) {
      return { ok: true, lines: [`test mail accepted by the SMTP server ${where}`, `  from ${config.alerts.from} to ${config.alerts.to.join(', ')}`, '  if it does not arrive, look in the spam folder and at the relay\'s log'] };
    }
    const why = status.lastError ?? `no answer within ${Math.round((options.timeoutMs ?? 20_000) / 1000)} s`;
    return { ok: false, lines: [`test mail NOT sent: the SMTP server ${where} failed: ${why}`, '  check smtp.url (host, port, smtp:// or smtps://, user and password) and that the server accepts mail from this host'] };
  } finally {
    await mailer.stop();
    store.close();
  }
}

function testMailText(host: string, where: string): string {
  return [
    `This is a test mail from Tollgate ${VERSION} on ${host}, sent with \`tollgate test-mail\` through ${where}.`,
    'Incident alerts and the daily digest will reach you the same way. Nothing has happened on your PBX.',
  ].join('\n\n');
}
