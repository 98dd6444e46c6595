import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { DailyDigest, collectDigest, composeDigest, localDay } from '../../src/act/mail/digest.js';
import { Mailer, messageIdFor, parseSmtpUrl, type MailerOptions } from '../../src/act/mail/mailer.js';
import { backoffDelay } from '../../src/net/backoff.js';
import { incidentMail } from '../../src/act/mail/render.js';
import { mailerOptionsFromConfig } from '../../src/act/mail/index.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import type { Decision, Incident } from '../../src/decide/decider.js';
import { MemoryLogger } from '../../src/log.js';
import type { CostEntry, Finding } from '../../src/policy/types.js';
import { numberMasker } from '../../src/privacy.js';
import { Store, type OutboxMail } from '../../src/store/store.js';
import { fixturePath } from '../helpers/fixtures.js';
import { freePort, startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.js';
import { until } from '../helpers/wait.js';

const FROM = 'Tollgate <tollgate@pbx.example.net>';
const TO = ['noc@example.com', 'boss@example.com'];

function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'tollgate-mail-')), 'tollgate.db');
}

// Everything a test opens is closed after it, even when it fails: jest must exit cleanly.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function smtpServer(options: Parameters<typeof startSmtpServer>[0] = {}): Promise<TestSmtpServer> {
  const server = await startSmtpServer(options);
  cleanups.push(() => server.close());
  return server;
}

function openStore(file = tempDb()): Store {
  const store = new Store(file);
  cleanups.push(() => store.close());
  return store;
}

function mailer(options: Partial<MailerOptions> & Pick<MailerOptions, 'store' | 'url'>): Mailer {
  const instance = new Mailer({
    from: FROM,
    retryBaseMs: 20,
    retryMaxMs: 150,
    connectTimeoutMs: 3_000,
    greetingTimeoutMs: 3_000,
    socketTimeoutMs: 5_000,
    ...options,
  });
  cleanups.push(() => instance.stop());
  return instance;
}

const plainMail = (dedupeKey: string, extra: Partial<OutboxMail> = {}): OutboxMail => ({
  kind: 'alert',
  dedupeKey,
  to: TO,
  subject: `[Tollgate][HIGH] test ${dedupeKey}`,
  text: `text of ${dedupeKey}\n`,
  html: `<p>html of ${dedupeKey}</p>`,
  ...extra,
});

/** A real incident mail, as the act layer will enqueue it. */
function incidentOutboxMail(n: number, mask = false): OutboxMail {
  const at = Date.UTC(2026, 10, 21, 2, 4, 40) + n * 60_000;
  const finding: Finding = {
    policy: 'block-premium-rate',
    kind: 'destination',
    mode: 'enforce',
    severity: 'critical',
    level: 'match',
    actions: ['alert', 'hangup'],
    at,
    message: `100${n} → 00535551234: premium-rate number in CU, denied`,
    scope: `endpoint:100${n}`,
    endpoint: `100${n}`,
    evidence: {},
    call: {
      linkedid: `1763690665.${n}`,
      uniqueid: `1763690665.${n}`,
      channel: `PJSIP/100${n}-00000006`,
      channels: [`PJSIP/100${n}-00000006`, 'PJSIP/carrier-00000007'],
      endpoint: `100${n}`,
      context: 'from-internal',
      callerIdNum: `100${n}`,
      callerIdName: '<script>alert(1)</script>',
      direction: 'outbound',
      dialled: '00535551234',
      e164: '+535551234',
      country: 'CU',
      numberType: 'PREMIUM_RATE',
      risk: 'high',
      startedAt: at - 15_000,
      answeredAt: at - 9_000,
      ratePerMinute: '1.10',
      currency: 'USD',
      costSoFar: 0.37,
    },
  };
  const incident: Incident = {
    id: `20261121-0${n}0440-block-premium-rate-${n}a2b`,
    policy: finding.policy,
    scope: finding.scope,
    firstAt: at,
    lastAt: at,
    findings: 1,
    severity: 'critical',
    levels: ['match'],
    calls: [finding.call!.linkedid],
    first: finding,
    latest: finding,
    decided: new Set(),
    sequence: 2,
  };
  const decision: Decision = { id: `${incident.id}/2`, incident: incident.id, action: 'hangup', mode: 'enforce', policy: finding.policy, kind: finding.kind, severity: 'critical', level: 'match', at, finding, target: { linkedid: finding.call!.linkedid, channels: finding.call!.channels }, followUp: false };
  return incidentMail(
    { incident, finding, followUp: false, outcomes: [{ decision, result: 'done', detail: 'Hung up, confirmed after 12 ms' }], mode: 'enforce', mask: numberMasker(mask), timezone: 'Europe/Paris', agent: 'pbx1.example.net' },
    TO,
  );
}

