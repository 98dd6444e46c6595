import { Decider, snapshotIncident, type IncidentSnapshot } from '../../../src/decide/decider.js';
import type { Finding } from '../../../src/policy/types.js';

function finding(overrides: Partial<Finding> & { linkedid?: string } = {}): Finding {
  const { linkedid = 'call-1', ...rest } = overrides;
  return {
    policy: 'block-premium-rate',
    kind: 'destination',
    mode: 'enforce',
    severity: 'critical',
    level: 'match',
    actions: ['alert', 'hangup'],
    at: 1_000,
    message: '1001 → 00449098790123: denied',
    scope: 'endpoint:1001',
    endpoint: '1001',
    evidence: {},
    call: { linkedid, uniqueid: linkedid, channel: 'PJSIP/1001-00000001', channels: ['PJSIP/1001-00000001', 'PJSIP/carrier-00000002'], endpoint: '1001', context: 'from-internal', direction: 'outbound', startedAt: 900 },
    ...rest,
  };
}

describe('decider', () => {
  test('a finding becomes one decision per action, targeting every channel of the call', () => {
    const decisions = new Decider().decide([finding()]);
    expect(decisions.map((decision) => [decision.action, decision.mode, decision.followUp])).toEqual([
      ['alert', 'enforce', false],
      ['hangup', 'enforce', false],
    ]);
    expect(decisions[1]!.target).toEqual({ linkedid: 'call-1', channels: ['PJSIP/1001-00000001', 'PJSIP/carrier-00000002'], endpoint: '1001' });
    expect(decisions[0]!.incident).toBe(decisions[1]!.incident);
    expect(decisions.map((decision) => decision.id)).toEqual([`${decisions[0]!.incident}/1`, `${decisions[0]!.incident}/2`]);
  });

  test('one incident per policy and scope: one mail, a hang-up for every new call', () => {
    const decider = new Decider();
    decider.decide([finding()]);
    const second = decider.decide([finding({ linkedid: 'call-2', at: 2_000 })]);
    expect(second.map((decision) => decision.action)).toEqual(['hangup']);
    expect(decider.openIncidents(2_000)).toHaveLength(1);
    expect(decider.openIncidents(2_000)[0]).toMatchObject({ findings: 2, calls: ['call-1', 'call-2'] });
  });

  test('an escalation (new level or higher severity) sends a follow-up alert', () => {
    const decider = new Decider();
    decider.decide([finding({ level: '50%', severity: 'medium', actions: ['alert'] })]);
    expect(decider.decide([finding({ level: '50%', severity: 'medium', actions: ['alert'], at: 1_500 })])).toEqual([]);
    const followUp = decider.decide([finding({ level: '100%', severity: 'critical', actions: ['alert'], at: 2_000 })]);
    expect(followUp.map((decision) => [decision.action, decision.followUp, decision.level])).toEqual([['alert', true, '100%']]);
  });

  test('after a quiet period the incident closes; the next finding opens a new one', () => {
    const decider = new Decider({ incidentQuietMs: 60_000 });
    const first = decider.decide([finding()]);
    const later = decider.decide([finding({ linkedid: 'call-9', at: 1_000 + 61_000 })]);
    expect(later.map((decision) => decision.action)).toEqual(['alert', 'hangup']);
    expect(later[0]!.incident).not.toBe(first[0]!.incident);
  });

  test('several policies condemning one call: every finding kept, the call hung up once', () => {
    const decider = new Decider();
    const decisions = decider.decide([finding(), finding({ policy: 'international-business-hours', kind: 'time-window', level: 'outside-hours' })]);
    expect(decisions.map((decision) => `${decision.policy}:${decision.action}`)).toEqual(['block-premium-rate:alert', 'block-premium-rate:hangup', 'international-business-hours:alert']);
  });

  test('simulate: a simulated policy, or the global dry run, decides "would" — and does not stand in for an enforced hang-up', () => {
    const decider = new Decider();
    const simulated = decider.decide([finding({ mode: 'simulate' })]);
    expect(simulated.every((decision) => decision.mode === 'simulate')).toBe(true);
    const enforced = decider.decide([finding({ policy: 'other', mode: 'enforce' })]);
    expect(enforced.find((decision) => decision.action === 'hangup')?.mode).toBe('enforce');
    const dryRun = new Decider({ mode: 'simulate' }).decide([finding()]);
    expect(dryRun.map((decision) => decision.mode)).toEqual(['simulate', 'simulate']);
  });

  test('lock once per endpoint, firewall once per address; impossible actions are skipped', () => {
    const decider = new Decider();
    const security = (at: number): Finding => ({ ...finding({ at, actions: ['alert', 'firewall', 'lock', 'hangup'], scope: 'ip:203.0.113.9', ip: '203.0.113.9' }), call: undefined } as Finding);
    const first = decider.decide([security(1_000)]);
    expect(first.map((decision) => decision.action)).toEqual(['alert', 'firewall', 'lock']);
    expect(first[1]!.target.ip).toBe('203.0.113.9');
    expect(first[2]!.target.endpoint).toBe('1001');
    expect(decider.decide([security(2_000)])).toEqual([]);
  });
  test('an incident keeps its first and latest findings in brief, not the findings themselves', () => {
    const decider = new Decider();
    const opening = finding();
    const later = finding({ linkedid: 'call-2', at: 2_000, level: 'repeat', severity: 'high', message: '1001 → 00449098790124: denied again' });
    decider.decide([opening]);
    decider.decide([later]);
    const [incident] = decider.openIncidents(2_000);
    expect(incident!.first).toEqual({ at: 1_000, level: 'match', severity: 'critical', message: '1001 → 00449098790123: denied', linkedid: 'call-1' });
    expect(incident!.latest).toEqual({ at: 2_000, level: 'repeat', severity: 'high', message: '1001 → 00449098790124: denied again', linkedid: 'call-2' });
    // Nothing of the findings' own objects (call snapshot, evidence) stays with the incident.
    expect(incident!.first).not.toBe(opening);
    expect(incident!.latest).not.toHaveProperty('call');
    expect(incident!.latest).not.toHaveProperty('evidence');
    expect(decider.hangupOf('call-2', 2_000)!.incident!.latest.linkedid).toBe('call-2');
  });

  test('incidents stored with whole findings (before summaries) come back in brief, and stay decided', () => {
    const decider = new Decider();
    decider.decide([finding()]);
    const stored = snapshotIncident(decider.openIncidents(1_000)[0]!);
    const whole = { ...stored, first: finding(), latest: finding({ linkedid: 'call-7', at: 1_500, message: 'the latest, whole' }) } as unknown as IncidentSnapshot;
    const restarted = new Decider();
    restarted.restore([JSON.parse(JSON.stringify(whole)) as IncidentSnapshot]);
    const [incident] = restarted.openIncidents(1_500);
    expect(incident!.first).toEqual({ at: 1_000, level: 'match', severity: 'critical', message: '1001 → 00449098790123: denied', linkedid: 'call-1' });
    expect(incident!.latest).toEqual({ at: 1_500, level: 'match', severity: 'critical', message: 'the latest, whole', linkedid: 'call-7' });
    // What was decided before the restart is not decided again: no second mail.
    expect(restarted.decide([finding({ linkedid: 'call-8', at: 1_600 })]).map((decision) => decision.action)).toEqual(['hangup']);
  });
});
