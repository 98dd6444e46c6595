/**
 * Everything Tollgate must not forget, in one SQLite file (better-sqlite3, WAL): the spend ledger,
 * live-call checkpoints, incidents, the decision audit trail, locks, the mail outbox and the daily
 * security counters. Every write is its own transaction and reaches the file before the call
 * returns, so `kill -9` at any moment loses nothing that was committed.
 *
 * Durability: WAL with synchronous=NORMAL survives a process crash or kill; a power cut may lose
 * the last transactions (set `durability: 'full'` for an fsync per commit).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { joinLocks } from '../domain/locks.js';
import type { CostEntry, LockInfo, LockView } from '../policy/types.js';
import type { AddressRecord, AddressVia, TrustView } from '../profile/addresses.js';
import type { ProfileDay, ProfileFacet, ProfileValue } from '../profile/profile.js';
import { MIGRATIONS } from './schema.js';

export interface StoreOptions {
  /** `normal` (survives kill -9) or `full` (survives power loss, slower). @default 'normal' */
  durability?: 'normal' | 'full';
}

/** What the agent remembers of a live call, so a restart mid-call keeps its real answer time. */
export interface CallCheckpoint {
  linkedid: string;
  endpoint: string;
  dialled?: string;
  trunk?: string;
  createdAt: number;
  answeredAt?: number;
  /** Answer times of the call's outbound dials, by destination Uniqueid. */
  dials: { destUniqueid: string; number?: string; trunk?: string; answeredAt?: number }[];
  updatedAt: number;
}

export interface IncidentRecord {
  id: string;
  policy: string;
  scope: string;
  firstAt: number;
  lastAt: number;
  severity: string;
  findings: number;
  levels: string[];
  calls: string[];
  /** Dedupe keys of what was decided in it (so a restart does not mail or act twice). */
  decided: string[];
  sequence: number;
  /** The first and the latest finding, as JSON (for mail and audit). */
  first: unknown;
  latest: unknown;
}

export type DecisionResult = 'pending' | 'done' | 'failed' | 'skipped' | 'simulated';

export interface DecisionRecord {
  id: string;
  incident: string;
  at: number;
  policy: string;
  kind: string;
  action: string;
  mode: string;
  severity: string;
  level: string;
  target: unknown;
  finding: unknown;
  result: DecisionResult;
  detail?: string;
  /** Milliseconds from the triggering event to the action being carried out. */
  latencyMs?: number;
  completedAt?: number;
}

export type MailKind = 'alert' | 'follow-up' | 'summary' | 'digest' | 'failure' | 'test';

/** A mail thread as stored (act/mail/threads.ts owns its shape; the store keeps it whole). */
export interface ThreadRow {
  id: string;
  firstAt: number;
  lastAt: number;
  summarizedAt?: number;
  record: unknown;
}

export interface OutboxMail {
  kind: MailKind;
  /** At most one mail per key, ever (`incident:<id>:alert`, `digest:2026-11-21`). */
  dedupeKey: string;
  incident?: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
}

export interface OutboxRow extends OutboxMail {
  id: number;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  sentAt?: number;
  lastError?: string;
  messageId?: string;
}

export interface PurgeResult {
  costs: number;
  incidents: number;
  decisions: number;
  mails: number;
  security: number;
  /** Networks an endpoint has not used since `before` (trusted ones are kept). */
  addresses: number;
  /** Mail threads quiet since `before`. */
  threads: number;
}

/** What `Store.lock` did: the lock now in force, and the one it joined when the endpoint was locked already. */
export interface LockResult {
  lock: LockInfo;
  joined?: LockInfo;
}

export class Store implements LockView, TrustView {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements: ReturnType<Store['prepare']>;

  constructor(file: string, options: StoreOptions = {}) {
    this.file = file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    // A CLI command (tollgate unlock) and the agent may write at the same moment: wait, don't fail.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.statements = this.prepare();
  }

  /** False once closed (a write scheduled before the agent stopped must not run after). */
  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // ───────────────────────────── spend ledger ─────────────────────────────

