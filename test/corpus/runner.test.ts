/** The corpus runner's parts: clock positions, the shift of a case's captures, and the verdicts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { caseCaptures, caseTranscripts, loadCasePolicy, policyCaseDirs, readCase, runCase, CORPUS_CASES_DIR } from '../../src/corpus/cases.js';
import { CLOCK_POSITIONS, judge, positionTime, shiftCaptures, type CorpusCall } from '../../src/corpus/runner.js';
import { replayTranscript } from '../../src/replay.js';
import { parseTranscript } from '../../src/sim/transcript.js';
import { createClassifier } from '../../src/numbers/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const [weekday10, weekday22, sunday15] = CLOCK_POSITIONS;

describe('clock positions', () => {
  test('a working day at 10:00 and 22:00 and a Sunday at 15:00, local time in the case\'s zone', () => {
    expect(new Date(positionTime(weekday10!, 'UTC')).toISOString()).toBe('2026-12-09T10:00:00.000Z');
    expect(new Date(positionTime(weekday22!, 'America/New_York')).toISOString()).toBe('2026-12-10T03:00:00.000Z');
    expect(new Date(positionTime(sunday15!, 'Europe/London')).toISOString()).toBe('2026-12-13T15:00:00.000Z');
    expect(new Date(positionTime(sunday15!, 'Australia/Sydney')).toISOString()).toBe('2026-12-13T04:00:00.000Z'); // AEDT, UTC+11
    expect(new Date(positionTime(weekday10!, 'UTC')).getUTCDay()).toBe(3);
    expect(new Date(positionTime(sunday15!, 'UTC')).getUTCDay()).toBe(0);
  });
});

describe('shiftCaptures', () => {
  const cuba = readFileSync(fixturePath('ami', 'intl-call-cuba.timestamped.ami'));
  const target = Date.parse('2026-12-09T22:00:00Z');

  test('lands the anchor (first timed event of the last capture) on the target second and moves every capture by the same whole seconds', () => {
    const history = readFileSync(join(CORPUS_CASES_DIR, 'derived-london-yesterday.ami'));
    const today = readFileSync(join(CORPUS_CASES_DIR, 'derived-london-today.ami'));
    const { texts, shiftMs, anchor } = shiftCaptures([history, today], target);
    expect(shiftMs % 1000).toBe(0);
    const before = [history, today].map((bytes) => parseTranscript(bytes));
    const after = texts.map((text) => parseTranscript(text));
    const firstTimed = after[1]!.find((entry) => entry.timed)!.time;
    expect(firstTimed).toBe(anchor);
    expect(Math.floor(anchor / 1000) * 1000).toBe(target);
    after.forEach((entries, capture) => {
      expect(entries).toHaveLength(before[capture]!.length);
      entries.forEach((entry, index) => expect(entry.time - before[capture]![index]!.time).toBe(shiftMs));
    });
  });

  test('Uniqueids, Linkedids and CDR times move with the events', () => {
    const { texts, shiftMs } = shiftCaptures([cuba], target);
    const seconds = shiftMs / 1000;
    const original = parseTranscript(cuba);
    const shifted = parseTranscript(texts[0]!);
    original.forEach((entry, index) => {
      const moved = shifted[index]!.message;
      for (const key of ['Uniqueid', 'Linkedid', 'DestUniqueid']) {
        const value = entry.message.get(key);
        if (!value) continue;
        const [epoch, sequence] = value.split('.');
        expect(moved.get(key)).toBe(`${Number(epoch) + seconds}.${sequence}`);
      }
      for (const key of ['StartTime', 'AnswerTime', 'EndTime']) {
        const value = entry.message.get(key);
        if (!value) continue;
        expect(moved.get(key)).toBe(new Date(Date.parse(`${value.replace(' ', 'T')}Z`) + shiftMs).toISOString().replace('T', ' ').slice(0, 19));
      }
    });
  });

  test('a shifted replay finds what the original does, shifted (the concurrency case with its own policy)', () => {
    const dir = policyCaseDirs().find((candidate) => candidate.id === 'international-concurrency')!;
    const testCase = dir.cases.find((candidate) => candidate.name === 'five-concurrent-international')!;
    const original = runCase(dir, testCase);
    const { texts, shiftMs } = shiftCaptures(caseCaptures(testCase), target);
    const shifted = replayTranscript(texts, { trunks: ['carrier'], policies: [loadCasePolicy(dir)], classifier: createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] } }), mode: 'enforce' });
    expect(original.findings.length).toBeGreaterThan(0);
    expect(shifted.findings.map((finding) => [finding.level, finding.at - shiftMs, finding.call?.dialled])).toEqual(original.findings.map((finding) => [finding.level, finding.at, finding.call?.dialled]));
  });

  test('a case may list several captures, each a file or { file, derived }', () => {
    const testCase = readCase(CORPUS_CASES_DIR, 'london-yesterday-and-today.case.yaml');
    expect(caseTranscripts(testCase).map((entry) => [entry.file, entry.derived !== undefined])).toEqual([
      ['derived-london-yesterday.ami', true],
      ['derived-london-today.ami', true],
    ]);
  });
});

describe('verdicts', () => {
  const call = (hungUp: boolean, index: number): CorpusCall => ({ linkedid: `1.${index}`, startedAt: index, hungUp, hungUpBy: hungUp ? ['p'] : [] });
  const outcome = (hangups: boolean[], extra: { locks?: number; firewalls?: number; alerts?: number } = {}) => ({
    calls: hangups.map((hungUp, index) => call(hungUp, index)),
    locks: Array.from({ length: extra.locks ?? 0 }, () => ({ endpoint: '1001', policy: 'p' })),
    firewalls: Array.from({ length: extra.firewalls ?? 0 }, () => ({ ip: '203.0.113.9', policy: 'p' })),
    alerts: extra.alerts ?? 0,
  });
  const fraud = { kind: 'fraud' as const, why: 'x' };
  const verdict = (hangups: boolean[], label: Parameters<typeof judge>[3], extra = {}) => {
    const cell = judge(weekday10!, 0, outcome(hangups, extra), label);
    return [cell.text, cell.ok];
  };

  test('fraud is stopped when a hang-up hits one of the first stopWithin calls and every later call is hung up too', () => {
    expect(verdict([false, true, true], fraud)).toEqual(['stopped (call 2 of 3)', true]);
    expect(verdict([false, true, true], { ...fraud, stopWithin: 1 })).toEqual(['NOT STOPPED (first hang-up: call 2 of 3)', false]);
    expect(verdict([true, false, true], fraud)).toEqual(['NOT STOPPED (call 2 of 3 went through)', false]);
    expect(verdict([false, false], fraud)).toEqual(['NOT STOPPED (0 of 2 hung up)', false]);
    expect(verdict([false], { kind: 'restricted', why: 'x' })).toEqual(['NOT STOPPED', false]);
  });

  test('with stopWithin n, every call from the n-th on is hung up; an earlier call stopped for its own destination does not oblige the ones between', () => {
    expect(verdict([true, false, false, true, true], { ...fraud, stopWithin: 4 })).toEqual(['stopped (call 1 of 5)', true]);
    expect(verdict([true, false, false, true, false], { ...fraud, stopWithin: 4 })).toEqual(['NOT STOPPED (call 5 of 5 went through)', false]);
    expect(verdict([false, false, true, true, true], { ...fraud, stopWithin: 3 })).toEqual(['stopped (call 3 of 5)', true]);
  });

  test('without calls, fraud is stopped by a firewall entry or a lock', () => {
    expect(verdict([], fraud, { firewalls: 1 })).toEqual(['stopped (firewall)', true]);
    expect(verdict([], fraud, { firewalls: 1, locks: 1 })).toEqual(['stopped (firewall + lock)', true]);
    expect(verdict([], fraud, { alerts: 2 })).toEqual(['NOT STOPPED', false]);
  });

  test('legitimate and emergency traffic is left alone (alerts are counted, not held against it)', () => {
    expect(verdict([false, false], { kind: 'legitimate', why: 'x' }, { alerts: 1 })).toEqual(['left alone, 1 alert', true]);
    expect(verdict([false, true], { kind: 'legitimate', why: 'x' })).toEqual(['HUNG UP (call 2 of 2)', false]);
    expect(verdict([false], { kind: 'emergency', why: 'x' }, { locks: 1 })).toEqual(['LOCKED 1001', false]);
    expect(verdict([false], undefined)).toEqual(['no label', false]);
  });
});
