import { readFileSync } from 'node:fs';
import { runDemo } from '../../src/commands/demo.js';
import { replayForDisplay } from '../../src/commands/replay.js';
import { fixturePath } from '../helpers/fixtures.js';

const cuba = () => readFileSync(fixturePath('ami', 'intl-call-cuba.timestamped.ami'));

describe('tollgate replay', () => {
  test('prints the call timeline and summary of a capture, in event time', () => {
    expect(replayForDisplay(cuba(), { country: 'US' })).toEqual([
      '2026-11-21 11:04:24.261  security  SuccessfulAuth           AMI    account fraudwatch from 127.0.0.1:43294',
      '2026-11-21 11:04:25.447  security  SuccessfulAuth           PJSIP  account 1001 from 127.0.0.1:5070',
      '2026-11-21 11:04:25.449  call      1795259065.0    started   1001 (from-internal) dialled 011535551234 (CU international, risk high)',
      '2026-11-21 11:04:25.451  call      1795259065.0    dial      → PJSIP/carrier-00000001 via trunk carrier: 011535551234 (CU international, risk high)',
      '2026-11-21 11:04:25.761  call      1795259065.0    answered',
      '2026-11-21 11:04:45.772  call      1795259065.0    ended     20.0 s talk, cause 16 Normal Clearing',
      '',
      'Summary',
      '  calls: 1 (1 answered, 0 still up), peak concurrent: 1, talk time: 20.0 s',
      '  endpoints: 1001 ×1',
      '  destinations: 011535551234 (CU international, risk high) ×1',
      '  security events: 3 — SuccessfulAuth ×2, ChallengeSent ×1',
    ]);
  });

  test('the same transcript gives the same output twice', () => {
    const bytes = readFileSync(fixturePath('ami', 'five-concurrent-intl.ami'));
    expect(replayForDisplay(bytes, { country: 'US' })).toEqual(replayForDisplay(bytes, { country: 'US' }));
  });

  test('--json prints one parseable object per line; --mask hides the subscriber digits', () => {
    const lines = replayForDisplay(cuba(), { country: 'US', json: true, mask: true });
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record.kind)).toEqual(['security', 'security', 'security', 'call.started', 'dial.started', 'dial.answered', 'call.answered', 'dial.ended', 'call.ended']);
    const ended = records.find((record) => record.kind === 'call.ended')!;
    expect(ended).toMatchObject({ at: '2026-11-21T11:04:45.772Z', linkedid: '1795259065.0', endpoint: '1001', dialled: '011535******', trunk: 'carrier', cause: 16, answeredSeconds: 20.011 });
    expect(lines.join('\n')).not.toContain('535551234');
  });

  test('security captures: failures counted by source', () => {
    const lines = replayForDisplay(readFileSync(fixturePath('ami', 'register-bruteforce.ami')), { country: 'US' });
    expect(lines).toContain('  security events: 123 — ChallengeSent ×43, ChallengeResponseFailed ×42, InvalidAccountID ×36, SuccessfulAuth ×2');
    expect(lines).toContain('  failed authentications by source: 127.0.0.1 ×78');
  });
});

describe('tollgate demo', () => {
  test('runs the real agent against the simulator over TCP and reports what it saw', async () => {
    const printed: string[] = [];
    await runDemo({ speed: 'max' }, (line) => printed.push(line));
    const text = printed.join('\n');
    expect(printed[0]).toMatch(/^Tollgate demo: AMI simulator on 127\.0\.0\.1:\d+, replaying 2 recorded capture\(s\) at full speed$/);
    expect(text).toContain('── 01-register-bruteforce.ami ──');
    expect(text).toContain('── 02-five-concurrent-international.ami ──');
    expect(text).toContain('  calls: 5 (5 answered, 0 still up), peak concurrent: 5');
    expect(text).toMatch(/dialled 00449098790123 \(GB PREMIUM_RATE international, risk critical\)/);
    expect(text).toContain('ChallengeResponseFailed ×42, InvalidAccountID ×36');
  });
});
