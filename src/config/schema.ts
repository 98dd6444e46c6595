/**
 * The agent configuration: one YAML file, every setting overridable from the environment
 * (TOLLGATE_<SECTION>_<KEY>, e.g. ami.pingIntervalMs → TOLLGATE_AMI_PING_INTERVAL_MS), so that
 * `tollgate run` works with no file at all in containers and under systemd.
 */
import { z } from 'zod';
import { numberingConfigSchema } from '../numbers/config.js';
import { ratesConfigSchema } from '../rates/config.js';
import { timezoneField } from '../policy/schema.js';

const port = z.number().int().min(1).max(65_535);
const duration = (fallback: number) => z.number().int().min(0).max(86_400_000).default(fallback);

export const amiConfigSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(5038),
  /** A dedicated least-privilege manager.conf user (see README): read=call,security,system,cdr write=call,reporting(,system). */
  username: z.string().default('tollgate'),
  /** Never logged. Prefer TOLLGATE_AMI_SECRET or secretFile over writing it here. */
  secret: z.string().default(''),
  /** A file holding the secret (Docker/Kubernetes secrets); its trimmed content is used. */
  secretFile: z.string().optional(),
  tls: z.boolean().default(false),
  tlsRejectUnauthorized: z.boolean().default(true),
  tlsCaFile: z.string().optional(),
  /** Event classes requested at login. */
  events: z.string().default('on'),
  connectTimeoutMs: duration(5000),
  actionTimeoutMs: duration(5000),
  pingIntervalMs: duration(5000),
  reconnectMaxMs: duration(10_000),
  loginRetryMs: duration(60_000),
  /** Safety-net CoreShowChannels reconciliation interval (always done after each connect). */
  reconcileIntervalMs: duration(300_000),
  /**
   * Security events (a scan's refused attempts) waiting to be judged while calls go first; beyond,
   * the oldest lose their detail (counted, shown in /healthz and mailed). About 200 ms of a big scan.
   */
  securityBacklog: z.number().int().min(100).default(10_000),
});

export const ariConfigSchema = z.object({
  /** e.g. http://127.0.0.1:8088 — leave empty to hang up through AMI only. */
  url: z.string().default(''),
  username: z.string().default(''),
  /** Never logged. */
  password: z.string().default(''),
  app: z.string().default('tollgate'),
  /** For an https:// url (http.conf's TLS listener). */
  tlsRejectUnauthorized: z.boolean().default(true),
  /** PEM CA that signed Asterisk's certificate (private CA or self-signed). */
  tlsCaFile: z.string().optional(),
  /** Deadline of each ARI request (hang-up, channel list, ping). */
  timeoutMs: duration(5000),
  /** WebSocket ping interval on the events connection; two unanswered pings reconnect it. 0 disables. */
  pingIntervalMs: duration(5000),
  reconnectMaxMs: duration(10_000),
});