  /** Records the cost of a finished outbound dial; false when it was already recorded. */
  recordCost(entry: CostEntry): boolean {
    return this.statements.insertCost.run({ key: `${entry.linkedid}|${entry.destUniqueid}`, linkedid: entry.linkedid, ended_at: entry.endedAt, endpoint: entry.endpoint, trunk: entry.trunk ?? null, country: entry.country ?? null, micros: entry.micros, entry: JSON.stringify(entry) }).changes > 0;
  }

  /** Costs of dials that ended at or after `since`, oldest first. */
  costsSince(since: number): CostEntry[] {
    return (this.statements.costsSince.all({ since }) as { entry: string }[]).map((row) => JSON.parse(row.entry) as CostEntry);
  }

  /** Total committed spend (micro-units) since `since`, for status output. */
  spentSince(since: number): number {
    return (this.statements.spentSince.get({ since }) as { micros: number | null }).micros ?? 0;
  }

  // ───────────────────────────── live-call checkpoints ─────────────────────────────

  checkpointCall(checkpoint: CallCheckpoint): void {
    this.statements.upsertCheckpoint.run({ linkedid: checkpoint.linkedid, updated_at: checkpoint.updatedAt, checkpoint: JSON.stringify(checkpoint) });
  }

  endCheckpoint(linkedid: string): void {
    this.statements.deleteCheckpoint.run({ linkedid });
  }

  checkpoints(): CallCheckpoint[] {
    return (this.statements.checkpoints.all() as { checkpoint: string }[]).map((row) => JSON.parse(row.checkpoint) as CallCheckpoint);
  }

  // ───────────────────────────── incidents ─────────────────────────────

  saveIncident(incident: IncidentRecord): void {
    this.statements.upsertIncident.run({ id: incident.id, policy: incident.policy, scope: incident.scope, first_at: incident.firstAt, last_at: incident.lastAt, severity: incident.severity, record: JSON.stringify(incident) });
  }

  /** Incidents active since `since` (their last finding is newer), oldest first. */
  incidentsSince(since: number): IncidentRecord[] {
    return (this.statements.incidentsSince.all({ since }) as { record: string }[]).map((row) => JSON.parse(row.record) as IncidentRecord);
  }

  // ───────────────────────────── decisions (audit trail) ─────────────────────────────

  recordDecision(decision: DecisionRecord): void {
    this.statements.insertDecision.run({
      id: decision.id,
      incident: decision.incident,
      at: decision.at,
      policy: decision.policy,
      kind: decision.kind,
      action: decision.action,
      mode: decision.mode,
      severity: decision.severity,
      level: decision.level,
      target: JSON.stringify(decision.target),
      finding: JSON.stringify(decision.finding),
      result: decision.result,
      detail: decision.detail ?? null,
      latency_ms: decision.latencyMs ?? null,
      completed_at: decision.completedAt ?? null,
    });
  }

  completeDecision(id: string, result: DecisionResult, detail: string, completedAt: number, latencyMs?: number): void {
    this.statements.completeDecision.run({ id, result, detail, completed_at: completedAt, latency_ms: latencyMs ?? null });
  }

  decisions(filter: { incident?: string; since?: number } = {}): DecisionRecord[] {
    const rows = (filter.incident !== undefined ? this.statements.decisionsOfIncident.all({ incident: filter.incident }) : this.statements.decisionsSince.all({ since: filter.since ?? 0 })) as DecisionRow[];
    return rows.map(decisionFromRow);
  }

  // ───────────────────────────── locks ─────────────────────────────

