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
import { formatCountry, formatDuration, formatMoney, formatNumberType, formatTime, maskText, oneLine, renderHtml, renderText, type Block, type RenderedMail } from './format.js';

export interface IncidentMailInput {
  incident: Incident;
  /** The finding this mail is about (the one that opened the incident, or the escalation). */
  finding: Finding;
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

export function renderIncidentMail(input: IncidentMailInput): RenderedMail {
  const { finding, incident, mask } = input;
  const simulated = input.mode === 'simulate';
  const severity = higher(incident.severity, finding.severity);
  const subject = oneLine(`[Tollgate][${severity.toUpperCase()}]${input.followUp ? '[UPDATE]' : ''}${simulated ? '[SIMULATED]' : ''} ${subjectText(input)}`);

  const call = finding.call;
  const known = knownNumbers(call);
  const blocks: Block[] = [];
  if (simulated) {
    blocks.push({ type: 'paragraph', strong: true, text: 'SIMULATION — nothing was done. Tollgate runs in simulate mode (dry run): this mail says what it would have done.' });
  }
  if (input.followUp) {
    blocks.push({ type: 'paragraph', text: `Update on incident ${incident.id}, first reported at ${formatTime(incident.firstAt, input.timezone)}.` });
  }
  blocks.push({ type: 'heading', text: 'What happened' });
  blocks.push({ type: 'paragraph', text: oneLine(maskText(finding.message, mask, known)) });
  // A scoring policy says which signals added up (call-risk): each on its own line.
  const signals = listEvidence(finding.evidence.signals);
  if (signals.length > 0) {
    blocks.push({ type: 'heading', text: `Why: the signals that added up${typeof finding.evidence.score === 'number' ? ` (score ${finding.evidence.score})` : ''}` });
    blocks.push({ type: 'list', items: signals.map((signal) => oneLine(maskText(signal, mask, known))) });
  }

  const policyRows: [string, string][] = [
    ['Policy', finding.policy],
    ['Kind', finding.kind],
    ['Level', finding.level],
    ['Severity', finding.severity],
    ['Policy mode', finding.mode],
  ];
  blocks.push({ type: 'fields', rows: policyRows });

  blocks.push({ type: 'heading', text: call ? 'The call' : 'Who and where' });
  blocks.push({ type: 'fields', rows: call ? callRows(input, call) : subjectRows(input) });

  blocks.push({ type: 'heading', text: 'Incident' });
  blocks.push({ type: 'fields', rows: incidentRows(input) });
  const evidence = Object.entries(finding.evidence).filter(([key]) => key !== 'signals' && key !== 'toAllow');
  if (evidence.length > 0) {
    blocks.push({ type: 'heading', text: 'Evidence' });
    blocks.push({ type: 'fields', rows: evidence.map(([key, value]) => [key, oneLine(maskText(Array.isArray(value) ? value.join(', ') : String(value), mask, known))] as [string, string]) });
  }

  const acted = input.outcomes.filter((outcome) => outcome.decision.action !== 'alert');
  blocks.push({ type: 'heading', text: simulated ? 'What would have been done' : 'What was done' });
  blocks.push({ type: 'list', items: acted.length > 0 ? acted.map((outcome) => outcomeLine(outcome, mask, known)) : [`Nothing but this alert: policy ${finding.policy} asks for ${finding.actions.join(', ')}.`] });

  blocks.push({ type: 'heading', text: 'How to undo' });
  const undo = undoLines(input, acted);
  blocks.push({ type: 'list', items: undo.items });
  if (undo.commands.length > 0) blocks.push({ type: 'code', lines: undo.commands });

  const toAllow = listEvidence(finding.evidence.toAllow);
  if (toAllow.length > 0) {
    blocks.push({ type: 'heading', text: 'If the call was legitimate: how to allow it next time' });
    blocks.push({ type: 'list', items: toAllow.map((line) => oneLine(maskText(line, mask, known))) });
  }

  blocks.push({ type: 'heading', text: 'How to silence or tune this policy' });
  blocks.push(...tuneBlocks(input));

  const footer = `Tollgate on ${oneLine(input.agent)} · ${simulated ? 'simulate' : 'enforce'} mode · incident ${incident.id} · times in ${input.timezone}`;
  return { subject, text: renderText(blocks, footer), html: renderHtml(subject, blocks, footer) };
}

/**
 * The outbox row for an incident mail: one per incident (`incident:<id>:alert`), plus one per
 * escalation (`incident:<id>:update:<level>:<severity>`, the decider's own dedupe), never more.
 */
export function incidentMail(input: IncidentMailInput, to: string[]): OutboxMail {
  const rendered = renderIncidentMail(input);
  const dedupeKey = input.followUp ? `incident:${input.incident.id}:update:${input.finding.level}:${input.finding.severity}` : `incident:${input.incident.id}:alert`;
  return { kind: input.followUp ? 'follow-up' : 'alert', dedupeKey, incident: input.incident.id, to, ...rendered };
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

/** `hung up`, `locked`, `blocked 203.0.113.9`, `would be hung up`, `hang-up FAILED`, `alert`. */
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
    if (action === 'firewall' && outcome.result === 'skipped' && /no firewall hook/.test(outcome.detail ?? '')) phrases.push('not blocked (no firewall hook)');
    else if (simulated) phrases.push(`${who}would be ${verb}`);
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

function incidentRows(input: IncidentMailInput): [string, string][] {
  const { incident, finding, timezone } = input;
  const rows: [string, string][] = [['Incident', incident.id]];
  const calls = incident.calls.length > 0 ? `, ${incident.calls.length} call${incident.calls.length === 1 ? '' : 's'}` : '';
  rows.push(['Grown to', `${incident.findings} finding${incident.findings === 1 ? '' : 's'}${calls}`]);
  rows.push(['First', formatTime(incident.firstAt, timezone)]);
  rows.push(['Latest', formatTime(incident.lastAt, timezone)]);
  rows.push(['Levels', incident.levels.join(', ')]);
  if (input.followUp) {
    const first = incident.first;
    rows.push(['What changed', `now level ${finding.level}, severity ${finding.severity} (it opened at level ${first.level}, severity ${first.severity}); ${incident.findings} findings${calls} in ${formatDuration(incident.lastAt - incident.firstAt)}`]);
  }
  return rows;
}

function outcomeLine(outcome: ActionOutcome, mask: IncidentMailInput['mask'], known: readonly (string | undefined)[]): string {
  const result = outcome.result === 'simulated' ? 'simulated, not done' : outcome.result === 'failed' ? 'FAILED' : outcome.result;
  const latency = outcome.latencyMs !== undefined ? ` (${Math.round(outcome.latencyMs)} ms after the event)` : '';
  return oneLine(`${ACTION_LABEL[outcome.decision.action]}: ${result} — ${maskText(outcome.detail, mask, known)}${latency}`);
}

function undoLines(input: IncidentMailInput, acted: readonly ActionOutcome[]): { items: string[]; commands: string[] } {
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
    } else if (outcome.undo) {
      items.push(`${label}: run \`${outcome.undo}\``);
      commands.push(outcome.undo);
    } else if (outcome.decision.action === 'hangup') {
      items.push(`${label}: nothing to undo: the caller can dial again if the call was legitimate; add an exception to policy ${policy} (policies/${policy}.yaml) so it is not hung up again`);
    } else if (outcome.decision.action === 'lock') {
      const command = `tollgate unlock ${target.endpoint ?? '<endpoint>'}`;
      items.push(`${label}: run \`${command}\``);
      commands.push(command);
    } else {
      items.push(`${label}: remove ${target.ip ?? 'the address'} from the firewall block list your firewall hook maintains`);
    }
  }
  if (items.length === 0) items.push('Nothing to undo: nothing but this alert was done.');
  return { items, commands };
}

function tuneBlocks(input: IncidentMailInput): Block[] {
  const { finding } = input;
  const file = `policies/${finding.policy}.yaml`;
  const endpoint = finding.call?.endpoint ?? finding.endpoint;
  const example =
    finding.kind === 'security' && finding.ip
      ? ['trustedAddresses:', `  - ${finding.ip}${finding.ip.includes(':') ? '/128' : '/32'}`]
      : endpoint
        ? ['exceptions:', `  - endpoints: ["${endpoint}"]`, '    reason: "why this is legitimate"']
        : ['exceptions:', '  - endpoints: ["<endpoint>"]', '    reason: "why this is legitimate"'];
  return [
    { type: 'paragraph', text: `The policy is ${file} (in the policy directory). To let this ${finding.kind === 'security' && finding.ip ? 'address' : 'endpoint'} through, add:` },
    { type: 'code', lines: example },
    {
      type: 'list',
      items: [
        '`mode: simulate` in the file: the policy only reports what it would do (mails marked SIMULATED)',
        '`enabled: false`: the policy is off',
        `check the directory with \`tollgate check\`; the agent reloads it when a file changes (or on SIGHUP) and keeps the last good set if there is a problem`,
      ],
    },
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
