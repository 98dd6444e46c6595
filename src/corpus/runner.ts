/**
 * The corpus runner: clock independence, proven. Every case (test/policies/*, test/corpus) is
 * replayed with the WHOLE policy set at three clock positions in the case's time zone — a working
 * day at 10:00, the same day at 22:00, a Sunday at 15:00 — and judged against its label: fraud and
 * restricted traffic must be stopped at every position, legitimate and emergency traffic left
 * alone at every position.
 *
 * A case is moved in time, not re-recorded: the anchor (the first timed event of its last capture,
 * the attack after any history) lands on the position's whole second, and every capture of the
 * case moves by the same whole number of seconds (Timestamp, EventTV, CDR times and Uniqueids alike,
 * through the derive tool), in memory.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DateTime } from 'luxon';
import { userAgentListFor, type UserAgentList } from '../profile/user-agents.js';
import type { TollgateConfig } from '../config/schema.js';
import type { Decision } from '../decide/decider.js';
import type { Classifier } from '../numbers/index.js';
import { classifierFor } from '../numbers/from-config.js';
import type { LoadedPolicy } from '../policy/engine.js';
import { loadPoliciesOrThrow } from '../policy/loader.js';
import { rateTableFromConfig, type RateTable } from '../rates/index.js';
import { replayTranscript, type ReplayResult } from '../replay.js';
import { deriveEntries } from '../sim/derive.js';
import { formatTranscript, parseTranscript } from '../sim/transcript.js';
import { caseCaptures, caseConfig, caseFileNames, caseLocks, CORPUS_CASES_DIR, labConfig, LAB_CONFIG_FILE, POLICY_CASES_DIR, readCase, SHIPPED_POLICIES_DIR, type PolicyCase } from './cases.js';
import { mustBeStopped, readLabels, type CorpusLabel, type LabelKind } from './labels.js';

export interface ClockPosition {
  id: string;
  /** Column heading: `Wed 10:00`. */
  label: string;
  /** Local date and time in the case's time zone. */
  date: string;
  time: string;
}

/** A working day at 10:00 and at 22:00, a Sunday at 15:00 (Wednesday 9 and Sunday 13 December 2026). */
export const CLOCK_POSITIONS: readonly ClockPosition[] = [
  { id: 'weekday-10', label: 'Wed 10:00', date: '2026-12-09', time: '10:00' },
  { id: 'weekday-22', label: 'Wed 22:00', date: '2026-12-09', time: '22:00' },
  { id: 'sunday-15', label: 'Sun 15:00', date: '2026-12-13', time: '15:00' },
];

export const DEFAULT_CORPUS_DIRS: readonly string[] = [POLICY_CASES_DIR, CORPUS_CASES_DIR];

/** The instant of a position in a time zone (DST-correct). */
export function positionTime(position: ClockPosition, timezone: string): number {
  const local = DateTime.fromISO(`${position.date}T${position.time}`, { zone: timezone });
  if (!local.isValid) throw new Error(`corpus: ${position.date} ${position.time} in ${timezone}: ${local.invalidExplanation ?? local.invalidReason ?? 'invalid'}`);
  return local.toMillis();
}

export interface CorpusCase {
  /** `<directory>/<case name>`: `block-premium-rate/us-900-number`, `corpus/london-landline`. */
  key: string;
  testCase: PolicyCase;
}

/** Cases directly in each directory and in its immediate subdirectories, keyed by directory name. */
export function collectCorpusCases(dirs: readonly string[]): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const seen = new Map<string, string>();
  const add = (dir: string) => {
    for (const name of caseFileNames(dir)) {
      const testCase = readCase(dir, name);
      const key = `${basename(dir)}/${testCase.name}`;
      const other = seen.get(key);
      if (other) throw new Error(`corpus: ${testCase.file} and ${other} have the same key ${key}`);
      seen.set(key, testCase.file);
      cases.push({ key, testCase });
    }
  };
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`corpus: ${dir} is not a directory of cases`);
    add(dir);
    for (const sub of readdirSync(dir).sort()) if (statSync(join(dir, sub)).isDirectory()) add(join(dir, sub));
  }
  return cases;
}

