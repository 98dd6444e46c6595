import { deriveEntries, deriveTranscript, type DerivationStep } from '../../../src/sim/derive.js';
import { parseTranscript, type TranscriptEntry } from '../../../src/sim/transcript.js';
import { fixturePath } from '../../helpers/fixtures.js';
import { capture } from './harness.js';

const cuba = parseTranscript(capture('intl-call-cuba.timestamped.ami'));
const START = Date.parse('2026-11-24T10:00:00Z');
/** The capture's first timed event (the AMI login), which `start` moves. */
const FIRST = cuba.find((entry) => entry.time > 0)!.time;

function derive(step: Omit<DerivationStep, 'from'>): TranscriptEntry[] {
  return deriveEntries(cuba, { from: 'unused', start: '2026-11-24T10:00:00Z', ...step });
}

const named = (entries: TranscriptEntry[], name: string) => entries.filter((entry) => entry.message.name === name);
const cdrOf = (entries: TranscriptEntry[]) => named(entries, 'Cdr')[0]!.message;

describe('derive: hold (a pause inserted into a capture)', () => {
  const hold = { afterEvent: 'BridgeEnter', occurrence: 2, seconds: 7200 };
  const plain = derive({});
  const held = derive({ hold });
  const pausedAt = cuba.findIndex((entry, index) => entry.message.name === 'BridgeEnter' && cuba.slice(0, index).some((earlier) => earlier.message.name === 'BridgeEnter'));

  test('events up to the chosen one keep their time; every later event moves by the pause', () => {
    expect(held).toHaveLength(plain.length);
    held.forEach((entry, index) => {
      const expected = plain[index]!.time + (index > pausedAt ? 7_200_000 : 0);
      expect({ index, name: entry.message.name, time: entry.time }).toEqual({ index, name: plain[index]!.message.name, time: expected });
    });
    expect(held[pausedAt]!.message.name).toBe('BridgeEnter');
    expect(held[pausedAt + 1]!.time - held[pausedAt]!.time).toBeGreaterThanOrEqual(7_200_000);
  });

  test('the Timestamp header moves with the event', () => {
    const hangup = named(held, 'Hangup')[0]!;
    const original = named(cuba, 'Hangup')[0]!;
    expect(Number(hangup.message.get('Timestamp')) * 1000).toBeCloseTo(original.time + (START - FIRST) + 7_200_000, 0);
  });

  test('Uniqueids and Linkedids (channel creation times, before the pause) do not move', () => {
    const ids = (entries: TranscriptEntry[]) => [...new Set(entries.flatMap((entry) => [entry.message.get('Uniqueid'), entry.message.get('Linkedid')]).filter(Boolean))];
    expect(ids(held)).toEqual(ids(plain));
  });

  test('the CDR keeps its start and answer, ends after the pause, and its durations grow by it', () => {
    const before = cdrOf(plain);
    const after = cdrOf(held);
    expect(after.get('StartTime')).toBe(before.get('StartTime'));
    expect(after.get('AnswerTime')).toBe(before.get('AnswerTime'));
    expect(Date.parse(`${after.get('EndTime')!.replace(' ', 'T')}Z`) - Date.parse(`${before.get('EndTime')!.replace(' ', 'T')}Z`)).toBe(7_200_000);
    expect(Number(after.get('Duration'))).toBe(Number(before.get('Duration')) + 7200);
    expect(Number(after.get('BillableSeconds'))).toBe(Number(before.get('BillableSeconds')) + 7200);
    expect([before.get('Duration'), before.get('BillableSeconds')]).toEqual(['20', '20']);
  });

  test('occurrence defaults to the first such event', () => {
    const first = derive({ hold: { afterEvent: 'BridgeEnter', seconds: 60 } });
    const firstBridgeEnter = cuba.findIndex((entry) => entry.message.name === 'BridgeEnter');
    expect(first[firstBridgeEnter + 1]!.time - plain[firstBridgeEnter + 1]!.time).toBe(60_000);
    expect(first[firstBridgeEnter]!.time).toBe(plain[firstBridgeEnter]!.time);
  });

  test('works with dropped events and repeats: each round is paused alike', () => {
    const recipe = { steps: [{ from: 'ami/intl-call-cuba.timestamped.ami', start: '2026-11-24T10:00:00Z', dropEvents: ['VarSet'], hold, repeat: { times: 2, everySeconds: 30 } }] };
    const entries = parseTranscript(deriveTranscript(recipe, fixturePath()));
    const hangups = named(entries, 'Hangup').map((entry) => entry.time);
    const bridges = named(entries, 'BridgeEnter').map((entry) => entry.time);
    expect(named(entries, 'VarSet')).toHaveLength(0);
    expect(hangups).toHaveLength(4);
    // Round two starts 30 s later; both calls last 2 h 20 s from their bridge.
    expect(hangups[2]! - hangups[0]!).toBeCloseTo(30_000, 0);
    expect(Math.round((hangups[0]! - bridges[1]!) / 1000)).toBe(7220);
  });

  test('without a hold nothing changes (existing recipes stay byte for byte)', () => {
    const recipe = { steps: [{ from: 'ami/intl-call-cuba.timestamped.ami', start: '2026-11-24T10:00:00Z' }] };
    const text = deriveTranscript(recipe, fixturePath());
    expect(deriveTranscript({ steps: [{ ...recipe.steps[0]!, hold: undefined }] }, fixturePath())).toBe(text);
    const micros = (entries: TranscriptEntry[]) => entries.map((entry) => Math.round(entry.time * 1000));
    expect(micros(parseTranscript(text))).toEqual(micros(plain));
  });

  test('a derivation is reproducible', () => {
    const recipe = { steps: [{ from: 'ami/intl-call-cuba.timestamped.ami', start: '2026-11-24T10:00:00Z', hold }] };
    expect(deriveTranscript(recipe, fixturePath())).toBe(deriveTranscript(recipe, fixturePath()));
  });

  test('bad holds are refused with a clear message', () => {
    expect(() => derive({ hold: { afterEvent: 'BridgeEnter', occurrence: 3, seconds: 60 } })).toThrow('derive: hold.afterEvent: the capture has 2 BridgeEnter event(s), not 3');
    expect(() => derive({ hold: { afterEvent: 'Transfer', seconds: 60 } })).toThrow('the capture has 0 Transfer event(s), not 1');
    expect(() => derive({ hold: { afterEvent: 'BridgeEnter', seconds: 0 } })).toThrow('hold.seconds must be a positive number of seconds');
    expect(() => derive({ hold: { afterEvent: 'BridgeEnter', seconds: '2h' as unknown as number } })).toThrow('hold.seconds must be a positive number');
    expect(() => derive({ hold: { afterEvent: 'BridgeEnter', occurrence: 0, seconds: 60 } })).toThrow('hold.occurrence must be a whole number from 1');
  });
});
