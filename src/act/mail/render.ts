/**
 * The incident mail: how a PBX admin learns, at 3 a.m. or the next morning, that a fraud attempt
 * was stopped. It says who (endpoint, caller id, source address), what (the finding, its policy),
 * where (destination, country, type, risk), how much (rate, cost so far, a projection), what was
 * done, how to undo it, and how to tune the policy. Plain text and HTML carry the same content.
 *
 * The subject sorts and reads at a glance:
 *   [Tollgate][CRITICAL] 1001 → +53 5 5551234 hung up
 *   [Tollgate][HIGH][UPDATE] 1001 → +53 5 5551234 hung up
 *   [Tollgate][CRITICAL][SIMULATED] 1001 → +53 5 5551234 would be hung up
 *   [Tollgate][HIGH] brute force from 203.0.113.9 — blocked at the firewall
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { ActionOutcome } from '../outcome.js';
import type { Incident } from '../../decide/decider.js';
import { severityRank, type Finding, type FindingCall, type PolicyAction, type Severity } from '../../policy/types.js';
import type { OutboxMail } from '../../store/store.js';
import { evidenceRows, localiseTimes } from './evidence.js';
import { formatCountry, formatCountryName, formatDuration, formatMoney, formatNumberType, formatTime, maskText, oneLine, renderHtml, renderText, type Block, type RenderedMail } from './format.js';

export interface IncidentMailInput {
  incident: Incident;
  /** The finding this mail is about: the most severe of the call's (or the escalation). */
  finding: Finding;
  /** Other policies' findings about the same call, decided together: one mail lists them all. */
  also?: Finding[];
  /** The incident was already reported: this mail says what changed. */
  followUp: boolean;
  /** What was done about it (the alert's own outcome, if present, is left out of "what was done"). */
  outcomes: ActionOutcome[];
  /** The global mode; a simulated policy shows through its outcomes (`simulated`). */
  mode: 'enforce' | 'simulate';
  /** `numberMasker(config.privacy.maskNumbers)`. */
  mask: (number: string | undefined) => string;
  /** IANA zone for the times shown (the agent's `timezone`). */
  timezone: string;
  /** Host name of the agent, shown in the footer. */
  agent: string;
  /** The attack this mail belongs to (act/mail/threads.ts): what the admin must do depends on all of it. */
  thread?: ThreadContext;
  /** Follow-up outbox key suffix (the alert decision's id); by default the level and severity. */
  updateKey?: string;
}

/** What a mail needs to know of its thread. */
export interface ThreadContext {
  /** The thread's id: its first mail's incident. */
  id: string;
  firstAt: number;
  /** Endpoints whose password was guessed or stolen in this attack, with when the failures began. */
  compromised: readonly CompromisedEndpoint[];
  /** Addresses that failed to log in or triggered a finding in this attack: never to be trusted. */
  attackers: readonly string[];
  /** Endpoints locked by this attack's earlier decisions. */
  locked: readonly string[];
}

export interface CompromisedEndpoint {
  endpoint: string;
  ip?: string;
  /** The successful login. */
  at: number;
  /** The first failed attempt before it (where to start looking at the calls). */
  firstFailureAt?: number;
}

/** Strongest first: the subject names the first one present. */
const ACTION_ORDER: readonly PolicyAction[] = ['hangup', 'lock', 'firewall'];

const ACTION_LABEL: Record<PolicyAction, string> = { alert: 'alert', hangup: 'hang-up', lock: 'lock', firewall: 'firewall' };

const SECURITY_LABEL: Record<string, string> = {
  'brute-force': 'brute force',
  enumeration: 'account scan',
  compromise: 'password guessed',
  'call-after-compromise': 'call after a guessed password',
};

/** Levels that mean an endpoint's password is known to someone else. */
const COMPROMISE_LEVELS = new Set(['compromise', 'call-after-compromise']);