/** The labels of the given directories: every `labels.yaml` directly in one of them, merged. */
export function corpusLabels(dirs: readonly string[], extraFiles: readonly string[] = []): Map<string, CorpusLabel> {
  const labels = new Map<string, CorpusLabel>();
  const files = [...dirs.map((dir) => join(dir, 'labels.yaml')).filter((file) => existsSync(file)), ...extraFiles];
  for (const file of files) for (const [key, label] of readLabels(file)) labels.set(key, label);
  return labels;
}

/** The case's captures moved so that the anchor lands on `target` (whole seconds: ids and CDR times stay exact). */
export function shiftCaptures(captures: readonly (Buffer | string)[], target: number): { texts: string[]; shiftMs: number; anchor: number } {
  const parsed = captures.map((capture) => parseTranscript(capture));
  const anchor = parsed.at(-1)?.find((entry) => entry.timed)?.time;
  if (anchor === undefined) throw new Error('corpus: the last capture has no timed event (Timestamp or EventTV) to anchor the clock on');
  const shiftMs = target - Math.floor(anchor / 1000) * 1000;
  const texts = parsed.map((entries) => formatTranscript(deriveEntries(entries, { from: '' }, shiftMs / 1000), { timestamps: false }));
  return { texts, shiftMs, anchor: anchor + shiftMs };
}

export interface CorpusCall {
  linkedid: string;
  endpoint?: string;
  dialled?: string;
  startedAt: number;
  /** Country (or scope) and risk of the dialled number. */
  destination?: string;
  hungUp: boolean;
  /** Policies whose enforced hang-up hit the call. */
  hungUpBy: string[];
}

export type CellVerdict = 'stopped' | 'not stopped' | 'left alone' | 'touched' | 'unlabelled' | 'error';

export interface CorpusCell {
  position: ClockPosition;
  /** Where the anchor landed. */
  anchorAt: number;
  /** Outbound (and transit) calls in start order, and any other call hung up. */
  calls: CorpusCall[];
  locks: { endpoint: string; policy: string }[];
  firewalls: { ip: string; policy: string }[];
  alerts: number;
  verdict: CellVerdict;
  /** `stopped (call 2 of 5)`, `left alone, 1 alert`, `NOT STOPPED`, `HUNG UP (call 1 of 1)`, … */
  text: string;
  ok: boolean;
  error?: string;
}

export interface CorpusCaseResult {
  key: string;
  file: string;
  description: string;
  label?: CorpusLabel;
  cells: CorpusCell[];
  ok: boolean;
}

export interface CorpusTotals {
  cases: number;
  byKind: Record<LabelKind | 'unlabelled', number>;
  /** Per position id: cells that hold / cells judged. */
  byPosition: Record<string, { ok: number; total: number; stopped: number; mustStop: number; leftAlone: number; mustLeave: number }>;
  failedCells: number;
}

export interface CorpusResult {
  positions: readonly ClockPosition[];
  policiesDir: string;
  policies: string[];
  cases: CorpusCaseResult[];
  totals: CorpusTotals;
  ok: boolean;
  elapsedMs: number;
}

export interface CorpusOptions {
  /** Directories of cases. @default test/policies and test/corpus of the package */
  dirs?: readonly string[];
  /** The policy set. @default the shipped policies/ */
  policiesDir?: string;
  /** Base configuration of every case (a case's `config:` overrides it). @default test/fixtures/lab-config.yaml */
  configFile?: string;
  /** Labels; default: the `labels.yaml` of the directories, plus `labelFiles`. */
  labels?: Map<string, CorpusLabel>;
  labelFiles?: readonly string[];
  positions?: readonly ClockPosition[];
  /** Only cases whose key matches. */
  filter?: (key: string) => boolean;
}

