/**
 * What a second lock of an endpoint that is already locked does: it joins the lock in force rather
 * than replacing it, so the admin still sees when and why the endpoint was first locked (`tollgate
 * locks`, the digest, the mails). The store and the replay's in-memory lock table both use it.
 */
import type { LockInfo } from '../policy/types.js';

/** Between the reasons of a joined lock. */
export const LOCK_REASON_SEPARATOR = '; ';
/** Between the policies of a joined lock (a lock taken by hand counts as `manual`). */
export const LOCK_POLICY_SEPARATOR = ', ';
/** The longest reason text a joined lock keeps (each reason is at most 300 characters). */
export const MAX_LOCK_REASON_LENGTH = 1000;

/**
 * The lock in force after `incoming` is taken while `existing` (the endpoint's stored lock, if any)
 * may still hold: the first `since`; both reasons and both policies, each once; the later `until`,
 * where no `until` (until unlocked) outlasts any. A lock that had expired by then is no lock: the new
 * one stands alone.
 */
export function joinLocks(existing: LockInfo | undefined, incoming: LockInfo): LockInfo {
  if (!existing || existing.endpoint !== incoming.endpoint || (existing.until !== undefined && existing.until <= incoming.since)) return incoming;
  const joined: LockInfo = {
    endpoint: existing.endpoint,
    since: Math.min(existing.since, incoming.since),
    reason: truncate(joinOnce(existing.reason, incoming.reason, LOCK_REASON_SEPARATOR), MAX_LOCK_REASON_LENGTH),
  };
  if (existing.until !== undefined && incoming.until !== undefined) joined.until = Math.max(existing.until, incoming.until);
  if (existing.policy !== undefined || incoming.policy !== undefined) joined.policy = joinOnce(existing.policy ?? 'manual', incoming.policy ?? 'manual', LOCK_POLICY_SEPARATOR);
  return joined;
}

/** `list` with `item` added at the end, unless it is already one of the list's items. */
function joinOnce(list: string, item: string, separator: string): string {
  return `${separator}${list}${separator}`.includes(`${separator}${item}${separator}`) ? list : `${list}${separator}${item}`;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
