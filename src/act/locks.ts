/**
 * Locking an endpoint: recorded in the store (the lock policy refuses the endpoint's new outbound
 * calls, and it survives restarts) and mirrored into AstDB as `tollgate/lock/<endpoint>`, so the
 * dialplan can refuse the endpoint even before Tollgate sees the call (README: dialplan snippet).
 * The mirror is rebuilt from the store after every (re)connect, so an unlock made while Asterisk was
 * unreachable still reaches it.
 */
import type { AmiActionResult } from '../ami/client.js';
import type { Clock } from '../clock.js';
import type { Decision } from '../decide/decider.js';
import { silentLogger, type Logger } from '../log.js';
import type { LockInfo } from '../policy/types.js';
import type { Store } from '../store/store.js';
import type { ActionOutcome } from './outcome.js';

export const ASTDB_LOCK_FAMILY = 'tollgate/lock';

export interface LockAmi {
  action(action: string, fields: Record<string, string>, options?: { timeoutMs?: number }): Promise<AmiActionResult>;
  readonly connected: boolean;
}

export interface LockerOptions {
  store: Store;
  ami?: LockAmi;
  /** Mirror into AstDB. @default true */
  astdb?: boolean;
  /** Lock expiry; undefined: until unlocked. */
  durationMs?: number;
  clock: Clock;
  logger?: Logger;
}

export class Locker {
  private readonly log: Logger;

  constructor(private readonly options: LockerOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'locks' });
  }

  async lock(decision: Decision): Promise<ActionOutcome> {
    const endpoint = decision.target.endpoint;
    if (!endpoint) return { decision, result: 'skipped', detail: 'no endpoint to lock' };
    const detail = await this.apply(endpoint, decision.finding.message, decision.policy, this.options.durationMs);
    return { decision, result: 'done', detail, undo: `tollgate unlock ${endpoint}` };
  }

  /** `tollgate lock`: an admin's own lock. */
  lockManually(endpoint: string, reason: string, durationMs?: number): Promise<string> {
    return this.apply(endpoint, reason, undefined, durationMs);
  }

  private async apply(endpoint: string, reason: string, policy: string | undefined, durationMs: number | undefined): Promise<string> {
    const now = this.options.clock.now();
    const info: LockInfo = { endpoint, since: now, reason: reason.slice(0, 300) };
    if (policy !== undefined) info.policy = policy;
    if (durationMs !== undefined) info.until = now + durationMs;
    // Locked already: the lock in force keeps when and why it was taken, and gains this reason.
    const { lock, joined } = this.options.store.lock(info);
    const until = lock.until !== undefined ? ` until ${new Date(lock.until).toISOString()}` : ' until unlocked';
    const mirror = await this.mirror(lock);
    if (joined) {
      this.log.warn({ endpoint, policy, lockedSince: joined.since, lockedBy: joined.policy ?? 'manual', until: lock.until }, `endpoint ${endpoint} was locked already: reason added`);
      return `Endpoint ${endpoint} was locked already (since ${new Date(joined.since).toISOString()}, ${joined.policy ?? 'manual'}): this reason added, locked${until}; its new outbound calls are refused${mirror}`;
    }
    this.log.warn({ endpoint, policy, until: lock.until }, `endpoint ${endpoint} locked`);
    return `Locked endpoint ${endpoint}${until}: its new outbound calls are refused${mirror}`;
  }

  /** Removes a lock (store and AstDB); false when the endpoint was not locked. */
  async unlock(endpoint: string): Promise<{ removed: boolean; astdb: string }> {
    const removed = this.options.store.unlock(endpoint);
    const astdb = await this.astdbAction('DBDel', { Family: ASTDB_LOCK_FAMILY, Key: endpoint }, 'removed from AstDB');
    return { removed, astdb };
  }

  /** Makes AstDB's `tollgate/lock` family match the store (after every (re)connect). */
  async syncAstDb(): Promise<void> {
    if (!this.astdbWanted) return;
    const locks = this.options.store.locks(this.options.clock.now());
    // DBDelTree answers an error when the family is empty: that is fine.
    await this.astdbAction('DBDelTree', { Family: ASTDB_LOCK_FAMILY }, 'cleared');
    for (const lock of locks) await this.mirror(lock);
    this.log.info({ locks: locks.map((lock) => lock.endpoint) }, 'AstDB locks synchronised');
  }

  private get astdbWanted(): boolean {
    return (this.options.astdb ?? true) && this.options.ami !== undefined;
  }

  private async mirror(lock: LockInfo): Promise<string> {
    if (!this.astdbWanted) return '';
    const value = `${new Date(lock.since).toISOString()}${lock.until !== undefined ? ` until ${new Date(lock.until).toISOString()}` : ''} ${lock.policy ?? 'manual'}`;
    const result = await this.astdbAction('DBPut', { Family: ASTDB_LOCK_FAMILY, Key: lock.endpoint, Val: value }, `mirrored in AstDB as ${ASTDB_LOCK_FAMILY}/${lock.endpoint}`);
    return result ? ` (${result})` : '';
  }

  private async astdbAction(action: string, fields: Record<string, string>, success: string): Promise<string> {
    const ami = this.options.ami;
    if (!this.astdbWanted || !ami) return '';
    if (!ami.connected) return 'AstDB not updated (AMI not connected; it will be on reconnect)';
    try {
      await ami.action(action, fields);
      return success;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (action === 'DBDelTree' || action === 'DBDel') return `AstDB: ${message}`;
      this.log.warn({ err: message }, `AstDB ${action} failed (the AMI user needs write=system); Tollgate itself still refuses the endpoint`);
      return `AstDB not updated: ${message}`;
    }
  }
}