function keysOf(messages: readonly ReceivedMail[]): string[] {
  return messages.map((message) => message.header('x-tollgate-key') ?? '?');
}

/** Enqueues a last mail and waits for it: with one send at a time, anything sent twice would have arrived before it. */
async function drain(instance: Mailer, server: TestSmtpServer, key = `sentinel:${Math.random()}`): Promise<ReceivedMail[]> {
  instance.enqueue(plainMail(key));
  await until(() => keysOf(server.messages).includes(key), `sentinel ${key}`, 10_000);
  return server.messages.filter((message) => message.header('x-tollgate-key') !== key);
}

function totalAttempts(store: Store, ids: readonly number[]): number {
  return ids.reduce((sum, id) => sum + (store.mail(id)?.attempts ?? 0), 0);
}

describe('mailer against a real SMTP server on loopback', () => {
  test('delivers an incident mail: subject, text, HTML, From/To, stable Message-ID; sent once per key', async () => {
    const server = await smtpServer();
    const store = openStore();
    const logger = new MemoryLogger();
    const sender = mailer({ store, url: `smtp://127.0.0.1:${server.port}`, logger });
    sender.start();
    const mail = incidentOutboxMail(1);
    const { id, created } = sender.enqueue(mail);
    expect(created).toBe(true);
    const [received] = await server.waitFor(1);
    expect(received!.subject).toBe('[Tollgate][CRITICAL] 1001 → +53 5551234 hung up');
    expect(received!.text).toContain('1001 → 00535551234: premium-rate number in CU, denied');
    expect(received!.text).toContain('"<script>alert(1)</script>" <1001>');
    expect(received!.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(received!.html).not.toContain('<script>');
    expect(received!.parsed.from?.value).toEqual([{ name: 'Tollgate', address: 'tollgate@pbx.example.net' }]);
    expect((Array.isArray(received!.parsed.to) ? received!.parsed.to : [received!.parsed.to!]).flatMap((to) => to.value.map((address) => address.address))).toEqual(TO);
    expect(received!.envelope).toEqual({ from: 'tollgate@pbx.example.net', to: TO });
    expect(received!.header('auto-submitted')).toBe('auto-generated');
    expect(received!.header('x-tollgate-incident')).toBe('20261121-010440-block-premium-rate-1a2b');
    expect(received!.secure).toBe(false);

    await until(() => store.mail(id)?.sentAt !== undefined, 'the row marked sent');
    const row = store.mail(id)!;
    expect(received!.messageId).toBe(row.messageId);
    expect(row.messageId).toBe(messageIdFor(row, 'pbx.example.net'));
    expect(row.messageId).toMatch(/^<tollgate\.[0-9a-z]+\.\d+\.[0-9a-z]+@pbx\.example\.net>$/);
    expect(received!.parsed.date?.getTime()).toBe(Math.floor(row.createdAt / 1000) * 1000);

    // The same key again: nothing new, ever.
    expect(sender.enqueue(mail)).toEqual({ id, created: false });
    expect(sender.enqueue({ ...mail, subject: 'changed' })).toEqual({ id, created: false });
    const before = await drain(sender, server);
    expect(keysOf(before)).toEqual([mail.dedupeKey]);
    await until(() => store.outboxCounts().pending === 0, 'the sentinel marked sent');
    expect(store.outboxCounts()).toEqual({ pending: 0, sent: 2 });
    expect(logger.entries.filter((entry) => entry.level === 'error' || entry.level === 'warn')).toEqual([]);
  });

  test('SMTP down (port closed), back later: every mail arrives exactly once; failures logged once, then every 10th', async () => {
    const port = await freePort();
    const store = openStore();
    const logger = new MemoryLogger();
    const sender = mailer({ store, url: `smtp://127.0.0.1:${port}`, logger });
    sender.start();
    const mails = [1, 2, 3].map((n) => incidentOutboxMail(n));
    const ids = mails.map((mail) => sender.enqueue(mail).id);
    await until(() => ids.every((id) => (store.mail(id)?.attempts ?? 0) >= 2) && totalAttempts(store, ids) >= 12, 'a dozen failed attempts', 15_000);
    expect(store.mail(ids[0]!)!.lastError).toMatch(/ECONNREFUSED|ECONNECTION/);
    for (const mail of mails) expect(sender.enqueue(mail).created).toBe(false);

    const server = await smtpServer({ port });
    await server.waitFor(3);
    const delivered = await drain(sender, server);
    expect(keysOf(delivered).sort()).toEqual(mails.map((mail) => mail.dedupeKey).sort());
    for (const mail of mails) expect(sender.enqueue(mail).created).toBe(false);
    const afterAgain = await drain(sender, server);
    expect(keysOf(afterAgain).filter((key) => !key.startsWith('sentinel:')).sort()).toEqual(mails.map((mail) => mail.dedupeKey).sort());

    const failures = totalAttempts(store, ids) - 3;
    expect(failures).toBeGreaterThanOrEqual(9);
    const loud = logger.entries.filter((entry) => entry.level === 'error' || entry.level === 'warn');
    // Once at first, then once every 10th failure: never a line per retry.
    expect(loud.filter((entry) => entry.level === 'error').length).toBeGreaterThanOrEqual(1);
    expect(loud.length).toBeLessThanOrEqual(2 + Math.floor(failures / 10));
    expect(loud[0]!.msg).toContain(`mail delivery through 127.0.0.1:${port} failed; the mail stays in the outbox and is retried until delivered`);
    expect(logger.entries.some((entry) => entry.msg?.startsWith('mail delivery works again after'))).toBe(true);
    await until(() => sender.status().pending === 0, 'everything marked sent');
    expect(sender.status()).toMatchObject({ failureStreak: 0, pending: 0, inFlight: 0 });
  });

  test('a server answering 421, then accepting: exactly one mail per key', async () => {
    const server = await smtpServer({ reject: true });
    const store = openStore();
    const sender = mailer({ store, url: `smtp://127.0.0.1:${server.port}`, logger: new MemoryLogger() });
    sender.start();
    const ids = ['incident:a:alert', 'incident:b:alert'].map((key) => sender.enqueue(plainMail(key)).id);
    await until(() => server.stats.refused >= 4, 'four refused connections', 15_000);
    expect(store.mail(ids[0]!)!.lastError).toMatch(/421/);
    expect(server.messages).toEqual([]);
    // A temporary failure at the end of DATA (the server did not accept it) is retried too.
    server.rejectNextData(1);
    server.setAvailable(true);
    await server.waitFor(2);
    expect(keysOf(await drain(sender, server)).sort()).toEqual(['incident:a:alert', 'incident:b:alert']);
    expect(server.stats.dataRejected).toBe(1);
  });

  test('a restart delivers what the previous run left pending, once; what it sent stays sent', async () => {
    const file = tempDb();
    const first = await smtpServer();
    const store1 = new Store(file);
    const sender1 = new Mailer({ store: store1, url: `smtp://127.0.0.1:${first.port}`, from: FROM, retryBaseMs: 20, retryMaxMs: 100 });
    sender1.start();
    sender1.enqueue(plainMail('incident:sent-before:alert'));
    await first.waitFor(1);
    await until(() => store1.outboxCounts().sent === 1, 'first mail marked sent');
    await first.close();
    const pendingIds = ['incident:p1:alert', 'incident:p2:alert'].map((key) => sender1.enqueue(plainMail(key)).id);
    await until(() => pendingIds.every((id) => (store1.mail(id)?.attempts ?? 0) >= 1), 'failed attempts before the restart');
    await sender1.stop();
    store1.close();

    const second = await smtpServer();
    const store2 = openStore(file);
    expect(store2.outboxCounts()).toEqual({ pending: 2, sent: 1 });
    const sender2 = mailer({ store: store2, url: `smtp://127.0.0.1:${second.port}` });
    sender2.start();
    await second.waitFor(2);
    const delivered = await drain(sender2, second);
    expect(keysOf(delivered).sort()).toEqual(['incident:p1:alert', 'incident:p2:alert']);
    for (const message of delivered) {
      const row = store2.mail(pendingIds[keysOf([message])[0] === 'incident:p1:alert' ? 0 : 1]!)!;
      expect(message.messageId).toBe(messageIdFor(row, 'pbx.example.net'));
    }
  });

  test('the at-least-once edge: killed after the server accepted, before "sent" was written → the copy has the same Message-ID', async () => {
    const file = tempDb();
    const server = await smtpServer();
    const store = openStore(file);
    const sender = mailer({ store, url: `smtp://127.0.0.1:${server.port}` });
    sender.start();
    const { id } = sender.enqueue(plainMail('incident:edge:alert'));
    await until(() => store.mail(id)?.sentAt !== undefined, 'sent');
    await sender.stop();
    // What a kill -9 between the server's 250 and markMailSent leaves behind.
    const raw = new Database(file);
    raw.prepare('UPDATE outbox SET sent_at = NULL, message_id = NULL WHERE id = ?').run(id);
    raw.close();
    const again = mailer({ store, url: `smtp://127.0.0.1:${server.port}` });
    again.start();
    await server.waitFor(2);
    expect(server.messages[1]!.messageId).toBe(server.messages[0]!.messageId);
    expect(server.messages[1]!.raw).toBe(server.messages[0]!.raw);
  });

  test('STARTTLS with the test certificate (trusted through the CA option) and AUTH PLAIN / LOGIN; the secret is never logged', async () => {
    const pass = 'S3cr3t:P@ss/w0rd';
    for (const method of ['PLAIN', 'LOGIN'] as const) {
      const server = await smtpServer({ tls: 'starttls', auth: { user: 'tollgate', pass, methods: [method] } });
      const store = openStore();
      const logger = new MemoryLogger();
      const url = `smtp://tollgate:${encodeURIComponent(pass)}@127.0.0.1:${server.port}`;
      const sender = mailer({ store, url, caFile: fixturePath('tls', 'cert.pem'), logger });
      sender.start();
      sender.enqueue(plainMail(`incident:${method}:alert`));
      const [received] = await server.waitFor(1);
      expect(received).toMatchObject({ secure: true, user: 'tollgate', subject: `[Tollgate][HIGH] test incident:${method}:alert` });
      expect(logger.text()).toContain(`"host":"127.0.0.1","port":${server.port}`);
      expect(logger.text()).not.toContain(pass);
      expect(logger.text()).not.toContain(encodeURIComponent(pass));
    }
  });

  test('TLS failures and a wrong password are retried and logged with host and port only, never the secret', async () => {
    const pass = 'wrong-S3cret-Pass';
    const server = await smtpServer({ tls: 'starttls', auth: { user: 'tollgate', pass: 'the-right-one' } });
    // Not trusting the self-signed certificate: refused, as it must be.
    const store = openStore();
    const untrusting = mailer({ store, url: `smtp://127.0.0.1:${server.port}`, logger: new MemoryLogger() });
    untrusting.start();
    const { id } = untrusting.enqueue(plainMail('incident:tls:alert'));
    await until(() => (store.mail(id)?.attempts ?? 0) >= 1, 'a TLS failure');
    expect(store.mail(id)!.lastError).toMatch(/certificate/i);
    await untrusting.stop();

    const logger = new MemoryLogger();
    const store2 = openStore();
    const sender = mailer({ store: store2, url: `smtp://tollgate:${pass}@127.0.0.1:${server.port}`, caFile: fixturePath('tls', 'cert.pem'), logger });
    sender.start();
    const wrong = sender.enqueue(plainMail('incident:auth:alert')).id;
    await until(() => (store2.mail(wrong)?.attempts ?? 0) >= 3 && server.stats.authFailures >= 3, 'three refused logins');
    const text = logger.text();
    expect(text).toContain('127.0.0.1');
    expect(text).toContain(String(server.port));
    expect(text).toMatch(/Invalid login|535/);
    for (const form of [pass, Buffer.from(`\u0000tollgate\u0000${pass}`).toString('base64'), Buffer.from(pass).toString('base64')]) {
      expect(text).not.toContain(form);
      expect(store2.mail(wrong)!.lastError).not.toContain(form);
    }
    expect(server.messages).toEqual([]);
  });

  test('implicit TLS (smtps://)', async () => {
    const server = await smtpServer({ tls: 'implicit' });
    const store = openStore();
    const sender = mailer({ store, url: `smtps://127.0.0.1:${server.port}`, ca: undefined, caFile: fixturePath('tls', 'cert.pem') });
    sender.start();
    sender.enqueue(plainMail('incident:smtps:alert'));
    const [received] = await server.waitFor(1);
    expect(received!.secure).toBe(true);
  });

  test('rate limit: never more than maxPerMinute mails in a window', async () => {
    const server = await smtpServer();
    const store = openStore();
    const interval = 400;
    const sender = mailer({ store, url: `smtp://127.0.0.1:${server.port}`, maxPerMinute: 2, rateIntervalMs: interval });
    sender.start();
    const t0 = Date.now();
    for (let n = 1; n <= 5; n++) sender.enqueue(plainMail(`incident:rate-${n}:alert`));
    const messages = await server.waitFor(5);
    // A send starts no earlier than t0 and arrives after it starts: at most 2 sends start in [t0, t0 + interval) …
    expect(messages.filter((message) => message.receivedAt < t0 + interval).length).toBeLessThanOrEqual(2);
    expect(messages.filter((message) => message.receivedAt < t0 + 2 * interval).length).toBeLessThanOrEqual(4);
    // … so the fifth cannot arrive before two windows have passed.
    expect(messages[4]!.receivedAt - t0).toBeGreaterThanOrEqual(2 * interval);
    expect(keysOf(messages).sort()).toEqual([1, 2, 3, 4, 5].map((n) => `incident:rate-${n}:alert`));
  });

  test('revise: a waiting mail gets the grown incident\'s body; a sent one cannot change', async () => {
    const port = await freePort();
    const store = openStore();
    const sender = mailer({ store, url: `smtp://127.0.0.1:${port}` });
    sender.start();
    const { id } = sender.enqueue(plainMail('incident:grow:alert'));
    await until(() => (store.mail(id)?.attempts ?? 0) >= 1, 'a failed attempt');
    await until(() => sender.revise(id, { subject: '[Tollgate][CRITICAL] grown', text: 'grown text\n', html: '<p>grown</p>' }), 'revised while waiting');
    const server = await smtpServer({ port });
    const [received] = await server.waitFor(1);
    expect(received!.subject).toBe('[Tollgate][CRITICAL] grown');
    await until(() => store.mail(id)?.sentAt !== undefined, 'sent');
    expect(sender.revise(id, { subject: 'too late', text: '', html: '' })).toBe(false);
  });
});

describe('mailer helpers', () => {
  test('smtp.url parsing; errors never echo the password', () => {
    expect(parseSmtpUrl('smtp://user%40example.com:p%40ss@mail.example.com:587')).toEqual({ host: 'mail.example.com', port: 587, secure: false, auth: { user: 'user@example.com', pass: 'p@ss' } });
    expect(parseSmtpUrl('smtps://mail.example.com')).toEqual({ host: 'mail.example.com', port: 465, secure: true });
    expect(parseSmtpUrl('smtp://[::1]:25')).toEqual({ host: '::1', port: 25, secure: false });
    expect(() => parseSmtpUrl('http://u:hunter2@host')).toThrow(/smtp:\/\/ or smtps:\/\//);
    expect(() => parseSmtpUrl('smtp://u:hunter2@')).not.toThrow(/hunter2/);
    expect(() => parseSmtpUrl('not a url hunter2')).toThrow(/^smtp\.url is not a valid URL/);
  });

  test('backoff: exponential from the base, capped, with jitter', () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 5_000, 900_000, () => 1))).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect([0, 1, 2, 3].map((attempt) => backoffDelay(attempt, 5_000, 900_000, () => 0))).toEqual([2_500, 5_000, 10_000, 20_000]);
    expect(backoffDelay(40, 5_000, 900_000, () => 1)).toBe(900_000);
    expect(backoffDelay(1_000, 5_000, 900_000, () => 0)).toBe(450_000);
  });

  test('options from the configuration (TOLLGATE_* variables included); no mail without a relay and a recipient', () => {
    const store = openStore();
    const { config } = loadConfig({ env: { TOLLGATE_SMTP_URL: 'smtp://u:p@relay:2525', TOLLGATE_ALERT_TO: 'noc@example.com', TOLLGATE_SMTP_MAX_PER_MINUTE: '5', TOLLGATE_SMTP_REJECT_UNAUTHORIZED: 'false', TOLLGATE_ALERTS_DIGEST_AT: '06:30' } });
    expect(config.smtp).toEqual({ url: 'smtp://u:p@relay:2525', rejectUnauthorized: false, concurrency: 1, maxPerMinute: 5 });
    expect(config.alerts).toMatchObject({ digest: true, digestAt: '06:30' });
    expect(mailerOptionsFromConfig(config, { store }).options).toMatchObject({ url: 'smtp://u:p@relay:2525', from: 'tollgate@localhost', maxPerMinute: 5, rejectUnauthorized: false, concurrency: 1 });
    expect(mailerOptionsFromConfig(loadConfig({ env: {} }).config, { store })).toEqual({ options: undefined, reason: 'smtp.url is not set (TOLLGATE_SMTP_URL)' });
  });
});

