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
});

export const ariConfigSchema = z.object({
  /** e.g. http://127.0.0.1:8088 — leave empty to hang up through AMI only. */
  url: z.string().default(''),
  username: z.string().default(''),
  /** Never logged. */
  password: z.string().default(''),
  app: z.string().default('tollgate'),
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
  /** Trunk endpoint names (PJSIP endpoints / SIP peers) — calls through them cost money. Others are learnt from dial strings. */
  trunks: z.array(z.string().min(1)).default([]),
  db: z.object({ file: z.string().default('tollgate.db'), retentionDays: z.number().int().min(1).default(90) }).default({ file: 'tollgate.db', retentionDays: 90 }),
  smtp: z
    .object({
      /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465. Never logged. */
      url: z.string().default(''),
    })
    .default({ url: '' }),
  alerts: z
    .object({
      to: z.array(z.string()).default([]),
      from: z.string().default('tollgate@localhost'),
    })
    .default({ to: [], from: 'tollgate@localhost' }),
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
