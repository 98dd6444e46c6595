/**
 * The path kind beyond the shipped policies' cases: a Goto out of the guest context, a carrier's
 * calls landing in a context named like a guest one, Originate'd calls, emergency numbers, and
 * the file checks. Transcripts are derived from the real Cuba capture in memory.
 */
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../../src/config/load.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import { packagePath } from '../../../src/paths.js';
import { rateTableFromConfig } from '../../../src/rates/index.js';
import { replayTranscript } from '../../../src/replay.js';
import { deriveTranscript, type DerivationStep } from '../../../src/sim/derive.js';
import { fixturePath } from '../../helpers/fixtures.js';

const CUBA = 'ami/intl-call-cuba.timestamped.ami';
const { config } = loadConfig({ file: fixturePath('lab-config.yaml'), env: {} });
const classifier = createClassifier({ numbering: config.numbering, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const rates = rateTableFromConfig(config.rates);

function policyFrom(body: string) {
  const { policy, issues } = parsePolicy(`id: path-test\nkind: path\ndescription: test\n${body}`, 'path-test.yaml');
  if (!policy) throw new Error(issues.map((issue) => `${issue.line}: ${issue.key}: ${issue.message}`).join('; '));
  return policy;
}

function replay(policyBody: string, transcript: string | Buffer) {
  return replayTranscript(transcript, { trunks: config.trunks, policies: [policyFrom(policyBody)], classifier, rates, mode: 'enforce', timezone: 'UTC' });
}

const derived = (...steps: Omit<DerivationStep, 'from'>[]) => deriveTranscript({ steps: steps.map((step) => ({ from: CUBA, start: '2026-11-24T03:00:00Z', ...step })) }, fixturePath());
const capture = (name: string) => readFileSync(fixturePath('ami', name));

/** An incoming carrier call sent back out on the carrier (see test/policies/block-transit-international/). */
const carrierCall = (landing: string, number = '12125550123') => ({
  replace: { '1001': '12125550147', 'PJSIP/12125550147': 'PJSIP/carrier', 'from-internal': landing, '011535551234': number },
  dropEvents: ['ChallengeSent', 'SuccessfulAuth'],
});

describe('guest contexts', () => {
  test('a call that landed in the guest context is caught even after a Goto to another context', () => {
    // Newchannel lands the phone's channel in from-guest; every later event shows from-internal,
    // as after Goto(from-internal,…). When it dials out, the channel's context is from-internal.
    const transcript = derived({ keepEvents: ['Newchannel'], replace: { 'from-internal': 'from-guest' } }, { dropEvents: ['Newchannel'] });
    const result = replay('guestContexts: [from-guest]\nactions: [alert, hangup]\n', transcript);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ level: 'guest', evidence: { landedContext: 'from-guest', context: 'from-internal', outboundTrunk: 'carrier' } });
    expect(result.findings[0]!.message).toBe('1001 → 011535551234 (CU, critical risk): an unauthenticated call (endpoint 1001, landed in context from-guest) is dialling out on trunk carrier, policy path-test');
  });

  test('wildcards match guest contexts', () => {
    const transcript = derived({ replace: { 'from-internal': 'guest-sip' } });
    expect(replay('guestContexts: ["guest-*"]\n', transcript).findings.map((finding) => finding.level)).toEqual(['guest']);
    expect(replay('guestContexts: ["guest"]\n', transcript).findings).toEqual([]);
  });

  test('a carrier call landing in a context named like a guest one is judged as transit only', () => {
    const transcript = derived(carrierCall('public'));
    expect(replay('guestContexts: [public]\n', transcript).findings).toEqual([]);
    expect(replay('guestContexts: [public]\ntransit: true\n', transcript).findings.map((finding) => finding.level)).toEqual(['transit']);
  });

  test('a guest calling an emergency number on the trunk is never touched (the engine drops it)', () => {
    const transcript = derived({ replace: { 'from-internal': 'from-guest', '011535551234': '911' } });
    const result = replay('guestContexts: [from-guest]\nactions: [alert, hangup]\n', transcript);
    expect(result.findings).toEqual([]);
    expect(result.engine!.stats.emergencyExempted).toBe(1);
  });
});

