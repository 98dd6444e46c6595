import type { ActionOutcome } from '../../../src/act/outcome.js';
import { incidentMail, renderIncidentMail, type IncidentMailInput } from '../../../src/act/mail/render.js';
import { escapeHtml, maskText } from '../../../src/act/mail/format.js';
import type { Decision, Incident } from '../../../src/decide/decider.js';
import type { Finding, PolicyAction } from '../../../src/policy/types.js';
import { numberMasker } from '../../../src/privacy.js';
import { visible } from '../../helpers/mail-text.js';

const AT = Date.UTC(2026, 10, 21, 2, 4, 40); // 03:04:40 in Paris

function callFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    policy: 'block-premium-rate',
    kind: 'destination',
    mode: 'enforce',
    severity: 'critical',
    level: 'match',
    actions: ['alert', 'hangup'],
    at: AT,
    message: '1001 → 00535551234: premium-rate number in CU, denied',
    scope: 'endpoint:1001',
    endpoint: '1001',
    evidence: { rule: 'deny', numbers: ['+535551234'] },
    call: {
      linkedid: '1763690665.12',
      uniqueid: '1763690665.12',
      channel: 'PJSIP/1001-00000006',
      channels: ['PJSIP/1001-00000006', 'PJSIP/carrier-00000007'],
      endpoint: '1001',
      context: 'from-internal',
      accountCode: 'sales',
      callerIdNum: '1001',
      callerIdName: 'Reception',
      direction: 'outbound',
      trunk: 'carrier',
      dialled: '00535551234',
      e164: '+535551234',
      country: 'CU',
      callingCode: '53',
      numberType: 'PREMIUM_RATE',
      risk: 'high',
      startedAt: AT - 15_000,
      answeredAt: AT - 9_000,
      ratePerMinute: '1.10',
      currency: 'USD',
      costSoFar: 0.37,
    },
    ...overrides,
  };
}

function securityFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    policy: 'sip-brute-force',
    kind: 'security',
    mode: 'enforce',
    severity: 'high',
    level: 'brute-force',
    actions: ['alert', 'firewall'],
    at: AT,
    message: 'Brute force from 203.0.113.9: 40 failed PJSIP authentication attempts in 12 s (accounts 100, 101, admin)',
    scope: 'ip:203.0.113.9',
    ip: '203.0.113.9',
    evidence: { attempts: 40, accounts: ['100', '101', 'admin'] },
    ...overrides,
  };
}

function incidentOf(finding: Finding, extra: Partial<Incident> = {}): Incident {
  return {
    id: `20261121-020440-${finding.policy}-1a2b`,
    policy: finding.policy,
    scope: finding.scope,
    firstAt: finding.at,
    lastAt: finding.at,
    findings: 1,
    severity: finding.severity,
    levels: [finding.level],
    calls: finding.call ? [finding.call.linkedid] : [],
    first: finding,
    latest: finding,
    decided: new Set(),
    sequence: 2,
    ...extra,
  };
}

function outcome(finding: Finding, action: PolicyAction, result: ActionOutcome['result'], detail: string, undo?: string): ActionOutcome {
  const decision: Decision = {
    id: `x/${action}`,
    incident: 'x',
    action,
    mode: result === 'simulated' ? 'simulate' : 'enforce',
    policy: finding.policy,
    kind: finding.kind,
    severity: finding.severity,
    level: finding.level,
    at: finding.at,
    finding,
    target: {
      ...(finding.call ? { linkedid: finding.call.linkedid, channels: finding.call.channels } : {}),
      ...(finding.endpoint ? { endpoint: finding.endpoint } : {}),
      ...(finding.ip ? { ip: finding.ip } : {}),
    },
    followUp: false,
  };
  return { decision, result, detail, ...(undo ? { undo } : {}), latencyMs: 14 };
}

const HANGUP_DETAIL = 'Hung up PJSIP/1001-00000006 and PJSIP/carrier-00000007 (cause 21), confirmed after 12 ms';