export function renderIncidentMail(input: IncidentMailInput): RenderedMail {
  const { finding, incident, mask } = input;
  const findings = [finding, ...(input.also ?? [])];
  const simulated = input.mode === 'simulate';
  const severity = findings.reduce((highest, each) => higher(highest, each.severity), incident.severity);
  const subject = oneLine(`[Tollgate][${severity.toUpperCase()}]${input.followUp ? '[UPDATE]' : ''}${simulated ? '[SIMULATED]' : ''} ${subjectText(input)}`);

  const call = finding.call;
  const known = knownNumbers(call);
  const acted = input.outcomes.filter((outcome) => outcome.decision.action !== 'alert');
  const compromised = compromisedEndpoint(input);
  const blocks: Block[] = [{ type: 'band', tone: severity, text: subjectText(input) }];
  if (simulated) {
    blocks.push({ type: 'paragraph', strong: true, text: 'SIMULATION — nothing was done. Tollgate runs in simulate mode (dry run): this mail says what it would have done.' });
  }
  blocks.push({ type: 'actions', happened: happenedLine(input), did: didLine(input, acted), todo: todoLine(input, acted, compromised) });
  if (compromised) {
    blocks.push({ type: 'heading', text: `What to do about ${compromised.endpoint}, step by step` });
    blocks.push({ type: 'list', ordered: true, items: compromiseSteps(compromised, isLocked(input, compromised.endpoint), input.timezone) });
  }
  if (input.followUp) {
    blocks.push({ type: 'paragraph', text: `Update on the attack first reported at ${formatTime(input.thread?.firstAt ?? incident.firstAt, input.timezone)} (the earlier mails of this thread).` });
  }

  blocks.push({ type: 'heading', text: simulated ? 'What would have been done' : 'What was done' });
  const costLine = call ? costOutcome(input, call) : undefined;
  const doneItems = acted.length > 0 ? acted.map((outcome) => outcomeLine(outcome, mask, known)) : [`Nothing but this alert: policy ${finding.policy} asks for ${finding.actions.join(', ')}.`];
  blocks.push({ type: 'list', items: costLine ? [...doneItems, costLine] : doneItems });

  blocks.push({ type: 'heading', text: findings.length > 1 ? `What the policies found (${findings.length} flagged it)` : 'What the policy found' });
  blocks.push({ type: 'list', items: findings.map((each) => `${each.policy} (${each.severity}, ${each.level}): ${oneLine(localiseTimes(maskText(each.message, mask, known), input.timezone))}`) });
  // A scoring policy says which signals added up (call-risk): each on its own line.
  const scored = findings.find((each) => listEvidence(each.evidence.signals).length > 0);
  if (scored) {
    blocks.push({ type: 'heading', text: `Why: the signals that added up${typeof scored.evidence.score === 'number' ? ` (score ${scored.evidence.score})` : ''}` });
    blocks.push({ type: 'list', items: listEvidence(scored.evidence.signals).map((signal) => oneLine(localiseTimes(maskText(signal, mask, known), input.timezone))) });
  }

  blocks.push({ type: 'heading', text: call ? 'The call' : 'Who and where' });
  blocks.push({ type: 'fields', rows: call ? callRows(input, call) : subjectRows(input) });

  const evidence = evidenceRows(finding.evidence, input.timezone, mask, known);
  if (evidence.length > 0) {
    blocks.push({ type: 'heading', text: 'Evidence' });
    blocks.push({ type: 'fields', rows: evidence });
  }

  blocks.push({ type: 'heading', text: 'Incident' });
  blocks.push({ type: 'fields', rows: incidentRows(input, severity) });

  blocks.push({ type: 'heading', text: 'How to undo' });
  const undo = undoLines(input, acted, compromised);
  blocks.push({ type: 'list', items: undo.items });
  if (undo.commands.length > 0) blocks.push({ type: 'code', lines: undo.commands });

  // Ways to allow the call, minus any that would trust an address that attacked.
  const attackers = attackerAddresses(input);
  const toAllow = findings.flatMap((each) => listEvidence(each.evidence.toAllow)).filter((line) => !attackers.some((address) => line.includes(address)));
  if (toAllow.length > 0 && !compromised) {
    blocks.push({ type: 'heading', text: 'If the call was legitimate: how to allow it next time' });
    blocks.push({ type: 'list', items: [...new Set(toAllow)].map((line) => oneLine(maskText(line, mask, known))) });
  }

  blocks.push({ type: 'heading', text: 'How to silence or tune this policy' });
  blocks.push(...tuneBlocks(input, compromised));

  const footer = `Tollgate on ${oneLine(input.agent)} · ${simulated ? 'simulate' : 'enforce'} mode · incident ${incident.id}${input.thread && input.thread.id !== incident.id ? ` · thread ${input.thread.id}` : ''} · times in ${input.timezone}`;
  return { subject, text: renderText(blocks, footer), html: renderHtml(subject, blocks, footer) };
}

