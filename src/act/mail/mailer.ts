/**
 * The mail sender: a persistent outbox (the store's `outbox` table) drained through SMTP.
 *
 * - Never lost. A mail is a row before anything is attempted; SMTP down (refused, 4xx, 5xx, TLS or
 *   login failure) leaves the row in place with the next attempt pushed back by exponential backoff
 *   with jitter (5 s … ~15 min), and it is retried forever, across restarts (`start()` resumes
 *   every row left by a previous run). Failures are logged loudly the first time, then once every
 *   `logEvery` failures, and once more when mail flows again — never one line per retry.
 * - Never twice. At most one row per dedupe key, ever (the store's UNIQUE key: enqueueing the same
 *   key again is a no-op); at most one send of a row at a time (an in-memory set of rows in flight);
 *   the row is marked sent as soon as the server has accepted the message.
 * - The at-least-once edge. If the agent dies (or the disk refuses the write) after the server
 *   accepted a message and before `markMailSent` reached the file, the row is still unsent and the
 *   next run sends it again. Every mail therefore carries a stable `Message-ID` derived from its
 *   outbox row (`<tollgate.<created>.<id>.<hash of dedupe key>@domain>`) and the row's creation
 *   time as its `Date`, so the copy is byte-for-byte the same message: mail stores and clients that
 *   deduplicate on Message-ID (Gmail, most IMAP servers' duplicate filters) drop it, and a human
 *   sees the same mail twice, not two incidents. A failed write of "sent" after an accepted send is
 *   retried from memory rather than re-sending.
 * - Polite. Sends go through a p-queue: `concurrency` (default 1) and at most `maxPerMinute`
 *   (default 30) in any sliding minute, so an attack with many incidents cannot get the relay to
 *   rate-limit or blacklist the PBX.
 * - Discreet. The SMTP URL's credentials never reach a log line or the outbox's `last_error`: logs
 *   name the host and port only, and error texts are scrubbed of the password in every encoding
 *   SMTP AUTH uses.
 *
 * Transport: `smtp://user:pass@host:587` speaks plain SMTP and upgrades with STARTTLS whenever the
 * server offers it; `smtps://user:pass@host:465` is TLS from the first byte. `rejectUnauthorized`
 * and a CA (file) serve private relays with their own certificate authority.
 *
 * One agent per database: two processes draining the same outbox could both send a row.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import PQueue from 'p-queue';
import { systemClock, type Clock } from '../../clock.js';
import { silentLogger, type Logger } from '../../log.js';
import type { OutboxMail, OutboxRow, Store } from '../../store/store.js';
import { backoffDelay } from '../../net/backoff.js';
import { fnv1a } from './format.js';

export interface MailerOptions {
  store: Store;
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465` (TLS). Never logged. */
  url: string;
  /** The From address (`alerts.from`), e.g. `Tollgate <tollgate@pbx.example.net>`. */
  from: string;
  clock?: Clock;
  logger?: Logger;
  /** Refuse servers whose certificate does not verify. @default true */
  rejectUnauthorized?: boolean;
  /** Trusted CA certificate(s), PEM (a private relay's own CA). */
  ca?: string | Buffer;
  /** A file holding `ca` (read once, at construction). */
  caFile?: string;
  /** Sends at the same time. @default 1 */
  concurrency?: number;
  /** At most this many mails started in any sliding `rateIntervalMs`. @default 30 */
  maxPerMinute?: number;
  /** The rate-limit window (tests shorten it). @default 60_000 */
  rateIntervalMs?: number;
  /** First retry delay; doubles each failure (with jitter). @default 5_000 */
  retryBaseMs?: number;
  /** Longest retry delay. @default 900_000 (15 min) */
  retryMaxMs?: number;
  /** After the first failure, log once every this many. @default 10 */
  logEvery?: number;
  /** Random source for the jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** SMTP timeouts. @default 15 s to connect, 15 s for the greeting, 60 s of socket inactivity */
  connectTimeoutMs?: number;
  greetingTimeoutMs?: number;
  socketTimeoutMs?: number;
  /** Right-hand side of Message-IDs. @default the From address's domain, else this host's name */
  messageIdDomain?: string;
  /** Name given in EHLO. @default this host's name */
  clientName?: string;
  /** Rows taken from the outbox per pass (the queue never holds more). @default 50 */
  batchSize?: number;
}

