/**
 * The detection pipeline, one direction only: tracker (AMI → domain events + call table changes)
 * → policy engine (findings) → decider (decisions) → whoever acts. Used by the live agent and by
 * replay alike, so a replay shows exactly what the agent would have done.
 */
import type { DomainEvent } from './calls/events.js';
import type { CallChange } from './calls/table.js';
import type { CallTracker, ReconcileSummary } from './calls/tracker.js';
import type { Clock } from './clock.js';
import type { Decider, Decision } from './decide/decider.js';
import type { PolicyEngine } from './policy/engine.js';
import type { CostEntry, EngineInput, Finding } from './policy/types.js';

export interface PipelineResult {
  at: number;
  event?: DomainEvent;
  changes: CallChange[];
  findings: Finding[];
  decisions: Decision[];
  committed: CostEntry[];
  /** Nanoseconds from the input to the decisions (evaluation cost). */
  latencyNs: bigint;
}

export interface PipelineOptions {
  tracker: CallTracker;
  engine: PolicyEngine;
  decider: Decider;
  clock: Clock;
}

type Listener = (result: PipelineResult) => void;

export class Pipeline {
  private readonly listeners: Listener[] = [];
  private readonly onEvent = (event: DomainEvent, changes: CallChange[]): void => {
    this.run({ type: 'event', event, changes }, event);
  };
  private readonly onReconciled = (_summary: ReconcileSummary, changes: CallChange[]): void => {
    this.run({ type: 'reconciled', changes });
  };

  constructor(private readonly options: PipelineOptions) {
    options.tracker.on('event', this.onEvent);
    options.tracker.on('reconciled', this.onReconciled);
  }

  /** Results are delivered synchronously, in the same event-loop turn as the AMI event. */
  onResult(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** Time passes with calls up: budgets accrue, durations grow. Cheap when nothing is live. */
  tick(): PipelineResult | undefined {
    if (this.options.tracker.table.liveCallCount === 0) return undefined;
    return this.run({ type: 'tick' });
  }

  close(): void {
    this.options.tracker.off('event', this.onEvent);
    this.options.tracker.off('reconciled', this.onReconciled);
  }

  private run(input: EngineInput, event?: DomainEvent): PipelineResult {
    const started = process.hrtime.bigint();
    const { findings, committed } = this.options.engine.evaluate(input, this.options.tracker.table);
    const decisions = findings.length > 0 ? this.options.decider.decide(findings) : [];
    if (input.type !== 'tick') for (const change of input.changes) if (change.kind === 'call.forgotten') this.options.decider.forgetCall(change.call.linkedid);
    const result: PipelineResult = {
      at: this.options.clock.now(),
      changes: input.type === 'tick' ? [] : input.changes,
      findings,
      decisions,
      committed,
      latencyNs: process.hrtime.bigint() - started,
    };
    if (event) result.event = event;
    for (const listener of this.listeners) listener(result);
    return result;
  }
}
