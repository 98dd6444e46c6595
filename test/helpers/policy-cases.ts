/**
 * Policy cases: test/policies/<policy-id>/ holds one `*.case.yaml` per transcript — the expected
 * findings beside the recording they come from (fail2ban keeps each expectation next to its sample).
 * A case names its transcript (a real capture, or a derived one with the recipe that made it).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { TollgateConfig } from '../../src/config/schema.js';
import { createClassifier, loadRiskLists } from '../../src/numbers/index.js';
import type { LoadedPolicy } from '../../src/policy/engine.js';
import { parsePolicy } from '../../src/policy/loader.js';
import { rateTableFromConfig } from '../../src/rates/index.js';
import { replayTranscript, type ReplayResult } from '../../src/replay.js';
import type { DerivationRecipe } from '../../src/sim/derive.js';
import { packagePath } from '../../src/paths.js';
import { fixturePath } from './fixtures.js';

export const POLICY_CASES_DIR = packagePath('test', 'policies');
export const SHIPPED_POLICIES_DIR = packagePath('policies');

export interface PolicyCase {
  dir: string;
  file: string;
  name: string;
  description: string;
  transcript: string;
  derived?: DerivationRecipe;
  config?: Record<string, unknown>;
  locks?: { endpoint: string; reason?: string; until?: string }[];
  expect: { findings: Record<string, unknown>[]; decisions?: Record<string, unknown>[] };
}

export interface PolicyCaseDir {
  id: string;
  dir: string;
  /** The policy under test: the dir's own policy.yaml, else the shipped policies/<id>.yaml. */
  policyFile: string;
  shipped: boolean;
  cases: PolicyCase[];
}

export function policyCaseDirs(): PolicyCaseDir[] {
  return readdirSync(POLICY_CASES_DIR)
    .filter((name) => statSync(join(POLICY_CASES_DIR, name)).isDirectory())
    .sort()
    .map((id) => {
      const dir = join(POLICY_CASES_DIR, id);
      const own = join(dir, 'policy.yaml');
      const policyFile = existsSync(own) ? own : join(SHIPPED_POLICIES_DIR, `${id}.yaml`);
      const cases = readdirSync(dir)
        .filter((name) => name.endsWith('.case.yaml'))
        .sort()
        .map((name) => readCase(dir, name));
      return { id, dir, policyFile, shipped: !existsSync(own), cases };
    });
}

function readCase(dir: string, name: string): PolicyCase {
  const file = join(dir, name);
  const raw = parse(readFileSync(file, 'utf8')) as Omit<PolicyCase, 'dir' | 'file' | 'name'>;
  if (!raw?.transcript || !raw.expect || !Array.isArray(raw.expect.findings)) throw new Error(`${file}: a case needs transcript and expect.findings`);
  return { ...raw, dir, file, name: basename(name, '.case.yaml') };
}

export function loadCasePolicy(caseDir: PolicyCaseDir): LoadedPolicy {
  const { policy, issues } = parsePolicy(readFileSync(caseDir.policyFile, 'utf8'), caseDir.policyFile);
  if (!policy) throw new Error(`${caseDir.policyFile}: ${issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`).join('; ')}`);
  return policy;
}

/** The lab's configuration (test/fixtures/lab-config.yaml) with the case's overrides. */
export function caseConfig(testCase: PolicyCase): TollgateConfig {
  const { config } = loadConfig({ file: fixturePath('lab-config.yaml'), env: {} });
  return { ...config, ...(testCase.config as Partial<TollgateConfig>) };
}

/** Replays the case's transcript with only the policy under test. */
export function runCase(caseDir: PolicyCaseDir, testCase: PolicyCase): ReplayResult {
  const config = caseConfig(testCase);
  const classifier = createClassifier({ numbering: config.numbering, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
  const policy = loadCasePolicy(caseDir);
  const locks = (testCase.locks ?? []).map((lock) => ({
    endpoint: lock.endpoint,
    since: 0,
    reason: lock.reason ?? 'locked before the case',
    ...(lock.until ? { until: Date.parse(lock.until) } : {}),
  }));
  return replayTranscript(readFileSync(resolve(testCase.dir, testCase.transcript)), {
    trunks: config.trunks,
    policies: [policy],
    classifier,
    rates: rateTableFromConfig(config.rates),
    mode: 'enforce',
    timezone: config.timezone,
    locks,
  });
}
