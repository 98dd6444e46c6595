/**
 * The running agent's note in its own database: who runs on it, since when, last heard of when.
 * `tollgate lock/unlock/locks` read it to warn when the database they change has no agent reading
 * it (a wrong --config, or the agent is down). Kept in the database, not a pid file, so it works
 * whoever runs the command, in a container or beside it, as long as they share the file.
 */
import type { Store } from './store.js';

/** How often the agent renews the note. */
export const AGENT_HEARTBEAT_MS = 30_000;
const AGENT_MARKER_KEY = 'agent.running';

export interface AgentMarker {
  pid: number;
  host: string;
  /** ISO 8601. */
  startedAt: string;
  /** Last heartbeat, ISO 8601. */
  seenAt: string;
  /** Set by a clean stop, ISO 8601. */
  stoppedAt?: string;
  /** The status endpoint (host:port), when it listens. */
  http?: string;
}

export function writeAgentMarker(store: Store, marker: AgentMarker): void {
  store.setMeta(AGENT_MARKER_KEY, JSON.stringify(marker));
}

export function readAgentMarker(store: Store): AgentMarker | undefined {
  const text = store.meta(AGENT_MARKER_KEY);
  if (!text) return undefined;
  try {
    const marker = JSON.parse(text) as AgentMarker;
    return Number.isNaN(Date.parse(marker.seenAt)) ? undefined : marker;
  } catch {
    return undefined;
  }
}

/** What a CLI command on this database should know: running (heard of lately), stopped, or never seen. */
export function agentOnDatabase(store: Store, now: number): { state: 'running' | 'stopped' | 'silent' | 'never'; marker?: AgentMarker } {
  const marker = readAgentMarker(store);
  if (!marker) return { state: 'never' };
  if (marker.stoppedAt) return { state: 'stopped', marker };
  if (now - Date.parse(marker.seenAt) > 3 * AGENT_HEARTBEAT_MS) return { state: 'silent', marker };
  return { state: 'running', marker };
}
