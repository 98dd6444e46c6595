/**
 * Policy cases: a `*.case.yaml` file names one or more AMI captures (real ones, or derived ones with
 * the recipe that made them), the configuration overrides and locks the case starts from, and —
 * for the cases that prove a policy (test/policies/<policy-id>/) — the findings expected beside the
 * recording (fail2ban keeps each expectation next to its sample). The corpus runner
 * (./runner.ts) replays the same cases with the whole policy set at several clock positions.
 *
 *   description: what happens and why the expectation is right
 *   transcript: derived-x.ami            # one capture, or several replayed in order, state carried:
 *   derived: { steps: [...] }            #   (optional: the recipe of `transcript`)
 *   transcripts:                         # instead of transcript:
 *     - ../../fixtures/ami/intl-call-cuba.timestamped.ami
 *     - { file: derived-y.ami, derived: { steps: [...] } }
 *   config: { timezone: Europe/London }  # optional overrides of the lab configuration
 *   locks: [ { endpoint: "1001", reason: compromise } ]
 *   expect: { findings: [...], decisions: [...] }   # policy cases only
 *
 * Derived captures are written from their recipes by `writeDerivedCaptures(caseFile)` (both forms;
 * `tollgate derive` writes the `transcript` + `derived` form), and a test re-derives every one.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../config/load.js';
import type { TollgateConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createClassifier, loadRiskLists, type Classifier } from '../numbers/index.js';
import type { LoadedPolicy } from '../policy/engine.js';
import { parsePolicy } from '../policy/loader.js';
import type { LockInfo } from '../policy/types.js';
import { rateTableFromConfig } from '../rates/index.js';
import { packagePath } from '../paths.js';
import { loadUserAgentLists } from '../profile/user-agents.js';
import { replayTranscript, type ReplayResult } from '../replay.js';
import { deriveTranscript, type DerivationRecipe } from '../sim/derive.js';

export const POLICY_CASES_DIR = packagePath('test', 'policies');
export const CORPUS_CASES_DIR = packagePath('test', 'corpus');
export const SHIPPED_POLICIES_DIR = packagePath('policies');
/** The lab that recorded test/fixtures/ami/ (US numbering, trunk `carrier`, example rates, UTC). */
export const LAB_CONFIG_FILE = packagePath('test', 'fixtures', 'lab-config.yaml');

/** One capture of a case: a file (relative to the case's directory) and, when derived, its recipe. */
export interface CaseTranscript {
  file: string;
  derived?: DerivationRecipe;
}

export interface CaseLock {
  endpoint: string;
  reason?: string;
  /** ISO 8601 time the lock ends. */
  until?: string;
}

export interface CaseExpectation {
  findings: Record<string, unknown>[];
  decisions?: Record<string, unknown>[];
}

export interface PolicyCase {
  dir: string;
  file: string;
  name: string;
  description: string;
  /** A single capture (with `derived`, its recipe)… */
  transcript?: string;
  derived?: DerivationRecipe;
  /** …or several, replayed in order with the agent's state carried from one to the next. */
  transcripts?: (string | CaseTranscript)[];
  config?: Record<string, unknown>;
  locks?: CaseLock[];
  /** What the case's own policy must find (policy cases; corpus cases have none). */
  expect?: CaseExpectation;
}

/** A case whose expectation is required (test/policies/<policy-id>/). */
export type ExpectedPolicyCase = PolicyCase & { expect: CaseExpectation };

export interface PolicyCaseDir {
  id: string;
  dir: string;
  /** The policy under test: the dir's own policy.yaml, else the shipped policies/<id>.yaml. */
  policyFile: string;
  shipped: boolean;
  cases: ExpectedPolicyCase[];
}

const CASE_KEYS = new Set(['description', 'transcript', 'derived', 'transcripts', 'config', 'locks', 'expect']);

/** The directories of policy cases under `root` (test/policies), each with the policy it proves. */
export function policyCaseDirs(root = POLICY_CASES_DIR, shippedDir = SHIPPED_POLICIES_DIR): PolicyCaseDir[] {
  return readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((id) => {
      const dir = join(root, id);
      const own = join(dir, 'policy.yaml');
      const policyFile = existsSync(own) ? own : join(shippedDir, `${id}.yaml`);
      const cases = caseFileNames(dir).map((name) => readCase(dir, name, { requireExpect: true }) as ExpectedPolicyCase);
      return { id, dir, policyFile, shipped: !existsSync(own), cases };
    });
}

/** `*.case.yaml` directly in `dir`, sorted. */
export function caseFileNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.case.yaml'))
    .sort();
}

