/** Pieces shared by the commands: configuration loading with readable errors, number descriptions. */
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { ValidationError } from '../config/yaml-source.js';
import type { Classification } from '../numbers/index.js';
import { mayBeExtension } from '../policy/engine.js';

/**
 * Loads the configuration (file optional, TOLLGATE_* environment applied) — the one way every command
 * (run, demo, replay, classify, locks…) gets its settings and defaults. `overrides` are command-line
 * options given as the environment variables of their settings: they go through the schema like any
 * setting, so derived values (the IDD prefixes of --country) follow them. Errors propagate to the CLI.
 */
export function configFromOptions(options: { config?: string; country?: string }, overrides: Record<string, string | undefined> = {}, baseEnv: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const env: NodeJS.ProcessEnv = { ...baseEnv };
  const given = new Set<string>();
  const all: Record<string, string | undefined> = { TOLLGATE_NUMBERING_HOME_COUNTRY: options.country, ...overrides };
  for (const [name, value] of Object.entries(all)) {
    if (value === undefined) continue;
    env[name] = value;
    given.add(name);
  }
  try {
    return loadConfig(options.config ? { file: options.config, env } : { env });
  } catch (error) {
    // A bad command-line value is reported against its option, not the variable that carried it.
    if (!(error instanceof ValidationError) || !error.issues.some((issue) => issue.key !== undefined && given.has(issue.key))) throw error;
    const issues = error.issues.map((issue) => (issue.key !== undefined && given.has(issue.key) ? { file: 'command line', key: OPTION_OF[issue.key] ?? issue.key, message: issue.message } : issue));
    throw new ValidationError(issues, `invalid configuration${options.config ? ` in ${options.config}` : ''}`);
  }
}

/** The command-line option behind each override variable, for error messages. */
const OPTION_OF: Readonly<Record<string, string>> = {
  TOLLGATE_NUMBERING_HOME_COUNTRY: '--country',
  TOLLGATE_NUMBERING_OUTSIDE_LINE_CODES: '--outside-line',
  TOLLGATE_NUMBERING_INTERNAL_PATTERNS: '--internal',
  TOLLGATE_RATES_FILE: '--rates',
  TOLLGATE_RATES_UNKNOWN_PREFIX: '--unknown-prefix',
  TOLLGATE_RATES_ASSUMED_PRICE_PER_MINUTE: '--assumed-rate',
  TOLLGATE_SMTP_URL: '--smtp',
  TOLLGATE_ALERTS_TO: '--to',
  TOLLGATE_ALERTS_FROM: '--from',
};

/** `CU FIXED_LINE international, risk high` — a few words about a classified number. */
export function describeClassification(classification: Classification): string {
  if (classification.scope === 'internal') return 'internal';
  if (mayBeExtension(classification)) return 'short number: an extension or a service code until it dials out on a trunk';
  const where = classification.country ?? (classification.callingCode ? `+${classification.callingCode}` : classification.scope);
  const type = classification.type === 'UNKNOWN' ? '' : ` ${classification.type}`;
  const scope = classification.scope === 'international' || classification.scope === 'national' ? ` ${classification.scope}` : '';
  return `${where}${type}${scope}, risk ${classification.risk}`;
}
