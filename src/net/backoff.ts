/**
 * Reconnect and retry pacing shared by the AMI client, the ARI events client and the mail outbox:
 * exponential backoff with "equal jitter" (half fixed, half random), capped — so a fleet of agents
 * does not hammer a PBX or a mail relay in step after an outage.
 */

/** Delay before retry number `attempt + 1` (attempt 0 = the first retry): base × 2^attempt, capped, jittered. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt)));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}
