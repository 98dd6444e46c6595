/**
 * baseline — a break from the endpoint's own habits. Fraud with a valid password, at normal hours,
 * to a country the office may call shows only this way: a country the phone never called, an hour
 * or weekday it is never used, a day far busier than its usual, a registration from a new address
 * or with a new User-Agent followed by calls. And a registration that succeeds with a scanner's
 * User-Agent (friendly-scanner, sipvicious, …) is an attacker holding the password.
 *
 *   kind: baseline
 *   match: { direction: [outbound] }
 *   learningPeriod: 7d          # after installation, and for an endpoint's first calls: learn, judge nothing
 *   settleAfter: 7d             # a User-Agent or an address used this long is no longer new
 *   scanner:     { actions: [alert, lock, firewall], severity: critical }
 *   newCountry:  { actions: [alert], minRisk: medium }        # severity follows the country's risk
 *   unusualTime: { actions: [alert], severity: low, toleranceHours: 1 }
 *   volume:      { actions: [alert], severity: medium, factor: 3, minCalls: 5, minSpend: 10.00, days: 28 }
 *   newContact:  { actions: [alert], severity: high }
 *
 * A rule left out is off. The scanner rule judges registrations (the contact listing after each one,
 * calls/contacts.ts) from the first day; the others judge each outbound call once, when it first
 * reaches an outside number, against what the endpoint did before it — one finding per call naming
 * every habit it breaks, with the actions of all of them and the highest severity.
 */
import { z } from 'zod';
import { DateTime } from 'luxon';
import type { ContactEvent } from '../../calls/events.js';
import { RISK_LEVELS, riskRank, type RiskLevel } from '../../numbers/index.js';
import { formatMicros } from '../../rates/money.js';
import { actionList, baseFinding, callFinding, compilePolicyScope, defineKind, describeCall, unjudgedStartingCalls } from '../kind.js';
import { actionsField, durationField, moneyField } from '../schema.js';
import { ExpiringSet, forgottenWithCall } from '../state.js';
import { SEVERITIES, severityRank, type CallFacts, type EvalContext, type Finding, type PolicyAction, type Severity } from '../types.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

const ruleFields = { actions: actionsField.default(['alert']), severity: z.enum(SEVERITIES).optional() };

const fields = {
  learningPeriod: durationField.default(7 * 86_400),
  settleAfter: durationField.default(7 * 86_400),
  scanner: z.object({ ...ruleFields, actions: actionsField.default(['alert', 'lock', 'firewall']) }).optional(),
  newCountry: z.object({ ...ruleFields, minRisk: z.enum(RISK_LEVELS).default('low') }).optional(),
  unusualTime: z.object({ ...ruleFields, toleranceHours: z.number().int().min(0).max(6).default(1) }).optional(),
  volume: z
    .object({
      ...ruleFields,
      /** Today over `factor` × the endpoint's usual day… */
      factor: z.number().min(1).max(100).default(3),
      /** …and over this many international calls at least (a phone that calls abroad once a month may call twice). */
      minCalls: z.number().int().min(1).max(10_000).default(5),
      /** …or over this international spend at least (rate table currency). */
      minSpend: moneyField.default(10_000_000),
      /** Days the usual day is averaged over. */
      days: z.number().int().min(1).max(35).default(28),
    })
    .optional(),
  newContact: z.object(ruleFields).optional(),
};

type RuleName = 'new-country' | 'unusual-time' | 'volume' | 'new-contact';

interface Signal {
  rule: RuleName;
  text: string;
  actions: readonly PolicyAction[];
  severity: Severity;
  allow?: string;
}

const RISK_SEVERITY: Readonly<Record<RiskLevel, Severity>> = { low: 'low', medium: 'medium', high: 'high', critical: 'critical' };

