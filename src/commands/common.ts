/** Pieces shared by the commands: configuration loading with readable errors, number descriptions. */
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Classification } from '../numbers/index.js';
import { mayBeExtension } from '../policy/engine.js';

/** Loads the configuration (file optional, TOLLGATE_* environment applied). Errors propagate to the CLI. */
export function configFromOptions(options: { config?: string; country?: string }): LoadedConfig {
  // --country goes through the schema like any setting, so derived values (IDD prefixes) follow it.
  const env = options.country ? { ...process.env, TOLLGATE_NUMBERING_HOME_COUNTRY: options.country } : process.env;
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