export const configSchema = z.object({
  ami: amiConfigSchema.default(amiConfigSchema.parse({})),
  ari: ariConfigSchema.default(ariConfigSchema.parse({})),
  /**
   * IANA time zone for policy time windows and calendar-day budgets when a policy does not name one.
   * Defaults to the host's zone (the PBX's office hours); containers often run in UTC: set it.
   */
  timezone: timezoneField.default(hostTimezone()),
  /** `simulate` is the global dry run: every policy only reports what it would do. */
  mode: z.enum(['enforce', 'simulate']).default('enforce'),
  numbering: numberingConfigSchema.default(numberingConfigSchema.parse({})),
  rates: ratesConfigSchema.default(ratesConfigSchema.parse({})),
  policies: z
    .object({
      /** Directory of policy files (one policy per YAML file). */
      dir: z.string().default('policies'),
    })
    .default({ dir: 'policies' }),
  /** How decisions are carried out. */
  actions: z
    .object({
      /** Q.850 cause for Tollgate's hang-ups (21 = call rejected; the SIP side sees 403). */
      hangupCause: z.number().int().min(1).max(127).default(21),
      /** `ami`, `ari` (when configured), or `auto`: ARI when ari.url is set, else AMI. */
      hangupVia: z.enum(['auto', 'ami', 'ari']).default('auto'),
      /** Wait this long for Asterisk's Hangup event before retrying once, then reporting a failure. */
      confirmTimeoutMs: z.number().int().min(100).max(60_000).default(3000),
      /** Mirror locks into AstDB (`DBPut tollgate/lock <endpoint>`) so the dialplan can refuse locked endpoints too (needs write=system). */
      astdbLocks: z.boolean().default(true),
      /** Locks expire after this long (`12h`, `7d`); empty: until `tollgate unlock`. */
      lockDuration: z.string().default(''),
    })
    .prefault({}),
  /** The firewall hook for IP-scoped findings (sip-brute-force). Empty command: no hook. */
  firewall: z
    .object({
      /** Program and arguments, `{ip}` replaced by the address — never run through a shell. E.g. [ipset, add, tollgate, "{ip}"] */
      command: z.array(z.string()).default([]),
      timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      /** Addresses and CIDR blocks never handed to the firewall (your office, your SBC, your carrier). Loopback always. */
      neverBlock: z.array(z.string()).default([]),
    })
    .prefault({}),
  /**
   * The pre-dial gate (FastAGI): outbound routes ask `AGI(agi://127.0.0.1:4573/tollgate,linkedid=${CHANNEL(linkedid)})` before
   * Dial() and refuse the call when TOLLGATE_VERDICT is `deny`. Off unless `listen` is set.
   */
  agi: z
    .object({
      /** `127.0.0.1:4573` (loopback: Asterisk runs on this host); empty: no gate. */
      listen: z
        .string()
        .regex(/^$|^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'host:port, e.g. 127.0.0.1:4573 (or [::1]:4573)')
        .default(''),
      /** The gate never holds a call longer: no verdict by then and the dialplan goes on (fail-open). */
      timeoutMs: z.number().int().min(10).max(10_000).default(200),
      /** Contexts (`*` wildcards) where no verdict in time means deny (fail-closed). */
      failClosedContexts: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** Trunk endpoint names (PJSIP endpoints / SIP peers) — calls through them cost money. Others are learnt from dial strings. */
  trunks: z.array(z.string().min(1)).default([]),
  db: z
    .object({
      file: z.string().default('tollgate.db'),
      retentionDays: z.number().int().min(1).default(90),
      /** Detection state (windows, buckets, compromises) is checkpointed at most this often: what a kill -9 can lose. */
      checkpointIntervalMs: z.number().int().min(100).max(60_000).default(1000),
    })
    .default({ file: 'tollgate.db', retentionDays: 90, checkpointIntervalMs: 1000 }),
  smtp: z
    .object({
      /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465. Never logged. */
      url: z.string().default(''),
      /** Refuse a relay whose TLS certificate does not verify (turn off only for a lab relay). */
      rejectUnauthorized: z.boolean().default(true),
      /** PEM CA that signed a private relay's certificate. */
      caFile: z.string().optional(),
      /** Mails sent at the same time. */
      concurrency: z.number().int().min(1).max(10).default(1),
      /** At most this many mails in any minute (relays rate-limit and blacklist bursts). */
      maxPerMinute: z.number().int().min(1).max(10_000).default(30),
    })
    .prefault({}),
  alerts: z
    .object({
      to: z.array(z.string()).default([]),
      from: z.string().default('tollgate@localhost'),
      /** The daily digest (yesterday's calls, spend, incidents, security events, locks, outbox). */
      digest: z.boolean().default(true),
      /** Local time of the digest, in `timezone`. */
      digestAt: z
        .string()
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24 h), e.g. "07:00"')
        .default('07:00'),
    })
    .prefault({}),
  http: z
    .object({
      /** Loopback by default; expose deliberately. */
      host: z.string().default('127.0.0.1'),
      /** 0 disables the status endpoint. */
      port: z.number().int().min(0).max(65_535).default(9090),
    })
    .default({ host: '127.0.0.1', port: 9090 }),
  privacy: z
    .object({
      /** Mask the tail of phone numbers in logs and mail (`+44 20 79** ****`). */
      maskNumbers: z.boolean().default(false),
    })
    .default({ maskNumbers: false }),
  log: z
    .object({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
});

export type TollgateConfig = z.output<typeof configSchema>;

function hostTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Short names kept for compatibility with deployment docs (the generic names work too). */
export const ENV_ALIASES: Readonly<Record<string, string>> = {
  TOLLGATE_HOME_COUNTRY: 'numbering.homeCountry',
  TOLLGATE_POLICIES: 'policies.dir',
  TOLLGATE_RATES: 'rates.file',
  TOLLGATE_DB: 'db.file',
  TOLLGATE_ALERT_TO: 'alerts.to',
  TOLLGATE_ALERT_FROM: 'alerts.from',
  TOLLGATE_DRY_RUN: 'mode',
};
