/**
 * One mail of every kind, rendered by the real renderers from the findings and outcomes of one
 * made-up night (documentation addresses only): a SIP scan from 203.0.113.9 guesses 1001's
 * password, 1001 calls premium numbers abroad, a sales phone runs over its spend, and the digest
 * of the day. `scripts/mail-screenshots.mjs` screenshots their HTML; the mail tests read them.
 */
import { summaryOf, type Decision, type Incident } from '../../decide/decider.js';
import type { CostEntry, Finding, PolicyAction } from '../../policy/types.js';
import type { DecisionResult } from '../../store/store.js';
import type { ActionOutcome } from '../outcome.js';
import { composeDigest, type DigestData } from './digest.js';
import type { RenderedMail } from './format.js';
import { renderIncidentMail } from './render.js';
import { renderAttackSummary } from './summary.js';
import { MailThreads } from './threads.js';

export const GALLERY_KINDS = ['brute-force', 'compromise', 'destination', 'follow-up', 'velocity', 'spend', 'attack-summary', 'digest', 'destination-simulated'] as const;
export type GalleryKind = (typeof GALLERY_KINDS)[number];

export interface GalleryMail {
  kind: GalleryKind;
  mail: RenderedMail;
  /** The addresses that attacked in the story (never to appear in trust advice). */
  attackers: string[];
}

export const GALLERY_TIMEZONE = 'Europe/Paris';
const AGENT = 'pbx1.example.net';
const ATTACKER = '203.0.113.9';
/** 03:04:10 in Paris, 21 November 2026. */
const T0 = Date.UTC(2026, 10, 21, 2, 4, 10);
const noMask = (number: string | undefined): string => number ?? '';

function callOf(linkedid: string, dialled: string, e164: string, country: string, numberType: string, rate: string, at: number, extra: Partial<NonNullable<Finding['call']>> = {}): NonNullable<Finding['call']> {
  return {
    linkedid,
    uniqueid: linkedid,
    channel: `PJSIP/1001-0000000${linkedid.slice(-1)}`,
    channels: [`PJSIP/1001-0000000${linkedid.slice(-1)}`],
    endpoint: '1001',
    context: 'from-internal',
    callerIdNum: '1001',
    callerIdName: 'Reception',
    direction: 'outbound',
    trunk: 'carrier',
    dialled,
    e164,
    country,
    callingCode: e164.slice(1, 3),
    numberType,
    risk: 'critical',
    startedAt: at - 2_000,
    ratePerMinute: rate,
    currency: 'USD',
    costSoFar: 0,
    ...extra,
  };
}

function incidentOf(finding: Finding, id: string, extra: Partial<Incident> = {}): Incident {
  return { id, policy: finding.policy, scope: finding.scope, firstAt: finding.at, lastAt: finding.at, findings: 1, severity: finding.severity, levels: [finding.level], calls: finding.call ? [finding.call.linkedid] : [], first: summaryOf(finding), latest: summaryOf(finding), decided: new Set(), sequence: 1, ...extra };
}

function outcomeOf(finding: Finding, action: PolicyAction, result: DecisionResult, detail: string, undo?: string, mode: Decision['mode'] = 'enforce'): ActionOutcome {
  const decision: Decision = {
    id: `${finding.policy}/${action}`,
    incident: finding.policy,
    action,
    mode,
    policy: finding.policy,
    kind: finding.kind,
    severity: finding.severity,
    level: finding.level,
    at: finding.at,
    finding,
    target: { ...(finding.call ? { linkedid: finding.call.linkedid, channels: finding.call.channels } : {}), ...(finding.endpoint ?? finding.call?.endpoint ? { endpoint: finding.endpoint ?? finding.call?.endpoint } : {}), ...(finding.ip ? { ip: finding.ip } : {}) },
    followUp: false,
  };
  return { decision, result, detail, ...(undo ? { undo } : {}), latencyMs: 3 };
}

