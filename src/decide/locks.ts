/**
 * Locked endpoints in memory, as the policy engine reads them (LockView): for replays and the
 * benchmark, where an enforced lock must refuse later calls. The live agent reads the store instead.
 */
import { joinLocks } from '../domain/locks.js';
import type { LockInfo, LockView } from '../policy/types.js';

export class LockTable implements LockView {
  private readonly locks = new Map<string, LockInfo>();

  lockOf(endpoint: string, now: number): LockInfo | undefined {
    const lock = this.locks.get(endpoint);
    if (!lock) return undefined;
    if (lock.until !== undefined && lock.until <= now) {
      this.locks.delete(endpoint);
      return undefined;
    }
    return lock;
  }

  /** As the store does: a lock of an endpoint locked already joins the lock in force. */
  lock(info: LockInfo): void {
    this.locks.set(info.endpoint, joinLocks(this.locks.get(info.endpoint), info));
  }
}