export interface SmtpEndpoint {
  host: string;
  port: number;
  /** TLS from the first byte (smtps). */
  secure: boolean;
  auth?: { user: string; pass: string };
}

export interface MailerStatus {
  running: boolean;
  inFlight: number;
  /** Consecutive failed attempts (0 when the last attempt succeeded). */
  failureStreak: number;
  lastError?: string;
  pending: number;
  sent: number;
}

const DEFAULTS = {
  concurrency: 1,
  maxPerMinute: 30,
  rateIntervalMs: 60_000,
  retryBaseMs: 5_000,
  retryMaxMs: 15 * 60_000,
  logEvery: 10,
  connectTimeoutMs: 15_000,
  greetingTimeoutMs: 15_000,
  socketTimeoutMs: 60_000,
  batchSize: 50,
};

/** When every due row is already in flight, look again after this long at the latest (a safety net). */
const IDLE_POLL_MS = 1_000;
/** Longest timer: re-reading the outbox hourly keeps a suspended host or a clock jump from stranding mail. */
const MAX_TIMER_MS = 3_600_000;

export class Mailer {
  readonly endpoint: Readonly<Omit<SmtpEndpoint, 'auth'>> & { user?: string };
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly transport: Transporter<SMTPTransport.SentMessageInfo>;
  private readonly queue: PQueue;
  private readonly from: string;
  private readonly domain: string;
  private readonly secrets: string[];
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly logEvery: number;
  private readonly batchSize: number;
  private readonly random: () => number;
  /** Rows queued or being sent: one send per row at a time. */
  private readonly inFlight = new Set<number>();
  /** Rows being handed to the server right now (a revision would come too late). */
  private readonly sending = new Set<number>();
  /** Rows the server accepted whose "sent" mark could not be written yet (never re-sent: re-marked). */
  private readonly unmarked = new Map<number, string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private failureStreak = 0;
  private lastError: string | undefined;