interface Shared {
  policies: readonly LoadedPolicy[];
  base: TollgateConfig;
  policiesDir: string;
  classifiers: Map<string, Classifier>;
  rates: Map<string, RateTable>;
  userAgents: Map<string, UserAgentList>;
}

export function runCorpus(options: CorpusOptions = {}): CorpusResult {
  const started = Date.now();
  const dirs = (options.dirs ?? DEFAULT_CORPUS_DIRS).map((dir) => resolve(dir));
  const policiesDir = resolve(options.policiesDir ?? SHIPPED_POLICIES_DIR);
  const positions = options.positions ?? CLOCK_POSITIONS;
  const labels = options.labels ?? corpusLabels(dirs, options.labelFiles);
  const shared: Shared = {
    policies: loadPoliciesOrThrow(policiesDir),
    base: labConfig(options.configFile ?? LAB_CONFIG_FILE),
    policiesDir,
    classifiers: new Map(),
    rates: new Map(),
    userAgents: new Map(),
  };
  const cases = collectCorpusCases(dirs).filter((corpusCase) => !options.filter || options.filter(corpusCase.key));
  const results = cases.map((corpusCase) => runCorpusCase(corpusCase, labels.get(corpusCase.key), positions, shared));
  const totals = totalsOf(results, positions);
  return {
    positions,
    policiesDir,
    policies: shared.policies.filter((policy) => policy.definition.enabled).map((policy) => policy.definition.id),
    cases: results,
    totals,
    ok: results.every((result) => result.ok),
    elapsedMs: Date.now() - started,
  };
}

function runCorpusCase(corpusCase: CorpusCase, label: CorpusLabel | undefined, positions: readonly ClockPosition[], shared: Shared): CorpusCaseResult {
  const { testCase } = corpusCase;
  const config = caseConfig(testCase, shared.base);
  config.policies = { ...config.policies, dir: shared.policiesDir };
  const classifier = cached(shared.classifiers, JSON.stringify([config.numbering, config.policies.dir]), () => classifierFor(config));
  const rates = cached(shared.rates, JSON.stringify(config.rates), () => rateTableFromConfig(config.rates));
  const captures = caseCaptures(testCase);
  const userAgents = (): UserAgentList => cached(shared.userAgents, config.policies.dir, () => userAgentListFor(config));
  const cells = positions.map((position): CorpusCell => {
    try {
      const { texts, shiftMs, anchor } = shiftCaptures(captures, positionTime(position, config.timezone));
      const result = replayTranscript(texts, {
        trunks: config.trunks,
        policies: shared.policies,
        classifier,
        rates,
        mode: 'enforce',
        timezone: config.timezone,
        locks: caseLocks(testCase, shiftMs),
        userAgents: userAgents(),
      });
      return judge(position, anchor, outcomeOf(result, classifier), label);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { position, anchorAt: 0, calls: [], locks: [], firewalls: [], alerts: 0, verdict: 'error', text: `ERROR`, ok: false, error: message };
    }
  });
  const result: CorpusCaseResult = { key: corpusCase.key, file: testCase.file, description: testCase.description, cells, ok: cells.every((cell) => cell.ok) };
  if (label) result.label = label;
  return result;
}

