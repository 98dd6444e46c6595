/**
 * The agent's database as the admin commands (lock, unlock, locks, trust-address, addresses) use
 * it: the file of the configuration they are given (--config, TOLLGATE_DB — as `tollgate run`),
 * never a new one (that would be a database no agent reads), named in their output with a warning
 * when no running agent uses it (the agent's heartbeat note in the database: store/agent-marker.ts).
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { agentOnDatabase } from '../store/agent-marker.js';
import { Store } from '../store/store.js';

/** Opens the agent's database; throws when the file does not exist. */
export function openAgentDatabase(file: string): Store {
  if (file === ':memory:' || !existsSync(file)) {
    throw new ConfigError(`no Tollgate database at ${file}: the agent has never run with this configuration. Give the same --config as \`tollgate run\` (or TOLLGATE_DB=<the agent's db.file>)`);
  }
  return new Store(file);
}

export function withAgentDatabase<T>(file: string, work: (store: Store) => T): T {
  const store = openAgentDatabase(file);
  try {
    return work(store);
  } finally {
    store.close();
  }
}

/** Which database, and whether a running agent uses it. */
export function agentDatabaseLines(store: Store, now: number): string[] {
  const lines = [`database: ${store.file}`];
  const { state, marker } = agentOnDatabase(store, now);
  if (state === 'never' || !marker) lines.push('WARNING: no agent has ever run on this database: is it the one `tollgate run` uses (db.file / TOLLGATE_DB)?');
  else if (state === 'stopped') lines.push(`WARNING: the agent that uses this database stopped at ${marker.stoppedAt}: the change takes effect when it starts again`);
  else if (state === 'silent') lines.push(`WARNING: no running agent uses this database (last heard of at ${marker.seenAt}, pid ${marker.pid} on ${marker.host}): the change takes effect when it runs again`);
  else lines.push(`agent running on it: pid ${marker.pid} on ${marker.host}, since ${marker.startedAt}`);
  return lines;
}
