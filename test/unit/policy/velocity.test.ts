import { readFileSync } from 'node:fs';
import { Call, TrunkRegistry } from '../../../src/calls/table.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import type { LoadedPolicy } from '../../../src/policy/engine.js';
import { answeredTalkSeconds, formatWindow } from '../../../src/policy/kinds/velocity.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import type { Finding } from '../../../src/policy/types.js';
import { packagePath } from '../../../src/paths.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { replayTranscript } from '../../../src/replay.js';
import { deriveTranscript, type DerivationStep } from '../../../src/sim/derive.js';
import { fixturePath } from '../../helpers/fixtures.js';

// The lab of test/fixtures/lab-config.yaml: US numbering, 011 and 00 abroad, extensions 1XXX, trunk carrier.
const classifier = createClassifier({
  numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] },
  riskLists: loadRiskLists(packagePath('policies', 'lists')),
});
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));
const CUBA = 'intl-call-cuba.timestamped.ami';
/** Three real calls from 1001, each answered and killed about 3 s later (an untimed capture: its replay times are coarse). */
const SHORT_CALLS = 'hangup-by-ami-and-ari.ami';
const INTERNATIONAL = 'match: { direction: [outbound], destination: { scopes: [international] } }\n';

function header(settings: string): string {
  return `id: rate\nkind: velocity\ndescription: test\n${settings}`;
}

function policy(settings: string): LoadedPolicy {
  const { policy: loaded, issues } = parsePolicy(header(settings), 'test.yaml');
  if (!loaded) throw new Error(JSON.stringify(issues));
  return loaded;
}

function issuesOf(settings: string): string[] {
  return parsePolicy(header(settings), 'test.yaml').issues.map((issue) => `${issue.key}: ${issue.message}`);
}

function replay(loaded: LoadedPolicy, transcript: string | Buffer) {
  return replayTranscript(transcript, { trunks: ['carrier'], policies: [loaded], classifier, rates });
}

/** Replays real captures moved in time (derive steps, `from` relative to test/fixtures/ami). */
function replaySteps(loaded: LoadedPolicy, steps: DerivationStep[]) {
  return replay(loaded, deriveTranscript({ steps }, fixturePath('ami')));
}

/** The Cuba call (20 s of talk, its Newchannel 1.188 s into the step) at second `offset` after 2026-11-23 22:00:00 UTC. */
function cubaAt(offset: number, index: number, replace: Record<string, string> = {}): DerivationStep {
  return { from: CUBA, start: new Date(Date.UTC(2026, 10, 23, 22, 0, offset)).toISOString(), idOffset: index * 100, replace };
}

const summary = (findings: Finding[]) => findings.map((finding) => `${finding.level} ${finding.call?.linkedid ?? finding.scope}`);

