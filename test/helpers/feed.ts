import { readFileSync } from 'node:fs';
import { parseTranscript } from '../../src/sim/transcript.js';
import type { AmiMessage } from '../../src/ami/message.js';
import { EventTimeline } from '../../src/calls/event-time.js';
import type { DomainEvent, SecurityEvent } from '../../src/calls/events.js';
import { CallTable, TrunkRegistry, type CallChange } from '../../src/calls/table.js';
import { CallTracker } from '../../src/calls/tracker.js';
import { ManualClock } from '../../src/clock.js';
import { fixturePath } from './fixtures.js';

/** The unsolicited events of a capture: what a PBX sends on its own, and the contact listings the agent feeds into its flow. */
export function captureEvents(name: string): AmiMessage[] {
  // What a replay broadcasts: the events, without the answers to the recording client's actions
  // (except the contact listings the agent feeds into its own flow: sim/transcript.ts).
  return parseTranscript(readFileSync(fixturePath('ami', name))).map((entry) => entry.message);
}

export interface FedCapture {
  table: CallTable;
  tracker: CallTracker;
  clock: ManualClock;
  events: DomainEvent[];
  security: SecurityEvent[];
  changes: CallChange[];
}

/** Feeds a capture straight into a tracker (no TCP), with event time taken from the capture. */
export function feedCapture(name: string, trunks: string[] = []): FedCapture {
  const clock = new ManualClock();
  const timeline = new EventTimeline(clock);
  const table = new CallTable({ trunks: new TrunkRegistry(trunks) });
  const tracker = new CallTracker({ table, clock });
  const fed: FedCapture = { table, tracker, clock, events: [], security: [], changes: [] };
  tracker.on('event', (event, changes) => {
    fed.events.push(event);
    if (event.type === 'security') fed.security.push(event);
    fed.changes.push(...changes);
  });
  for (const message of captureEvents(name)) tracker.ingest(message, timeline.timeOf(message));
  return fed;
}
