import { readFileSync } from 'node:fs';
import { runDemo } from '../../src/commands/demo.js';
import { replayForDisplay } from '../../src/commands/replay.js';
import { fixturePath } from '../helpers/fixtures.js';
import { startSmtpServer } from '../helpers/smtp.js';
import { packagePath } from '../../src/paths.js';

const cuba = () => readFileSync(fixturePath('ami', 'intl-call-cuba.timestamped.ami'));

describe('tollgate replay', () => {
  test('prints the call timeline and summary of a capture, in event time', () => {
    expect(replayForDisplay(cuba(), { country: 'US' })).toEqual([
      '2026-11-21 11:04:24.261  security  SuccessfulAuth           AMI    account fraudwatch from 127.0.0.1:43294',
      '2026-11-21 11:04:25.447  security  SuccessfulAuth           PJSIP  account 1001 from 127.0.0.1:5070',
      '2026-11-21 11:04:25.449  call      1795259065.0    started   1001 (from-internal) dialled 011535551234 (CU international, risk critical)',
      '2026-11-21 11:04:25.451  call      1795259065.0    dial      → PJSIP/carrier-00000001 via trunk carrier: 011535551234 (CU international, risk critical)',
      '2026-11-21 11:04:25.761  call      1795259065.0    answered',
      '2026-11-21 11:04:45.772  call      1795259065.0    ended     20.0 s talk, cause 16 Normal Clearing',
      '',
      'Summary',
      '  calls: 1 (1 answered, 0 still up), peak concurrent: 1, talk time: 20.0 s',
      '  endpoints: 1001 ×1',
      '  destinations: 011535551234 (CU international, risk critical) ×1',
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

describe('tollgate replay --policies', () => {
  const options = { config: fixturePath('lab-config.yaml'), policies: packagePath('policies') };
  const capture = () => readFileSync(fixturePath('ami', 'five-concurrent-intl.timestamped.ami'));

  test('prints findings and decisions in event time, the same output twice', () => {
    const first = replayForDisplay(capture(), options);
    expect(replayForDisplay(capture(), options)).toEqual(first);
    expect(first).toContain(
      '2026-11-21 11:04:51.932  FINDING   international-risk [high, score-4] 1001 → 00449098790123 (GB, premium rate, critical risk): risk score 16 (≥ 4: alert+hangup) — GB premium rate, critical risk (+6); Sat 11:04 UTC is outside office hours (Mon–Fri 08:00–19:00) (+2); 3 different numbers from 1001 within 1 min: faster than a person dials (+4); 2 calls from 1001 were hung up in the last 30 min (international-risk) (+4)',
    );
    // Two policies condemn the call; it would be hung up once — and replay says it acts on nothing.
    expect(first.filter((line) => /^2026-11-21 11:04:51\.932  DECISION  would hang up PJSIP\/1001-00000006 — replay acts on nothing — policy /.test(line))).toHaveLength(1);
    // The recording goes on after the would-be hang-up, and the timeline says so.
    expect(first).toContain(
      '2026-11-21 11:05:17.245  call      1795259091.6    ended     25.0 s talk, cause 16 Normal Clearing — as recorded: Tollgate would have hung it up at 11:04:51.932 before it was answered; replay acts on nothing, so the recording goes on (25.0 s of talk after that)',
    );
    expect(first).toContain('  calls: 5 (5 answered, 0 still up), peak concurrent: 5, talk time: 125.0 s as recorded (125.0 s of it after Tollgate would have hung up 5 calls)');
    expect(first).toContain('  decisions (what the agent would have done — replay acts on nothing): hangup ×5, alert ×3');
    expect(first[first.length - 1]).toMatch(/^  prices: example rates \(/);
    expect(first.filter((line) => line.includes('FINDING   international-concurrency'))).toHaveLength(3);
  });

  test('--json: one object per line; findings and decisions carry the fields scripts need', () => {
    const records = replayForDisplay(capture(), { ...options, json: true }).map((line) => JSON.parse(line) as Record<string, unknown>);
    const verdicts = records.filter((record) => record.kind === 'finding' || record.kind === 'decision');
    expect(verdicts.length).toBeGreaterThan(4);
    for (const record of verdicts) {
      for (const key of ['kind', 'policy', 'action', 'mode', 'endpoint', 'channel', 'uniqueid', 'linkedid', 'dialled', 'e164', 'at']) expect(record).toHaveProperty(key);
      expect(record.at).toMatch(/^2026-11-21T11:0\d:\d\d\.\d{3}Z$/);
    }
    const hangup = verdicts.find((record) => record.kind === 'decision' && record.action === 'hangup' && record.linkedid === '1795259091.6');
    expect(hangup).toMatchObject({ mode: 'enforce', endpoint: '1001', channel: 'PJSIP/1001-00000006', uniqueid: '1795259091.6', linkedid: '1795259091.6', dialled: '00449098790123', e164: '+449098790123' });
    // Replay acts on nothing, and its JSON says so too.
    expect(verdicts.filter((record) => record.kind === 'decision').every((record) => record.carriedOut === false)).toBe(true);
    // A finding carries the destination's scope and its price, as classify shows them.
    expect(verdicts.find((record) => record.kind === 'finding' && record.linkedid === '1795259091.6')).toMatchObject({ destinationScope: 'international', ratePerMinute: '3.00', currency: 'USD' });
  });

  test('--dry-run turns every decision into a simulation', () => {
    const records = replayForDisplay(capture(), { ...options, json: true, dryRun: true }).map((line) => JSON.parse(line) as Record<string, unknown>);
    const decisions = records.filter((record) => record.kind === 'decision');
    expect(decisions.length).toBeGreaterThan(0);
    expect(decisions.every((record) => record.mode === 'simulate')).toBe(true);
    expect(replayForDisplay(capture(), { ...options, dryRun: true }).some((line) => line.includes('DECISION  would hang up') && line.includes('(the policy is in simulate mode) — replay acts on nothing'))).toBe(true);
  });

  test('an invalid policy directory is refused with every problem', () => {
    expect(() => replayForDisplay(capture(), { ...options, policies: fixturePath('broken-policies') })).toThrow(/invalid policies in .*broken-policies \(\d+ problems\)/);
  });
});

describe('tollgate demo', () => {
  test('runs the real agent against the simulator over TCP, reports what it saw, and with --smtp sends the mails', async () => {
    const smtp = await startSmtpServer();
    const printed: string[] = [];
    try {
      await runDemo({ speed: 'max', smtp: `smtp://127.0.0.1:${smtp.port}` }, (line) => printed.push(line));
    } finally {
      await smtp.close();
    }
    const text = printed.join('\n');
    expect(printed[0]).toMatch(/^Tollgate demo: AMI simulator on 127\.0\.0\.1:\d+, replaying 2 recorded capture\(s\) at full speed$/);
    expect(printed[1]).toBe(`Mails go to pbx-admin@example.com through 127.0.0.1:${smtp.port}, and are printed here.`);
    // Every mail printed reached the SMTP server.
    const printedMails = printed.filter((line) => line.includes('MAIL      to ')).length;
    expect(text).toContain(`mails delivered to the SMTP server 127.0.0.1:${smtp.port}: ${printedMails}`);
    expect(smtp.messages).toHaveLength(printedMails);
    // The same mails as printed (their wording is the mail renderer's business).
    expect(smtp.messages.map((message) => message.subject).sort()).toEqual(printed.filter((line) => line.includes('MAIL      to ')).map((line) => line.replace(/^.*MAIL      to [^:]+: /, '')).sort());
    expect(text).toContain('── 01-register-bruteforce.ami ──');
    expect(text).toContain('── 02-five-concurrent-international.ami ──');
    expect(text).toMatch(/  calls: 5 \(\d answered, 0 still up\)/);
    expect(text).toMatch(/dialled 00449098790123 \(GB PREMIUM_RATE international, risk critical\)/);
    expect(text).toContain('ChallengeResponseFailed ×42, InvalidAccountID ×36');
    // The attack is stopped for real: the simulator received the hang-ups, the mails were written.
    expect(text).toMatch(/AMI Hangup actions sent to Asterisk: [1-9]\d*; mails: [1-9]\d*; locked now: 1001/);
    // One thread: the scan, the guessed password, the first call hung up (the other calls are folded in).
    expect(text).toContain('MAIL      to pbx-admin@example.com: [Tollgate][HIGH] brute force from 127.0.0.1 — not blocked (no firewall hook)');
    expect(text).toContain('MAIL      to pbx-admin@example.com: [Tollgate][CRITICAL][UPDATE] password guessed on 1001 from 127.0.0.1 — locked');
    expect(text).toMatch(/MAIL      to pbx-admin@example\.com: \[Tollgate\]\[CRITICAL\]\[UPDATE\] 1001 → \+53 5551234 hung up/);
    expect(text.match(/MAIL {6}to /g)).toHaveLength(3);
  });
});

describe('tollgate replay with several captures', () => {
  const options = { config: fixturePath('lab-config.yaml'), policies: packagePath('policies') };
  const risk = (name: string) => readFileSync(packagePath('test', 'policies', 'international-risk', name));

  test('state is carried from one capture to the next: the address 1001 used two weeks earlier is known', () => {
    // The two weeks of the stolen-password case, split in two captures: first the history, then the attack.
    const whole = risk('derived-stolen-password-new-address.ami').toString('latin1');
    const cut = whole.indexOf('Event: SuccessfulAuth', whole.indexOf('2026-12-02T') - 400);
    const history = Buffer.from(whole.slice(0, cut), 'latin1');
    const attack = Buffer.from(`Asterisk Call Manager/11.0.0\r\n${whole.slice(cut)}`, 'latin1');
    const riskFindings = (line: string): boolean => line.includes('"kind":"finding"') && line.includes('"policy":"international-risk"');
    const together = replayForDisplay([history, attack], { ...options, json: true }).filter(riskFindings);
    expect(together.map((line) => (JSON.parse(line) as { evidence: { score: number } }).evidence.score)).toEqual([3, 4, 10]);
    // The attack alone: the memory starts with it and learns (nothing is new): only the Cuban mobile
    // (high risk) is a finding, and no signal says "new address".
    const alone = replayForDisplay([attack], { ...options, json: true }).filter(riskFindings);
    expect(alone.map((line) => (JSON.parse(line) as { dialled: string; evidence: { signals: string[] } })).map((finding) => [finding.dialled, finding.evidence.signals.some((signal) => signal.startsWith('new-address'))])).toEqual([['0115351234567', false]]);
  });
});

describe('tollgate trust-address and addresses', () => {
  test('an admin confirms a network for an endpoint; the list shows it; bad input is refused clearly', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { trustAddress, listAddresses } = await import('../../src/commands/addresses.js');
    const { Store } = await import('../../src/store/store.js');
    const db = join(mkdtempSync(join(tmpdir(), 'tollgate-trust-')), 'tollgate.db');
    // No database there: never created, the error says where the agent's is.
    expect(() => listAddresses(db, '1002')).toThrow(/no Tollgate database at .*tollgate\.db/);
    expect(() => trustAddress(db, '1002', '203.0.113.7', 1_000)).toThrow(/no Tollgate database/);
    new Store(db).close();
    const noAgent = 'WARNING: no agent has ever run on this database: is it the one `tollgate run` uses (db.file / TOLLGATE_DB)?';
    expect(listAddresses(db, '1002')).toEqual([`database: ${db}`, noAgent, 'nothing learnt about 1002 yet']);
    expect(trustAddress(db, '1002', '203.0.113.7', 1_000)).toEqual([`1002 may now log in from 203.0.113.0/24 (203.0.113.7): its calls from there no longer count as from a new address`, `database: ${db}`, noAgent]);
    const store = new Store(db);
    expect(store.isTrusted('1002', '203.0.113.0/24')).toBe(true);
    expect(store.isTrusted('1001', '203.0.113.0/24')).toBe(false);
    // The agent saving what it learnt never takes the trust back.
    store.saveAddresses([{ endpoint: '1002', network: '203.0.113.0/24', address: '203.0.113.9', firstSeen: 500, lastSeen: 2_000, via: 'auth', trusted: false }]);
    expect(store.addressesOf('1002')).toEqual([{ endpoint: '1002', network: '203.0.113.0/24', address: '203.0.113.9', firstSeen: 500, lastSeen: 2_000, via: 'trusted', trusted: true }]);
    store.close();
    expect(listAddresses(db, undefined)[2]).toMatch(/^1002 +203\.0\.113\.0\/24 +last 203\.0\.113\.9 .* trusted$/);
    expect(() => trustAddress(db, 'PJSIP/1002', '203.0.113.7', 1)).toThrow('"PJSIP/1002" is a channel, not an endpoint name: did you mean "1002"?');
    expect(() => trustAddress(db, '1002', '203.0.113', 1)).toThrow(/not an IPv4 or IPv6 address/);
  });
});
