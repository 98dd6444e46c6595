/**
 * The policy directory of a running agent: loaded at start-up (an invalid set refuses to start),
 * reloaded on SIGHUP or when a file changes. A reload with any problem keeps the last good set
 * running and reports every problem — a typo must never switch protection off.
 */
import { watch, type FSWatcher } from 'node:fs';
import { formatIssue, ValidationError } from '../config/yaml-source.js';
import { silentLogger, type Logger } from '../log.js';
import type { LoadedPolicy } from './engine.js';
import { loadPolicyDir } from './loader.js';

export interface PolicySourceOptions {
  dir: string;
  logger?: Logger;
  /** Called with the new set after a successful reload. */
  onReload: (policies: LoadedPolicy[]) => void;
  /** Quiet time after the last file change before reloading (editors write in bursts). @default 500 */
  debounceMs?: number;
}

export class PolicySource {
  private readonly log: Logger;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: LoadedPolicy[] = [];
  readonly stats = { reloads: 0, rejectedReloads: 0 };

  constructor(private readonly options: PolicySourceOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'policies', dir: options.dir });
  }

  get policies(): LoadedPolicy[] {
    return this.current;
  }

  /** First load: throws a ValidationError listing every problem (the agent must not start). */
  load(): LoadedPolicy[] {
    const set = loadPolicyDir(this.options.dir);
    if (set.issues.length > 0) throw new ValidationError(set.issues, `invalid policies in ${this.options.dir}`);
    this.current = set.policies;
    this.log.info({ policies: set.policies.map((policy) => policy.definition.id) }, 'policies loaded');
    return set.policies;
  }

  /** Reloads; on any problem keeps the running set. Returns true when the new set is in force. */
  reload(reason: string): boolean {
    const set = loadPolicyDir(this.options.dir);
    if (set.issues.length > 0) {
      this.stats.rejectedReloads++;
      this.log.error(
        { reason, problems: set.issues.map(formatIssue), keeping: this.current.map((policy) => policy.definition.id) },
        `policy reload rejected (${set.issues.length} problem${set.issues.length === 1 ? '' : 's'}); the last good set stays in force`,
      );
      return false;
    }
    this.current = set.policies;
    this.stats.reloads++;
    this.log.info({ reason, policies: set.policies.map((policy) => policy.definition.id) }, 'policies reloaded');
    this.options.onReload(set.policies);
    return true;
  }

  /** Reloads when a file in the directory changes. */
  watch(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.options.dir, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload('file change'), this.options.debounceMs ?? 500);
      });
      this.watcher.on('error', (error) => this.log.warn({ err: error.message }, 'policy directory watch failed; reload with SIGHUP'));
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'cannot watch the policy directory; reload with SIGHUP');
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
