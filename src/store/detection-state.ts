/**
 * Detection state that survives a restart: every policy's windows, buckets and "already fired"
 * marks, the decider's hang-ups and the address memory's recent logins are written to the store as
 * JSON, all parts in one transaction, on a timer — never on the path of an event. After a kill -9
 * the agent continues from the last checkpoint (at most about `intervalMs` old), so an attack in
 * progress is not counted from zero again and a compromise keeps the window in which its calls
 * are hung up.
 *
 * The parts stay plain data in and out (`snapshot()`/`restore()` of the engine, decider and
 * address memory): detection does no I/O, this module does.
 */
import type { Clock } from '../clock.js';
import type { Decider, DeciderSnapshot } from '../decide/decider.js';
import type { Logger } from '../log.js';
import type { EngineSnapshot, PolicyEngine } from '../policy/engine.js';
import type { AddressMemory, AddressMemorySnapshot } from '../profile/addresses.js';
import type { Store } from './store.js';

export interface DetectionStateOptions {
  store: Store;
  engine: PolicyEngine;
  decider: Decider;
  addresses: AddressMemory;
  clock: Clock;
  logger: Logger;
  /** Checkpoint at most this often while detection state changes. @default 1000 */
  intervalMs?: number;
  /**
   * Most of the time spent writing checkpoints (a flood fills the bounded maps: a checkpoint then
   * takes longer, and is written less often). @default 0.02 (2 %)
   */
  maxShare?: number;
}

export interface DetectionStateStats {
  saves: number;
  /** Bytes of JSON in the last checkpoint. */
  lastBytes: number;
  /** Milliseconds the last checkpoint took in all (serialise + write). */
  lastMs: number;
  /** The longest the last checkpoint held the event loop at once (it works one policy per turn). */
  lastBlockMs: number;
  lastSavedAt: number | undefined;
  failures: number;
}

const PARTS = ['engine', 'decider', 'addresses'] as const;

export class DetectionState {
  readonly stats: DetectionStateStats = { saves: 0, lastBytes: 0, lastMs: 0, lastBlockMs: 0, lastSavedAt: undefined, failures: 0 };
  private readonly options: DetectionStateOptions;
  private readonly intervalMs: number;
  private readonly maxShare: number;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private changed = false;
  private running = false;
  /** A checkpoint taken in slices is under way. */
  private saving = false;
  /** Bumped by stop(): a sliced checkpoint started before it is abandoned. */
  private generation = 0;
  /** performance.now() when the last checkpoint ended. */
  private lastEnded = Number.NEGATIVE_INFINITY;

  constructor(options: DetectionStateOptions) {
    this.options = options;
    this.intervalMs = options.intervalMs ?? 1000;
    this.maxShare = options.maxShare ?? 0.02;
  }

  /**
   * Gives every part what the store saved (call once, before the first event). A part that cannot
   * be read is logged and starts empty: the agent guards from a fresh count rather than not at all.
   */
  restore(): void {
    const { store, engine, decider, addresses, clock, logger } = this.options;
    const now = clock.now();
    const saved = store.detectionState();
    for (const part of PARTS) {
      const row = saved.get(part);
      if (!row) continue;
      try {
        const state: unknown = JSON.parse(row.state);
        if (part === 'engine') engine.restore(state as EngineSnapshot, now);
        else if (part === 'decider') decider.restoreSnapshot(state as DeciderSnapshot, now);
        else addresses.restoreRecent(state as AddressMemorySnapshot);
      } catch (error) {
        logger.warn({ part, err: error instanceof Error ? error.message : String(error) }, 'saved detection state could not be read; this part starts empty');
      }
    }
    const savedAt = saved.get('engine')?.savedAt;
    if (savedAt !== undefined) logger.info({ savedAt: new Date(savedAt).toISOString(), ageMs: now - savedAt }, 'detection state restored');
  }

  /** Something was evaluated: the next checkpoint has work to do. */
  markChanged(): void {
    this.changed = true;
  }

