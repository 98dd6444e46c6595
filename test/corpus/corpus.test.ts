/**
 * Clock independence, proven: every labelled case (test/policies/*, test/corpus) replayed with the
 * whole shipped policy set on a working day at 10:00 and 22:00 and on a Sunday at 15:00. Fraud and
 * restricted traffic must be stopped at every position; legitimate and emergency traffic left alone
 * at every position. `npm run corpus` prints the same table.
 */
import { readFileSync } from 'node:fs';
import { collectCorpusCases, corpusLabels, DEFAULT_CORPUS_DIRS, formatCorpusTable, runCorpus, type CorpusResult } from '../../src/corpus/runner.js';
import { CORPUS_CASES_DIR, derivedCaptures } from '../../src/corpus/cases.js';

describe('corpus labels', () => {
  const keys = collectCorpusCases(DEFAULT_CORPUS_DIRS).map((corpusCase) => corpusCase.key);
  const labels = corpusLabels(DEFAULT_CORPUS_DIRS);

  test('every case has a label', () => {
    expect(keys.filter((key) => !labels.has(key))).toEqual([]);
  });

  test('every label names a case', () => {
    const known = new Set(keys);
    expect([...labels.keys()].filter((key) => !known.has(key))).toEqual([]);
  });
});

describe('corpus cases (test/corpus)', () => {
  const cases = collectCorpusCases([CORPUS_CASES_DIR]);

  test('derived transcripts are reproduced byte for byte by their recipe', () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const { testCase } of cases) {
      const derived = derivedCaptures(testCase);
      expect(derived.length).toBeGreaterThan(0);
      for (const capture of derived) {
        expect(capture.file).toMatch(/derived/);
        expect({ file: capture.path, text: capture.text }).toEqual({ file: capture.path, text: readFileSync(capture.path, 'utf8') });
      }
    }
  });
});

describe('the corpus with the shipped policies', () => {
  let result: CorpusResult;
  beforeAll(() => {
    result = runCorpus();
  }, 120_000);

  test('runs every case at every clock position without an error', () => {
    const errors = result.cases.flatMap((item) => item.cells.filter((cell) => cell.verdict === 'error').map((cell) => `${item.key} @ ${cell.position.label}: ${cell.error}`));
    expect(errors).toEqual([]);
    expect(result.cases.length).toBe(collectCorpusCases(DEFAULT_CORPUS_DIRS).length);
  });

  test('every fraud/restricted case is stopped and every legitimate/emergency case left alone, at every clock position', () => {
    if (!result.ok) throw new Error(formatCorpusTable(result).join('\n'));
  });
});