function input(overrides: Partial<IncidentMailInput> = {}): IncidentMailInput {
  const finding = overrides.finding ?? callFinding();
  return {
    incident: incidentOf(finding),
    finding,
    followUp: false,
    outcomes: [outcome(finding, 'alert', 'done', 'mail queued'), outcome(finding, 'hangup', 'done', HANGUP_DETAIL)],
    mode: 'enforce',
    mask: numberMasker(false),
    timezone: 'Europe/Paris',
    agent: 'pbx1.example.net',
    ...overrides,
  };
}


describe('incident mail: subject', () => {
  test('a call: severity, endpoint → destination (E.164, spaced), what was done', () => {
    expect(renderIncidentMail(input()).subject).toBe('[Tollgate][CRITICAL] 1001 → +53 5551234 hung up');
  });

  test('masked numbers', () => {
    const mail = renderIncidentMail(input({ mask: numberMasker(true) }));
    expect(mail.subject).toBe('[Tollgate][CRITICAL] 1001 → +53 55***** hung up');
  });

  test('a follow-up says [UPDATE]; a simulation says [SIMULATED] and "would be"', () => {
    expect(renderIncidentMail(input({ followUp: true })).subject).toBe('[Tollgate][CRITICAL][UPDATE] 1001 → +53 5551234 hung up');
    const finding = callFinding();
    const simulated = renderIncidentMail(input({ mode: 'simulate', outcomes: [outcome(finding, 'hangup', 'simulated', 'Would hang up PJSIP/1001-00000006')] }));
    expect(simulated.subject).toBe('[Tollgate][CRITICAL][SIMULATED] 1001 → +53 5551234 would hang up (simulate)');
    // The severity band first, then the simulation banner, before anything else.
    expect(simulated.text.split('\n')[0]).toBe('[CRITICAL] 1001 → +53 5551234 would hang up (simulate)');
    expect(simulated.text.split('\n')[3]).toMatch(/^\*\*\* SIMULATION — nothing was done\./);
    expect(visible(simulated.html)).toContain('SIMULATION — nothing was done.');
    // A policy in simulate mode under a global enforce: the outcome says so.
    expect(renderIncidentMail(input({ outcomes: [outcome(finding, 'hangup', 'simulated', 'Would hang up')] })).subject).toBe('[Tollgate][CRITICAL] 1001 → +53 5551234 would hang up (simulate)');
  });

  test('a security finding without a call: what, from where, what was done', () => {
    const finding = securityFinding();
    const mail = renderIncidentMail(input({ finding, incident: incidentOf(finding), outcomes: [outcome(finding, 'firewall', 'done', 'Firewall hook added 203.0.113.9 (exit 0)', 'ipset del tollgate 203.0.113.9')] }));
    expect(mail.subject).toBe('[Tollgate][HIGH] brute force from 203.0.113.9 — blocked at the firewall');
    const compromise = securityFinding({ policy: 'account-compromise', level: 'compromise', scope: 'endpoint:1001', endpoint: '1001', actions: ['alert', 'lock'], message: 'PJSIP account 1001 logged in from 203.0.113.9 after 25 failed attempts' });
    const locked = renderIncidentMail(input({ finding: compromise, incident: incidentOf(compromise), outcomes: [outcome(compromise, 'lock', 'done', 'Locked 1001 (AstDB tollgate/lock/1001 set)', 'tollgate unlock 1001')] }));
    expect(locked.subject).toBe('[Tollgate][HIGH] password guessed on 1001 from 203.0.113.9 — locked');
  });

  test('simulate mode with no firewall hook: the subject does not promise a block that could not happen', () => {
    const finding = securityFinding({ mode: 'simulate' });
    const mail = renderIncidentMail(input({ finding, mode: 'simulate', incident: incidentOf(finding), outcomes: [outcome(finding, 'firewall', 'skipped', 'SIMULATED, and no firewall hook is configured (firewall.command): nothing would be blocked')] }));
    expect(mail.subject).toBe('[Tollgate][HIGH][SIMULATED] brute force from 203.0.113.9 — not blocked (no firewall hook)');
  });

  test('failures, nothing but an alert, several actions', () => {
    const finding = callFinding();
    expect(renderIncidentMail(input({ outcomes: [outcome(finding, 'hangup', 'failed', 'Hangup of PJSIP/1001-00000006 not confirmed within 3 s')] })).subject).toBe('[Tollgate][CRITICAL] 1001 → +53 5551234 hang-up FAILED');
    expect(renderIncidentMail(input({ outcomes: [outcome(finding, 'alert', 'done', 'mail queued')] })).subject).toBe('[Tollgate][CRITICAL] 1001 → +53 5551234 reported, not hung up');
    expect(renderIncidentMail(input({ outcomes: [outcome(finding, 'lock', 'done', 'Locked 1001', 'tollgate unlock 1001'), outcome(finding, 'hangup', 'done', HANGUP_DETAIL)] })).subject).toBe('[Tollgate][CRITICAL] 1001 → +53 5551234 hung up, locked');
  });

  test('nothing from the PBX can break the subject line (header injection)', () => {
    const finding = callFinding();
    finding.call!.endpoint = '1001\r\nBcc: victim@example.com';
    expect(renderIncidentMail(input({ finding })).subject).not.toMatch(/[\r\n]/);
  });
});

