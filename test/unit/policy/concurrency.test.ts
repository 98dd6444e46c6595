import { Normaliser } from '../../../src/calls/normalise.js';
import { CallTable, TrunkRegistry, type CallChange } from '../../../src/calls/table.js';
import { ManualClock } from '../../../src/clock.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { PolicyEngine, type LoadedPolicy } from '../../../src/policy/engine.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import type { Finding } from '../../../src/policy/types.js';
import { packagePath } from '../../../src/paths.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { replayTranscript } from '../../../src/replay.js';
import { deriveTranscript, type DerivationStep } from '../../../src/sim/derive.js';
import { captureEvents } from '../../helpers/feed.js';
import { fixturePath } from '../../helpers/fixtures.js';

// The lab of test/fixtures/lab-config.yaml: US numbering, 011 and 00 abroad, extensions 1XXX, trunk carrier.
const classifier = createClassifier({
  numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'], internalPatterns: ['_1XXX'] },
  riskLists: loadRiskLists(packagePath('policies', 'lists')),
});
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));
const CUBA = 'intl-call-cuba.timestamped.ami';

function policy(settings: string): LoadedPolicy {
  const { policy: loaded, issues } = parsePolicy(`id: limit\nkind: concurrency\ndescription: test\n${settings}`, 'test.yaml');
  if (!loaded) throw new Error(JSON.stringify(issues));
  return loaded;
}

function issuesOf(settings: string): string[] {
  return parsePolicy(`id: limit\nkind: concurrency\ndescription: test\n${settings}`, 'test.yaml').issues.map((issue) => `${issue.key}: ${issue.message}`);
}

/** Replays real captures moved in time (derive steps, `from` relative to test/fixtures/ami). */
function replaySteps(loaded: LoadedPolicy, steps: DerivationStep[]) {
  const transcript = deriveTranscript({ steps }, fixturePath('ami'));
  return replayTranscript(transcript, { trunks: ['carrier'], policies: [loaded], classifier, rates });
}

/** The Cuba call started at second `offset` after 2026-11-23 22:00:00 UTC, with its own ids. */
function cubaAt(offset: number, index: number, replace: Record<string, string> = {}): DerivationStep {
  return { from: CUBA, start: new Date(Date.UTC(2026, 10, 23, 22, 0, offset)).toISOString(), idOffset: index * 100, replace };
}

const linkedids = (findings: Finding[]) => findings.map((finding) => finding.call?.linkedid);

describe('concurrency: a call is a Linkedid group, counted once', () => {
  /**
   * The real Originate capture (Local ;1 and ;2 halves plus the carrier leg, one Linkedid) up to the
   * moment its trunk leg is dialled, then the real Cuba call starting while those three channels are up.
   */
  function originatedCallThenCuba(loaded: LoadedPolicy) {
    const clock = new ManualClock(1_000);
    const engine = new PolicyEngine({ policies: [loaded], classifier, rates, clock });
    const table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
    const normaliser = new Normaliser();
    const originate = captureEvents('originate-local-regex-hangup.ami');
    const trunkDialled = originate.findIndex((message) => message.name === 'DialBegin' && message.get('DestChannel')?.startsWith('PJSIP/carrier'));
    const cuba = captureEvents(CUBA);
    const cubaDialled = cuba.findIndex((message) => message.name === 'DialBegin');
    const findings: Finding[] = [];
    let legsOfOriginatedCall = 0;
    for (const message of [...originate.slice(0, trunkDialled + 1), ...cuba.slice(0, cubaDialled + 1)]) {
      clock.advanceBy(10);
      const event = normaliser.normalise(message, clock.now());
      if (!event || event.type === 'security') continue;
      const changes: CallChange[] = table.apply(event);
      findings.push(...engine.evaluate({ type: 'event', event, changes }, table).findings);
      legsOfOriginatedCall = Math.max(legsOfOriginatedCall, table.getCall('1795258940.26')?.liveLegs.length ?? 0);
    }
    return { findings, legsOfOriginatedCall, table };
  }

  test('three channels of an originated call are one call: with max 2 a second call is still within', () => {
    const { findings, legsOfOriginatedCall, table } = originatedCallThenCuba(policy('max: 2\nper: global\nmatch: { direction: [outbound] }\n'));
    expect(legsOfOriginatedCall).toBe(3);
    expect(table.liveCallCount).toBe(2);
    expect(findings).toEqual([]);
  });

  test('with max 1 the Cuba call is the excess, and the originated call is the one call it found up', () => {
    const { findings } = originatedCallThenCuba(policy('max: 1\nper: global\nmatch: { direction: [outbound] }\nactions: [alert, hangup]\n'));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      level: 'concurrent',
      scope: 'global',
      call: { linkedid: '1795259065.0', endpoint: '1001', dialled: '011535551234' },
      evidence: { per: 'global', group: 'all', concurrent: 2, max: 1, callsUp: ['1795258940.26'] },
    });
  });
});

