/**
 * A call that rings an endpoint of this PBX is internal, even when no internal pattern is
 * configured: never "national, risk high" in the timeline, the facts policies see, or mail.
 */
import { replayTranscript } from '../../../src/replay.js';
import { createClassifier, loadRiskLists } from '../../../src/numbers/index.js';
import { describeClassification } from '../../../src/commands/common.js';
import { mayBeExtension } from '../../../src/policy/engine.js';
import { parsePolicy } from '../../../src/policy/loader.js';
import { packagePath } from '../../../src/paths.js';
import { deriveTranscript } from '../../../src/sim/derive.js';
import { fixturePath } from '../../helpers/fixtures.js';
import { dirname } from 'node:path';

// No internalPatterns: the PBX's extensions are not described anywhere.
const classifier = createClassifier({ numbering: { homeCountry: 'US', internationalPrefixes: ['011'] }, riskLists: loadRiskLists(packagePath('policies', 'lists')) });
const everyHighRiskCall = parsePolicy('id: high\nkind: destination\ndescription: x\nmatch: { destination: { minRisk: high } }\nactions: [alert, hangup]\n', 'high.yaml').policy!;

/** The real Cuba call, turned into 1001 ringing extension 1002 (the carrier leg becomes 1002's). */
const internalCall = (): string =>
  deriveTranscript(
    { steps: [{ from: 'intl-call-cuba.timestamped.ami', replace: { '011535551234@carrier': '1002', '011535551234': '1002', carrier: '1002' }, dropEvents: ['VarSet', 'Newexten', 'DeviceStateChange'] }] },
    dirname(fixturePath('ami', 'intl-call-cuba.timestamped.ami')),
  );

describe('internal calls without internal patterns', () => {
  test('1001 ringing PJSIP/1002: internal in the facts, no policy fires, the timeline says so', () => {
    const result = replayTranscript(internalCall(), { trunks: ['carrier'], classifier, policies: [everyHighRiskCall], describeNumber: (number) => describeClassification(classifier.classify(number)) });
    expect(result.findings).toEqual([]);
    const call = result.table.recentCalls()[0]!;
    expect(call.internalTarget).toBe('1002');
    expect(result.engine!.factsOf(call)).toMatchObject({ direction: 'internal', classification: { scope: 'internal', risk: 'low' } });
    expect(result.lines.find((line) => line.includes('dial      →'))).toMatch(/dial      → PJSIP\/1002-00000001$/);
    // Before the Dial, "1002" is only a short string: no destination yet, never "national, risk high".
    expect(result.lines.find((line) => line.includes('started'))).toMatch(/dialled 1002 \(short number: an extension or a service code until it dials out on a trunk\)$/);
    expect(result.lines.join('\n')).not.toMatch(/risk high/);
  });

  test('an extension the PBX has seen register is internal from the moment it is dialled', () => {
    const registration = 'Event: ContactStatus\r\nURI: sip:1002@192.0.2.12:5060\r\nContactStatus: Created\r\nAOR: 1002\r\nEndpointName: 1002\r\n\r\n';
    const banner = 'Asterisk Call Manager/11.0.0\r\n';
    const result = replayTranscript([banner + registration, internalCall()], { trunks: ['carrier'], classifier, policies: [everyHighRiskCall] });
    expect(result.table.endpoints.isEndpoint('1002')).toBe(true);
    expect(result.lines.find((line) => line.includes('started'))).toMatch(/dialled 1002 \(internal: endpoint 1002\)$/);
    expect(result.findings).toEqual([]);
    const call = result.table.recentCalls()[0]!;
    expect(result.engine!.factsOf(call).classification).toMatchObject({ scope: 'internal' });
  });

  test('short strings that are no valid number may be extensions; real numbers are not', () => {
    expect(mayBeExtension(classifier.classify('1002'))).toBe(true);
    expect(mayBeExtension(classifier.classify('*97'))).toBe(false);
    expect(mayBeExtension(classifier.classify('12125550123'))).toBe(false);
    expect(mayBeExtension(classifier.classify('0114420794601'))).toBe(false);
  });

  test('a trunk is never an endpoint, even when its channels were seen first', () => {
    const result = replayTranscript(internalCall(), { trunks: ['1002'], classifier });
    expect(result.table.endpoints.isEndpoint('1002')).toBe(false);
    expect(result.table.recentCalls()[0]!.internalTarget).toBeUndefined();
  });
});