/**
 * The outbox row for an incident mail: the first of a thread (`incident:<thread>:alert`), then one
 * per follow-up (`incident:<thread>:update:<decision>`), never more.
 */
export function incidentMail(input: IncidentMailInput, to: string[]): OutboxMail {
  const rendered = renderIncidentMail(input);
  const thread = input.thread?.id ?? input.incident.id;
  const dedupeKey = input.followUp ? `incident:${thread}:update:${input.updateKey ?? `${input.finding.level}:${input.finding.severity}`}` : `incident:${thread}:alert`;
  return { kind: input.followUp ? 'follow-up' : 'alert', dedupeKey, incident: thread, to, ...rendered };
}

// ───────────────────────────── the three lines ─────────────────────────────

function happenedLine(input: IncidentMailInput): string {
  const { finding, mask } = input;
  const call = finding.call;
  const count = 1 + (input.also?.length ?? 0);
  if (call) {
    const destination = displayDestination(call, mask) ?? 'an unknown destination';
    const what = [call.country ? formatCountryName(call.country) : undefined, call.numberType && call.numberType !== 'UNKNOWN' ? formatNumberType(call.numberType) : undefined, call.risk ? `${call.risk} risk` : undefined].filter(Boolean).join(', ');
    const why = finding.level === 'call-after-compromise' && finding.ip ? `, right after its password was guessed from ${finding.ip}` : '';
    return oneLine(`${call.endpoint} called ${destination}${what ? ` (${what})` : ''}${why}; ${count > 1 ? `${count} policies flagged the call` : `policy ${finding.policy} flagged the call`} (${finding.severity}).`);
  }
  return oneLine(localiseTimes(maskText(finding.message, mask), input.timezone)).replace(/\.?$/, '.');
}

function didLine(input: IncidentMailInput, acted: readonly ActionOutcome[]): string {
  const phrases: string[] = [];
  const call = input.finding.call;
  for (const outcome of acted) {
    const target = outcome.decision.target;
    const simulated = outcome.result === 'simulated' || input.mode === 'simulate';
    switch (outcome.decision.action) {
      case 'hangup':
        phrases.push(
          simulated
            ? 'nothing (simulate mode): it would have hung up the call'
            : outcome.result === 'done'
              ? `hung up the call${call?.answeredAt !== undefined ? ` after ${formatDuration(input.finding.at - call.answeredAt)} of talk` : ' before it was answered'}`
              : outcome.result === 'failed'
                ? 'tried to hang up the call and FAILED: it may still be up'
                : outcome.result === 'skipped'
                  ? 'nothing to hang up: the call had already ended'
                  : 'a hang-up is pending',
        );
        break;
      case 'lock':
        phrases.push(
          simulated ? `would have locked ${target.endpoint} (simulate mode)` : outcome.result === 'done' ? `locked ${target.endpoint}: its outbound calls are refused until you unlock it` : `could not lock ${target.endpoint} (${outcome.result})`,
        );
        break;
      case 'firewall':
        phrases.push(
          outcome.result === 'skipped'
            ? `did not block ${target.ip} (no firewall hook is configured)`
            : simulated
              ? `would have handed ${target.ip} to the firewall (simulate mode)`
              : outcome.result === 'done'
                ? `blocked ${target.ip} at the firewall`
                : `could not block ${target.ip} (${outcome.result})`,
        );
        break;
      default:
        break;
    }
  }
  const stillLocked = call && input.thread?.locked.includes(call.endpoint) && !acted.some((outcome) => outcome.decision.action === 'lock');
  if (stillLocked && input.mode === 'enforce') phrases.push(`${call.endpoint} stays locked`);
  if (phrases.length === 0) phrases.push(call ? `reported it; the call was NOT hung up (policy ${input.finding.policy} only alerts)` : `reported it (policy ${input.finding.policy} only alerts)`);
  const cost = call ? costPhrase(input, call) : undefined;
  const sentence = phrases.join('; ') + (cost ? `. ${cost}` : '');
  return sentence.charAt(0).toUpperCase() + sentence.slice(1) + '.';
}