describe('daily digest', () => {
  const TZ = 'Europe/Paris';
  const DAY = '2026-11-20';
  const local = (iso: string) => DateTime.fromISO(iso, { zone: TZ }).toMillis();

  const cost = (linkedid: string, endedAt: number, micros: number, extra: Partial<CostEntry> = {}): CostEntry => ({
    linkedid,
    destUniqueid: `${linkedid}.1`,
    endpoint: '1001',
    trunk: 'carrier',
    country: 'CU',
    e164: '+535551234',
    answeredAt: endedAt - 60_000,
    endedAt,
    billableSeconds: 60,
    pricePerMinuteMicros: micros,
    micros,
    currency: 'USD',
    ...extra,
  });

  function fill(store: Store): void {
    store.recordCost(cost('before', local('2026-11-19T23:59:59'), 9_000_000)); // the day before: not in it
    store.recordCost(cost('c1', local('2026-11-20T00:00:00'), 1_100_000));
    store.recordCost(cost('c2', local('2026-11-20T03:10:00'), 2_200_000, { billableSeconds: 120 }));
    store.recordCost(cost('c3', local('2026-11-20T10:00:00'), 50_000, { endpoint: '1002', country: 'GB', e164: '+442079460000', billableSeconds: 300 }));
    // One call, two dials (a forward): one call, both costs.
    store.recordCost(cost('c4', local('2026-11-20T23:59:00'), 100_000, { endpoint: '1002', country: 'GB', e164: '+442079460001' }));
    store.recordCost({ ...cost('c4', local('2026-11-20T23:59:30'), 100_000, { endpoint: '1002', country: 'GB', e164: '+442079460002' }), destUniqueid: 'c4.2' });
    store.recordCost(cost('after', local('2026-11-21T00:00:00'), 7_000_000)); // the day after
    const finding = { message: 'm' };
    store.saveIncident({ id: '20261120-021000-block-premium-rate-1a2b', policy: 'block-premium-rate', scope: 'endpoint:1001', firstAt: local('2026-11-20T03:10:00'), lastAt: local('2026-11-20T03:12:00'), severity: 'critical', findings: 3, levels: ['match'], calls: ['c2', 'x', 'y'], decided: [], sequence: 4, first: finding, latest: finding });
    store.saveIncident({ id: '20261119-old', policy: 'daily-spend-cap', scope: 'global', firstAt: local('2026-11-19T10:00:00'), lastAt: local('2026-11-19T11:00:00'), severity: 'medium', findings: 1, levels: ['50%'], calls: [], decided: [], sequence: 1, first: finding, latest: finding });
    store.saveIncident({ id: '20261120-numbered', policy: 'international-velocity', scope: 'number:+442079460000', firstAt: local('2026-11-20T12:00:00'), lastAt: local('2026-11-20T12:00:00'), severity: 'high', findings: 1, levels: ['repeats'], calls: ['c3'], decided: [], sequence: 1, first: finding, latest: finding });
    const decision = (id: string, at: number, action: string, result: 'done' | 'failed' | 'simulated', mode = 'enforce') =>
      store.recordDecision({ id, incident: 'i', at, policy: 'p', kind: 'k', action, mode, severity: 'high', level: 'l', target: {}, finding: {}, result });
    decision('d1', local('2026-11-20T03:10:00'), 'hangup', 'done');
    decision('d2', local('2026-11-20T03:11:00'), 'hangup', 'done');
    decision('d3', local('2026-11-20T03:12:00'), 'hangup', 'failed');
    decision('d4', local('2026-11-20T03:12:00'), 'alert', 'done');
    decision('d5', local('2026-11-20T05:00:00'), 'lock', 'simulated', 'simulate');
    decision('d6', local('2026-11-21T01:00:00'), 'hangup', 'done'); // today
    store.countSecurityEvent(DAY, 'ChallengeResponseFailed', '203.0.113.9', 120);
    store.countSecurityEvent(DAY, 'InvalidAccountID', '198.51.100.7', 15);
    store.countSecurityEvent('2026-11-21', 'InvalidAccountID', '198.51.100.8', 3);
    store.lock({ endpoint: '1001', since: local('2026-11-20T03:12:00'), reason: 'password guessed from 203.0.113.9', policy: 'account-compromise' });
    // Locked again later by another policy: the digest still says when and why it was first locked.
    store.lock({ endpoint: '1001', since: local('2026-11-20T05:00:00'), reason: 'scanner User-Agent from 198.51.100.7', policy: 'endpoint-baseline' });
    store.enqueueMail(plainMail('incident:stuck:alert'), local('2026-11-20T03:12:00'));
  }

  test('collectDigest + composeDigest: the figures of the day, in its bounds', () => {
    const store = openStore();
    fill(store);
    const now = local('2026-11-21T07:00:00');
    const data = collectDigest(store, DAY, TZ, now);
    expect(data.totals).toEqual([{ key: 'total', calls: 4, billableSeconds: 60 + 120 + 300 + 60 + 60, micros: 3_550_000, currency: 'USD' }]);
    expect(data.byCountry).toEqual([
      { key: 'CU', calls: 2, billableSeconds: 180, micros: 3_300_000, currency: 'USD' },
      { key: 'GB', calls: 2, billableSeconds: 420, micros: 250_000, currency: 'USD' },
    ]);
    expect(data.byEndpoint.map((line) => [line.key, line.calls, line.micros])).toEqual([
      ['1001', 2, 3_300_000],
      ['1002', 2, 250_000],
    ]);
    expect(data.incidents.map((incident) => incident.id)).toEqual(['20261120-021000-block-premium-rate-1a2b', '20261120-numbered']);
    expect(data.decisions).toEqual([
      { action: 'hangup', result: 'done', mode: 'enforce', count: 2 },
      { action: 'alert', result: 'done', mode: 'enforce', count: 1 },
      { action: 'hangup', result: 'failed', mode: 'enforce', count: 1 },
      { action: 'lock', result: 'simulated', mode: 'simulate', count: 1 },
    ]);
    expect(data.security).toEqual([
      { kind: 'ChallengeResponseFailed', address: '203.0.113.9', count: 120 },
      { kind: 'InvalidAccountID', address: '198.51.100.7', count: 15 },
    ]);
    expect(data.locks.map((lock) => lock.endpoint)).toEqual(['1001']);
    expect(data.outbox).toEqual({ pending: 1, sent: 0 });

    const digest = composeDigest(data, { mask: numberMasker(true), agent: 'pbx1', currency: 'USD' });
    expect(digest.subject).toBe('[Tollgate][DIGEST] 2026-11-20: 2 incidents (1 critical), 4 calls, 3.55 USD, 1 mail pending');
    expect(digest.text).toContain('[CRITICAL] Daily digest of Friday 20 November 2026');
    expect(digest.text).toMatch(/What happened: +4 priced outbound calls, 3\.55 USD; 2 incidents \(1 critical\); 135 security events from 2 addresses \(Europe\/Paris\)\./);
    expect(digest.text).toMatch(/What Tollgate did: +2 calls hung up; 1 endpoint locked now; 0 mails sent, 1 waiting in the outbox\./);
    expect(digest.text).toMatch(/What you must do now: +1 endpoint is locked: change its secret and check the phones' provisioning before `tollgate unlock` \(below\); 1 mail could not be delivered: check smtp\.url and the agent's log\./);
    expect(digest.text).toMatch(/CU \(Cuba\) +2 +3\.0 +3\.30 USD/);
    expect(digest.text).toMatch(/GB \(United Kingdom\) +2 +7\.0 +0\.25 USD/);
    expect(digest.text).toMatch(/1001 +2 +3\.0 +3\.30 USD/);
    expect(digest.text).toMatch(/20261120-021000-block-premium-rate-1a2b +block-premium-rate +endpoint:1001 +critical +3 +3 +03:10:00 +03:12:00/);
    expect(digest.text).toMatch(/hangup +done +enforce +2/);
    expect(digest.text).toMatch(/ChallengeResponseFailed +203\.0\.113\.9 +120/);
    expect(digest.text).toMatch(/1001 +2026-11-20 03:12 +until unlocked +password guessed from 203\.0\.113\.9; scanner User-Agent from 198\.51\.100\.7 +account-compromise, endpoint-baseline +tollgate unlock 1001/);
    expect(digest.text).toContain('1 mail not delivered yet');
    // Masking: the numbers in the costliest-numbers table and in scopes.
    expect(digest.text).toContain('+53 55*****');
    expect(digest.text).toContain('number:+442079******');
    for (const body of [digest.text, digest.html]) expect(body).not.toMatch(/5551234|2079460000/);
    expect(composeDigest(data, { mask: numberMasker(false), agent: 'pbx1', currency: 'USD' }).text).toContain('+53 5551234');
  });

  test('a quiet day: the subject and the summary show nothing spent in the agent\'s currency', () => {
    const store = openStore();
    const enqueued: OutboxMail[] = [];
    const clock = new ManualClock(local('2026-11-21T07:00:00'));
    const digest = new DailyDigest({ store, mailer: { enqueue: (mail) => (enqueued.push(mail), { id: enqueued.length, created: true }) }, to: TO, timezone: TZ, clock, agent: 'pbx1', currency: 'EUR' });
    expect(digest.runDue()).toMatchObject({ day: DAY });
    expect(enqueued[0]!.subject).toBe('[Tollgate][DIGEST] 2026-11-20: 0 incidents, 0 calls, 0.00 EUR');
    expect(enqueued[0]!.text).toMatch(/What happened: +0 priced outbound calls, 0\.00 EUR; 0 incidents; 0 security events from 0 addresses \(Europe\/Paris\)\./);
    expect(enqueued[0]!.text).toContain('No priced calls.');
  });

  test('schedule: 07:00 local, DST-correct; a late start catches up the same day', () => {
    const store = openStore();
    const enqueued: OutboxMail[] = [];
    const clock = new ManualClock(local('2026-11-21T06:59:59'));
    const digest = new DailyDigest({ store, mailer: { enqueue: (mail) => (enqueued.push(mail), { id: enqueued.length, created: true }) }, to: TO, timezone: TZ, clock, agent: 'pbx1', currency: 'USD' });
    expect(digest.runDue()).toBeUndefined();
    expect(digest.nextRunAt(clock.now())).toBe(local('2026-11-21T07:00:00'));
    clock.advanceTo(local('2026-11-21T07:00:00'));
    expect(digest.runDue()).toMatchObject({ day: '2026-11-20' });
    expect(digest.runDue()).toBeUndefined();
    expect(digest.nextRunAt(clock.now() + 1)).toBe(local('2026-11-22T07:00:00'));
    expect(enqueued.map((mail) => [mail.kind, mail.dedupeKey])).toEqual([['digest', 'digest:2026-11-20']]);
    // Spring forward (Europe/Paris, 29 March 2026): 07:00 is still 07:00 local, 23 hours after the previous one.
    expect(digest.nextRunAt(local('2026-03-28T08:00:00')) - local('2026-03-28T07:00:00')).toBe(23 * 3_600_000);
    expect(localDay(local('2026-11-20T23:59:59'), TZ)).toBe('2026-11-20');
    expect(() => new DailyDigest({ store, mailer: { enqueue: () => ({ id: 0, created: false }) }, to: TO, timezone: TZ, at: '7h', agent: 'x', currency: 'USD' })).toThrow(/HH:MM/);
  });

  test('arrives once for a day, through SMTP, even across a restart', async () => {
    const server = await smtpServer();
    const file = tempDb();
    const store = openStore(file);
    fill(store);
    // The agent was down at 07:00 and comes back at 09:30: the digest goes out now.
    const clock = new ManualClock(local('2026-11-21T09:30:00'));
    const sender = mailer({ store, url: `smtp://127.0.0.1:${server.port}` });
    const digest = new DailyDigest({ store, mailer: sender, to: TO, timezone: TZ, clock, mask: numberMasker(false), agent: 'pbx1.example.net', currency: 'USD' });
    cleanups.push(() => digest.stop());
    // The digest is composed before the mailer starts draining the outbox (its figure: 1 mail pending).
    digest.start();
    sender.start();
    const messages = await until(() => server.messages.find((message) => message.header('x-tollgate-key') === 'digest:2026-11-20') && server.messages, 'the digest');
    const received = messages.find((message) => message.header('x-tollgate-key') === 'digest:2026-11-20')!;
    expect(received.subject).toBe('[Tollgate][DIGEST] 2026-11-20: 2 incidents (1 critical), 4 calls, 3.55 USD, 1 mail pending');
    expect(received.text).toMatch(/CU \(Cuba\) +2 +3\.0 +3\.30 USD/);
    expect(received.text).toMatch(/InvalidAccountID +198\.51\.100\.7 +15/);
    expect(received.html).toContain('CU (Cuba)');
    expect(received.header('x-tollgate-kind')).toBe('digest');

    // A restart later that day: a new digest scheduler (and a new mailer) on the same file sends nothing new.
    digest.stop();
    await sender.stop();
    clock.advanceTo(local('2026-11-21T15:00:00'));
    const sender2 = mailer({ store, url: `smtp://127.0.0.1:${server.port}` });
    sender2.start();
    const digest2 = new DailyDigest({ store, mailer: sender2, to: TO, timezone: TZ, clock, agent: 'pbx1.example.net', currency: 'USD' });
    cleanups.push(() => digest2.stop());
    digest2.start();
    expect(digest2.runDue()).toBeUndefined();
    expect(digest2.enqueueDay('2026-11-20').created).toBe(false);
    const all = await drain(sender2, server);
    expect(keysOf(all).filter((key) => key.startsWith('digest:'))).toEqual(['digest:2026-11-20']);
  });
});