describe('concurrency: which calls hold a slot', () => {
  const intlPerEndpoint = 'max: 2\nper: endpoint\nmatch: { direction: [outbound], destination: { scopes: [international] } }\n';
  // Cuba calls (20 s of talk, up from +1.2 s to +21.5 s of their step) starting at 0, 2, 4 and 22 s:
  // when the 4th starts (22+1.2 s) the 1st has ended; the 2nd and the 3rd (the excess) are still up.
  const steps = [cubaAt(0, 0), cubaAt(2, 1), cubaAt(4, 2), cubaAt(22, 3)];

  test('an excess call the policy hangs up does not take a slot from a later call', () => {
    const { findings } = replaySteps(policy(`${intlPerEndpoint}actions: [alert, hangup]\n`), steps);
    expect(linkedids(findings)).toEqual(['1795471205.200']);
  });

  test('with alert only the excess call stays up, so it still counts against the next one', () => {
    const { findings } = replaySteps(policy(`${intlPerEndpoint}actions: [alert]\n`), steps);
    expect(linkedids(findings)).toEqual(['1795471205.200', '1795471223.300']);
    expect(findings[1]!.evidence).toMatchObject({ concurrent: 3, callsUp: ['1795471203.100', '1795471205.200'] });
  });

  test('ended calls free their slot: the same call three times, 30 s apart, never exceeds max 1', () => {
    const { findings } = replaySteps(policy('max: 1\nmatch: { destination: { scopes: [international] } }\n'), [{ from: CUBA, start: '2026-11-23T10:00:00Z', repeat: { times: 3, everySeconds: 30 } }]);
    expect(findings).toEqual([]);
  });

  test('calls outside the match do not count: a national call does not fill an international limit', () => {
    const { findings } = replaySteps(policy('max: 1\nmatch: { destination: { scopes: [international] } }\n'), [cubaAt(0, 0, { '011535551234': '12125550123' }), cubaAt(2, 1)]);
    expect(findings).toEqual([]);
  });

  test('an emergency call holds its slot (it stays up) and is never the excess', () => {
    const outbound = policy('max: 1\nmatch: { direction: [outbound] }\nactions: [alert, hangup]\n');
    const emergencyFirst = replaySteps(outbound, [cubaAt(0, 0, { '011535551234': '911' }), cubaAt(2, 1)]);
    expect(linkedids(emergencyFirst.findings)).toEqual(['1795471203.100']);
    expect(emergencyFirst.findings[0]!.evidence).toMatchObject({ callsUp: ['1795471201.0'] });

    const emergencySecond = replaySteps(outbound, [cubaAt(0, 0), cubaAt(2, 1, { '011535551234': '911' })]);
    expect(emergencySecond.findings).toEqual([]);
    // The kind itself judged the 911 call within: the engine had nothing to drop.
    expect(emergencySecond.engine!.stats.emergencyExempted).toBe(0);
  });

  test('per country: numbers without a country are grouped by calling code', () => {
    const { findings } = replaySteps(policy('max: 1\nper: country\nmatch: { destination: { scopes: [international] } }\n'), [
      cubaAt(0, 0, { '011535551234': '011882161234567' }),
      cubaAt(2, 1, { '011535551234': '011882161234568' }),
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ scope: 'country:+882', evidence: { group: '+882' }, call: { linkedid: '1795471203.100' } });
  });
});

describe('concurrency: policy file errors', () => {
  test('max is a positive whole number and required', () => {
    expect(issuesOf('max: 0\n')).toEqual([expect.stringMatching(/^max: /)]);
    expect(issuesOf('max: 1.5\n')).toEqual([expect.stringMatching(/^max: /)]);
    expect(issuesOf('per: endpoint\n')).toEqual([expect.stringMatching(/^max: /)]);
  });

  test('per names one of the groupings, and a typo in a key is pointed out', () => {
    expect(issuesOf('max: 2\nper: trunks\n')[0]).toMatch(/^per: .*trunk/);
    expect(issuesOf('max: 2\nmaximum: 3\n')[0]).toMatch(/^maximum: unknown key/);
    expect(issuesOf('mx: 2\n').join('\n')).toMatch(/did you mean "max"/);
  });
});