  /**
   * Locks an endpoint. When it is locked already, the new lock joins the one in force (first since,
   * both reasons and policies, the later until: `joinLocks`) instead of replacing it. Returns the
   * lock now stored and, when there was one, the lock it joined. Read and write are one transaction:
   * `tollgate lock` in another process cannot slip between them.
   */
  lock(info: LockInfo): LockResult {
    return this.db.transaction((): LockResult => {
      const row = this.statements.storedLock.get({ endpoint: info.endpoint }) as LockRow | undefined;
      const stored = row ? lockFromRow(row) : undefined;
      const lock = joinLocks(stored, info);
      this.statements.upsertLock.run({ endpoint: lock.endpoint, since: lock.since, until: lock.until ?? null, reason: lock.reason, policy: lock.policy ?? null });
      return lock === info ? { lock } : { lock, joined: stored! };
    }).immediate();
  }

  unlock(endpoint: string): boolean {
    return this.statements.deleteLock.run({ endpoint }).changes > 0;
  }

  /** The lock of an endpoint now (an expired lock is no lock). Read from the file: `tollgate unlock` in another process counts at once. */
  lockOf(endpoint: string, now: number): LockInfo | undefined {
    const row = this.statements.lockOf.get({ endpoint, now }) as LockRow | undefined;
    return row ? lockFromRow(row) : undefined;
  }

  locks(now: number): LockInfo[] {
    return (this.statements.locks.all({ now }) as LockRow[]).map(lockFromRow);
  }

  // ───────────────────────────── mail outbox ─────────────────────────────

  /** Queues a mail; returns its id, or the existing id when one with the same dedupe key exists. */
  enqueueMail(mail: OutboxMail, now: number): { id: number; created: boolean } {
    const result = this.statements.insertMail.run({
      dedupe_key: mail.dedupeKey,
      kind: mail.kind,
      incident: mail.incident ?? null,
      recipients: JSON.stringify(mail.to),
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      created_at: now,
      next_attempt_at: now,
    });
    if (result.changes > 0) return { id: Number(result.lastInsertRowid), created: true };
    const existing = this.statements.mailByKey.get({ dedupe_key: mail.dedupeKey }) as { id: number };
    return { id: existing.id, created: false };
  }

  /** Unsent mails whose next attempt is due, oldest first. */
  dueMails(now: number, limit: number): OutboxRow[] {
    return (this.statements.dueMails.all({ now, limit }) as MailRow[]).map(mailFromRow);
  }

  /** When the next unsent mail is due (undefined when the outbox is empty). */
  nextMailDue(): number | undefined {
    const row = this.statements.nextMailDue.get() as { due: number | null };
    return row.due ?? undefined;
  }

  /** Replaces the body of a mail not sent yet (the incident grew while SMTP was down). */
  updateMail(id: number, mail: Pick<OutboxMail, 'subject' | 'text' | 'html'>): void {
    this.statements.updateMail.run({ id, subject: mail.subject, text: mail.text, html: mail.html });
  }

  mail(id: number): OutboxRow | undefined {
    const row = this.statements.mailById.get({ id }) as MailRow | undefined;
    return row ? mailFromRow(row) : undefined;
  }

  markMailSent(id: number, messageId: string, at: number): void {
    this.statements.markSent.run({ id, message_id: messageId, sent_at: at });
  }

  markMailFailed(id: number, error: string, nextAttemptAt: number): void {
    this.statements.markFailed.run({ id, last_error: error.slice(0, 500), next_attempt_at: nextAttemptAt });
  }

  outboxCounts(): { pending: number; sent: number } {
    return this.statements.outboxCounts.get() as { pending: number; sent: number };
  }

  /** The mail queued under a dedupe key (the first mail of a thread, which follow-ups answer). */
  mailByKey(dedupeKey: string): OutboxRow | undefined {
    const row = this.statements.mailRowByKey.get({ dedupe_key: dedupeKey }) as MailRow | undefined;
    return row ? mailFromRow(row) : undefined;
  }

  // ───────────────────────────── mail threads ─────────────────────────────

  saveThread(thread: ThreadRow): void {
    this.statements.upsertThread.run({ id: thread.id, first_at: thread.firstAt, last_at: thread.lastAt, summarized_at: thread.summarizedAt ?? null, record: JSON.stringify(thread.record) });
  }

