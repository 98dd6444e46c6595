/**
 * Policy cases: test/policies/<policy-id>/ holds one `*.case.yaml` per transcript — the expected
 * findings beside the recording they come from. The case model lives in src/corpus/cases.ts (the
 * corpus runner uses it too); the tests import it from here.
 */
export {
  POLICY_CASES_DIR,
  SHIPPED_POLICIES_DIR,
  caseCaptures,
  caseConfig,
  caseLocks,
  caseTranscripts,
  derivedCaptures,
  loadCasePolicy,
  policyCaseDirs,
  readCase,
  runCase,
} from '../../src/corpus/cases.js';
export type { CaseTranscript, ExpectedPolicyCase, PolicyCase, PolicyCaseDir } from '../../src/corpus/cases.js';
