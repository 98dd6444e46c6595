/**
 * Derived transcripts: a real capture with numbers, endpoints and times changed, so a policy can be
 * tested on a case no recording shows (a premium number at 23:00, two calls at once) while every
 * event keeps the exact shape a real Asterisk sent. A recipe says how; the result is reproducible
 * byte for byte, so the recipe stored beside a derived file proves how it was made.
 *
 *   steps:
 *     - from: ../../fixtures/ami/intl-call-cuba.timestamped.ami
 *       replace: { "011535551234": "00449098790123" }   # whole tokens, in every value
 *       start: 2026-11-23T22:15:00Z                     # first event moves here, the rest keep their pace
 *       idOffset: 100                                   # Uniqueids/channel numbers shifted: steps can reuse a capture
 *       dropEvents: [SuccessfulAuth]                    # optional
 *       keepEvents: [InvalidAccountID]                  # optional: only these
 *       repeat: { times: 3, everySeconds: 10 }          # optional: the step again, later, with fresh ids
 *       hold: { afterEvent: BridgeEnter, occurrence: 2, seconds: 7200 }
 *                                                       # optional: a pause after the 2nd BridgeEnter; every later
 *                                                       # event of the step happens 7200 s later (a long call)
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AmiMessage, type AmiField } from '../ami/message.js';
import { mergeEntries } from './call-events.js';
import { formatEpochMicros, formatEventTv, parseEpochMicros, parseEventTv } from './timestamps.js';
import { formatTranscript, parseTranscript, type TranscriptEntry } from './transcript.js';

export interface DerivationStep {
  from: string;
  replace?: Record<string, string>;
  start?: string;
  idOffset?: number;
  dropEvents?: string[];
  keepEvents?: string[];
  repeat?: { times: number; everySeconds: number };
  hold?: DerivationHold;
}

/**
 * A pause inserted into a capture: the events after the `occurrence`-th `afterEvent` (default the
 * first) move `seconds` later, and so do the times printed inside them that fall after the pause
 * (CDR EndTime, Duration and BillableSeconds; Uniqueids of channels created after it).
 */
export interface DerivationHold {
  afterEvent: string;
  occurrence?: number;
  seconds: number;
}

export interface DerivationRecipe {
  steps: DerivationStep[];
}

const ID_KEYS = /^(Dest|LocalOne|LocalTwo|Transferer|Transferee|SecondTransferer)?(Uniqueid|Linkedid)$|^UniqueID$/i;
const CHANNEL_KEYS = /^(Dest|LocalOne|LocalTwo)?Channel$|^DestinationChannel$|^Peer$|^Newname$/i;
const BRIDGE_KEYS = /^(BridgeUniqueid|BridgeId)$/i;
const CDR_TIME_KEYS = /^(StartTime|AnswerTime|EndTime)$/i;
const UNIQUEID = /^(.*?)(\d{9,11})\.(\d+)$/;
const CHANNEL_SEQUENCE = /-([0-9a-f]{8})(;[12])?$/;

/** Builds the transcript text a recipe describes; `baseDir` resolves the steps' `from` paths. */
export function deriveTranscript(recipe: DerivationRecipe, baseDir: string): string {
  const lists: TranscriptEntry[][] = [];
  for (const step of recipe.steps) {
    const source = parseTranscript(readFileSync(resolve(baseDir, step.from)));
    const times = step.repeat?.times ?? 1;
    for (let round = 0; round < times; round++) {
      const extraSeconds = round * (step.repeat?.everySeconds ?? 0);
      const extraIds = round * 1000;
      lists.push(deriveEntries(source, step, extraSeconds, extraIds));
    }
  }
  return formatTranscript(mergeEntries(...lists));
}

export function deriveEntries(source: readonly TranscriptEntry[], step: DerivationStep, extraSeconds = 0, extraIds = 0): TranscriptEntry[] {
  const first = source.find((entry) => entry.time > 0)?.time ?? 0;
  const start = step.start !== undefined ? Date.parse(step.start) : first;
  if (!Number.isFinite(start)) throw new Error(`derive: start "${step.start}" is not an ISO 8601 time`);
  const shiftMs = start - first + extraSeconds * 1000;
  const idOffset = (step.idOffset ?? 0) + extraIds;
  const replacements = Object.entries(step.replace ?? {}).map(([from, to]) => ({ pattern: tokenPattern(from), to }));
  const keep = step.keepEvents ? new Set(step.keepEvents) : undefined;
  const drop = new Set(step.dropEvents ?? []);
  const pause = step.hold ? locatePause(source, step.hold) : NO_PAUSE;
  return source
    .map((entry, index) => ({ entry, held: index > pause.index }))
    .filter(({ entry }) => !drop.has(entry.message.name) && (!keep || keep.has(entry.message.name)))
    .map(({ entry, held }) => {
      const eventShiftMs = shiftMs + (held ? pause.ms : 0);
      const shifts: Shifts = { eventMs: eventShiftMs, valueMs: (sourceMs) => shiftMs + pause.after(sourceMs), idOffset };
      const fields: AmiField[] = entry.message.fields.map(([key, value]) => [key, rewrite(key, value, shifts, replacements)]);
      if (pause.ms > 0 && entry.message.name === 'Cdr') stretchCdrDurations(entry.message.fields, fields, pause);
      return { message: new AmiMessage(fields), time: entry.time + eventShiftMs, timed: entry.timed };
    });
}

