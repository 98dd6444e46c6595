/**
 * Database migrations, applied in order, each once (schema_version records how far a file is).
 * Never edit a shipped migration: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- Spend ledger: one row per finished outbound dial, as the carrier bills it.
  CREATE TABLE costs (
    key TEXT PRIMARY KEY,            -- linkedid|destUniqueid: a dial is recorded once
    linkedid TEXT NOT NULL,
    ended_at INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    trunk TEXT,
    country TEXT,
    micros INTEGER NOT NULL,
    entry TEXT NOT NULL              -- the whole CostEntry (JSON)
  );
  CREATE INDEX costs_ended_at ON costs (ended_at);

  -- Live calls, so a restart mid-call keeps their real answer times.
  CREATE TABLE checkpoints (
    linkedid TEXT PRIMARY KEY,
    updated_at INTEGER NOT NULL,
    checkpoint TEXT NOT NULL
  );

  CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    scope TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    severity TEXT NOT NULL,
    record TEXT NOT NULL
  );
  CREATE INDEX incidents_last_at ON incidents (last_at);

  -- The audit trail: every decision, its inputs (the finding), its result and its latency.
  CREATE TABLE decisions (
    id TEXT PRIMARY KEY,
    incident TEXT NOT NULL,
    at INTEGER NOT NULL,
    policy TEXT NOT NULL,
    kind TEXT NOT NULL,
    action TEXT NOT NULL,
    mode TEXT NOT NULL,
    severity TEXT NOT NULL,
    level TEXT NOT NULL,
    target TEXT NOT NULL,
    finding TEXT NOT NULL,
    result TEXT NOT NULL,
    detail TEXT,
    latency_ms REAL,
    completed_at INTEGER
  );
  CREATE INDEX decisions_at ON decisions (at);
  CREATE INDEX decisions_incident ON decisions (incident);

  CREATE TABLE locks (
    endpoint TEXT PRIMARY KEY,
    since INTEGER NOT NULL,
    until INTEGER,
    reason TEXT NOT NULL,
    policy TEXT
  );

  -- The mail outbox: a mail is sent until it is delivered, and never twice (dedupe_key).
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    incident TEXT,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    last_error TEXT,
    message_id TEXT
  );
  CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);

  -- Security events per day, kind and source address, for the daily digest.
  CREATE TABLE security_daily (
    day TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (day, kind, address)
  );
  `,
  `
  -- Where each endpoint has logged in and registered from, by network (profile/addresses.ts).
  CREATE TABLE endpoint_addresses (
    endpoint TEXT NOT NULL,
    network TEXT NOT NULL,
    address TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    via TEXT NOT NULL,
    trusted INTEGER NOT NULL DEFAULT 0,   -- confirmed by an admin (tollgate trust-address)
    PRIMARY KEY (endpoint, network)
  );

  -- Small facts about the installation (e.g. when the address memory began learning).
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  -- Mail threads: the findings of one attack (a scan from an address, the password it guessed,
  -- the calls of that endpoint) are one thread of mails (act/mail/threads.ts). A thread is open
  -- until it has been quiet for a while; then its summary is mailed once (summarized_at).
  CREATE TABLE mail_threads (
    id TEXT PRIMARY KEY,             -- the id of the incident that opened it
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    summarized_at INTEGER,
    record TEXT NOT NULL             -- the whole thread (JSON)
  );
  CREATE INDEX mail_threads_open ON mail_threads (summarized_at, last_at);
  `,
  `
  -- What each endpoint usually does (profile/profile.ts): User-Agents, countries called, hours and
  -- weekdays of activity, with first and last seen; forgotten 90 days after last seen.
  CREATE TABLE endpoint_profile (
    endpoint TEXT NOT NULL,
    facet TEXT NOT NULL,               -- user-agent | country | hour | weekday
    value TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (endpoint, facet, value)
  );
  CREATE INDEX endpoint_profile_first_seen ON endpoint_profile (first_seen);

  -- Each endpoint's calls per local day (its norm), kept 35 days.
  CREATE TABLE endpoint_days (
    endpoint TEXT NOT NULL,
    day TEXT NOT NULL,
    calls INTEGER NOT NULL,
    international INTEGER NOT NULL,
    international_micros INTEGER NOT NULL,
    PRIMARY KEY (endpoint, day)
  );
  `,
  `
  -- Detection state as JSON, one row per part (engine: every policy's windows, buckets and what
  -- already fired; decider: calls already hung up; addresses: recent logins and failures),
  -- rewritten together in one transaction about once a second (src/store/detection-state.ts), so a
  -- restart continues an attack's count instead of starting from zero.
  CREATE TABLE detection_state (
    part TEXT PRIMARY KEY,
    saved_at INTEGER NOT NULL,
    state TEXT NOT NULL
  );
  `,
];