describe('transit', () => {
  test('fires once per call, when the outgoing trunk is dialled, with both carrier legs to hang up', () => {
    const result = replay('transit: true\nactions: [alert, hangup]\n', derived(carrierCall('from-carrier', '011535551234')));
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ level: 'transit', endpoint: 'carrier', call: { direction: 'transit', channels: ['PJSIP/carrier-00000000', 'PJSIP/carrier-00000001'], country: 'CU' } });
    expect(new Date(result.findings[0]!.at).toISOString()).toBe('2026-11-24T03:00:01.190Z'); // DialBegin
    expect(result.decisions.map((decision) => decision.action)).toEqual(['alert', 'hangup']);
  });

  test('transit: false leaves carrier calls alone', () => {
    expect(replay('guestEndpoints: [anonymous]\n', derived(carrierCall('from-carrier', '011535551234'))).findings).toEqual([]);
  });
});

describe('knownEndpoints', () => {
  test('an Originate (a Local channel first) has no calling endpoint and is not judged by it', () => {
    // The real capture of an AMI Originate of Local/00252615123456@from-internal dialling the carrier.
    const result = replay('knownEndpoints: ["1001"]\n', capture('originate-local-regex-hangup.ami'));
    expect(result.table.recentCalls().some((call) => call.originated && call.outboundTrunk === 'carrier')).toBe(true);
    expect(result.findings).toEqual([]);
  });

  test('wildcards list whole ranges of phones', () => {
    const from1099 = derived({ replace: { '1001': '1099' } });
    expect(replay('knownEndpoints: ["10??"]\n', from1099).findings).toEqual([]);
    expect(replay('knownEndpoints: ["100?"]\n', from1099).findings.map((finding) => finding.level)).toEqual(['unknown-endpoint']);
  });

  test('match and exceptions still apply', () => {
    const from1099 = derived({ replace: { '1001': '1099' } });
    const withException = 'knownEndpoints: ["1001"]\nexceptions:\n  - { reason: lab phone, endpoints: ["1099"] }\n';
    expect(replay(withException, from1099).findings).toEqual([]);
    expect(replay('knownEndpoints: ["1001"]\nmatch: { destination: { scopes: [national] } }\n', from1099).findings).toEqual([]);
  });
});

describe('path policy files', () => {
  const issues = (body: string) => parsePolicy(`id: p\nkind: path\ndescription: test\n${body}`, 'p.yaml').issues.map((issue) => `${issue.line ?? '-'}: ${issue.key}: ${issue.message}`);

  test('a policy must say which paths it stops', () => {
    // The file has no transit: key at all: no line to point at (the first line is id:).
    expect(issues('actions: [alert]\n')).toEqual(['-: transit: say which paths to stop: transit: true, guestContexts, guestEndpoints or knownEndpoints']);
    expect(issues('transit: false\n')).toEqual(['4: transit: say which paths to stop: transit: true, guestContexts, guestEndpoints or knownEndpoints']);
  });

  test('mistakes name their line and key', () => {
    expect(issues('knownEndpoints: []\n')).toEqual(['4: knownEndpoints: list at least one endpoint, or leave knownEndpoints out']);
    expect(issues('transit: yes please\n')[0]).toMatch(/^4: transit: /);
    expect(issues('guestContext: [from-guest]\n')[0]).toBe('4: guestContext: unknown key — did you mean "guestContexts"? (known: actions, description, enabled, exceptions, guestContexts, guestEndpoints, id, kind, knownEndpoints, match, mode, severity, transit)');
  });

  test('numbers in endpoint lists are names', () => {
    expect(policyFrom('knownEndpoints: [1001, "1002"]\n').definition).toMatchObject({ knownEndpoints: ['1001', '1002'], transit: false, guestContexts: [] });
  });
});
