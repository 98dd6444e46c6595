/**
 * Every policy kind and every shipped policy, proven by recordings: each case in
 * test/policies/<policy-id>/ replays its transcript through the real pipeline with only that policy
 * loaded and compares the findings (and decisions) with the expectation written beside it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { POLICY_KINDS } from '../../src/policy/registry.js';
import { decisionRecord, findingRecord } from '../../src/replay.js';
import { derivedCaptures, loadCasePolicy, policyCaseDirs, runCase, SHIPPED_POLICIES_DIR } from '../helpers/policy-cases.js';

const dirs = policyCaseDirs();
const same = (number: string | undefined) => number ?? '';

describe.each(dirs.map((dir) => [dir.id, dir] as const))('policy %s', (_id, caseDir) => {
  test.each(caseDir.cases.map((testCase) => [testCase.name, testCase] as const))('%s', (_name, testCase) => {
    const result = runCase(caseDir, testCase);
    const findings = result.findings.map((finding) => findingRecord(finding, same));
    const policyId = loadCasePolicy(caseDir).definition.id;
    const expected = testCase.expect.findings.map((finding) => ({ policy: policyId, ...finding }));
    expect(findings).toHaveLength(expected.length);
    findings.forEach((finding, index) => expect(finding).toMatchObject(expected[index]!));
    if (testCase.expect.decisions) {
      const decisions = result.decisions.map((decision) => decisionRecord(decision, same));
      expect(decisions).toHaveLength(testCase.expect.decisions.length);
      decisions.forEach((decision, index) => expect(decision).toMatchObject(testCase.expect.decisions![index]!));
    }
  });

  test('derived transcripts are reproduced byte for byte by their recipe', () => {
    // `transcript` + `derived`, and every `{ file, derived }` entry of `transcripts`.
    for (const testCase of caseDir.cases) {
      for (const derived of derivedCaptures(testCase)) {
        expect(derived.file).toMatch(/derived/);
        expect({ file: derived.path, text: derived.text }).toEqual({ file: derived.path, text: readFileSync(derived.path, 'utf8') });
      }
    }
  });
});

describe('policy coverage', () => {
  test('every kind in the registry is proven by at least one policy directory', () => {
    const provenKinds = new Set(dirs.filter((dir) => dir.cases.length > 0).map((dir) => loadCasePolicy(dir).definition.kind));
    expect(POLICY_KINDS.map((kind) => kind.kind).filter((kind) => !provenKinds.has(kind))).toEqual([]);
  });

  test('every shipped policy has its own directory of cases', () => {
    const shipped = readdirSync(SHIPPED_POLICIES_DIR)
      .filter((name) => name.endsWith('.yaml'))
      .map((name) => name.replace(/\.yaml$/, ''));
    const covered = new Set(dirs.filter((dir) => dir.shipped && dir.cases.length > 0).map((dir) => dir.id));
    expect(shipped.filter((id) => !covered.has(id))).toEqual([]);
  });

  test('every directory has a positive case and a negative one (a legitimate call left alone)', () => {
    for (const dir of dirs) {
      expect({ dir: dir.id, positive: dir.cases.some((testCase) => testCase.expect.findings.length > 0) }).toEqual({ dir: dir.id, positive: true });
      expect({ dir: dir.id, negative: dir.cases.some((testCase) => testCase.expect.findings.length === 0) }).toEqual({ dir: dir.id, negative: true });
    }
  });

  test('a shipped policy directory tests the shipped file, named by its id', () => {
    for (const dir of dirs.filter((candidate) => candidate.shipped)) expect(loadCasePolicy(dir).definition.id).toBe(dir.id);
  });
});