function todoLine(input: IncidentMailInput, acted: readonly ActionOutcome[], compromised: CompromisedEndpoint | undefined): string {
  const { finding } = input;
  const call = finding.call;
  const simulated = input.mode === 'simulate' || acted.some((outcome) => outcome.result === 'simulated');
  const prefix = simulated ? 'Nothing was stopped (simulate mode). ' : '';
  const failed = acted.find((outcome) => outcome.decision.action === 'hangup' && outcome.result === 'failed');
  const hangNow = failed && call ? `Hang up the call yourself now: \`asterisk -rx "channel request hangup ${call.channel}"\`. ` : '';
  if (compromised) {
    const locked = isLocked(input, compromised.endpoint);
    return `${prefix}${hangNow}Change the secret of ${compromised.endpoint}, check the phone's provisioning, look at its calls since ${formatTime(compromised.firstFailureAt ?? compromised.at, input.timezone)}${locked ? `, then unlock it (\`tollgate unlock ${compromised.endpoint}\`)` : ''}.`;
  }
  if (call) {
    const hungUp = acted.some((outcome) => outcome.decision.action === 'hangup' && (outcome.result === 'done' || outcome.result === 'skipped'));
    if (hungUp || simulated) {
      return `${prefix}${hangNow}Ask whoever uses ${call.endpoint} whether they placed this call: if nobody did, treat its password as stolen (change its secret, check the phone's provisioning); if it was legitimate, add an exception (below).`;
    }
    return `${prefix}${hangNow}Check now whether ${call.endpoint} really placed this call: if not, hang it up (\`asterisk -rx "channel request hangup ${call.channel}"\`), lock the phone (\`tollgate lock ${call.endpoint}\`) and change its secret.`;
  }
  if (finding.kind === 'security' && finding.ip) {
    const blocked = acted.some((outcome) => outcome.decision.action === 'firewall' && outcome.result === 'done');
    return `${prefix}${blocked ? 'Nothing urgent: no password was guessed.' : `Block ${finding.ip} at your firewall (Tollgate did not): no password was guessed yet.`} Make sure every SIP account has a long random secret.`;
  }
  const endpoint = finding.endpoint;
  return `${prefix}Look at the calls behind this${endpoint ? ` (${endpoint}'s call log)` : ' (your call log)'}: if they are not yours, lock the phone${endpoint ? ` (\`tollgate lock ${endpoint}\`)` : ''} and change its secret; if they are, raise the limit in the policy (below).`;
}

/** `0.37 USD got through; 66.00 USD an hour stopped.` */
function costPhrase(input: IncidentMailInput, call: FindingCall): string | undefined {
  const rate = call.ratePerMinute !== undefined ? Number(call.ratePerMinute) : undefined;
  const through = `${formatMoney(call.costSoFar ?? 0, call.currency)} got through`;
  if (rate === undefined || !Number.isFinite(rate)) return `${through} (the destination has no rate)`;
  const hour = formatMoney(rate * 60, call.currency);
  return hangupDone(input) ? `${through}; ${hour} an hour stopped` : `${through}; it costs ${hour} an hour while it lasts`;
}

function costOutcome(input: IncidentMailInput, call: FindingCall): string | undefined {
  const phrase = costPhrase(input, call);
  return phrase ? `cost: ${phrase}` : undefined;
}

function hangupDone(input: IncidentMailInput): boolean {
  return input.mode === 'enforce' && input.outcomes.some((outcome) => outcome.decision.action === 'hangup' && outcome.result === 'done');
}

function isLocked(input: IncidentMailInput, endpoint: string): boolean {
  if (input.mode === 'enforce' && input.thread?.locked.includes(endpoint)) return true;
  return input.mode === 'enforce' && input.outcomes.some((outcome) => outcome.decision.action === 'lock' && outcome.result === 'done' && outcome.decision.target.endpoint === endpoint);
}

/** The endpoint this mail must treat as compromised: from the finding itself, or from its attack. */
function compromisedEndpoint(input: IncidentMailInput): CompromisedEndpoint | undefined {
  const findings = [input.finding, ...(input.also ?? [])];
  const endpoint = input.finding.call?.endpoint ?? input.finding.endpoint;
  const known = endpoint ? input.thread?.compromised.find((entry) => entry.endpoint === endpoint) : undefined;
  if (known) return known;
  const direct = findings.find((each) => COMPROMISE_LEVELS.has(each.level) && (each.endpoint ?? each.call?.endpoint));
  if (!direct) return undefined;
  const firstFailure = typeof direct.evidence.firstFailure === 'string' ? Date.parse(direct.evidence.firstFailure) : Number.NaN;
  const at = typeof direct.evidence.compromisedAt === 'string' ? Date.parse(direct.evidence.compromisedAt) : direct.at;
  return {
    endpoint: (direct.endpoint ?? direct.call?.endpoint)!,
    ...(direct.ip ? { ip: direct.ip } : {}),
    at: Number.isFinite(at) ? at : direct.at,
    ...(Number.isFinite(firstFailure) ? { firstFailureAt: firstFailure } : {}),
  };
}

/** What to do about a guessed or stolen password, in order. */
export function compromiseSteps(entry: CompromisedEndpoint, locked: boolean, timezone: string): string[] {
  const since = formatTime(entry.firstFailureAt ?? entry.at, timezone);
  return [
    `Change the secret (SIP password) of ${entry.endpoint} to a new long random one, in pjsip.conf (its auth section) or your PBX's web interface, and reload (\`asterisk -rx "module reload res_pjsip.so"\`).`,
    `Check the phone's provisioning: if ${entry.endpoint} gets its configuration from a provisioning server (TFTP, HTTP), the old secret may be readable there — re-provision the phone with the new secret and make the server private.`,
    `Look at ${entry.endpoint}'s calls since ${since} (the first failed login): your CDRs or call log, and the other mails of this thread.`,
    locked ? `Then, and only then, unlock it: \`tollgate unlock ${entry.endpoint}\`.` : `Then watch its next calls: Tollgate hangs up its calls for a while after a guessed password.`,
  ];
}

/** Addresses never to be suggested for trust: every address of the attack and of these findings. */
function attackerAddresses(input: IncidentMailInput): string[] {
  const findings = [input.finding, ...(input.also ?? [])];
  const addresses = new Set(input.thread?.attackers ?? []);
  for (const each of findings) {
    if (each.ip && (each.kind === 'security' || COMPROMISE_LEVELS.has(each.level))) addresses.add(each.ip);
    if (typeof each.evidence.compromisedFrom === 'string') addresses.add(each.evidence.compromisedFrom);
  }
  for (const entry of input.thread?.compromised ?? []) if (entry.ip) addresses.add(entry.ip);
  return [...addresses];
}

// ───────────────────────────── subject ─────────────────────────────

function subjectText(input: IncidentMailInput): string {
  const { finding, mask } = input;
  const call = finding.call;
  if (call) {
    const destination = displayDestination(call, mask) ?? 'unknown destination';
    return `${call.endpoint} → ${destination} ${doneSummary(input, false)}`;
  }
  if (finding.kind === 'security' || finding.ip) {
    const label = SECURITY_LABEL[finding.level] ?? finding.level.replace(/-/g, ' ');
    const who = finding.endpoint ? ` on ${finding.endpoint}` : finding.account ? ` on ${finding.account}` : '';
    const from = finding.ip ? ` from ${finding.ip}` : '';
    return `${label}${who}${from} — ${doneSummary(input, true)}`;
  }
  return `${finding.policy} ${finding.level}${finding.endpoint ? ` on ${finding.endpoint}` : ''} — ${doneSummary(input, true)}`;
}

/** What a mail would report, for its thread to tell news from repetition: `hung up`, `brute-force: blocked at the firewall`. */
export function outcomeKey(input: IncidentMailInput): string {
  const { finding } = input;
  if (finding.call) return doneSummary(input, false);
  return `${finding.level}: ${doneSummary(input, finding.kind === 'security' || !!finding.ip)}`;
}

/**
 * The actual outcome, as the subject states it: `hung up` only when a hang-up was carried out in
 * enforce mode, `would hang up (simulate)`, `hang-up FAILED`, `locked`, `blocked at the firewall`,
 * and `reported, not hung up` when only an alert was decided.
 */
function doneSummary(input: IncidentMailInput, security: boolean): string {
  const phrases: string[] = [];
  for (const action of ACTION_ORDER) {
    const outcome = input.outcomes.find((candidate) => candidate.decision.action === action);
    if (!outcome) continue;
    const simulated = outcome.result === 'simulated' || input.mode === 'simulate' || outcome.decision.mode === 'simulate';
    const target = outcome.decision.target;
    const named = input.finding.call?.endpoint ?? input.finding.endpoint;
    // The subject already names the caller's endpoint; another one locked is named.
    const who = action === 'lock' && target.endpoint && target.endpoint !== named ? `${target.endpoint} ` : '';
    const verb = action === 'hangup' ? 'hung up' : action === 'lock' ? 'locked' : security ? 'blocked at the firewall' : `blocked ${target.ip ?? ''}`.trimEnd();
    const wouldVerb = action === 'hangup' ? 'hang up' : action === 'lock' ? 'lock' : 'block at the firewall';
    if (action === 'firewall' && outcome.result === 'skipped' && /no firewall hook/.test(outcome.detail ?? '')) phrases.push('not blocked (no firewall hook)');
    else if (simulated) phrases.push(`${who ? `${who}: ` : ''}would ${wouldVerb} (simulate)`);
    else if (outcome.result === 'failed') phrases.push(`${ACTION_LABEL[action]} FAILED`);
    // A hang-up is skipped when the call had already ended; a firewall when no hook is set up (or the address is spared).
    else if (outcome.result === 'skipped') phrases.push(action === 'hangup' ? 'call already ended' : action === 'firewall' ? 'not blocked (no firewall hook)' : `${ACTION_LABEL[action]} skipped`);
    else if (outcome.result === 'pending') phrases.push(`${ACTION_LABEL[action]} pending`);
    else phrases.push(`${who}${verb}`);
  }
  // Only an alert: say so, so nobody reads "hung up" into it.
  if (phrases.length > 0) return phrases.join(', ');
  return input.finding.call && !security ? 'reported, not hung up' : 'reported';
}

// ───────────────────────────── body ─────────────────────────────

function callRows(input: IncidentMailInput, call: FindingCall): [string, string][] {
  const { mask, timezone, finding } = input;
  const rows: [string, string][] = [['Endpoint', call.endpoint]];
  rows.push(['Caller ID', callerId(call, mask)]);
  if (finding.ip) rows.push(['Source IP', finding.ip]);
  rows.push(['Context', call.context]);
  if (call.accountCode) rows.push(['Account code', call.accountCode]);
  rows.push(['Direction', call.direction]);
  const destination = displayDestination(call, mask);
  const dialled = call.dialled && call.dialled !== call.e164 ? ` (dialled ${mask(call.dialled)})` : '';
  rows.push(['Destination', destination ? `${destination}${dialled}` : 'unknown']);
  rows.push(['Country', call.country ? formatCountry(call.country) : 'unknown']);
  rows.push(['Number type', call.numberType ? formatNumberType(call.numberType) : 'unknown']);
  rows.push(['Risk', call.risk ?? 'unknown']);
  if (call.trunk) rows.push(['Trunk', call.trunk]);
  const rate = call.ratePerMinute !== undefined ? Number(call.ratePerMinute) : undefined;
  rows.push(['Rate', rate !== undefined && Number.isFinite(rate) ? `${call.ratePerMinute} ${call.currency ?? ''}/min`.replace(' /min', '/min') : 'not priced (no rate in the table)']);
  const cost = call.costSoFar ?? 0;
  rows.push(['Cost so far', `${formatMoney(cost, call.currency)}${call.answeredAt === undefined ? ' (not answered)' : ''}`]);
  if (rate !== undefined && Number.isFinite(rate)) {
    const hour = rate * 60;
    const hungUp = input.mode === 'enforce' && input.outcomes.some((outcome) => outcome.decision.action === 'hangup' && outcome.result === 'done');
    const condition = hungUp ? 'had the call stayed up for another hour at this rate' : 'if left up for another hour at this rate';
    rows.push(['Projected cost', `${formatMoney(cost + hour, call.currency)} ${condition} (+${formatMoney(hour, call.currency)} an hour)`]);
  }
  rows.push(['Started', formatTime(call.startedAt, timezone)]);
  rows.push(['Answered', call.answeredAt !== undefined ? `${formatTime(call.answeredAt, timezone)} (${formatDuration(finding.at - call.answeredAt)} before this finding)` : 'not answered']);
  rows.push(['Channel', call.channels.length > 0 ? call.channels.join(', ') : call.channel]);
  rows.push(['Linkedid', call.linkedid]);
  if (call.startedDuringOutage) rows.push(['Note', 'the call started while Tollgate was not connected to Asterisk: its start time may be late']);
  return rows;
}

function subjectRows(input: IncidentMailInput): [string, string][] {
  const { finding } = input;
  const rows: [string, string][] = [];
  if (finding.endpoint) rows.push(['Endpoint', finding.endpoint]);
  if (finding.account) rows.push(['Account', finding.account]);
  if (finding.ip) rows.push(['Source IP', finding.ip]);
  rows.push(['Scope', maskText(finding.scope, input.mask)]);
  rows.push(['At', formatTime(finding.at, input.timezone)]);
  return rows;
}

function incidentRows(input: IncidentMailInput, severity: Severity): [string, string][] {
  const { incident, finding, timezone } = input;
  const rows: [string, string][] = [['Incident', incident.id]];
  if (input.thread && input.thread.id !== incident.id) rows.push(['Attack thread', input.thread.id]);
  rows.push(['Severity', severity]);
  rows.push(['Policy', `${finding.policy} (${finding.kind}, level ${finding.level}${finding.mode === 'simulate' ? ', simulate mode' : ''})`]);
  const calls = incident.calls.length > 0 ? `, ${incident.calls.length} call${incident.calls.length === 1 ? '' : 's'}` : '';
  rows.push(['Grown to', `${incident.findings} finding${incident.findings === 1 ? '' : 's'}${calls}`]);
  rows.push(['First', formatTime(incident.firstAt, timezone)]);
  rows.push(['Latest', formatTime(incident.lastAt, timezone)]);
  rows.push(['Levels', incident.levels.join(', ')]);
  // The same incident escalated (a new level or severity): say from what to what.
  const first = incident.first;
  if (input.followUp && incident.findings > 1 && (first.level !== finding.level || first.severity !== finding.severity)) {
    rows.push(['What changed', `now level ${finding.level}, severity ${finding.severity} (it opened at level ${first.level}, severity ${first.severity}); ${incident.findings} findings${calls} in ${formatDuration(incident.lastAt - incident.firstAt)}`]);
  }
  return rows;
}

function outcomeLine(outcome: ActionOutcome, mask: IncidentMailInput['mask'], known: readonly (string | undefined)[]): string {
  const result = outcome.result === 'simulated' ? 'simulated, not done' : outcome.result === 'failed' ? 'FAILED' : outcome.result;
  const latency = outcome.latencyMs !== undefined ? ` (${Math.round(outcome.latencyMs)} ms after the event)` : '';
  return oneLine(`${ACTION_LABEL[outcome.decision.action]}: ${result} — ${maskText(outcome.detail, mask, known)}${latency}`);
}

function undoLines(input: IncidentMailInput, acted: readonly ActionOutcome[], compromised: CompromisedEndpoint | undefined): { items: string[]; commands: string[] } {
  const policy = input.finding.policy;
  const items: string[] = [];
  const commands: string[] = [];
  for (const outcome of acted) {
    const label = ACTION_LABEL[outcome.decision.action];
    const target = outcome.decision.target;
    if (outcome.result === 'simulated' || input.mode === 'simulate') {
      items.push(`${label}: nothing to undo (simulated: nothing was done)`);
    } else if (outcome.result === 'failed' || outcome.result === 'skipped' || outcome.result === 'pending') {
      items.push(`${label}: nothing to undo (${outcome.result === 'failed' ? 'it failed' : outcome.result === 'skipped' ? 'nothing needed doing' : 'not carried out yet'})`);
    } else if (outcome.decision.action === 'lock' && compromised?.endpoint === target.endpoint) {
      const command = outcome.undo ?? `tollgate unlock ${target.endpoint}`;
      items.push(`${label}: first change the secret of ${target.endpoint} and re-provision the phone (the steps above); only then run \`${command}\` — unlocked with the old secret, whoever guessed it calls again`);
      commands.push(command);
    } else if (outcome.decision.action === 'firewall') {
      items.push(`${label}: lift the block only if ${target.ip ?? 'the address'} turns out to be one of your own devices: ${outcome.undo ? `run \`${outcome.undo}\`` : 'remove it from the block list your firewall hook maintains'}`);
    } else if (outcome.undo) {
      items.push(`${label}: run \`${outcome.undo}\``);
      commands.push(outcome.undo);
    } else if (outcome.decision.action === 'hangup' && compromised) {
      items.push(`${label}: nothing to undo: the call was placed with ${compromised.endpoint}'s guessed password`);
    } else if (outcome.decision.action === 'hangup') {
      items.push(`${label}: nothing to undo: the caller can dial again if the call was legitimate; add an exception to policy ${policy} (policies/${policy}.yaml) so it is not hung up again`);
    } else if (outcome.decision.action === 'lock') {
      const command = `tollgate unlock ${target.endpoint ?? '<endpoint>'}`;
      items.push(`${label}: run \`${command}\``);
      commands.push(command);
    }
  }
  if (items.length === 0) items.push('Nothing to undo: nothing but this alert was done.');
  return { items, commands };
}

