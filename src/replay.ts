/**
 * Offline replay of an AMI transcript: the same normaliser and call table as the live agent,
 * driven by event time instead of the wall clock, so the output is the same on every run.
 */
import { EventTimeline } from './calls/event-time.js';
import type { DomainEvent } from './calls/events.js';
import { CallTable, TrunkRegistry, type CallChange } from './calls/table.js';
import { CallTracker } from './calls/tracker.js';
import { ManualClock } from './clock.js';
import { parseTranscript } from './sim/transcript.js';
import { TimelineReport, type TimelineOptions } from './report/timeline.js';

export interface ReplayOptions extends TimelineOptions {
  trunks?: string[];
}

export interface ReplayResult {
  /** Timeline lines, in event order. */
  lines: string[];
  summary: string[];
  /** Machine-readable records, one per timeline entry (for `--json`). */
  records: Record<string, unknown>[];
  table: CallTable;
  tracker: CallTracker;
  /** Event time of the last event. */
  endedAt: number;
}

export function replayTranscript(bytes: Buffer | string, options: ReplayOptions = {}): ReplayResult {
  const clock = new ManualClock();
  const timeline = new EventTimeline(clock);
  const table = new CallTable({ trunks: new TrunkRegistry(options.trunks ?? []) });
  const tracker = new CallTracker({ table, clock });
  const report = new TimelineReport(options);
  const records: Record<string, unknown>[] = [];
  const mask = options.mask ?? ((number: string | undefined) => number ?? '');
  tracker.on('event', (event, changes) => {
    report.add(event, changes);
    records.push(...toRecords(event, changes, mask));
  });
  for (const entry of parseTranscript(bytes)) tracker.ingest(entry.message, timeline.timeOf(entry.message));
  return { lines: report.text ? report.text.split('\n') : [], summary: report.summary(clock.now()), records, table, tracker, endedAt: clock.now() };
}

function toRecords(event: DomainEvent, changes: CallChange[], mask: (number: string | undefined) => string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  if (event.type === 'security') {
    records.push({
      kind: 'security',
      at: new Date(event.at).toISOString(),
      event: event.kind,
      service: event.service,
      account: event.accountId,
      ip: event.remote?.ip,
      port: event.remote?.port,
      severity: event.severity,
    });
  }
  for (const change of changes) {
    if (change.kind === 'leg.added' || change.kind === 'leg.ended' || change.kind === 'call.cdr') continue;
    const call = change.call;
    const record: Record<string, unknown> = {
      kind: change.kind,
      at: new Date(change.at).toISOString(),
      linkedid: call.linkedid,
      endpoint: call.sourceEndpoint,
      channel: call.origin.channel,
      dialled: call.dialled !== undefined ? mask(call.dialled) : undefined,
      trunk: call.outboundTrunk,
      direction: call.direction,
    };
    if (change.kind === 'dial.started' || change.kind === 'dial.ended' || change.kind === 'dial.answered') {
      record.destinationChannel = change.dial.destChannel;
      record.number = change.dial.number !== undefined ? mask(change.dial.number) : undefined;
      record.status = change.dial.status;
    }
    if (change.kind === 'call.ended') {
      record.cause = call.cause?.cause;
      record.causeText = call.cause?.causeText;
      record.answeredSeconds = Number(call.answeredSeconds(change.at).toFixed(3));
    }
    records.push(record);
  }
  return records;
}
