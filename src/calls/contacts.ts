/**
 * The User-Agent, Via address and Call-ID of each registration. Asterisk's AMI events carry none of
 * them (ContactStatus has the URI only, security events nothing), so after a registration the agent
 * asks `PJSIPShowContacts` (class `system`; PJSIPShowEndpoint would answer too, but its AuthDetail
 * items carry the endpoint's password) and feeds the listed contacts of the endpoints that just
 * registered back into the tracker, as `contact` events, in the same flow as every other event.
 *
 * What Asterisk 22 sends (test/fixtures/ami/registrations-user-agents.ami): a first registration or
 * a move to a new address raises ContactStatus (`NonQualified`/`Created`/`Reachable`, new URI); a
 * refresh of the same contact raises nothing and keeps the first REGISTER's User-Agent and Call-ID;
 * an expiry or an unregistration raises ContactStatus `Removed`. So: ask after each ContactStatus
 * that is not a removal, and once after every (re)connect for the contacts already registered.
 *
 * Registrations close together share one listing (`coalesceMs`), listings are at least
 * `minIntervalMs` apart and never overlap, and a contact already reported (same id, Call-ID and
 * User-Agent) is not reported again: a registration storm costs a listing a second at most, and the
 * pipeline sees each registration once. The live path never waits for the answer.
 */
import type { AmiActionResult } from '../ami/client.js';
import type { AmiMessage } from '../ami/message.js';
import { dropOldest } from '../bounded.js';
import type { Clock } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import type { RegistrationEvent } from './events.js';

/** What the lookup needs from the AMI client. */
export interface ContactSource {
  readonly connected: boolean;
  action(action: string, fields?: Record<string, string>, options?: { timeoutMs?: number }): Promise<AmiActionResult>;
}

export interface ContactLookupOptions {
  source: ContactSource;
  /** Where listed contacts go (the tracker: normalised into `contact` events, then the pipeline). */
  ingest: (message: AmiMessage, at: number) => void;
  clock: Clock;
  logger?: Logger;
  /** Registrations within this time share one listing. @default 500 */
  coalesceMs?: number;
  /** Least time between two listings. @default 2000 */
  minIntervalMs?: number;
  /** @default 10000 */
  timeoutMs?: number;
}

const MAX_PENDING_ENDPOINTS = 10_000;
const MAX_REPORTED_CONTACTS = 50_000;
const GONE = /^(removed|unregistered)$/i;

export class ContactLookup {
  private readonly options: Required<Omit<ContactLookupOptions, 'logger'>>;
  private readonly log: Logger;
  /** Endpoints that registered since the last listing; `*` = every endpoint (after a connect). */
  private pending = new Set<string>();
  /** Contact id → `Call-ID|User-Agent` already reported. */
  private readonly reported = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastListingAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  readonly stats = { listings: 0, reported: 0, failures: 0 };

  constructor(options: ContactLookupOptions) {
    this.options = { coalesceMs: 500, minIntervalMs: 2000, timeoutMs: 10_000, ...options };
    this.log = (options.logger ?? silentLogger).child({ part: 'contacts' });
  }

  /** A registration was seen: its contacts will be listed shortly. */
  registered(event: RegistrationEvent): void {
    if (event.service !== 'PJSIP' || GONE.test(event.status)) return;
    if (this.pending.size >= MAX_PENDING_ENDPOINTS) this.pending = new Set(['*']);
    this.pending.add(event.endpoint);
    this.schedule();
  }

  /** After a (re)connect: every contact registered meanwhile is listed once. */
  listAll(): void {
    this.pending.add('*');
    this.schedule();
  }

  /** Resolves when no listing is scheduled or running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.timer || this.running) await (this.running ?? new Promise((resolve) => setTimeout(resolve, 10)));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.timer || this.running) return;
    const wait = Math.max(this.options.coalesceMs, this.lastListingAt + this.options.minIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.list().finally(() => {
        this.running = undefined;
        if (this.pending.size > 0) this.schedule();
      });
    }, wait);
    this.timer.unref();
  }

  private async list(): Promise<void> {
    if (!this.options.source.connected) {
      // Asked again after the next connect (listAll), which lists everyone.
      this.pending.clear();
      return;
    }
    const wanted = this.pending;
    this.pending = new Set();
    this.lastListingAt = Date.now();
    let result: AmiActionResult;
    try {
      result = await this.options.source.action('PJSIPShowContacts', {}, { timeoutMs: this.options.timeoutMs });
    } catch (error) {
      this.stats.failures++;
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'PJSIPShowContacts failed: User-Agents of these registrations unknown (the AMI user needs write=system)');
      return;
    }
    this.stats.listings++;
    const at = this.options.clock.now();
    for (const item of result.events) {
      const endpoint = item.get('Endpoint') ?? '';
      if (!wanted.has('*') && !wanted.has(endpoint)) continue;
      const id = item.get('ObjectName') ?? `${endpoint};${item.get('Uri') ?? ''}`;
      const signature = `${item.get('CallId') ?? ''}|${item.get('UserAgent') ?? ''}`;
      if (this.reported.get(id) === signature) continue;
      this.reported.delete(id);
      this.reported.set(id, signature);
      if (this.reported.size > MAX_REPORTED_CONTACTS) dropOldest(this.reported, MAX_REPORTED_CONTACTS / 10);
      this.stats.reported++;
      this.options.ingest(item, at);
    }
  }
}