describe('incident mail: body', () => {
  test('every field, in plain text and in HTML alike', () => {
    const mail = renderIncidentMail(input());
    const expected = [
      '1001 → 00535551234: premium-rate number in CU, denied',
      'block-premium-rate',
      'destination',
      'match',
      'critical',
      '1001',
      '"Reception" <1001>',
      'from-internal',
      'sales',
      '+53 5551234 (dialled 00535551234)',
      'CU (Cuba)',
      'premium rate',
      'high',
      'carrier',
      '1.10 USD/min',
      '0.37 USD',
      '66.37 USD had the call stayed up for another hour at this rate (+66.00 USD an hour)',
      '2026-11-21 03:04:25', // started, Paris time
      '2026-11-21 03:04:31', // answered
      '20261121-020440-block-premium-rate-1a2b',
      '1 finding, 1 call',
      `hang-up: done — ${HANGUP_DETAIL}`,
      'nothing to undo: the caller can dial again if the call was legitimate; add an exception to policy block-premium-rate',
      'policies/block-premium-rate.yaml',
      'mode: simulate',
      'exceptions:',
      'endpoints: ["1001"]',
      'Tollgate on pbx1.example.net',
      'times in Europe/Paris',
    ];
    for (const value of expected) {
      expect(mail.text).toContain(value);
      expect(visible(mail.html)).toContain(value);
    }
    for (const label of ['What happened', 'What Tollgate did', 'What you must do now', 'Policy', 'Severity', 'Endpoint', 'Caller ID', 'Destination', 'Country', 'Number type', 'Risk', 'Rate', 'Cost so far', 'Projected cost', 'Started', 'Answered', 'Incident', 'Grown to', 'What was done', 'How to undo', 'How to silence or tune this policy']) {
      expect(mail.text).toContain(label);
      expect(mail.html).toContain(escapeHtml(label));
    }
    // The alert itself is not "something done".
    expect(mail.text).not.toContain('mail queued');
    // A call not hung up: the projection is "if left up".
    const alertOnly = renderIncidentMail(input({ outcomes: [] }));
    expect(alertOnly.text).toContain('if left up for another hour at this rate');
    expect(alertOnly.text).toContain('Nothing but this alert');
  });

  test('source IP, follow-up changes', () => {
    const first = callFinding({ level: '50%', severity: 'medium' });
    const latest = callFinding({ policy: 'account-compromise', level: 'call-after-compromise', ip: '203.0.113.9', at: AT + 600_000 });
    const incident = incidentOf(first, { first, latest, findings: 4, calls: ['a', 'b', 'c'], lastAt: AT + 600_000, severity: 'critical', levels: ['50%', 'call-after-compromise'] });
    const mail = renderIncidentMail(input({ finding: latest, incident, followUp: true }));
    expect(mail.text).toMatch(/Source IP: +203\.0\.113\.9/);
    expect(mail.text).toContain('Update on the attack first reported at 2026-11-21 03:04:40 CET');
    expect(mail.text).toContain('now level call-after-compromise, severity critical (it opened at level 50%, severity medium); 4 findings, 3 calls in 10 min');
    expect(mail.text).toContain('4 findings, 3 calls');
  });

  test('HTML escapes every value (a caller-id name like <script>)', () => {
    const finding = callFinding({ message: 'call from <b>"evil"</b> & co' });
    finding.call!.callerIdName = '<script>alert("pwned")</script>';
    const mail = renderIncidentMail(input({ finding, incident: incidentOf(finding) }));
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).not.toContain('<b>');
    expect(mail.html).toContain('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;');
    expect(mail.html).toContain('call from &lt;b&gt;&quot;evil&quot;&lt;/b&gt; &amp; co');
    expect(mail.text).toContain('"<script>alert("pwned")</script>" <1001>');
    // Inline styles only.
    expect(mail.html).not.toMatch(/<style|<link|<script/i);
  });

  test('masking hides the number everywhere: message, destination, dialled string, evidence', () => {
    const mail = renderIncidentMail(input({ mask: numberMasker(true) }));
    for (const body of [mail.subject, mail.text, mail.html]) {
      expect(body).not.toMatch(/5551234/);
      expect(body).not.toMatch(/535551234/);
    }
    expect(mail.text).toContain('+53 55*****');
    expect(mail.text).toContain('(dialled 00535******)');
    // Channel names, linkedids and addresses are not phone numbers.
    expect(mail.text).toContain('PJSIP/carrier-00000007');
    expect(mail.text).toContain('1763690665.12');
    expect(maskText('Brute force from 203.0.113.9:5060 at 1763690665.12', numberMasker(true))).toBe('Brute force from 203.0.113.9:5060 at 1763690665.12');
    expect(maskText('dialled 00449098790123: denied', numberMasker(true))).toBe('dialled 00449098******: denied');
  });

  test('how to undo: each outcome\'s undo command; hang-ups, simulations and failures say why there is nothing', () => {
    const finding = callFinding({ actions: ['alert', 'hangup', 'lock'] });
    const mail = renderIncidentMail(input({ finding, outcomes: [outcome(finding, 'hangup', 'done', HANGUP_DETAIL), outcome(finding, 'lock', 'done', 'Locked 1001', 'tollgate unlock 1001')] }));
    expect(mail.text).toContain('- lock: run `tollgate unlock 1001`');
    expect(mail.text).toMatch(/^ {4}tollgate unlock 1001$/m);
    expect(mail.html).toContain('<code');
    expect(mail.text).toContain('- hang-up: nothing to undo: the caller can dial again if the call was legitimate; add an exception to policy block-premium-rate (policies/block-premium-rate.yaml)');
    const security = securityFinding();
    const firewall = renderIncidentMail(input({ finding: security, incident: incidentOf(security), outcomes: [outcome(security, 'firewall', 'done', 'Firewall hook added 203.0.113.9', 'ipset del tollgate 203.0.113.9')] }));
    expect(firewall.text).toContain('- firewall: lift the block only if 203.0.113.9 turns out to be one of your own devices: run `ipset del tollgate 203.0.113.9`');
    // Never advice to trust the address that attacked.
    expect(firewall.text).not.toContain('203.0.113.9/32');
    expect(firewall.text.slice(firewall.text.indexOf('How to silence'))).not.toContain('203.0.113.9');
    const simulated = renderIncidentMail(input({ mode: 'simulate', outcomes: [outcome(finding, 'hangup', 'simulated', 'Would hang up')] }));
    expect(simulated.text).toContain('- hang-up: nothing to undo (simulated: nothing was done)');
    expect(simulated.text).toContain('What would have been done');
    const failed = renderIncidentMail(input({ outcomes: [outcome(finding, 'hangup', 'failed', 'not confirmed')] }));
    expect(failed.text).toContain('- hang-up: nothing to undo (it failed)');
  });

  test('outbox row: one key per incident, one per escalation', () => {
    const first = incidentMail(input(), ['noc@example.com']);
    expect(first).toMatchObject({ kind: 'alert', dedupeKey: 'incident:20261121-020440-block-premium-rate-1a2b:alert', incident: '20261121-020440-block-premium-rate-1a2b', to: ['noc@example.com'] });
    const update = incidentMail(input({ followUp: true, finding: callFinding({ level: '100%' }) }), ['noc@example.com']);
    expect(update).toMatchObject({ kind: 'follow-up', dedupeKey: 'incident:20261121-020440-block-premium-rate-1a2b:update:100%:critical' });
  });
});