  /** A finding was made: checkpoint right after this turn of the event loop (not on the event's path). */
  saveSoon(): void {
    this.changed = true;
    // Within the time share (a flood of findings): the timer writes it.
    if (!this.running || this.immediate || performance.now() - this.lastEnded < this.stats.lastMs / this.maxShare) return;
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      void this.saveInSlices();
    });
  }

  start(): void {
    this.running = true;
    this.arm(this.intervalMs);
  }

  /** Stops the timer and writes a last checkpoint (clean stop). */
  stop(): void {
    // A checkpoint abandoned half-way wrote nothing: the last one is written whatever changed.
    const interrupted = this.saving;
    this.running = false;
    this.generation++;
    this.saving = false;
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.timer = undefined;
    if (!this.changed && !interrupted) return;
    try {
      this.save();
    } catch (error) {
      this.failed(error);
    }
  }

  /** Writes every part now, in one transaction (clean stop, tests). */
  save(): void {
    const { engine, decider, addresses, clock } = this.options;
    const started = performance.now();
    const now = clock.now();
    this.changed = false;
    this.write({ engine: JSON.stringify(engine.snapshot(now)), decider: JSON.stringify(decider.snapshot(now)), addresses: JSON.stringify(addresses.snapshotRecent()) }, now, performance.now() - started, performance.now() - started);
  }

  /**
   * The timer's checkpoint: one policy serialised per turn of the event loop, so events (a fraud
   * call's DialBegin) are judged between the slices; then every part written in one transaction.
   * Each policy's part is consistent in itself; the parts may be a few milliseconds apart.
   */
  private async saveInSlices(): Promise<void> {
    if (this.saving || !this.changed) return;
    const { engine, decider, addresses, clock } = this.options;
    const generation = this.generation;
    this.saving = true;
    this.changed = false;
    let total = 0;
    let block = 0;
    const slice = <T>(work: () => T): T => {
      const started = performance.now();
      const result = work();
      const spent = performance.now() - started;
      total += spent;
      block = Math.max(block, spent);
      return result;
    };
    try {
      const now = clock.now();
      const policies: string[] = [];
      for (const id of engine.statefulPolicies()) {
        await nextTurn();
        if (generation !== this.generation) return;
        const part = slice(() => {
          const snapshot = engine.snapshotPolicy(id, now);
          return snapshot ? `${JSON.stringify(id)}:${JSON.stringify(snapshot)}` : undefined;
        });
        if (part) policies.push(part);
      }
      // The other parts one per turn as well, and the write alone in its own.
      const parts: (() => string)[] = [
        () => `{"policies":{${policies.join(',')}},"condemned":${JSON.stringify(engine.snapshotCondemned(now))}}`,
        () => JSON.stringify(decider.snapshot(now)),
        () => JSON.stringify(addresses.snapshotRecent()),
      ];
      const texts: string[] = [];
      for (const part of parts) {
        await nextTurn();
        if (generation !== this.generation) return;
        texts.push(slice(part));
      }
      await nextTurn();
      if (generation !== this.generation) return;
      slice(() => this.write({ engine: texts[0]!, decider: texts[1]!, addresses: texts[2]! }, now, 0, 0));
      this.stats.lastMs = total;
      this.stats.lastBlockMs = block;
    } catch (error) {
      this.changed = true;
      this.failed(error);
    } finally {
      if (generation === this.generation) this.saving = false;
    }
  }

  private write(parts: { engine: string; decider: string; addresses: string }, now: number, totalMs: number, blockMs: number): void {
    const started = performance.now();
    this.options.store.saveDetectionState(parts, now);
    this.stats.saves++;
    this.stats.lastBytes = parts.engine.length + parts.decider.length + parts.addresses.length;
    this.stats.lastMs = totalMs + performance.now() - started;
    this.stats.lastBlockMs = blockMs + performance.now() - started;
    this.stats.lastSavedAt = now;
    this.lastEnded = performance.now();
    this.options.logger.debug({ bytes: this.stats.lastBytes }, 'detection state saved');
  }

  private failed(error: unknown): void {
    // A full disk must not stop the guard: the state stays in memory, the next checkpoint retries.
    this.stats.failures++;
    this.options.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'detection state checkpoint failed; retrying at the next one');
  }

  private arm(delayMs: number): void {
    this.timer = setTimeout(() => {
      void this.saveInSlices().finally(() => {
        if (!this.running) return;
        // A checkpoint that took long (a flood filled the maps) waits longer: at most maxShare of the time.
        this.arm(Math.max(this.intervalMs, this.stats.lastMs / this.maxShare));
      });
    }, delayMs);
    this.timer.unref();
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
