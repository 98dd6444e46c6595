/** Pieces shared by the commands: configuration loading with readable errors, number descriptions. */
import { loadConfig, type LoadedConfig } from '../config/load.js';
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
  if (options.country) env.TOLLGATE_NUMBERING_HOME_COUNTRY = options.country;
  for (const [name, value] of Object.entries(overrides)) if (value !== undefined) env[name] = value;
  return loadConfig(options.config ? { file: options.config, env } : { env });
}

/** `CU FIXED_LINE international, risk high` — a few words about a classified number. */
export function describeClassification(classification: Classification): string {
  if (classification.scope === 'internal') return 'internal';
  if (mayBeExtension(classification)) return 'short number: an extension or a service code until it dials out on a trunk';
  const where = classification.country ?? (classification.callingCode ? `+${classification.callingCode}` : classification.scope);
  const type = classification.type === 'UNKNOWN' ? '' : ` ${classification.type}`;
  const scope = classification.scope === 'international' || classification.scope === 'national' ? ` ${classification.scope}` : '';
  return `${where}${type}${scope}, risk ${classification.risk}`;
}