describe('velocity: call attempts in the window', () => {
  test('the call that crosses maxCalls and every later one still over it fire; the window forgets', () => {
    // Calls at 0, 10, 20, 30 and 100 s; 2 allowed per 60 s. At 100 s the others are over a minute old.
    const steps = [0, 10, 20, 30, 100].map((offset, index) => cubaAt(offset, index));
    const { findings } = replaySteps(policy(`window: 60s\nmaxCalls: 2\n${INTERNATIONAL}`), steps);
    expect(summary(findings)).toEqual(['calls 1795471221.200', 'calls 1795471231.300']);
    expect(findings.map((finding) => finding.evidence.calls)).toEqual([3, 4]);
    expect(findings[0]).toMatchObject({ scope: 'endpoint:1001', actions: ['alert'], call: { channels: ['PJSIP/1001-000000c8'] } });
  });

  test('per trunk, a phone\'s call counts when it dials the trunk (before that it has no trunk)', () => {
    const { findings } = replaySteps(policy(`per: trunk\nwindow: 60s\nmaxCalls: 1\n${INTERNATIONAL}`), [cubaAt(0, 0), cubaAt(30, 1, { '1001': '1002' })]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ scope: 'trunk:carrier', endpoint: '1002', at: Date.parse('2026-11-23T22:00:31.190Z'), call: { channels: ['PJSIP/1002-00000064', 'PJSIP/carrier-00000065'] } });
  });

  test('repeats are counted by E.164 number: 011… and 00… dialling of one number is one number', () => {
    const steps = [cubaAt(0, 0), cubaAt(10, 1, { '011535551234': '0112526155555' }), cubaAt(20, 2, { '011535551234': '00535551234' })];
    const { findings } = replaySteps(policy(`window: 10m\nmaxRepeatsToOneNumber: 1\n${INTERNATIONAL}`), steps);
    expect(summary(findings)).toEqual(['repeats 1795471221.200']);
    expect(findings[0]!.evidence).toMatchObject({ number: '+535551234', calls: 2, max: 1 });
  });

  test('only a call to a new number adds a distinct destination: redialling one already called does not fire', () => {
    const [a, b, c] = ['011535551234', '0112526155555', '011442079460000'];
    const steps = [cubaAt(0, 0), cubaAt(10, 1, { [a]: b }), cubaAt(20, 2), cubaAt(30, 3, { [a]: c })];
    const { findings } = replaySteps(policy(`window: 10m\nmaxDistinctDestinations: 1\n${INTERNATIONAL}`), steps);
    expect(summary(findings)).toEqual(['distinct-destinations 1795471211.100', 'distinct-destinations 1795471231.300']);
    expect(findings.map((finding) => finding.evidence.destinations)).toEqual([
      ['+535551234', '+2526155555'],
      ['+535551234', '+2526155555', '+442079460000'],
    ]);
  });

  test('a call crossing two rules gives one finding per rule, each with that rule\'s actions', () => {
    const steps = [cubaAt(0, 0), cubaAt(10, 1)];
    const { findings, decisions } = replaySteps(policy(`window: 10m\nmaxCalls: 1\nmaxRepeatsToOneNumber: 1\nruleActions: { maxRepeatsToOneNumber: [alert] }\n${INTERNATIONAL}actions: [alert, hangup]\n`), steps);
    expect(findings.map((finding) => [finding.level, finding.actions])).toEqual([
      ['calls', ['alert', 'hangup']],
      ['repeats', ['alert']],
    ]);
    expect(decisions.filter((decision) => decision.action === 'hangup')).toHaveLength(1);
  });

  test('emergency calls are never counted against the caller', () => {
    const { findings } = replaySteps(policy('window: 10m\nmaxCalls: 1\nmatch: { direction: [outbound] }\n'), [cubaAt(0, 0, { '011535551234': '911' }), cubaAt(30, 1)]);
    expect(findings).toEqual([]);
  });
});

describe('velocity: short calls', () => {
  test('answered talk is the trunk dial\'s (what the carrier bills); unanswered calls have none', () => {
    const talkOf = (capture: string) => replay(policy(`window: 10m\nmaxCalls: 100\n${INTERNATIONAL}`), readFileSync(fixturePath('ami', capture))).table.recentCalls().map((call) => answeredTalkSeconds(call, 0));
    // The Cuba call: the carrier answers at 11:04:25.761 and the call ends at 11:04:45.771.
    expect(talkOf(CUBA)).toEqual([20.01]);
    for (const seconds of talkOf('five-concurrent-intl.timestamped.ami')) expect(seconds).toBeCloseTo(25, 1);

    const trunks = new TrunkRegistry(['carrier']);
    // Answered by the dialplan (an announcement) but the trunk never answered: no talk abroad.
    const unanswered = new Call('9.1', 1_000, trunks);
    unanswered.answeredAt = 1_000;
    unanswered.endedAt = 31_000;
    unanswered.dials.push({ destUniqueid: '9.2', destChannel: 'PJSIP/carrier-00000002', dialString: '011535551234@carrier', number: '011535551234', trunk: 'carrier', beganAt: 2_000, endedAt: 31_000, status: 'NOANSWER' });
    expect(answeredTalkSeconds(unanswered, 40_000)).toBeUndefined();
    // Talk is the trunk's answered time, not the dialplan's: answered at 1 s, the carrier at 25 s.
    const announcedFirst = new Call('9.3', 1_000, trunks);
    announcedFirst.answeredAt = 1_000;
    announcedFirst.endedAt = 28_000;
    announcedFirst.dials.push({ destUniqueid: '9.4', destChannel: 'PJSIP/carrier-00000004', dialString: '011535551234@carrier', trunk: 'carrier', beganAt: 2_000, answeredAt: 25_000, endedAt: 28_000 });
    expect(answeredTalkSeconds(announcedFirst, 40_000)).toBe(3);
    // A call still up counts up to now.
    const live = new Call('9.5', 0, trunks);
    live.dials.push({ destUniqueid: '9.6', destChannel: 'PJSIP/carrier-00000006', dialString: '011535551234@carrier', trunk: 'carrier', beganAt: 0, answeredAt: 1_000 });
    expect(answeredTalkSeconds(live, 11_000)).toBe(10);
  });

  test('maxSeconds includes its bound: two 20.01 s Cuba calls are short at 20.01 s, not at 20 s', () => {
    const short = (maxSeconds: number) => replaySteps(policy(`window: 10m\nshortCalls: { maxSeconds: ${maxSeconds}, maxCount: 1 }\n${INTERNATIONAL}`), [cubaAt(0, 0), cubaAt(30, 1)]).findings;
    expect(short(20)).toEqual([]);
    const findings = short(20.01);
    expect(summary(findings)).toEqual(['short-calls endpoint:1001']);
    // The second call ends 21.511 s into its step, at 22:00:51.511.
    expect(findings[0]!.at).toBe(Date.parse('2026-11-23T22:00:51.511Z'));
  });

  test('a burst fires once per group and window, and again for a burst after the window', () => {
    // The capture's three short calls (within 12 s), and again 120 s later; 1 allowed per 60 s.
    const steps: DerivationStep[] = [{ from: SHORT_CALLS, start: '2026-11-23T02:00:00Z', repeat: { times: 2, everySeconds: 120 } }];
    const { findings, decisions } = replaySteps(policy(`window: 60s\nshortCalls: { maxSeconds: 5, maxCount: 1 }\n${INTERNATIONAL}actions: [alert, lock]\n`), steps);
    expect(findings.map((finding) => [new Date(finding.at).toISOString(), finding.evidence.shortCalls])).toEqual([
      ['2026-11-23T02:00:06.896Z', 2],
      ['2026-11-23T02:02:06.896Z', 2],
    ]);
    expect(findings[0]).toMatchObject({ level: 'short-calls', scope: 'endpoint:1001', endpoint: '1001' });
    expect(findings[0]!.call).toBeUndefined();
    expect(decisions.map((decision) => `${decision.action} ${decision.target.endpoint}`)).toEqual(['alert 1001', 'lock 1001']);
  });
});