/** Every mail kind, rendered. */
export function mailGallery(): GalleryMail[] {
  const base = { mode: 'enforce' as const, mask: noMask, timezone: GALLERY_TIMEZONE, agent: AGENT };
  const threads = new MailThreads({ store: { saveThread: () => undefined, openThreads: () => [] } });

  const bruteForce: Finding = {
    policy: 'sip-brute-force',
    kind: 'security',
    mode: 'enforce',
    severity: 'high',
    level: 'brute-force',
    actions: ['alert', 'firewall'],
    at: T0,
    message: `Brute force from ${ATTACKER}: 21 failed PJSIP authentication attempts in 4 s (accounts 1001, 1002, admin)`,
    scope: `ip:${ATTACKER}`,
    ip: ATTACKER,
    evidence: { attempts: 21, reports: 42, firstSeen: new Date(T0 - 4_000).toISOString(), lastSeen: new Date(T0).toISOString(), services: ['PJSIP'], distinctAccounts: 3, sampleAccounts: ['1001', '1002', 'admin'], bucketLevel: 21, capacity: 20, leakEverySeconds: 5 },
  };
  const SCAN = '20261121-020410-sip-brute-force-1a2b';
  const COMPROMISE = '20261121-020411-account-compromise-3c4d';
  const thread = threads.threadFor(bruteForce, SCAN);
  const bruteOutcomes = [outcomeOf(bruteForce, 'firewall', 'done', `Firewall hook blocked ${ATTACKER} (exit 0)`, `ipset del tollgate ${ATTACKER}`)];
  threads.note(thread, bruteForce, SCAN, bruteOutcomes);
  const bruteMail = renderIncidentMail({ ...base, incident: incidentOf(bruteForce, SCAN), finding: bruteForce, followUp: false, outcomes: bruteOutcomes, thread: threads.context(thread) });
  threads.record(thread, 'first', { outcome: 'brute-force: blocked at the firewall', severity: 'high' });

  const compromise: Finding = {
    policy: 'account-compromise',
    kind: 'security',
    mode: 'enforce',
    severity: 'critical',
    level: 'compromise',
    actions: ['alert', 'lock', 'firewall'],
    at: T0 + 1_000,
    message: `PJSIP account 1001 logged in from ${ATTACKER} after 20 failed attempts in 4 s: its password was probably guessed`,
    scope: 'endpoint:1001',
    endpoint: '1001',
    account: '1001',
    ip: ATTACKER,
    evidence: { service: 'PJSIP', accountFailures: 20, firstFailure: new Date(T0 - 4_000).toISOString(), lastFailure: new Date(T0).toISOString(), failuresBefore: 10, windowSeconds: 120, sessionId: '1a2b3c4d-session', addressAttempts: 21, addressAccounts: ['1001', '1002', 'admin'] },
  };
  const compromiseOutcomes = [
    outcomeOf(compromise, 'lock', 'done', 'Locked 1001 (store and AstDB tollgate/lock/1001)', 'tollgate unlock 1001'),
    outcomeOf(compromise, 'firewall', 'done', `Firewall hook blocked ${ATTACKER} (exit 0)`, `ipset del tollgate ${ATTACKER}`),
  ];
  threads.note(thread, compromise, COMPROMISE, compromiseOutcomes);
  const compromiseMail = renderIncidentMail({ ...base, incident: incidentOf(compromise, COMPROMISE), finding: compromise, followUp: true, outcomes: compromiseOutcomes, thread: threads.context(thread) });
  threads.record(thread, 'follow-up', { outcome: 'compromise: locked, blocked at the firewall', severity: 'critical' });

  // A premium number abroad, hung up by the destination policy: a mail of its own (no attack around it).
  const premium: Finding = {
    policy: 'block-premium-rate',
    kind: 'destination',
    mode: 'enforce',
    severity: 'critical',
    level: 'match',
    actions: ['alert', 'hangup'],
    at: T0 + 9_000,
    message: '1002 → 00447098790123 (GB, premium rate, critical risk): premium-rate number, denied',
    scope: 'endpoint:1002',
    endpoint: '1002',
    evidence: { rule: 'deny', reason: 'premium-rate and shared-cost numbers are refused', classificationReasons: ['international access code 00 stripped', 'United Kingdom (GB)', 'premium rate'] },
    call: callOf('1763690665.2', '00447098790123', '+447098790123', 'GB', 'PREMIUM_RATE', '3.00', T0 + 9_000, { endpoint: '1002', channel: 'PJSIP/1002-00000002', channels: ['PJSIP/1002-00000002', 'PJSIP/carrier-00000003'], callerIdNum: '1002', callerIdName: 'Sales', answeredAt: T0 + 8_000, costSoFar: 0.05, risk: 'high' }),
  };
  const destinationMail = renderIncidentMail({ ...base, incident: incidentOf(premium, '20261121-020419-block-premium-rate-5e6f'), finding: premium, followUp: false, outcomes: [outcomeOf(premium, 'hangup', 'done', 'Hung up PJSIP/1002-00000002 and PJSIP/carrier-00000003 (cause 21, via AMI), confirmed after 12 ms')] });
  const simulatedMail = renderIncidentMail({
    ...base,
    mode: 'simulate',
    incident: incidentOf(premium, '20261121-020419-block-premium-rate-5e6f'),
    finding: { ...premium, mode: 'simulate' },
    followUp: false,
    outcomes: [outcomeOf(premium, 'hangup', 'simulated', 'SIMULATED: would hang up PJSIP/1002-00000002; nothing was done', undefined, 'simulate')],
  });

  // The hijacked 1001 calls Cuba: three policies flag the call, one mail lists them.
  const cuba = callOf('1763690665.4', '011535551234', '+535551234', 'CU', 'UNKNOWN', '2.00', T0 + 6_000);
  const afterCompromise: Finding = {
    policy: 'account-compromise',
    kind: 'security',
    mode: 'enforce',
    severity: 'critical',
    level: 'call-after-compromise',
    actions: ['alert', 'hangup'],
    at: T0 + 6_000,
    message: `1001 → 011535551234 (CU, critical risk): 5 s after 1001's password was guessed from ${ATTACKER}`,
    scope: 'endpoint:1001',
    endpoint: '1001',
    ip: ATTACKER,
    evidence: { compromisedAt: new Date(T0 + 1_000).toISOString(), compromisedFrom: ATTACKER, service: 'PJSIP', failuresBeforeCompromise: 20, secondsAfterCompromise: 5, callsWithinSeconds: 900 },
    call: cuba,
  };
  const risk: Finding = {
    ...afterCompromise,
    policy: 'international-risk',
    kind: 'call-risk',
    severity: 'high',
    level: 'score-4',
    message: '1001 → 011535551234 (CU, critical risk): risk score 8 (≥ 4: alert+hangup) — CU, critical risk (+6); Sat 03:04 CET is outside office hours (+2)',
    evidence: { score: 8, threshold: 4, signals: ['destination +6: CU, critical risk (not a valid number)', 'outside-office-hours +2: Sat 03:04 CET is outside office hours (Mon–Fri 08:00–19:00)'], toAllow: [`1001 logged in from a new network: if it really moved, \`tollgate trust-address 1001 ${ATTACKER}\``] },
  };
  const locked: Finding = { ...afterCompromise, policy: 'locked-endpoints', kind: 'lock', level: 'locked', message: '1001 is locked until unlocked (password guessed); call to 011535551234 refused', evidence: { lockedSince: new Date(T0 + 1_000).toISOString(), lockReason: 'password guessed', lockedBy: 'account-compromise' } };
  const cubaOutcomes = [outcomeOf(afterCompromise, 'hangup', 'done', 'Hung up PJSIP/1001-00000004 (cause 21, via AMI), confirmed after 9 ms')];
  for (const finding of [afterCompromise, risk, locked]) threads.note(thread, finding, COMPROMISE, cubaOutcomes);
  const followUpMail = renderIncidentMail({ ...base, incident: incidentOf(afterCompromise, COMPROMISE, { first: compromise, firstAt: compromise.at, findings: 2, levels: ['compromise', 'call-after-compromise'] }), finding: afterCompromise, also: [locked, risk], followUp: true, outcomes: cubaOutcomes, thread: threads.context(thread) });
  threads.record(thread, 'follow-up', { linkedid: cuba.linkedid, outcome: 'hung up', severity: 'critical' });

  // Four more calls of the attack, hung up and folded into the thread.
  const more: [string, string, string, string, string][] = [
    ['1763690665.6', '0112526155555', '+2526155555', 'SO', '2.40'],
    ['1763690665.8', '00447098790124', '+447098790124', 'GB', '3.00'],
    ['1763690665.9', '0053721234567', '+53721234567', 'CU', '2.00'],
  ];
  more.forEach(([linkedid, dialled, e164, country, rate], index) => {
    const finding: Finding = { ...afterCompromise, at: T0 + 7_000 + index * 1_000, call: callOf(linkedid, dialled, e164, country, 'UNKNOWN', rate, T0 + 7_000 + index * 1_000) };
    const outcomes = [outcomeOf(finding, 'hangup', 'done', 'Hung up')];
    threads.note(thread, finding, COMPROMISE, outcomes);
    threads.record(thread, threads.verdict(thread, { linkedid, outcome: 'hung up', severity: 'critical' }), { linkedid, outcome: 'hung up', severity: 'critical' });
  });

  // Velocity: alert only — the subject says the call was not hung up.
  const velocity: Finding = {
    policy: 'international-velocity',
    kind: 'velocity',
    mode: 'enforce',
    severity: 'high',
    level: 'distinct-destinations',
    actions: ['alert'],
    at: T0 + 10_000,
    message: '1001 → 011882161234567 (+882, voip, critical risk): 5 different numbers in 10 min from endpoint 1001, over the limit of 4 (policy international-velocity)',
    scope: 'endpoint:1001',
    endpoint: '1001',
    evidence: { per: 'endpoint', group: '1001', window: '10 min', distinct: 5, maxDistinct: 4 },
    call: callOf('1763690665.7', '011882161234567', '+882161234567', '', 'VOIP', '4.00', T0 + 10_000, { answeredAt: T0 + 9_000, costSoFar: 0.07 }),
  };
  delete velocity.call!.country;
  const velocityMail = renderIncidentMail({ ...base, incident: incidentOf(velocity, '20261121-020420-international-velocity-7a8b'), finding: velocity, followUp: false, outcomes: [] });

  // Spend: the sales phone over its daily budget (no call of its own; alert and lock).
  const spend: Finding = {
    policy: 'daily-spend-cap',
    kind: 'spend',
    mode: 'enforce',
    severity: 'high',
    level: '100%',
    actions: ['alert', 'lock'],
    at: T0 + 3_600_000,
    message: 'Spend of endpoint 1003 today: spent 48.20 + live 2.10 = 50.30 USD (100.6%), over the budget of 50.00 USD',
    scope: 'endpoint:1003',
    endpoint: '1003',
    evidence: { budgetKey: 'endpoint:1003', threshold: '100%', spent: '48.20', accrued: '2.10', projected: '0.00', total: '50.30', budget: '50.00', percent: 100.6, currency: 'USD', window: 'today', windowStart: '2026-11-21T00:00:00+01:00', windowEnd: '2026-11-22T00:00:00+01:00', projectSeconds: 0, liveCalls: 1 },
  };
  const spendMail = renderIncidentMail({ ...base, incident: incidentOf(spend, '20261121-030410-daily-spend-cap-9c0d'), finding: spend, followUp: false, outcomes: [outcomeOf(spend, 'lock', 'done', 'Locked 1003 (store and AstDB)', 'tollgate unlock 1003')] });

  const costs: CostEntry[] = [
    { linkedid: '1763690665.9', destUniqueid: '1763690665.99', endpoint: '1001', country: 'CU', e164: '+53721234567', answeredAt: T0 + 9_500, endedAt: T0 + 9_600, billableSeconds: 1, pricePerMinuteMicros: 2_000_000, micros: 33_333, currency: 'USD' },
  ];
  const summaryMail = renderAttackSummary({ thread, costs, mask: noMask, timezone: GALLERY_TIMEZONE, agent: AGENT, currency: 'USD', lockedNow: ['1001'] });

  const day = '2026-11-21';
  const digest: DigestData = {
    day,
    timezone: GALLERY_TIMEZONE,
    from: Date.UTC(2026, 10, 20, 23),
    to: Date.UTC(2026, 10, 21, 23),
    at: Date.UTC(2026, 10, 22, 6),
    totals: [{ key: 'total', calls: 41, billableSeconds: 7_260, micros: 51_930_000, currency: 'USD' }],
    byCountry: [
      { key: 'GB', calls: 30, billableSeconds: 5_400, micros: 9_000_000, currency: 'USD' },
      { key: 'US', calls: 10, billableSeconds: 1_800, micros: 42_900_000, currency: 'USD' },
      { key: 'CU', calls: 1, billableSeconds: 1, micros: 33_333, currency: 'USD' },
    ],
    byEndpoint: [
      { key: '1003', calls: 12, billableSeconds: 3_000, micros: 48_200_000, currency: 'USD' },
      { key: '1002', calls: 28, billableSeconds: 4_259, micros: 3_696_667, currency: 'USD' },
      { key: '1001', calls: 1, billableSeconds: 1, micros: 33_333, currency: 'USD' },
    ],
    topNumbers: [{ key: '+12125550100', calls: 4, billableSeconds: 1_200, micros: 30_000_000, currency: 'USD', country: 'US' }],
    incidents: [
      { id: '20261121-020410-sip-brute-force-1a2b', policy: 'sip-brute-force', scope: `ip:${ATTACKER}`, firstAt: T0, lastAt: T0, severity: 'high', findings: 1, levels: ['brute-force'], calls: [], decided: [], sequence: 2, first: summaryOf(bruteForce), latest: summaryOf(bruteForce) },
      { id: '20261121-020411-account-compromise-3c4d', policy: 'account-compromise', scope: 'endpoint:1001', firstAt: T0 + 1_000, lastAt: T0 + 9_000, severity: 'critical', findings: 6, levels: ['compromise', 'call-after-compromise'], calls: ['a', 'b', 'c', 'd', 'e'], decided: [], sequence: 9, first: summaryOf(compromise), latest: summaryOf(afterCompromise) },
    ],
    decisions: [
      { action: 'hangup', result: 'done', mode: 'enforce', count: 5 },
      { action: 'alert', result: 'done', mode: 'enforce', count: 7 },
      { action: 'lock', result: 'done', mode: 'enforce', count: 2 },
    ],
    security: [{ kind: 'ChallengeResponseFailed', address: ATTACKER, count: 42 }],
    locks: [{ endpoint: '1001', since: T0 + 1_000, reason: `password guessed from ${ATTACKER}`, policy: 'account-compromise' }],
    outbox: { pending: 0, sent: 6 },
  };
  const digestMail = composeDigest(digest, { mask: noMask, agent: AGENT, currency: 'USD' });

  const attackers = [ATTACKER];
  const mails: Record<GalleryKind, RenderedMail> = {
    'brute-force': bruteMail,
    compromise: compromiseMail,
    destination: destinationMail,
    'follow-up': followUpMail,
    velocity: velocityMail,
    spend: spendMail,
    'attack-summary': summaryMail,
    digest: digestMail,
    'destination-simulated': simulatedMail,
  };
  return GALLERY_KINDS.map((kind) => ({ kind, mail: mails[kind], attackers }));
}