  /** Threads whose summary is not sent yet, oldest first (a restart takes them back). */
  openThreads(): ThreadRow[] {
    return (this.statements.openThreads.all() as { id: string; first_at: number; last_at: number; record: string }[]).map((row) => ({ id: row.id, firstAt: row.first_at, lastAt: row.last_at, record: JSON.parse(row.record) as unknown }));
  }

  /** Delivery failures in the outbox: attempts that failed (sent or not since), and waiting mails whose last attempt failed. */
  outboxFailures(): { failedAttempts: number; failing: number } {
    return this.statements.outboxFailures.get() as { failedAttempts: number; failing: number };
  }

  /** Runs `work` in one transaction (many small writes, one commit). */
  batch(work: () => void): void {
    this.db.transaction(work)();
  }

  // ───────────────────────────── security counters (daily digest) ─────────────────────────────

  countSecurityEvent(day: string, kind: string, address: string, count = 1): void {
    this.statements.countSecurity.run({ day, kind, address, count });
  }

  /** Many counters in one transaction (the actor gathers them for a second). */
  countSecurityEvents(rows: readonly { day: string; kind: string; address: string; count: number }[]): void {
    this.db.transaction(() => {
      for (const row of rows) this.statements.countSecurity.run(row);
    })();
  }

  securityCounts(day: string): { kind: string; address: string; count: number }[] {
    return this.statements.securityOfDay.all({ day }) as { kind: string; address: string; count: number }[];
  }

  // ───────────────────────────── endpoint addresses ─────────────────────────────

  /** Saves what the address memory learnt (first seen never moves later, trust is never taken back here). */
  saveAddresses(records: readonly AddressRecord[]): void {
    if (records.length === 0) return;
    this.db.transaction(() => {
      for (const record of records) this.statements.upsertAddress.run(addressRow(record));
    })();
  }

  addresses(): AddressRecord[] {
    return (this.statements.addresses.all() as AddressRow[]).map(addressFromRow);
  }

  addressesOf(endpoint: string): AddressRecord[] {
    return (this.statements.addressesOf.all({ endpoint }) as AddressRow[]).map(addressFromRow);
  }

  /** An admin confirms that an endpoint may use a network (the running agent sees it at the next new-address check). */
  trustAddress(record: AddressRecord): void {
    this.statements.upsertAddress.run(addressRow({ ...record, trusted: true }));
  }

  isTrusted(endpoint: string, network: string): boolean {
    return (this.statements.trusted.get({ endpoint, network }) as { trusted: number } | undefined)?.trusted === 1;
  }

  // ───────────────────────────── endpoint profiles ─────────────────────────────

  /** What the profiles learnt since the last save, in one transaction (first seen never moves later). */
  saveProfiles(values: readonly ProfileValue[], days: readonly ProfileDay[]): void {
    if (values.length === 0 && days.length === 0) return;
    this.db.transaction(() => {
      for (const value of values) this.statements.upsertProfile.run({ endpoint: value.endpoint, facet: value.facet, value: value.value, first_seen: value.firstSeen, last_seen: value.lastSeen, count: value.count });
      for (const day of days) this.statements.upsertProfileDay.run({ endpoint: day.endpoint, day: day.day, calls: day.calls, international: day.international, international_micros: day.internationalMicros });
    })();
  }

  /** Every profile value (all endpoints, or one). */
  profileValues(endpoint?: string): ProfileValue[] {
    const rows = (endpoint === undefined ? this.statements.profileValues.all() : this.statements.profileValuesOf.all({ endpoint })) as ProfileRow[];
    return rows.map((row) => ({ endpoint: row.endpoint, facet: row.facet as ProfileFacet, value: row.value, firstSeen: row.first_seen, lastSeen: row.last_seen, count: row.count }));
  }

  /** Every day of counters (all endpoints, or one), oldest first. */
  profileDays(endpoint?: string): ProfileDay[] {
    const rows = (endpoint === undefined ? this.statements.profileDays.all() : this.statements.profileDaysOf.all({ endpoint })) as ProfileDayRow[];
    return rows.map((row) => ({ endpoint: row.endpoint, day: row.day, calls: row.calls, international: row.international, internationalMicros: row.international_micros }));
  }