function tuneBlocks(input: IncidentMailInput, compromised: CompromisedEndpoint | undefined): Block[] {
  const { finding } = input;
  const file = `policies/${finding.policy}.yaml`;
  const endpoint = finding.call?.endpoint ?? finding.endpoint;
  const general: Block = {
    type: 'list',
    items: [
      '`mode: simulate` in the file: the policy only reports what it would do (mails marked SIMULATED)',
      '`enabled: false`: the policy is off',
      `check the directory with \`tollgate check\`; the agent reloads it when a file changes (or on SIGHUP) and keeps the last good set if there is a problem`,
    ],
  };
  // An address that failed to log in is what a security policy exists for: never advise trusting it.
  if (finding.kind === 'security' && !finding.call) {
    return [
      {
        type: 'paragraph',
        text: `The policy is ${file} (in the policy directory). Do not add the address of this mail to \`trustedAddresses\`: an address that fails to log in is exactly what this policy stops. \`trustedAddresses\` is for networks you own and control whose devices may fail logins in bulk (your own SIP proxy, a monitoring probe).`,
      },
      general,
    ];
  }
  if (compromised) {
    return [
      { type: 'paragraph', text: `The policy is ${file} (in the policy directory). Add no exception for ${compromised.endpoint} while its old secret may be known to someone else.` },
      general,
    ];
  }
  return [
    { type: 'paragraph', text: `The policy is ${file} (in the policy directory). To let this endpoint through, add:` },
    { type: 'code', lines: ['exceptions:', `  - endpoints: ["${endpoint ?? '<endpoint>'}"]`, '    reason: "why this is legitimate"'] },
    general,
  ];
}

