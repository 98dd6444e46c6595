/**
 * call-risk: the allow-list (globally and per endpoint group), the checks of a policy file, and
 * the emergency rule. The signals themselves are proven by the recorded cases in
 * test/policies/international-risk/ and, at three clock positions, by the corpus.
 */
import { dirname } from 'node:path';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import { packagePath } from '../../../src/paths.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { replayTranscript } from '../../../src/replay.js';
import { deriveTranscript } from '../../../src/sim/derive.js';
import { fixturePath } from '../../helpers/fixtures.js';

const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011'], internalPatterns: ['_1XXX'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));

/** The real Cuba call, from `endpoint` to `number`, on Wednesday 2026-12-02 at 10:00 UTC (office hours). */
function call(number: string, endpoint = '1001', start = '2026-12-02T10:00:00Z'): string {
  return deriveTranscript(
    { steps: [{ from: 'intl-call-cuba.timestamped.ami', replace: { '011535551234': number, '1001': endpoint }, start, dropEvents: ['VarSet', 'Newexten', 'DeviceStateChange'] }] },
    dirname(fixturePath('ami', 'intl-call-cuba.timestamped.ami')),
  );
}

function policy(extra = ''): ReturnType<typeof parsePolicy> {
  const text = `id: risk
kind: call-risk
description: test
match: { direction: [outbound], destination: { scopes: [international] } }
officeHours: [{ days: [mon-fri], from: "08:00", to: "19:00" }]
thresholds:
  - { score: 2, actions: [alert] }
  - { score: 4, actions: [alert, hangup] }
${extra}`;
  return parsePolicy(text, 'risk.yaml');
}

function findings(transcript: string, extra = '') {
  const { policy: loaded, issues } = policy(extra);
  if (!loaded) throw new Error(JSON.stringify(issues));
  return replayTranscript(transcript, { trunks: ['carrier'], policies: [loaded], classifier, rates, timezone: 'UTC' }).findings;
}

describe('call-risk', () => {
  test('a high-risk country is hung up in office hours (4 points) unless allowed, then it counts as medium (1: nothing)', () => {
    expect(findings(call('01118769271234')).map((finding) => [finding.level, finding.evidence.score])).toEqual([['score-4', 4]]);
    expect(findings(call('01118769271234'), 'allowed: [{ countries: [JM], reason: Kingston office }]')).toEqual([]);
  });

  test('an allow-list for an endpoint group applies to those endpoints only', () => {
    const group = 'allowed: [{ countries: [JM], endpoints: ["12*"], reason: export desk }]';
    expect(findings(call('01118769271234', '1201'), group)).toEqual([]);
    expect(findings(call('01118769271234', '1001'), group)).toHaveLength(1);
  });

  test('critical numbers are never softened by the allow-list', () => {
    const allowGb = 'allowed: [{ countries: [GB] }]';
    expect(findings(call('011449098790123'), allowGb).map((finding) => finding.evidence.score)).toEqual([6]);
  });

  test('the finding says which signals added up and how to allow the call', () => {
    const [finding] = findings(call('01118769271234'));
    expect(finding!.evidence.signals).toEqual(['destination +4: JM fixed line, high risk']);
    expect(finding!.evidence.toAllow).toEqual(['if this office calls JM on purpose, add it to `allowed` in policy risk (for everyone, or only for some endpoints)']);
    expect(finding!.message).toBe('1001 → 01118769271234 (JM, fixed line, high risk): risk score 4 (≥ 4: alert+hangup) — JM fixed line, high risk (+4)');
  });

  test('how to allow names only what makes the difference: never the office hours for a number refused at any hour', () => {
    const [premiumAtNight] = findings(call('011449098790123', '1001', '2026-12-02T23:00:00Z'));
    expect(premiumAtNight!.evidence.score).toBe(8);
    expect(premiumAtNight!.evidence.toAllow).toEqual(['+449098790123 is critical risk and refused at any hour: if it is really needed, add an exception for it to policy risk (exceptions: [{ destination: { prefixes: ["+449098790123"] }, reason: … }])']);
    const [jamaicaAtNight] = findings(call('01118769271234', '1001', '2026-12-02T23:00:00Z'));
    expect(jamaicaAtNight!.evidence.toAllow).toEqual(['if this office calls JM on purpose, add it to `allowed` in policy risk (for everyone, or only for some endpoints)']);
    const [londonAtNight] = findings(call('011442079460123', '1001', '2026-12-02T23:00:00Z'));
    expect(londonAtNight!.evidence.toAllow).toEqual(['if people call abroad at this hour, add a window to `officeHours` in policy risk']);
  });

  test('policy file mistakes are reported with their key', () => {
    expect(policy('allowed: [{ reason: nothing named }]').issues.map((issue) => `${issue.key}: ${issue.message}`)).toEqual(['allowed[0]: say which destinations: countries and/or prefixes']);
    expect(policy('pionts: { burst: 2 }').issues.map((issue) => issue.key)).toEqual(['pionts']);
    const duplicate = parsePolicy('id: r\nkind: call-risk\ndescription: x\nofficeHours: [{ from: "08:00", to: "19:00" }]\nthresholds:\n  - { score: 4, actions: [alert] }\n  - { score: 4, actions: [hangup] }\n', 'r.yaml');
    expect(duplicate.issues.map((issue) => `${issue.key}: ${issue.message}`)).toEqual(['thresholds[1].score: two thresholds at score 4']);
  });
});