  /** Profile values and networks first seen in [from, to): what the digest calls the day's news. */
  profileNews(from: number, to: number): { endpoint: string; facet: string; value: string; firstSeen: number }[] {
    const rows = this.statements.profileNews.all({ from, to }) as { endpoint: string; facet: string; value: string; first_seen: number }[];
    return rows.map((row) => ({ endpoint: row.endpoint, facet: row.facet, value: row.value, firstSeen: row.first_seen }));
  }

  /** Forgets profile values not seen since `before` and day counters older than `beforeDay`. */
  forgetProfiles(before: number, beforeDay: string): number {
    return this.db.transaction(() => this.statements.forgetProfile.run({ before }).changes + this.statements.forgetProfileDays.run({ day: beforeDay }).changes)();
  }

  meta(key: string): string | undefined {
    return (this.statements.meta.get({ key }) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run({ key, value });
  }

  // ───────────────────────────── detection state ─────────────────────────────

  /** Replaces the saved detection state, every part in one transaction (already serialised: JSON). */
  saveDetectionState(parts: Readonly<Record<string, string>>, savedAt: number): void {
    this.db.transaction(() => {
      for (const [part, state] of Object.entries(parts)) this.statements.saveState.run({ part, saved_at: savedAt, state });
    })();
  }

  /** The saved detection state by part (JSON text), and when it was saved. */
  detectionState(): Map<string, { savedAt: number; state: string }> {
    const rows = this.statements.detectionState.all() as { part: string; saved_at: number; state: string }[];
    return new Map(rows.map((row) => [row.part, { savedAt: row.saved_at, state: row.state }]));
  }

  // ───────────────────────────── retention ─────────────────────────────

  /** Deletes call records, incidents, decisions, sent mails and counters older than `before`. */
  purge(before: number, beforeDay: string): PurgeResult {
    return this.db.transaction(() => ({
      costs: this.statements.purgeCosts.run({ before }).changes,
      incidents: this.statements.purgeIncidents.run({ before }).changes,
      decisions: this.statements.purgeDecisions.run({ before }).changes,
      mails: this.statements.purgeMails.run({ before }).changes,
      security: this.statements.purgeSecurity.run({ day: beforeDay }).changes,
      addresses: this.statements.purgeAddresses.run({ before }).changes,
      threads: this.statements.purgeThreads.run({ before }).changes,
    }))();
  }

  // ───────────────────────────── internals ─────────────────────────────

  private migrate(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = this.db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    let version = row?.version ?? 0;
    if (version > MIGRATIONS.length) {
      throw new Error(`${this.file} was written by a newer Tollgate (schema ${version}; this one knows ${MIGRATIONS.length}): upgrade Tollgate`);
    }
    for (; version < MIGRATIONS.length; version++) {
      const next = version + 1;
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!);
        this.db.exec('DELETE FROM schema_version');
        this.db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(next);
      })();
    }
  }

  private prepare() {
    const db = this.db;
    return {
      insertCost: db.prepare('INSERT OR IGNORE INTO costs (key, linkedid, ended_at, endpoint, trunk, country, micros, entry) VALUES (@key, @linkedid, @ended_at, @endpoint, @trunk, @country, @micros, @entry)'),
      costsSince: db.prepare('SELECT entry FROM costs WHERE ended_at >= @since ORDER BY ended_at, key'),
      spentSince: db.prepare('SELECT SUM(micros) AS micros FROM costs WHERE ended_at >= @since'),
      upsertCheckpoint: db.prepare('INSERT INTO checkpoints (linkedid, updated_at, checkpoint) VALUES (@linkedid, @updated_at, @checkpoint) ON CONFLICT(linkedid) DO UPDATE SET updated_at = excluded.updated_at, checkpoint = excluded.checkpoint'),
      deleteCheckpoint: db.prepare('DELETE FROM checkpoints WHERE linkedid = @linkedid'),
      checkpoints: db.prepare('SELECT checkpoint FROM checkpoints ORDER BY updated_at'),
      upsertIncident: db.prepare(
        'INSERT INTO incidents (id, policy, scope, first_at, last_at, severity, record) VALUES (@id, @policy, @scope, @first_at, @last_at, @severity, @record) ON CONFLICT(id) DO UPDATE SET last_at = excluded.last_at, severity = excluded.severity, record = excluded.record',
      ),
      incidentsSince: db.prepare('SELECT record FROM incidents WHERE last_at >= @since ORDER BY first_at'),
      insertDecision: db.prepare(
        'INSERT OR IGNORE INTO decisions (id, incident, at, policy, kind, action, mode, severity, level, target, finding, result, detail, latency_ms, completed_at) VALUES (@id, @incident, @at, @policy, @kind, @action, @mode, @severity, @level, @target, @finding, @result, @detail, @latency_ms, @completed_at)',
      ),
      completeDecision: db.prepare('UPDATE decisions SET result = @result, detail = @detail, completed_at = @completed_at, latency_ms = COALESCE(@latency_ms, latency_ms) WHERE id = @id'),
      decisionsOfIncident: db.prepare('SELECT * FROM decisions WHERE incident = @incident ORDER BY at, id'),
      decisionsSince: db.prepare('SELECT * FROM decisions WHERE at >= @since ORDER BY at, id'),
      upsertLock: db.prepare('INSERT INTO locks (endpoint, since, until, reason, policy) VALUES (@endpoint, @since, @until, @reason, @policy) ON CONFLICT(endpoint) DO UPDATE SET since = excluded.since, until = excluded.until, reason = excluded.reason, policy = excluded.policy'),
      storedLock: db.prepare('SELECT * FROM locks WHERE endpoint = @endpoint'),
      deleteLock: db.prepare('DELETE FROM locks WHERE endpoint = @endpoint'),
      lockOf: db.prepare('SELECT * FROM locks WHERE endpoint = @endpoint AND (until IS NULL OR until > @now)'),
      locks: db.prepare('SELECT * FROM locks WHERE until IS NULL OR until > @now ORDER BY since'),
      insertMail: db.prepare(
        'INSERT OR IGNORE INTO outbox (dedupe_key, kind, incident, recipients, subject, text, html, created_at, attempts, next_attempt_at) VALUES (@dedupe_key, @kind, @incident, @recipients, @subject, @text, @html, @created_at, 0, @next_attempt_at)',
      ),
      mailByKey: db.prepare('SELECT id FROM outbox WHERE dedupe_key = @dedupe_key'),
      mailById: db.prepare('SELECT * FROM outbox WHERE id = @id'),
      mailRowByKey: db.prepare('SELECT * FROM outbox WHERE dedupe_key = @dedupe_key'),
      upsertThread: db.prepare(
        'INSERT INTO mail_threads (id, first_at, last_at, summarized_at, record) VALUES (@id, @first_at, @last_at, @summarized_at, @record) ON CONFLICT(id) DO UPDATE SET last_at = excluded.last_at, summarized_at = excluded.summarized_at, record = excluded.record',
      ),
      openThreads: db.prepare('SELECT id, first_at, last_at, record FROM mail_threads WHERE summarized_at IS NULL ORDER BY first_at'),
      purgeThreads: db.prepare('DELETE FROM mail_threads WHERE last_at < @before'),
      dueMails: db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL AND next_attempt_at <= @now ORDER BY next_attempt_at, id LIMIT @limit'),
      nextMailDue: db.prepare('SELECT MIN(next_attempt_at) AS due FROM outbox WHERE sent_at IS NULL'),
      updateMail: db.prepare('UPDATE outbox SET subject = @subject, text = @text, html = @html WHERE id = @id AND sent_at IS NULL'),
      markSent: db.prepare('UPDATE outbox SET sent_at = @sent_at, message_id = @message_id, attempts = attempts + 1, last_error = NULL WHERE id = @id'),
      markFailed: db.prepare('UPDATE outbox SET attempts = attempts + 1, last_error = @last_error, next_attempt_at = @next_attempt_at WHERE id = @id AND sent_at IS NULL'),
      outboxCounts: db.prepare('SELECT COALESCE(SUM(sent_at IS NULL), 0) AS pending, COALESCE(SUM(sent_at IS NOT NULL), 0) AS sent FROM outbox'),
      outboxFailures: db.prepare('SELECT COALESCE(SUM(attempts) - SUM(sent_at IS NOT NULL), 0) AS failedAttempts, COALESCE(SUM(sent_at IS NULL AND attempts > 0), 0) AS failing FROM outbox'),
      countSecurity: db.prepare('INSERT INTO security_daily (day, kind, address, count) VALUES (@day, @kind, @address, @count) ON CONFLICT(day, kind, address) DO UPDATE SET count = count + excluded.count'),
      securityOfDay: db.prepare('SELECT kind, address, count FROM security_daily WHERE day = @day ORDER BY count DESC, kind, address'),
      purgeCosts: db.prepare('DELETE FROM costs WHERE ended_at < @before'),
      purgeIncidents: db.prepare('DELETE FROM incidents WHERE last_at < @before'),
      purgeDecisions: db.prepare('DELETE FROM decisions WHERE at < @before'),
      purgeMails: db.prepare('DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < @before'),
      purgeSecurity: db.prepare('DELETE FROM security_daily WHERE day < @day'),
      upsertAddress: db.prepare(
        `INSERT INTO endpoint_addresses (endpoint, network, address, first_seen, last_seen, via, trusted) VALUES (@endpoint, @network, @address, @first_seen, @last_seen, @via, @trusted)
         ON CONFLICT(endpoint, network) DO UPDATE SET address = excluded.address, first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen), trusted = MAX(trusted, excluded.trusted)`,
      ),
      addresses: db.prepare('SELECT * FROM endpoint_addresses ORDER BY endpoint, last_seen'),
      addressesOf: db.prepare('SELECT * FROM endpoint_addresses WHERE endpoint = @endpoint ORDER BY last_seen DESC'),
      trusted: db.prepare('SELECT trusted FROM endpoint_addresses WHERE endpoint = @endpoint AND network = @network'),
      purgeAddresses: db.prepare('DELETE FROM endpoint_addresses WHERE last_seen < @before AND trusted = 0'),
      upsertProfile: db.prepare(
        `INSERT INTO endpoint_profile (endpoint, facet, value, first_seen, last_seen, count) VALUES (@endpoint, @facet, @value, @first_seen, @last_seen, @count)
         ON CONFLICT(endpoint, facet, value) DO UPDATE SET first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen), count = MAX(count, excluded.count)`,
      ),
      upsertProfileDay: db.prepare(
        `INSERT INTO endpoint_days (endpoint, day, calls, international, international_micros) VALUES (@endpoint, @day, @calls, @international, @international_micros)
         ON CONFLICT(endpoint, day) DO UPDATE SET calls = excluded.calls, international = excluded.international, international_micros = excluded.international_micros`,
      ),
      profileValues: db.prepare('SELECT * FROM endpoint_profile ORDER BY endpoint, facet, last_seen'),
      profileValuesOf: db.prepare('SELECT * FROM endpoint_profile WHERE endpoint = @endpoint ORDER BY facet, last_seen DESC'),
      profileDays: db.prepare('SELECT * FROM endpoint_days ORDER BY endpoint, day'),
      profileDaysOf: db.prepare('SELECT * FROM endpoint_days WHERE endpoint = @endpoint ORDER BY day'),
      profileNews: db.prepare(
        `SELECT endpoint, facet, value, first_seen FROM endpoint_profile WHERE facet IN ('user-agent', 'country') AND first_seen >= @from AND first_seen < @to
         UNION ALL SELECT endpoint, 'address', address || ' (' || network || ')', first_seen FROM endpoint_addresses WHERE first_seen >= @from AND first_seen < @to
         ORDER BY endpoint, first_seen`,
      ),
      forgetProfile: db.prepare('DELETE FROM endpoint_profile WHERE last_seen < @before'),
      forgetProfileDays: db.prepare('DELETE FROM endpoint_days WHERE day < @day'),
      meta: db.prepare('SELECT value FROM meta WHERE key = @key'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      saveState: db.prepare('INSERT INTO detection_state (part, saved_at, state) VALUES (@part, @saved_at, @state) ON CONFLICT(part) DO UPDATE SET saved_at = excluded.saved_at, state = excluded.state'),
      detectionState: db.prepare('SELECT part, saved_at, state FROM detection_state'),
    };
  }
}

