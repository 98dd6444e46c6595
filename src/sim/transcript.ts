/**
 * Transcripts: raw AMI captures (`*.ami`, the bytes a client received) turned into the events a
 * simulator can broadcast again, each with the time it happened.
 *
 * Kept: every event that is not the answer to the recording client's own actions, in order,
 * unknown event names included. Dropped: the banner, every `Response:`-first message and every
 * event carrying an ActionID (login answer, CoreShowChannel items, ChannelHungup,
 * OriginateResponse, …), and anything that is not AMI — except the items of the lists the agent
 * itself feeds into its pipeline (`ContactList`, `ContactStatusDetail`: the User-Agent of each
 * registration, calls/contacts.ts), which are what the agent saw at that moment.
 */
import { readFile } from 'node:fs/promises';
import { decodeAll, encodeBanner, encodeMessage } from '../ami/codec.js';
import type { AmiMessage } from '../ami/message.js';
import { eventTime, withTimestamp } from './timestamps.js';

export interface TranscriptEntry {
  message: AmiMessage;
  /**
   * When it happened, in ms since the epoch: the event's `Timestamp:`, else its `EventTV:`, else
   * the time of the event before it (events before the first timed one take that first time;
   * 0 when nothing in the transcript is timed).
   */
  time: number;
  /** True when `time` came from this event's own headers. */
  timed: boolean;
}

/** Answers to actions that the agent turns into events of its own flow (kept in transcripts). */
const AGENT_FED_ITEMS: ReadonlySet<string> = new Set(['ContactList', 'ContactStatusDetail']);

/** Events of a capture, ready for `AmiSimulator.replay()`. */
export function parseTranscript(bytes: Buffer | string): TranscriptEntry[] {
  const events: AmiMessage[] = [];
  for (const frame of decodeAll(bytes)) {
    if (frame.type !== 'message') continue;
    const message = frame.message;
    if (message.kind !== 'event' || (message.actionId !== undefined && !AGENT_FED_ITEMS.has(message.name))) continue;
    events.push(message);
  }
  return timeEvents(events);
}

export async function loadTranscript(path: string): Promise<TranscriptEntry[]> {
  return parseTranscript(await readFile(path));
}

/** Gives each event its own time or the time of the previous one (see TranscriptEntry.time). */
export function timeEvents(events: readonly AmiMessage[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  let previous: number | undefined;
  let untimedLead = 0;
  for (const message of events) {
    const own = eventTime(message);
    if (own !== undefined) {
      if (previous === undefined) for (let i = 0; i < untimedLead; i++) entries[i]!.time = own;
      previous = own;
      entries.push({ message, time: own, timed: true });
    } else {
      if (previous === undefined) untimedLead++;
      entries.push({ message, time: previous ?? 0, timed: false });
    }
  }
  return entries;
}

export interface FormatTranscriptOptions {
  /** AMI version for the banner line; no banner when false. @default '11.0.0' */
  banner?: string | false;
  /** Add `Timestamp:` headers from each entry's time to events without one. @default true */
  timestamps?: boolean;
}

/** Writes entries back as capture bytes (for derived transcripts built with callEvents()). */
export function formatTranscript(entries: readonly TranscriptEntry[], options: FormatTranscriptOptions = {}): string {
  const banner = options.banner ?? '11.0.0';
  const timestamps = options.timestamps ?? true;
  let text = banner === false ? '' : encodeBanner(banner);
  for (const entry of entries) {
    const message = timestamps && !entry.message.has('Timestamp') ? withTimestamp(entry.message, entry.time) : entry.message;
    text += encodeMessage(message);
  }
  return text;
}