function cached<T>(map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

interface Outcome {
  calls: CorpusCall[];
  locks: { endpoint: string; policy: string }[];
  firewalls: { ip: string; policy: string }[];
  alerts: number;
}

/** What was done, from the replay: the outbound calls in start order, enforced hang-ups, locks, firewall entries, alerts. */
export function outcomeOf(result: ReplayResult, classifier?: Classifier): Outcome {
  interface Seen {
    call: CorpusCall;
    order: number;
    outbound: boolean;
  }
  const calls = new Map<string, Seen>();
  for (const record of result.records) {
    const linkedid = typeof record.linkedid === 'string' ? record.linkedid : undefined;
    if (!linkedid || record.kind === 'finding' || record.kind === 'decision' || record.kind === 'security') continue;
    let seen = calls.get(linkedid);
    if (!seen) {
      seen = { call: { linkedid, startedAt: Date.parse(String(record.at)), hungUp: false, hungUpBy: [] }, order: calls.size, outbound: false };
      calls.set(linkedid, seen);
    }
    if (typeof record.endpoint === 'string' && seen.call.endpoint === undefined) seen.call.endpoint = record.endpoint;
    if (typeof record.dialled === 'string' && record.dialled) seen.call.dialled = record.dialled;
    if (record.direction === 'outbound' || record.direction === 'transit' || typeof record.trunk === 'string') seen.outbound = true;
  }
  const enforced = result.decisions.filter((decision) => decision.mode === 'enforce');
  const locks: Outcome['locks'] = [];
  const firewalls: Outcome['firewalls'] = [];
  for (const decision of enforced) {
    if (decision.action === 'hangup') {
      const linkedid = decision.target.linkedid ?? decision.finding.call?.linkedid;
      if (!linkedid) continue;
      let seen = calls.get(linkedid);
      if (!seen) {
        seen = { call: { linkedid, startedAt: decision.finding.call?.startedAt ?? decision.at, hungUp: false, hungUpBy: [] }, order: calls.size, outbound: true };
        calls.set(linkedid, seen);
      }
      seen.call.hungUp = true;
      if (!seen.call.hungUpBy.includes(decision.policy)) seen.call.hungUpBy.push(decision.policy);
    } else if (decision.action === 'lock' && decision.target.endpoint) {
      locks.push({ endpoint: decision.target.endpoint, policy: decision.policy });
    } else if (decision.action === 'firewall' && decision.target.ip) {
      firewalls.push({ ip: decision.target.ip, policy: decision.policy });
    }
  }
  const alerts = result.decisions.filter((decision: Decision) => decision.action === 'alert').length;
  const outbound = [...calls.values()]
    .filter((seen) => seen.outbound || seen.call.hungUp)
    .sort((a, b) => a.call.startedAt - b.call.startedAt || a.order - b.order)
    .map((seen) => seen.call);
  if (classifier) {
    for (const call of outbound) {
      if (!call.dialled) continue;
      const classification = classifier.classify(call.dialled);
      const where = classification.country ?? (classification.callingCode ? `+${classification.callingCode}` : undefined);
      const type = classification.type === 'UNKNOWN' ? undefined : classification.type;
      call.destination = `${[where, type, classification.scope].filter(Boolean).join(' ')}, risk ${classification.risk}`;
    }
  }
  return { calls: outbound, locks, firewalls, alerts };
}

/** The verdict of one case at one position. */
export function judge(position: ClockPosition, anchorAt: number, outcome: Outcome, label: CorpusLabel | undefined): CorpusCell {
  const cell = { position, anchorAt, ...outcome };
  const { calls, locks, firewalls, alerts } = outcome;
  const hungUp = calls.filter((call) => call.hungUp);
  if (!label) return { ...cell, verdict: 'unlabelled', text: 'no label', ok: false };
  if (mustBeStopped(label.kind)) {
    if (calls.length === 0) {
      const how = [firewalls.length > 0 ? 'firewall' : '', locks.length > 0 ? 'lock' : ''].filter(Boolean).join(' + ');
      return how ? { ...cell, verdict: 'stopped', text: `stopped (${how})`, ok: true } : { ...cell, verdict: 'not stopped', text: 'NOT STOPPED', ok: false };
    }
    const first = calls.findIndex((call) => call.hungUp);
    const of = calls.length;
    if (first < 0) return { ...cell, verdict: 'not stopped', text: of === 1 ? 'NOT STOPPED' : `NOT STOPPED (0 of ${of} hung up)`, ok: false };
    const within = label.stopWithin ?? Number.POSITIVE_INFINITY;
    if (first + 1 > within) return { ...cell, verdict: 'not stopped', text: `NOT STOPPED (first hang-up: call ${first + 1} of ${of})`, ok: false };
    // The fraud may go no further: with stopWithin n, every call from the n-th on is hung up (a call
    // stopped earlier for its own destination does not oblige the ordinary ones after it); without,
    // every call after the first one stopped.
    const mustFrom = label.stopWithin !== undefined ? label.stopWithin - 1 : first + 1;
    const through = calls.findIndex((call, index) => index >= mustFrom && !call.hungUp);
    if (through >= 0) return { ...cell, verdict: 'not stopped', text: `NOT STOPPED (call ${through + 1} of ${of} went through)`, ok: false };
    return { ...cell, verdict: 'stopped', text: `stopped (call ${first + 1} of ${of})`, ok: true };
  }
  const touches = [
    hungUp.length > 0 ? `HUNG UP (${hungUp.length === 1 ? `call ${calls.indexOf(hungUp[0]!) + 1}` : `${hungUp.length} calls`} of ${calls.length})` : '',
    locks.length > 0 ? `LOCKED ${[...new Set(locks.map((lock) => lock.endpoint))].join(' ')}` : '',
    firewalls.length > 0 ? `FIREWALLED ${[...new Set(firewalls.map((entry) => entry.ip))].join(' ')}` : '',
  ].filter(Boolean);
  if (touches.length > 0) return { ...cell, verdict: 'touched', text: touches.join(', '), ok: false };
  return { ...cell, verdict: 'left alone', text: alerts === 0 ? 'left alone' : `left alone, ${alerts} alert${alerts === 1 ? '' : 's'}`, ok: true };
}

function totalsOf(results: readonly CorpusCaseResult[], positions: readonly ClockPosition[]): CorpusTotals {
  const byKind: CorpusTotals['byKind'] = { fraud: 0, restricted: 0, legitimate: 0, emergency: 0, unlabelled: 0 };
  const byPosition: CorpusTotals['byPosition'] = {};
  for (const position of positions) byPosition[position.id] = { ok: 0, total: 0, stopped: 0, mustStop: 0, leftAlone: 0, mustLeave: 0 };
  let failedCells = 0;
  for (const result of results) {
    byKind[result.label?.kind ?? 'unlabelled']++;
    for (const cell of result.cells) {
      const totals = byPosition[cell.position.id]!;
      totals.total++;
      if (cell.ok) totals.ok++;
      else failedCells++;
      if (result.label && mustBeStopped(result.label.kind)) {
        totals.mustStop++;
        if (cell.ok) totals.stopped++;
      } else if (result.label) {
        totals.mustLeave++;
        if (cell.ok) totals.leftAlone++;
      }
    }
  }
  return { cases: results.length, byKind, byPosition, failedCells };
}

/** Calls listed one by one under a failing cell (the rest are summed up). */
const DETAILED_CALLS = 10;

/** The table: case × position, then the totals, then what went wrong, call by call. */
export function formatCorpusTable(result: CorpusResult): string[] {
  const header = ['case', 'label', ...result.positions.map((position) => position.label)];
  const rows = result.cases.map((item) => [item.key, labelText(item.label), ...item.cells.map((cell) => cell.text)]);
  const widths = header.map((_, column) => Math.max(header[column]!.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]) => row.map((cell, column) => (column < row.length - 1 ? cell.padEnd(widths[column]!) : cell)).join('  ').trimEnd();
  const lines = [
    `Corpus: ${result.cases.length} cases × ${result.positions.length} clock positions (${result.positions.map((position) => `${position.label} = ${position.date} ${position.time}`).join(', ')}, in each case's time zone)`,
    `Policies: ${result.policiesDir} (${result.policies.length} enabled: ${result.policies.join(', ')})`,
    '',
    line(header),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map(line),
    '',
    ...totalsLines(result),
  ];
  const failures = result.cases.flatMap((item) => item.cells.filter((cell) => !cell.ok).map((cell) => ({ item, cell })));
  if (failures.length > 0) {
    lines.push('', 'What went wrong:');
    for (const { item, cell } of failures) {
      lines.push(`  ${item.key} @ ${cell.position.label} (${labelText(item.label)}): ${cell.text}${cell.error ? ` — ${cell.error}` : ''}`);
      cell.calls.slice(0, DETAILED_CALLS).forEach((call, index) => {
        const by = call.hungUp ? `hung up by ${call.hungUpBy.join(', ')}` : 'went through';
        lines.push(`      call ${index + 1}  ${call.endpoint ?? '?'} → ${call.dialled ?? '?'}${call.destination ? ` (${call.destination})` : ''}  at ${new Date(call.startedAt).toISOString().replace('T', ' ').slice(0, 19)}Z: ${by}`);
      });
      const rest = cell.calls.slice(DETAILED_CALLS);
      if (rest.length > 0) {
        const through = rest.flatMap((call, index) => (call.hungUp ? [] : [DETAILED_CALLS + index + 1]));
        lines.push(`      … ${rest.length} more calls: ${rest.length - through.length} hung up${through.length > 0 ? `, calls ${through.join(', ')} went through` : ''}`);
      }
      for (const lock of cell.locks) lines.push(`      lock ${lock.endpoint} by ${lock.policy}`);
      for (const entry of cell.firewalls) lines.push(`      firewall ${entry.ip} by ${entry.policy}`);
    }
  }
  lines.push('', `${result.ok ? 'OK' : 'FAILED'}: ${result.totals.failedCells} failing cell${result.totals.failedCells === 1 ? '' : 's'} (${(result.elapsedMs / 1000).toFixed(1)} s)`);
  return lines;
}

function labelText(label: CorpusLabel | undefined): string {
  if (!label) return 'NO LABEL';
  return label.stopWithin !== undefined ? `${label.kind} ≤${label.stopWithin}` : label.kind;
}

function totalsLines(result: CorpusResult): string[] {
  const { byKind, byPosition } = result.totals;
  const kinds = `${result.totals.cases} cases: ${byKind.fraud} fraud, ${byKind.restricted} restricted, ${byKind.legitimate} legitimate, ${byKind.emergency} emergency${byKind.unlabelled ? `, ${byKind.unlabelled} WITHOUT LABEL` : ''}`;
  return [
    kinds,
    ...result.positions.map((position) => {
      const totals = byPosition[position.id]!;
      return `${position.label}: fraud/restricted stopped ${totals.stopped}/${totals.mustStop}, legitimate/emergency left alone ${totals.leftAlone}/${totals.mustLeave}`;
    }),
  ];
}

/** The same table in Markdown (for the README); failing cells in bold. */
export function formatCorpusMarkdown(result: CorpusResult): string[] {
  const escape = (text: string) => text.replace(/\|/g, '\\|');
  return [
    `| case | label | ${result.positions.map((position) => position.label).join(' | ')} |`,
    `|---|---|${result.positions.map(() => '---').join('|')}|`,
    ...result.cases.map((item) => `| ${escape(item.key)} | ${escape(labelText(item.label))} | ${item.cells.map((cell) => (cell.ok ? escape(cell.text) : `**${escape(cell.text)}**`)).join(' | ')} |`),
    '',
    ...totalsLines(result).map((line) => `${line}  `),
  ];
}

/** JSON form: every case and cell with its calls (times in ISO 8601). */
export function corpusJson(result: CorpusResult): unknown {
  return {
    ok: result.ok,
    policiesDir: result.policiesDir,
    policies: result.policies,
    positions: result.positions,
    totals: result.totals,
    elapsedMs: result.elapsedMs,
    cases: result.cases.map((item) => ({
      key: item.key,
      file: item.file,
      label: item.label ?? null,
      ok: item.ok,
      cells: item.cells.map((cell) => ({
        position: cell.position.id,
        anchorAt: new Date(cell.anchorAt).toISOString(),
        verdict: cell.verdict,
        text: cell.text,
        ok: cell.ok,
        ...(cell.error ? { error: cell.error } : {}),
        calls: cell.calls.map((call) => ({ ...call, startedAt: new Date(call.startedAt).toISOString() })),
        locks: cell.locks,
        firewalls: cell.firewalls,
        alerts: cell.alerts,
      })),
    })),
  };
}