interface AddressRow {
  endpoint: string;
  network: string;
  address: string;
  first_seen: number;
  last_seen: number;
  via: string;
  trusted: number;
}

function addressRow(record: AddressRecord): AddressRow {
  return { endpoint: record.endpoint, network: record.network, address: record.address, first_seen: record.firstSeen, last_seen: record.lastSeen, via: record.via, trusted: record.trusted ? 1 : 0 };
}

function addressFromRow(row: AddressRow): AddressRecord {
  return { endpoint: row.endpoint, network: row.network, address: row.address, firstSeen: row.first_seen, lastSeen: row.last_seen, via: row.via as AddressVia, trusted: row.trusted === 1 };
}

interface ProfileRow {
  endpoint: string;
  facet: string;
  value: string;
  first_seen: number;
  last_seen: number;
  count: number;
}

interface ProfileDayRow {
  endpoint: string;
  day: string;
  calls: number;
  international: number;
  international_micros: number;
}

interface LockRow {
  endpoint: string;
  since: number;
  until: number | null;
  reason: string;
  policy: string | null;
}

function lockFromRow(row: LockRow): LockInfo {
  const info: LockInfo = { endpoint: row.endpoint, since: row.since, reason: row.reason };
  if (row.until !== null) info.until = row.until;
  if (row.policy !== null) info.policy = row.policy;
  return info;
}

