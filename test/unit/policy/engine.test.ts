import { AmiMessage } from '../../../src/ami/message.js';
import { Normaliser } from '../../../src/calls/normalise.js';
import { CallTable, TrunkRegistry, type CallChange } from '../../../src/calls/table.js';
import { ManualClock } from '../../../src/clock.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { PolicyEngine, type LoadedPolicy } from '../../../src/policy/engine.js';
import { defineKind } from '../../../src/policy/kind.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import { POLICY_KINDS } from '../../../src/policy/registry.js';
import { packagePath } from '../../../src/paths.js';
import { loadRateTable } from '../../../src/rates/index.js';
import { captureEvents } from '../../helpers/feed.js';

const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011', '00'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const rates = loadRateTable(packagePath('config', 'rates.example.csv'));

function policy(text: string, kinds = POLICY_KINDS): LoadedPolicy {
  const { policy: loaded, issues } = parsePolicy(text, 'test.yaml', kinds);
  if (!loaded) throw new Error(JSON.stringify(issues));
  return loaded;
}

/** Feeds a capture's events into a table and the engine, collecting everything the engine returns. */
function run(engine: PolicyEngine, clock: ManualClock, messages: AmiMessage[], table = new CallTable({ trunks: new TrunkRegistry(['carrier']) })) {
  const normaliser = new Normaliser();
  const results = [];
  for (const message of messages) {
    clock.advanceBy(10);
    const event = normaliser.normalise(message, clock.now());
    if (!event) continue;
    const changes: CallChange[] = event.type === 'security' ? [] : table.apply(event);
    results.push(engine.evaluate({ type: 'event', event, changes }, table));
  }
  return { table, findings: results.flatMap((result) => result.findings), committed: results.flatMap((result) => result.committed) };
}

const cuba = () => captureEvents('intl-call-cuba.timestamped.ami');
const international = policy('id: intl\nkind: destination\ndescription: x\nmatch: { destination: { scopes: [international] } }\nactions: [alert, hangup]\n');

describe('policy engine', () => {
  test('a destination finding carries the call snapshot a mail and a hang-up need', () => {
    const clock = new ManualClock(1_000);
    const engine = new PolicyEngine({ policies: [international], classifier, rates, clock });
    const { findings } = run(engine, clock, cuba());
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      policy: 'intl',
      kind: 'destination',
      mode: 'enforce',
      level: 'match',
      actions: ['alert', 'hangup'],
      scope: 'endpoint:1001',
      endpoint: '1001',
      call: { linkedid: '1795259065.0', channel: 'PJSIP/1001-00000000', channels: ['PJSIP/1001-00000000'], endpoint: '1001', dialled: '011535551234', e164: '+535551234', direction: 'outbound', ratePerMinute: expect.any(String), currency: 'USD' },
    });
  });

  test('committed cost: the answered outbound dial is priced once, when it ends', () => {
    const clock = new ManualClock(1_000);
    const engine = new PolicyEngine({ policies: [], classifier, rates, clock });
    const { committed } = run(engine, clock, cuba());
    expect(committed).toHaveLength(1);
    expect(committed[0]).toMatchObject({ linkedid: '1795259065.0', endpoint: '1001', trunk: 'carrier', dialled: '011535551234', country: 'CU', currency: 'USD' });
    expect(committed[0]!.micros).toBe(rates.cost(rates.lookup('+535551234')!, committed[0]!.billableSeconds).micros);
  });

  test('emergency calls are exempt from every policy, in one place', () => {
    const clock = new ManualClock(1_000);
    // A (silly) policy that targets emergency numbers on purpose: the engine still drops its findings.
    const emergency = policy('id: emergency-trap\nkind: destination\ndescription: x\nmatch: { destination: { scopes: [emergency, international, national] } }\nactions: [hangup]\n');
    const engine = new PolicyEngine({ policies: [emergency], classifier, rates, clock });
    const messages = cuba().map((message) => new AmiMessage(message.fields.map(([key, value]) => [key, value.replaceAll('011535551234', '911')])));
    const { findings } = run(engine, clock, messages);
    expect(findings).toEqual([]);
    expect(engine.stats.emergencyExempted).toBeGreaterThan(0);
  });

  test('a reload keeps the state of unchanged policies (no second finding for the same call)', () => {
    const clock = new ManualClock(1_000);
    const engine = new PolicyEngine({ policies: [international], classifier, rates, clock });
    const messages = cuba();
    const firstHalf = messages.slice(0, messages.findIndex((message) => message.name === 'Newchannel') + 1);
    const { table, findings } = run(engine, clock, firstHalf);
    expect(findings).toHaveLength(1);
    engine.setPolicies([policy('id: intl\nkind: destination\ndescription: x\nmatch: { destination: { scopes: [international] } }\nactions: [alert, hangup]\n')]);
    expect(run(engine, clock, messages.slice(firstHalf.length), table).findings).toHaveLength(0);
    // A changed policy is a new instance: it judges the call afresh.
    engine.setPolicies([policy('id: intl\nkind: destination\ndescription: changed\nmatch: { destination: { scopes: [international] } }\nactions: [alert]\n')]);
    const again = run(engine, clock, [AmiMessage.from({ Event: 'Newchannel', Channel: 'PJSIP/1001-00000009', ChannelState: '4', CallerIDNum: '1001', Context: 'from-internal', Exten: '011535551234', Uniqueid: '9.9', Linkedid: '9.9' })], table);
    expect(again.findings).toHaveLength(1);
  });

  test('a policy that throws is isolated: the others still run and the error is reported', () => {
    const broken = defineKind({
      kind: 'broken',
      summary: 'always throws',
      fields: {},
      create: (definition) => ({
        id: definition.id,
        evaluate: () => {
          throw new Error('bug in a policy');
        },
      }),
    });
    const errors: string[] = [];
    const clock = new ManualClock(1_000);
    const engine = new PolicyEngine({
      policies: [policy('id: broken\nkind: broken\ndescription: x\n', [...POLICY_KINDS, broken]), international],
      classifier,
      rates,
      clock,
      onPolicyError: (id, error) => errors.push(`${id}: ${(error as Error).message}`),
    });
    const { findings } = run(engine, clock, cuba());
    expect(findings.map((finding) => finding.policy)).toEqual(['intl']);
    expect(errors[0]).toBe('broken: bug in a policy');
    expect(engine.stats.policyErrors).toBe(errors.length);
  });

  test('disabled policies do not run', () => {
    const clock = new ManualClock(1_000);
    const disabled = policy('id: off\nkind: destination\ndescription: x\nenabled: false\nmatch: { destination: { scopes: [international] } }\n');
    const engine = new PolicyEngine({ policies: [disabled], classifier, rates, clock });
    expect(run(engine, clock, cuba()).findings).toEqual([]);
  });
});