// ───────────────────────────── helpers ─────────────────────────────

function listEvidence(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The destination as people read it: `+53 5 5551234` (masked when asked), or the dialled string. */
export function displayDestination(call: Pick<FindingCall, 'e164' | 'dialled'>, mask: (number: string | undefined) => string): string | undefined {
  if (call.e164) return mask(parsePhoneNumberFromString(call.e164)?.formatInternational() ?? call.e164);
  return call.dialled ? mask(call.dialled) : undefined;
}

function callerId(call: FindingCall, mask: IncidentMailInput['mask']): string {
  const number = call.callerIdNum && /\d{7,}/.test(call.callerIdNum.replace(/\D/g, '')) ? mask(call.callerIdNum) : call.callerIdNum;
  const name = call.callerIdName ? oneLine(call.callerIdName) : '';
  if (name && number) return `"${name}" <${number}>`;
  return name || number || 'none';
}

function knownNumbers(call: FindingCall | undefined): (string | undefined)[] {
  if (!call) return [];
  const pretty = call.e164 ? parsePhoneNumberFromString(call.e164)?.formatInternational() : undefined;
  return [call.dialled, call.e164, pretty, call.callerIdNum && call.callerIdNum.replace(/\D/g, '').length >= 7 ? call.callerIdNum : undefined];
}

function higher(a: Severity, b: Severity): Severity {
  return severityRank(a) >= severityRank(b) ? a : b;
}