export const baselineKind = defineKind({
  kind: 'baseline',
  summary: "a break from the endpoint's habits (new country, unusual hour or weekday, a busy day, a new User-Agent or address before calls) and registrations by scanner User-Agents",
  fields,
  describeActions(policy) {
    const rules: [string, { actions: readonly string[] } | undefined][] = [
      ['scanner', policy.scanner],
      ['new country', policy.newCountry],
      ['unusual time', policy.unusualTime],
      ['volume', policy.volume],
      ['new contact', policy.newContact],
    ];
    return rules.flatMap(([name, rule]) => (rule ? [`${name}: ${actionList(rule.actions)}`] : [])).join('; ');
  },
  validate(policy, report) {
    if (!policy.scanner && !policy.newCountry && !policy.unusualTime && !policy.volume && !policy.newContact) report([], 'no rule: set at least one of scanner, newCountry, unusualTime, volume, newContact');
  },
  create(policy) {
    const scope = compilePolicyScope(policy);
    const learningMs = policy.learningPeriod * 1000;
    const settleMs = policy.settleAfter * 1000;
    const judged = new ExpiringSet<string>(DAY_MS, 100_000);
    /** Registrations already reported as scanners (endpoint + Call-ID). */
    const scannersReported = new ExpiringSet<string>(DAY_MS, 10_000);
    /** Busy days already reported (endpoint + day + count|spend). */
    const busyDays = new ExpiringSet<string>(2 * DAY_MS, 10_000);

    const scannerFinding = (context: EvalContext, event: ContactEvent): Finding | undefined => {
      if (!policy.scanner || /^(removed|unregistered)$/i.test(event.status)) return undefined;
      const entry = context.profiles.scannerOf(event.userAgent);
      if (!entry) return undefined;
      const key = `${event.endpoint}|${event.callId ?? event.uri}`;
      if (scannersReported.has(key, context.now)) return undefined;
      scannersReported.add(key, context.now);
      const where = event.ip ? ` from ${event.ip}` : '';
      return baseFinding(policy, context, {
        scope: `endpoint:${event.endpoint}`,
        level: 'scanner',
        actions: [...policy.scanner.actions],
        severity: policy.scanner.severity ?? 'critical',
        endpoint: event.endpoint,
        ...(event.ip ? { ip: event.ip } : {}),
        message: `${event.endpoint} registered${where} with User-Agent "${event.userAgent}" (${entry.tool}): a scanning tool holds ${event.endpoint}'s password — change it before you unlock`,
        evidence: { userAgent: event.userAgent, tool: entry.tool, list: entry.list, ...(entry.source ? { source: entry.source } : {}), uri: event.uri, ...(event.callId ? { callId: event.callId } : {}) },
      });
    };

    /** When the endpoint first placed a call (its hours are learnt from every call). */
    const firstActive = (context: EvalContext, endpoint: string): number | undefined => {
      const hours = context.profiles.valuesOf(endpoint, 'hour');
      return hours.length > 0 ? Math.min(...hours.map((value) => value.firstSeen)) : undefined;
    };

    /** New since learning ended, and not yet settled. */
    const isNew = (context: EvalContext, firstSeen: number | undefined): boolean => {
      const since = context.profiles.since ?? context.now;
      return firstSeen === undefined || (firstSeen >= since + learningMs && context.now - firstSeen < settleMs);
    };

    const signalsOf = (context: EvalContext, facts: CallFacts): Signal[] => {
      const signals: Signal[] = [];
      const endpoint = facts.endpoint;
      const classification = facts.classification!;
      const international = classification.scope === 'international';
      const now = context.now;
      const first = firstActive(context, endpoint);
      const settledEndpoint = first !== undefined && now - first >= learningMs;

      if (policy.newCountry && settledEndpoint && international && classification.country && riskRank(classification.risk) >= riskRank(policy.newCountry.minRisk)) {
        if (!context.profiles.known(endpoint, 'country', classification.country)) {
          const called = context.profiles.valuesOf(endpoint, 'country').map((value) => value.value);
          signals.push({
            rule: 'new-country',
            text: `${endpoint} never called ${classification.country} before (${classification.risk} risk; it called ${called.length > 0 ? called.join(', ') : 'no country abroad'})`,
            actions: policy.newCountry.actions,
            severity: policy.newCountry.severity ?? RISK_SEVERITY[classification.risk],
          });
        }
      }

      if (policy.unusualTime && settledEndpoint) {
        const local = DateTime.fromMillis(now, { zone: context.profiles.timezone });
        const weekday = local.toFormat('ccc').toLowerCase();
        const tolerance = policy.unusualTime.toleranceHours;
        const hours = Array.from({ length: 2 * tolerance + 1 }, (_, index) => local.plus({ hours: index - tolerance }).toFormat('HH'));
        const hourKnown = hours.some((hour) => context.profiles.known(endpoint, 'hour', hour));
        const dayKnown = context.profiles.known(endpoint, 'weekday', weekday) !== undefined;
        if (!hourKnown || !dayKnown) {
          const usual = context.profiles.valuesOf(endpoint, 'hour').map((value) => value.value).sort();
          const days = context.profiles.valuesOf(endpoint, 'weekday').map((value) => value.value).sort((a, b) => WEEKDAYS.indexOf(a) - WEEKDAYS.indexOf(b));
          signals.push({
            rule: 'unusual-time',
            text: `${endpoint} is never active ${!dayKnown ? `on ${local.toFormat('cccc')}s` : ''}${!dayKnown && !hourKnown ? ' nor ' : ''}${!hourKnown ? `around ${local.toFormat('HH:mm')}` : ''} (${context.profiles.timezone}; usual hours ${usual.join(' ')}, days ${days.join(' ')})`,
            actions: policy.unusualTime.actions,
            severity: policy.unusualTime.severity ?? 'low',
          });
        }
      }

      if (policy.volume && settledEndpoint && international) {
        const rule = policy.volume;
        const today = context.profiles.today(endpoint, now);
        const norm = context.profiles.norm(endpoint, now, rule.days);
        const count = today.international + 1;
        const countLimit = Math.max(rule.minCalls, rule.factor * norm.internationalPerDay);
        if (count > countLimit && !busyDays.has(`${endpoint}|${today.day}|count`, now)) {
          busyDays.add(`${endpoint}|${today.day}|count`, now);
          signals.push({ rule: 'volume', text: `${endpoint}'s international call ${count} today, usually ${norm.internationalPerDay.toFixed(1)} a day over ${norm.days} days (limit ${countLimit.toFixed(1)})`, actions: rule.actions, severity: rule.severity ?? 'medium' });
        }
        const spendLimit = Math.max(rule.minSpend, rule.factor * norm.internationalMicrosPerDay);
        if (today.internationalMicros > spendLimit && !busyDays.has(`${endpoint}|${today.day}|spend`, now)) {
          busyDays.add(`${endpoint}|${today.day}|spend`, now);
          signals.push({ rule: 'volume', text: `${endpoint} spent ${formatMicros(today.internationalMicros)} abroad today, usually ${formatMicros(Math.round(norm.internationalMicrosPerDay))} a day (limit ${formatMicros(Math.round(spendLimit))})`, actions: rule.actions, severity: rule.severity ?? 'medium' });
        }
      }

      if (policy.newContact && !context.profiles.learning(now, learningMs)) {
        const contact = context.profiles.contactOf(endpoint);
        const news: string[] = [];
        if (contact?.userAgent && isNew(context, context.profiles.known(endpoint, 'user-agent', contact.userAgent)?.firstSeen)) {
          const before = context.profiles.valuesOf(endpoint, 'user-agent').filter((value) => value.value !== contact.userAgent).map((value) => `"${value.value}"`);
          news.push(`with a new User-Agent "${contact.userAgent}"${before.length > 0 ? ` (before: ${before.join(', ')})` : ''}`);
        }
        const address = context.addresses.sourceOf(facts.call.linkedid)?.address ?? contact?.address;
        if (address) {
          const verdict = context.addresses.judge(endpoint, address, now, { learningMs, settleMs });
          if (verdict.status === 'new') news.push(`from ${address} (${verdict.network}), a network it had never used${verdict.failures > 0 ? `, where ${verdict.failures} logins failed` : ''}`);
        }
        if (news.length > 0 && contact) {
          const signal: Signal = { rule: 'new-contact', text: `${endpoint} registered ${formatAgo(now - contact.at)} ${news.join(' and ')}, and now calls out`, actions: policy.newContact.actions, severity: policy.newContact.severity ?? 'high' };
          if (address) signal.allow = `if ${endpoint} really got a new phone or moved: tollgate trust-address ${endpoint} ${address} (the User-Agent settles by itself after ${Math.round(settleMs / DAY_MS)} days)`;
          signals.push(signal);
        }
      }
      return signals;
    };

    return {
      id: policy.id,
      ...forgottenWithCall(judged),
      evaluate(context) {
        const findings: Finding[] = [];
        const input = context.input;
        if (input.type === 'event' && input.event.type === 'contact') {
          const finding = scannerFinding(context, input.event);
          if (finding) findings.push(finding);
        }
        if (!policy.newCountry && !policy.unusualTime && !policy.volume && !policy.newContact) return findings;
        if (context.profiles.learning(context.now, learningMs)) return findings;
        for (const facts of unjudgedStartingCalls(context, scope, judged)) {
          if (facts.direction !== 'outbound' || !facts.classification || facts.dialled === undefined) continue;
          if (facts.classification.scope !== 'national' && facts.classification.scope !== 'international') continue;
          judged.add(facts.call.linkedid, context.now);
          const signals = signalsOf(context, facts);
          if (signals.length === 0) continue;
          const actions = [...new Set(signals.flatMap((signal) => signal.actions))];
          const severity = signals.map((signal) => signal.severity).reduce((worst, next) => (severityRank(next) > severityRank(worst) ? next : worst));
          findings.push(
            callFinding(policy, context, facts, {
              level: [...new Set(signals.map((signal) => signal.rule))].join('+'),
              actions,
              severity,
              message: `${describeCall(facts)}: unlike ${facts.endpoint}'s habits — ${signals.map((signal) => signal.text).join('; ')}`,
              evidence: {
                signals: signals.map((signal) => `${signal.rule}: ${signal.text}`),
                ...(signals.some((signal) => signal.allow) ? { toAllow: signals.flatMap((signal) => (signal.allow ? [signal.allow] : [])) } : {}),
              },
            }),
          );
        }
        return findings;
      },
    };
  },
});

function formatAgo(ms: number): string {
  if (ms < 90_000) return `${Math.max(0, Math.round(ms / 1000))} s ago`;
  if (ms < 2 * HOUR_MS) return `${Math.round(ms / 60_000)} min ago`;
  return `${Math.round(ms / HOUR_MS)} h ago`;
}