interface Pause {
  /** Source index of the event the pause follows (events after it move). */
  index: number;
  ms: number;
  /** Extra shift of a time printed inside an event: the pause, when that time is after it. */
  after(sourceMs: number): number;
}

const NO_PAUSE: Pause = { index: Number.POSITIVE_INFINITY, ms: 0, after: () => 0 };

function locatePause(source: readonly TranscriptEntry[], hold: DerivationHold): Pause {
  const occurrence = hold.occurrence ?? 1;
  if (!Number.isInteger(occurrence) || occurrence < 1) throw new Error(`derive: hold.occurrence must be a whole number from 1 (got ${String(hold.occurrence)})`);
  if (typeof hold.seconds !== 'number' || !Number.isFinite(hold.seconds) || hold.seconds <= 0) throw new Error(`derive: hold.seconds must be a positive number of seconds (got ${String(hold.seconds)})`);
  let seen = 0;
  const index = source.findIndex((entry) => entry.message.name === hold.afterEvent && ++seen === occurrence);
  if (index < 0) throw new Error(`derive: hold.afterEvent: the capture has ${seen} ${hold.afterEvent} event(s), not ${occurrence}`);
  const ms = hold.seconds * 1000;
  // Printed times with whole seconds (CDR times, Uniqueids) are after the pause only from the next second on.
  const pausedAt = source[index]!.time;
  return { index, ms, after: (sourceMs) => (sourceMs > pausedAt && Math.floor(sourceMs / 1000) > Math.floor(pausedAt / 1000) ? ms : 0) };
}

/** CDR Duration / BillableSeconds grow by the pause when it falls between their start and end. */
function stretchCdrDurations(original: readonly AmiField[], fields: AmiField[], pause: Pause): void {
  const timeOf = (name: string): number | undefined => {
    const value = original.find(([key]) => key.toLowerCase() === name)?.[1];
    const ms = value ? Date.parse(`${value.replace(' ', 'T')}Z`) : Number.NaN;
    return Number.isFinite(ms) ? ms : undefined;
  };
  const end = timeOf('endtime');
  if (end === undefined) return;
  const grow = (from: number | undefined) => (from === undefined ? 0 : Math.round((pause.after(end) - pause.after(from)) / 1000));
  const growth: Record<string, number> = { duration: grow(timeOf('starttime')), billableseconds: grow(timeOf('answertime')) };
  fields.forEach(([key, value], index) => {
    const extra = growth[key.toLowerCase()];
    if (extra && /^\d+$/.test(value)) fields[index] = [key, String(Number(value) + extra)];
  });
}

interface Shifts {
  /** Shift of the event's own time (Timestamp, EventTV). */
  eventMs: number;
  /** Shift of a time printed inside the event, by its value (CDR times, SessionTV, Uniqueids). */
  valueMs: (sourceMs: number) => number;
  idOffset: number;
}

function rewrite(key: string, value: string, shifts: Shifts, replacements: { pattern: RegExp; to: string }[]): string {
  let result = value;
  const { idOffset } = shifts;
  if (key === 'Timestamp') {
    const ms = parseEpochMicros(value);
    if (ms !== undefined) return formatEpochMicros(ms + shifts.eventMs);
  }
  if (key === 'EventTV') {
    const ms = parseEventTv(value);
    if (ms !== undefined) return formatEventTv(ms + shifts.eventMs);
  }
  if (key === 'SessionTV' && !value.startsWith('1970')) {
    const ms = parseEventTv(value);
    if (ms !== undefined) return formatEventTv(ms + shifts.valueMs(ms));
  }
  if (CDR_TIME_KEYS.test(key) && value) {
    // The lab's Asterisk writes CDR times in UTC (its EventTV offset is +0000).
    const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
    if (Number.isFinite(ms)) return new Date(ms + shifts.valueMs(ms)).toISOString().replace('T', ' ').slice(0, 19);
  }
  if (ID_KEYS.test(key)) {
    const match = UNIQUEID.exec(value);
    if (match) {
      // A Uniqueid starts with its channel's creation time (epoch seconds).
      const created = Number(match[2]);
      result = `${match[1]}${created + Math.round(shifts.valueMs(created * 1000) / 1000)}.${Number(match[3]) + idOffset}`;
    }
  }
  if (idOffset !== 0 && (CHANNEL_KEYS.test(key) || key === 'DestinationChannel')) result = shiftChannelSequence(result, idOffset);
  if (idOffset !== 0 && BRIDGE_KEYS.test(key) && /^[0-9a-f-]{36}$/.test(result)) {
    result = result.slice(0, 24) + ((Number.parseInt(result.slice(24), 16) + idOffset) % 2 ** 48).toString(16).padStart(12, '0');
  }
  for (const { pattern, to } of replacements) result = result.replace(pattern, to);
  return result;
}

function shiftChannelSequence(channel: string, offset: number): string {
  return channel.replace(CHANNEL_SEQUENCE, (_match, hex: string, half: string | undefined) => `-${(Number.parseInt(hex, 16) + offset).toString(16).padStart(8, '0')}${half ?? ''}`);
}

/** A token: not glued to other digits or letters (so `1001` does not hit `10011` or `A1001`). */
function tokenPattern(token: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z])${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`, 'g');
}

/** Loads a recipe-bearing file's steps relative to that file. */
export function deriveFromFile(recipe: DerivationRecipe, recipeFile: string): string {
  return deriveTranscript(recipe, dirname(recipeFile));
}
