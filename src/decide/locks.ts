/**
 * Locked endpoints, as the policy engine reads them (LockView). In memory here; the store persists
 * them (and mirrors them to AstDB) so a lock survives restarts.
 */
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

  lock(info: LockInfo): void {
    this.locks.set(info.endpoint, info);
  }

  unlock(endpoint: string): boolean {
    return this.locks.delete(endpoint);
  }

  list(now: number): LockInfo[] {
    return [...this.locks.keys()].flatMap((endpoint) => {
      const lock = this.lockOf(endpoint, now);
      return lock ? [lock] : [];
    });
  }
}