  constructor(options: MailerOptions) {
    const smtp = parseSmtpUrl(options.url);
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ part: 'mailer' });
    this.from = options.from;
    this.endpoint = { host: smtp.host, port: smtp.port, secure: smtp.secure, ...(smtp.auth ? { user: smtp.auth.user } : {}) };
    this.domain = options.messageIdDomain ?? domainOf(options.from) ?? (hostname() || 'tollgate.invalid');
    this.secrets = secretForms(smtp.auth);
    this.retryBaseMs = Math.max(1, options.retryBaseMs ?? DEFAULTS.retryBaseMs);
    this.retryMaxMs = Math.max(this.retryBaseMs, options.retryMaxMs ?? DEFAULTS.retryMaxMs);
    this.logEvery = Math.max(1, options.logEvery ?? DEFAULTS.logEvery);
    this.batchSize = Math.max(1, options.batchSize ?? DEFAULTS.batchSize);
    this.random = options.random ?? Math.random;
    const ca = options.ca ?? (options.caFile ? readFileSync(options.caFile) : undefined);
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.auth ? { auth: { user: smtp.auth.user, pass: smtp.auth.pass } } : {}),
      tls: {
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        ...(ca ? { ca } : {}),
        // Certificates name hosts, not addresses: SNI only for names.
        ...(isIP(smtp.host) === 0 ? { servername: smtp.host } : {}),
      },
      name: options.clientName ?? (hostname() || 'localhost'),
      connectionTimeout: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      greetingTimeout: options.greetingTimeoutMs ?? DEFAULTS.greetingTimeoutMs,
      socketTimeout: options.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs,
      // nodemailer's own logger would print the SMTP dialogue (AUTH included): never.
      logger: false,
      debug: false,
    });
    this.queue = new PQueue({
      concurrency: Math.max(1, options.concurrency ?? DEFAULTS.concurrency),
      intervalCap: Math.max(1, options.maxPerMinute ?? DEFAULTS.maxPerMinute),
      interval: Math.max(1, options.rateIntervalMs ?? DEFAULTS.rateIntervalMs),
      // A sliding window: never more than maxPerMinute in any minute, not just per calendar minute.
      strict: true,
    });
  }

  /**
   * Stores a mail (at most one per dedupe key, ever: a known key returns the existing row and
   * sends nothing) and wakes the sender if it is running.
   */
  enqueue(mail: OutboxMail): { id: number; created: boolean } {
    const result = this.store.enqueueMail(mail, this.clock.now());
    if (result.created) this.logger.debug({ mail: mail.dedupeKey, kind: mail.kind, id: result.id }, 'mail queued');
    this.kick();
    return result;
  }

  /**
   * Replaces the subject and body of a mail that is still waiting (the incident grew while SMTP was
   * down): false when it was sent or is being sent, and nothing changes.
   */
  revise(id: number, content: Pick<OutboxMail, 'subject' | 'text' | 'html'>): boolean {
    // A queued row is read again when its turn comes: only a send under way is too late.
    if (this.sending.has(id) || this.unmarked.has(id)) return false;
    const row = this.store.mail(id);
    if (!row || row.sentAt !== undefined) return false;
    this.store.updateMail(id, content);
    return true;
  }

  /** Starts sending: everything due now (including what a previous run left), then as rows fall due. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { pending } = this.store.outboxCounts();
    this.logger.info({ host: this.endpoint.host, port: this.endpoint.port, tls: this.endpoint.secure ? 'implicit' : 'starttls-when-offered', pending }, 'mailer started');
    this.kick();
  }

  /** Stops taking new work and waits for the sends in flight; waiting rows stay in the outbox. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.clear();
    await this.queue.onIdle();
    this.inFlight.clear();
    this.retryUnmarked();
    this.transport.close();
  }

  status(): MailerStatus {
    const counts = this.store.outboxCounts();
    return { running: this.running, inFlight: this.inFlight.size, failureStreak: this.failureStreak, ...(this.lastError ? { lastError: this.lastError } : {}), ...counts };
  }

  /** The Message-ID a row is (re)sent with: a pure function of the row, so a re-send is recognisable. */
  messageIdOf(row: Pick<OutboxRow, 'id' | 'createdAt' | 'dedupeKey'>): string {
    return messageIdFor(row, this.domain);
  }

  /**
   * `In-Reply-To` and `References` of a thread's later mails: the Message-ID of its first mail
   * (`incident:<thread>:alert`, a pure function of that row), so mail clients show one thread.
   */
  threadHeaders(row: Pick<OutboxRow, 'incident' | 'dedupeKey'>): { inReplyTo?: string; references?: string[] } {
    if (!row.incident) return {};
    const rootKey = `incident:${row.incident}:alert`;
    if (row.dedupeKey === rootKey) return {};
    const root = this.store.mailByKey(rootKey);
    // The first mail purged or never written (mail configured mid-attack): a stable stand-in still groups the rest.
    const rootId = root ? this.messageIdOf(root) : `<tollgate.incident.${fnv1a(row.incident)}.${row.incident.replace(/[^\w.-]/g, '')}@${this.domain}>`;
    return { inReplyTo: rootId, references: [rootId] };
  }

  // ───────────────────────────── internals ─────────────────────────────

  /** Takes the due rows that are not in flight into the queue, then sets the timer for the next. */
  private kick(): void {
    if (!this.running) return;
    try {
      this.retryUnmarked();
      const room = this.batchSize - this.queue.size;
      if (room > 0) {
        const skip = this.inFlight.size + this.unmarked.size;
        let taken = 0;
        for (const row of this.store.dueMails(this.clock.now(), room + skip)) {
          if (taken >= room) break;
          if (this.inFlight.has(row.id) || this.unmarked.has(row.id)) continue;
          this.inFlight.add(row.id);
          taken++;
          void this.queue.add(() => this.send(row.id)).catch(() => undefined);
        }
      }
    } catch (error) {
      this.logger.error({ error: this.scrub(errorText(error)) }, 'cannot read the mail outbox');
    }
    this.arm();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running) return;
    let due: number | undefined;
    try {
      due = this.store.nextMailDue();
    } catch {
      due = this.clock.now() + IDLE_POLL_MS;
    }
    if (due === undefined) return;
    // Due now means in flight (or beyond the batch): a completion kicks; poll as a safety net.
    const delay = Math.min(MAX_TIMER_MS, Math.max(due - this.clock.now(), due <= this.clock.now() ? IDLE_POLL_MS : 0));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delay);
    this.timer.unref();
  }

  private async send(id: number): Promise<void> {
    try {
      if (!this.running) return;
      this.sending.add(id);
      // Read again: the body may have been revised while the row waited for its turn.
      const row = this.store.mail(id);
      if (!row || row.sentAt !== undefined) return;
      const messageId = this.messageIdOf(row);
      const headers: Record<string, string> = {
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'All',
        'X-Tollgate-Kind': row.kind,
        'X-Tollgate-Key': row.dedupeKey,
      };
      if (row.incident) headers['X-Tollgate-Incident'] = row.incident;
      let info: SMTPTransport.SentMessageInfo;
      try {
        info = await this.transport.sendMail({
          from: this.from,
          to: row.to,
          subject: row.subject,
          text: row.text,
          html: row.html,
          messageId,
          date: new Date(row.createdAt),
          // With the Message-ID, Date and boundary fixed, a re-sent copy is the same message byte for byte.
          baseBoundary: `tollgate-${row.createdAt.toString(36)}-${row.id}`,
          headers,
          // Follow-ups and the summary answer the first mail of their attack's thread.
          ...this.threadHeaders(row),
        });
      } catch (error) {
        this.failed(row, error);
        return;
      }
      this.delivered(row, messageId, info);
    } catch (error) {
      // Store errors (disk full, closed database): the row stays; the next pass tries again.
      this.logger.error({ error: this.scrub(errorText(error)), id }, 'mail outbox error');
    } finally {
      this.sending.delete(id);
      this.inFlight.delete(id);
      this.kick();
    }
  }

  private delivered(row: OutboxRow, messageId: string, info: SMTPTransport.SentMessageInfo): void {
    try {
      this.store.markMailSent(row.id, messageId, this.clock.now());
    } catch (error) {
      // Accepted by the server: never send it again; keep marking it until the write succeeds.
      this.unmarked.set(row.id, messageId);
      this.logger.error({ error: this.scrub(errorText(error)), mail: row.dedupeKey }, 'mail delivered but the outbox could not record it; retrying the record, not the send');
    }
    if (this.failureStreak > 0) {
      this.logger.info({ host: this.endpoint.host, port: this.endpoint.port, failures: this.failureStreak }, `mail delivery works again after ${this.failureStreak} failed attempt${this.failureStreak === 1 ? '' : 's'}`);
    }
    this.failureStreak = 0;
    this.lastError = undefined;
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) this.logger.warn({ mail: row.dedupeKey, rejected }, 'mail accepted for some recipients only');
    this.logger.info({ mail: row.dedupeKey, kind: row.kind, messageId, recipients: row.to.length, attempts: row.attempts + 1, waitedMs: this.clock.now() - row.createdAt }, 'mail sent');
  }

  private failed(row: OutboxRow, error: unknown): void {
    const attempts = row.attempts + 1;
    // `attempts` failed so far: the first retry waits about retryBaseMs.
    const delay = backoffDelay(attempts - 1, this.retryBaseMs, this.retryMaxMs, this.random);
    const text = this.scrub(errorText(error));
    try {
      this.store.markMailFailed(row.id, text, this.clock.now() + delay);
    } catch (storeError) {
      this.logger.error({ error: this.scrub(errorText(storeError)), mail: row.dedupeKey }, 'mail outbox error');
    }
    this.failureStreak++;
    this.lastError = text;
    const context = { host: this.endpoint.host, port: this.endpoint.port, error: text, mail: row.dedupeKey, attempts, retryInMs: delay, failures: this.failureStreak };
    if (this.failureStreak === 1) {
      this.logger.error(context, `mail delivery through ${this.endpoint.host}:${this.endpoint.port} failed; the mail stays in the outbox and is retried until delivered`);
    } else if (this.failureStreak % this.logEvery === 0) {
      let pending: number | undefined;
      try {
        pending = this.store.outboxCounts().pending;
      } catch {
        pending = undefined;
      }
      this.logger.warn({ ...context, pending }, `mail delivery through ${this.endpoint.host}:${this.endpoint.port} still failing (${this.failureStreak} attempts in a row)`);
    } else {
      this.logger.debug(context, 'mail delivery failed again');
    }
  }

  private retryUnmarked(): void {
    for (const [id, messageId] of this.unmarked) {
      try {
        this.store.markMailSent(id, messageId, this.clock.now());
        this.unmarked.delete(id);
      } catch {
        return;
      }
    }
  }

  private scrub(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join('[redacted]');
    return result;
  }
}