/** Reads and checks one case file (`name` in `dir`). */
export function readCase(dir: string, name: string, options: { requireExpect?: boolean } = {}): PolicyCase {
  const file = join(dir, name);
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  const fail = (key: string | undefined, message: string): never => {
    throw new ConfigError(message, file, undefined, key);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return fail(undefined, 'a case is a YAML mapping (description, transcript, …)');
  for (const key of Object.keys(raw)) if (!CASE_KEYS.has(key)) fail(key, `unknown key (a case has ${[...CASE_KEYS].join(', ')})`);
  if (typeof raw.description !== 'string' || !raw.description.trim()) fail('description', 'a case says what happens and why the expectation is right');
  const hasOne = raw.transcript !== undefined;
  const hasMany = raw.transcripts !== undefined;
  if (hasOne === hasMany) fail(hasOne ? 'transcripts' : 'transcript', 'a case needs either transcript (one capture) or transcripts (a list, replayed in order)');
  if (hasOne && typeof raw.transcript !== 'string') fail('transcript', 'the file name of a capture');
  if (raw.derived !== undefined && !hasOne) fail('derived', 'goes with transcript; in transcripts, give each derived entry as { file, derived }');
  if (hasMany) {
    if (!Array.isArray(raw.transcripts) || raw.transcripts.length === 0) fail('transcripts', 'a list of captures: file names or { file, derived }');
    (raw.transcripts as unknown[]).forEach((entry, index) => {
      const key = `transcripts[${index}]`;
      if (typeof entry === 'string') return;
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return fail(key, 'a file name or { file, derived }');
      const { file: entryFile, derived, ...rest } = entry as Record<string, unknown>;
      if (Object.keys(rest).length > 0) fail(`${key}.${Object.keys(rest)[0]}`, 'unknown key (an entry has file and derived)');
      if (typeof entryFile !== 'string') fail(`${key}.file`, 'the file name of a capture');
      if (derived !== undefined && (typeof derived !== 'object' || derived === null)) fail(`${key}.derived`, 'a recipe: { steps: [...] }');
    });
  }
  if (options.requireExpect) {
    const expectation = raw.expect as CaseExpectation | undefined;
    if (!expectation || !Array.isArray(expectation.findings)) fail('expect', 'a policy case needs expect.findings (an empty list when the policy must leave the traffic alone)');
  }
  const testCase = { ...(raw as Omit<PolicyCase, 'dir' | 'file' | 'name'>), dir, file, name: basename(name, '.case.yaml') };
  for (const entry of caseTranscripts(testCase)) {
    if (entry.derived && !/derived/.test(basename(entry.file))) fail('transcript', `${entry.file}: a derived transcript must say "derived" in its file name`);
  }
  return testCase;
}

/** The case's captures in replay order, each with its recipe when it is derived. */
export function caseTranscripts(testCase: Pick<PolicyCase, 'transcript' | 'derived' | 'transcripts'>): CaseTranscript[] {
  if (testCase.transcripts) return testCase.transcripts.map((entry) => (typeof entry === 'string' ? { file: entry } : entry));
  if (testCase.transcript === undefined) return [];
  return [testCase.derived ? { file: testCase.transcript, derived: testCase.derived } : { file: testCase.transcript }];
}

/** The bytes of the case's captures, in replay order. */
export function caseCaptures(testCase: PolicyCase): Buffer[] {
  return caseTranscripts(testCase).map((entry) => readFileSync(resolve(testCase.dir, entry.file)));
}

/** What the recipes of a case produce, per derived capture (to compare with the files, or to write them). */
export function derivedCaptures(testCase: PolicyCase): { file: string; path: string; text: string }[] {
  return caseTranscripts(testCase)
    .filter((entry) => entry.derived)
    .map((entry) => ({ file: entry.file, path: resolve(testCase.dir, entry.file), text: deriveTranscript(entry.derived!, testCase.dir) }));
}

/** Writes the derived captures of a case file (`transcript` + `derived`, or derived `transcripts` entries); returns their paths. */
export function writeDerivedCaptures(caseFile: string): string[] {
  const path = resolve(caseFile);
  const testCase = readCase(dirname(path), basename(path));
  return derivedCaptures(testCase).map(({ path: output, text }) => {
    writeFileSync(output, text);
    return output;
  });
}

export function loadCasePolicy(caseDir: Pick<PolicyCaseDir, 'policyFile'>): LoadedPolicy {
  const { policy, issues } = parsePolicy(readFileSync(caseDir.policyFile, 'utf8'), caseDir.policyFile);
  if (!policy) throw new Error(`${caseDir.policyFile}: ${issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`).join('; ')}`);
  return policy;
}

/** The configuration a file describes (by default the lab's), with no environment applied. */
export function labConfig(file = LAB_CONFIG_FILE): TollgateConfig {
  return loadConfig({ file, env: {} }).config;
}

/** The lab's configuration (or `base`) with the case's overrides (top-level keys replace the base's). */
export function caseConfig(testCase: Pick<PolicyCase, 'config'>, base: TollgateConfig = labConfig()): TollgateConfig {
  return { ...base, ...(testCase.config as Partial<TollgateConfig>) };
}

/** The case's locks as the lock table takes them; `shiftMs` moves their end with the transcript. */
export function caseLocks(testCase: Pick<PolicyCase, 'locks'>, shiftMs = 0): LockInfo[] {
  return (testCase.locks ?? []).map((lock) => ({
    endpoint: lock.endpoint,
    since: 0,
    reason: lock.reason ?? 'locked before the case',
    ...(lock.until ? { until: Date.parse(lock.until) + shiftMs } : {}),
  }));
}

/** The classifier of a case: the configuration's numbering plan and the shipped risk lists. */
export function caseClassifier(config: TollgateConfig, riskListDir = packagePath('policies', 'lists')): Classifier {
  return createClassifier({ numbering: config.numbering, riskLists: loadRiskLists(riskListDir) });
}

/** Replays the case's captures with only the policy under test. */
export function runCase(caseDir: Pick<PolicyCaseDir, 'policyFile'>, testCase: PolicyCase): ReplayResult {
  const config = caseConfig(testCase);
  return replayTranscript(caseCaptures(testCase), {
    trunks: config.trunks,
    policies: [loadCasePolicy(caseDir)],
    classifier: caseClassifier(config),
    rates: rateTableFromConfig(config.rates),
    mode: 'enforce',
    timezone: config.timezone,
    locks: caseLocks(testCase),
    userAgents: loadUserAgentLists(packagePath('policies', 'lists', 'user-agents')),
  });
}