describe('velocity: policy file errors', () => {
  test('a policy needs a window and at least one rule', () => {
    expect(issuesOf('maxCalls: 5\n')).toEqual([expect.stringMatching(/^window: /)]);
    expect(issuesOf('window: 60s\n')).toEqual([expect.stringMatching(/^maxCalls: say what to limit/)]);
  });

  test('rule actions only for rules the policy has', () => {
    expect(issuesOf('window: 60s\nmaxCalls: 5\nruleActions: { shortCalls: [alert] }\n')).toEqual(['ruleActions.shortCalls: there is no shortCalls rule in this policy to give actions to']);
    expect(issuesOf('window: 60s\nmaxCalls: 5\nruleActions: { maxCall: [alert] }\n')[0]).toMatch(/^ruleActions.maxCall: unknown key — did you mean "maxCalls"\?/);
  });

  test('short calls have ended: hang-up alone is refused, and lock needs per: endpoint', () => {
    expect(issuesOf('window: 60s\nshortCalls: { maxSeconds: 5, maxCount: 3 }\nactions: [hangup]\n')).toEqual([expect.stringMatching(/^actions: short calls are counted once they have ended/)]);
    expect(issuesOf('window: 60s\nshortCalls: { maxSeconds: 5, maxCount: 3 }\nruleActions: { shortCalls: [hangup] }\n')).toEqual([expect.stringMatching(/^ruleActions.shortCalls: short calls/)]);
    expect(issuesOf('per: trunk\nwindow: 60s\nshortCalls: { maxSeconds: 5, maxCount: 3 }\nactions: [alert, lock]\n')).toEqual([expect.stringMatching(/^per: shortCalls can only lock with per: endpoint/)]);
    expect(issuesOf('window: 60s\nshortCalls: { maxSeconds: 60, maxCount: 3 }\n')).toEqual(['shortCalls.maxSeconds: must be shorter than the window']);
    expect(issuesOf('window: 60s\nshortCalls: { maxSecond: 5, maxCount: 3 }\n').join('\n')).toMatch(/shortCalls.maxSecond: unknown key — did you mean "maxSeconds"\?/);
  });

  test('thresholds are positive whole numbers below the per-group memory cap', () => {
    expect(issuesOf('window: 60s\nmaxCalls: 0\n')).toEqual([expect.stringMatching(/^maxCalls: /)]);
    expect(issuesOf('window: 60s\nmaxCalls: 5000\n')).toEqual([expect.stringMatching(/^maxCalls: /)]);
    expect(issuesOf('window: soon\nmaxCalls: 5\n')).toEqual([expect.stringMatching(/^window: "soon" is not a duration/)]);
  });

  test('windows are shown as written', () => {
    expect([45, 60, 600, 5400, 7200, 86_400].map(formatWindow)).toEqual(['45 s', '1 min', '10 min', '90 min', '2 h', '1 d']);
  });
});