/** Parses `smtp://user:pass@host:port` / `smtps://…`; throws a message that never contains the password. */
export function parseSmtpUrl(url: string): SmtpEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('smtp.url is not a valid URL (expected smtp://user:pass@host:587 or smtps://user:pass@host:465)');
  }
  const secure = parsed.protocol === 'smtps:';
  if (!secure && parsed.protocol !== 'smtp:') throw new Error(`smtp.url must start with smtp:// or smtps:// (got ${parsed.protocol}//)`);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error('smtp.url has no host');
  const port = parsed.port ? Number(parsed.port) : secure ? 465 : 587;
  const endpoint: SmtpEndpoint = { host, port, secure };
  if (parsed.username || parsed.password) endpoint.auth = { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) };
  return endpoint;
}


/** `<tollgate.<created, base 36>.<row id>.<hash of the dedupe key>@domain>`: stable for a row, unique across databases. */
export function messageIdFor(row: Pick<OutboxRow, 'id' | 'createdAt' | 'dedupeKey'>, domain: string): string {
  return `<tollgate.${row.createdAt.toString(36)}.${row.id}.${fnv1a(row.dedupeKey)}@${domain}>`;
}

function domainOf(address: string): string | undefined {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(address);
  return match?.[1];
}

/** The password as it may appear in a URL, a log line, or an AUTH PLAIN / LOGIN exchange. */
function secretForms(auth: SmtpEndpoint['auth']): string[] {
  if (!auth?.pass) return [];
  const forms = new Set([
    auth.pass,
    encodeURIComponent(auth.pass),
    Buffer.from(auth.pass).toString('base64'),
    Buffer.from(`\u0000${auth.user}\u0000${auth.pass}`).toString('base64'),
    Buffer.from(`${auth.user}\u0000${auth.user}\u0000${auth.pass}`).toString('base64'),
  ]);
  return [...forms].filter((form) => form.length >= 3).sort((a, b) => b.length - a.length);
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const response = (error as { response?: unknown }).response;
    return [code ? `${String(code)}:` : '', error.message, typeof response === 'string' && !error.message.includes(response) ? `(${response})` : ''].filter(Boolean).join(' ');
  }
  return String(error);
}