interface MailRow {
  id: number;
  dedupe_key: string;
  kind: MailKind;
  incident: string | null;
  recipients: string;
  subject: string;
  text: string;
  html: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  sent_at: number | null;
  last_error: string | null;
  message_id: string | null;
}

function mailFromRow(row: MailRow): OutboxRow {
  const mail: OutboxRow = {
    id: row.id,
    kind: row.kind,
    dedupeKey: row.dedupe_key,
    to: JSON.parse(row.recipients) as string[],
    subject: row.subject,
    text: row.text,
    html: row.html,
    createdAt: row.created_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
  };
  if (row.incident !== null) mail.incident = row.incident;
  if (row.sent_at !== null) mail.sentAt = row.sent_at;
  if (row.last_error !== null) mail.lastError = row.last_error;
  if (row.message_id !== null) mail.messageId = row.message_id;
  return mail;
}

interface DecisionRow {
  id: string;
  incident: string;
  at: number;
  policy: string;
  kind: string;
  action: string;
  mode: string;
  severity: string;
  level: string;
  target: string;
  finding: string;
  result: DecisionResult;
  detail: string | null;
  latency_ms: number | null;
  completed_at: number | null;
}

function decisionFromRow(row: DecisionRow): DecisionRecord {
  const record: DecisionRecord = {
    id: row.id,
    incident: row.incident,
    at: row.at,
    policy: row.policy,
    kind: row.kind,
    action: row.action,
    mode: row.mode,
    severity: row.severity,
    level: row.level,
    target: JSON.parse(row.target),
    finding: JSON.parse(row.finding),
    result: row.result,
  };
  if (row.detail !== null) record.detail = row.detail;
  if (row.latency_ms !== null) record.latencyMs = row.latency_ms;
  if (row.completed_at !== null) record.completedAt = row.completed_at;
  return record;
}
