/**
 * Runs every row of test/fixtures/numbers/dialled.tsv through the classifier with the shipped risk
 * lists. The file documents its own format and the PBX profiles it uses.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import type { Classifier, NumberingConfigInput } from '../../../src/numbers/index.js';

const fixtureFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/numbers/dialled.tsv');

interface Row {
  line: number;
  pbx: string;
  input: string;
  e164: string;
  country: string;
  type: string;
  valid: string;
  scope: string;
  risk: string;
  note: string;
}

function readFixture(): { rows: Row[]; profiles: Map<string, NumberingConfigInput> } {
  const rows: Row[] = [];
  const profiles = new Map<string, NumberingConfigInput>();
  readFileSync(fixtureFile, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const profile = /^# profile (\S+) (.+)$/.exec(text);
      if (profile) {
        profiles.set(profile[1]!, JSON.parse(profile[2]!) as NumberingConfigInput);
        return;
      }
      if (text.trim() === '' || text.startsWith('#')) return;
      const fields = text.split('\t');
      if (fields.length !== 9) throw new Error(`${fixtureFile}:${index + 1}: expected 9 tab-separated fields, got ${fields.length}`);
      const [pbx, rawInput, e164, country, type, valid, scope, risk, note] = fields as [string, string, string, string, string, string, string, string, string];
      const input = rawInput.startsWith('"') ? (JSON.parse(rawInput) as string) : rawInput;
      rows.push({ line: index + 1, pbx, input, e164, country, type, valid, scope, risk, note });
    });
  return { rows, profiles };
}

const { rows, profiles } = readFixture();
const riskLists = loadRiskLists();
const classifiers = new Map<string, Classifier>();

function classifierFor(pbx: string): Classifier {
  let classifier = classifiers.get(pbx);
  if (!classifier) {
    const numbering = profiles.get(pbx) ?? { homeCountry: pbx };
    classifier = createClassifier({ numbering, riskLists });
    classifiers.set(pbx, classifier);
  }
  return classifier;
}

describe('dialled-string fixture', () => {
  test('covers at least 150 dialled strings, 25 countries and emergency numbers of 10 countries', () => {
    expect(rows.length).toBeGreaterThanOrEqual(150);
    const countries = new Set(rows.map((row) => row.country).filter((country) => country !== '-'));
    expect(countries.size).toBeGreaterThanOrEqual(25);
    const emergencyHomes = new Set(rows.filter((row) => row.scope === 'emergency').map((row) => classifierFor(row.pbx).config.homeCountry));
    expect(emergencyHomes.size).toBeGreaterThanOrEqual(10);
  });

  test('covers every pitfall of the issue', () => {
    const has = (predicate: (row: Row) => boolean): boolean => rows.some(predicate);
    // +1 outside the home NANP country, Crown dependencies, non-geographic ranges, invalid numbers, lengths.
    for (const country of ['JM', 'DO', 'TT', 'BS']) expect(has((row) => row.pbx === 'us' && row.country === country && row.scope === 'international')).toBe(true);
    for (const country of ['IM', 'JE', 'GG']) expect(has((row) => row.pbx === 'gb' && row.country === country && row.scope === 'international')).toBe(true);
    for (const code of ['+881', '+882', '+883', '+888']) expect(has((row) => row.e164.startsWith(code))).toBe(true);
    expect(has((row) => row.valid === 'no' && row.country !== '-' && row.risk === 'high')).toBe(true);
    expect(has((row) => row.note.includes('too short'))).toBe(true);
    expect(has((row) => row.note.includes('too long') || row.note.includes('40 digits'))).toBe(true);
    expect(has((row) => row.input === '9911' && row.scope === 'emergency')).toBe(true);
    for (const prefix of ['PJSIP/', 'SIP/', 'IAX2/', 'Local/', 'tel:', 'sip:', '+']) expect(has((row) => row.input.startsWith(prefix))).toBe(true);
  });

  test.each(rows.map((row) => [`line ${row.line}: ${row.pbx} ${JSON.stringify(row.input)} (${row.note})`, row] as const))('%s', (_name, row) => {
    const result = classifierFor(row.pbx).classify(row.input);
    expect({
      e164: result.e164 ?? '-',
      country: result.country ?? '-',
      type: result.type,
      valid: result.valid ? 'yes' : 'no',
      scope: result.scope,
      risk: result.risk,
    }).toEqual({ e164: row.e164, country: row.country, type: row.type, valid: row.valid, scope: row.scope, risk: row.risk });
    expect(result.input).toBe(row.input);
    expect(result.reasons.length).toBeGreaterThan(0);
    // Invalid numbers are never "safe", whatever else applies.
    if (!result.valid && result.scope !== 'special') expect(['high', 'critical']).toContain(result.risk);
  });
});
