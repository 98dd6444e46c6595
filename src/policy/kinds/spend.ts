/**
 * spend — money budgets per window and per scope, stopped BEFORE the cap is crossed.
 *
 *   kind: spend
 *   budget: 50.00                 # in the rate table's currency (rates.currency)
 *   period: day                   # calendar: day | week | month, in `timezone` (else the agent's)
 *   # window: 1h                  # …or a rolling window instead of a period
 *   timezone: Europe/London       # optional, calendar periods only
 *   per: global                   # global | endpoint | trunk | country: one budget per key
 *   projectSeconds: 60            # count the live calls' next 60 s as already spent
 *   thresholds:
 *     - { percent: 50, actions: [alert] }
 *     - { percent: 100, actions: [alert, hangup] }
 *   match: { direction: [outbound, transit] }   # which calls count (common match/exceptions)
 *
 * What counts, per budget key, at any instant:
 *   spent      committed cost of the outbound dials that ENDED in the window (priced by the engine
 *              with the carrier's increments and connection fees);
 *   accrued    what the live calls have cost so far (answered time, increments: a 60/60 call costs a
 *              full minute from its first second);
 *   projected  Σ price per minute of the live calls × projectSeconds / 60. Keep projectSeconds at
 *              least the carrier's first increment: a call's first block (and its connection fee,
 *              which is never projected) is charged the moment it is answered.
 * A threshold is reached when spent + accrued + projected ≥ percent × budget, so a 100 % threshold
 * with hangup stops the calls about `projectSeconds` before the money is actually gone.
 *
 * Window boundaries: a call is attributed to the window in which it ends. While it runs, its
 * accrued cost counts in the current window; a call from 23:50 to 00:10 leaves the old day's total
 * at midnight and is spent, all of it, on the new day. Calendar days run from local midnight to
 * local midnight (23 or 25 hours on DST days); a rolling window forgets spend in minute buckets
 * (see spend-windows.ts).
 *
 * Thresholds fire once per budget key per window instance, lowest first (several in one evaluation
 * when a big cost jumps over them). A reached threshold stays reached until the calendar period ends
 * — a new day re-arms it — or, for a rolling window, for one window length (by then the spend that
 * reached it has left the window). While a threshold with `hangup` stays reached, every live call of
 * that budget gets a finding once: those running when it was reached (all of them: stopping one and
 * leaving the others would still blow the budget) and every new call that starts afterwards,
 * refused at its start, before the trunk is even dialled (with `per: trunk`, when it dials out: its
 * trunk is not known before). A threshold without `hangup` gives one finding for the budget, naming
 * the endpoint when `per: endpoint` (so `lock` locks that phone). Findings carry the threshold as `level` (`50%`), its actions, and the amounts as evidence.
 *
 * Only outbound and transit calls count or are ever refused (inbound and internal calls cost the PBX
 * nothing). Spend history after a restart or a reload comes through `restoreCost` and is judged from
 * the ledger entry alone (a policy's `contexts` condition cannot be checked there: the ledger does not
 * keep the dialplan context); thresholds that the history alone already reaches are marked reached
 * without a new finding (they were reported when they happened), so their refusals carry on.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Call } from '../../calls/table.js';
import { formatMicros, mulDivCeil } from '../../rates/money.js';
import { actionList, baseFinding, callFinding, compilePolicyScope, defineKind, describeCall, type KindPolicy, NO_FINDINGS } from '../kind.js';
import { actionsField, durationField, moneyField, timezoneField } from '../schema.js';
import { checkpointed, ExpiringMap } from '../state.js';
import { GROUPINGS, groupOf, groupScope } from '../group.js';
import { SEVERITIES, type CallFacts, type CostEntry, type EvalContext, type Finding, type PolicyAction, type Severity } from '../types.js';
import { CALENDAR_PERIODS, CalendarWindow, RollingWindow, SpendLedger, describeDuration, projectedMicros, type SpendWindow, type WindowSpan } from './spend-windows.js';


const thresholdSchema = z.object({
  /** Share of the budget, e.g. 50, 80, 100 (up to two decimals; above 100 allowed for a last resort). */
  percent: z.number().positive('a percentage of the budget above 0, e.g. 50 or 100').max(1000, 'at most 1000 (ten times the budget)'),
  actions: actionsField,
  /** Severity of this threshold's findings; default: the policy's. */
  severity: z.enum(SEVERITIES).optional(),
});

const spendFields = {
  /** The budget per key and window, in the rate table's currency. */
  budget: moneyField,
  /** Rolling window (`1h`, `30m`, `1d`). */
  window: durationField.optional(),
  /** Calendar period, from local midnight. */
  period: z.enum(CALENDAR_PERIODS).optional(),
  /** IANA zone of the calendar period; default: the agent's `timezone`. */
  timezone: timezoneField.optional(),
  per: z.enum(GROUPINGS).default('global'),
  /** Seconds of further talk of the live calls counted as already spent (0: none). */
  projectSeconds: z.number().int('whole seconds, e.g. 60').min(0).max(3600, 'at most 3600 (an hour of talk)').default(60),
  thresholds: z.array(thresholdSchema).min(1, 'at least one threshold, e.g. { percent: 100, actions: [alert, hangup] }'),
};

export type SpendPolicy = KindPolicy<typeof spendFields>;

const MIN_WINDOW_SECONDS = 60;
const MAX_WINDOW_SECONDS = 31 * 86_400;
const MAX_BUDGET_KEYS = 10_000;
const MAX_CALLS_TARGETED = 100_000;
/** History entries waiting for the next evaluation (restoreCost has no context to classify them); the oldest go first. */
const MAX_PENDING_HISTORY = 200_000;

interface Threshold {
  percent: number;
  level: string;
  /** percent × budget, rounded up to the micro-unit. */
  amount: number;
  actions: PolicyAction[];
  severity: Severity | undefined;
  targetsCalls: boolean;
}

interface Hold {
  at: number;
  until: number;
}

interface LiveContribution {
  call: Call;
  facts: CallFacts;
  micros: number;
  pricePerMinuteMicros: number;
  microsPerSecond: number;
  stepMicros: number;
}

/**
 * What the last full pass found for a budget, and what happened since: enough to bound the total
 * from above without looking at every live call again (see `mayCross`).
 */
interface PassSnapshot {
  at: number;
  total: number;
  microsPerSecond: number;
  stepMicros: number;
  /** Upper bound of what calls and costs seen since the pass can add. */
  slack: number;
}

interface BudgetStatus {
  key: string;
  span: WindowSpan;
  spent: number;
  accrued: number;
  projected: number;
  total: number;
  calls: LiveContribution[];
  microsPerSecond: number;
  stepMicros: number;
}

/** What the match predicates read: a call's facts, or the same built from a ledger entry alone. */
type MatchFacts = Omit<CallFacts, 'call'> & { call?: Call };

export const spendKind = defineKind({
  kind: 'spend',
  summary: 'money budgets per window (rolling or calendar) and per scope, stopped before the cap with a projection of the live calls',
  fields: spendFields,
  validate(policy, report) {
    if (policy.window === undefined && policy.period === undefined) report(['period'], 'say which window: period: day | week | month (calendar) or window: 1h (rolling)');
    if (policy.window !== undefined && policy.period !== undefined) report(['window'], 'a budget has one window: keep either period (calendar) or window (rolling)');
    if (policy.window !== undefined && (policy.window < MIN_WINDOW_SECONDS || policy.window > MAX_WINDOW_SECONDS)) {
      report(['window'], 'a rolling window is between 1m and 31d (use period: day | week | month for calendar budgets)');
    }
    if (policy.timezone !== undefined && policy.period === undefined) report(['timezone'], 'timezone applies to calendar periods only (period: day | week | month)');
    if (policy.budget <= 0) report(['budget'], 'the budget must be above 0');
    const seen = new Set<number>();
    policy.thresholds.forEach((threshold, index) => {
      if (Math.abs(threshold.percent * 100 - Math.round(threshold.percent * 100)) > 1e-9) report(['thresholds', index, 'percent'], 'at most two decimals, e.g. 87.5');
      if (seen.has(threshold.percent)) report(['thresholds', index, 'percent'], `${threshold.percent}% appears twice`);
      seen.add(threshold.percent);
    });
    if (policy.actions.length !== 1 || policy.actions[0] !== 'alert') {
      report(['actions'], 'a spend policy takes its actions from each threshold: move them to thresholds[].actions');
    }
  },
  describeActions: (policy) => policy.thresholds.map((threshold) => `${threshold.percent}%: ${actionList(threshold.actions)}`).join('; '),
  create(policy, environment) {
    return new SpendBudgets(policy, environment.timezone, environment.currency);
  },
});

const NOTHING_TOUCHED: ReadonlyMap<string, number> = new Map();

class SpendBudgets {
  readonly id: string;
  private readonly scope: ReturnType<typeof compilePolicyScope>;
  private readonly window: SpendWindow;
  private readonly ledger: SpendLedger;
  private readonly thresholds: Threshold[];
  private readonly projectSeconds: number;
  /** `key|percent` → when that threshold was reached and until when it stays reached. */
  private readonly reached: ExpiringMap<string, Hold>;
  /** `key|percent|until` → the calls that already have their finding for that hold. */
  private readonly targeted: ExpiringMap<string, Set<string>>;
  private readonly passes: ExpiringMap<string, PassSnapshot>;
  private pending: CostEntry[] = [];
  private newestHistory = Number.NEGATIVE_INFINITY;
  /** Zone of the calendar period, else the agent's: how times are shown in evidence. */
  private readonly displayZone: string;

  constructor(
    private readonly policy: SpendPolicy,
    timezone: string,
    private readonly currency: string,
  ) {
    this.id = policy.id;
    this.displayZone = policy.timezone ?? timezone;
    this.scope = compilePolicyScope(policy);
    this.window = policy.period !== undefined ? new CalendarWindow(policy.period, policy.timezone ?? timezone) : new RollingWindow(policy.window! * 1000);
    this.ledger = new SpendLedger(this.window, MAX_BUDGET_KEYS);
    this.projectSeconds = policy.projectSeconds;
    this.thresholds = policy.thresholds
      .map((threshold) => ({
        percent: threshold.percent,
        level: `${threshold.percent}%`,
        amount: mulDivCeil(policy.budget, Math.round(threshold.percent * 100), 10_000),
        actions: threshold.actions,
        severity: threshold.severity,
        targetsCalls: threshold.actions.includes('hangup'),
      }))
      .sort((a, b) => a.percent - b.percent);
    this.reached = new ExpiringMap(this.window.retentionMs, MAX_BUDGET_KEYS * this.thresholds.length);
    this.targeted = new ExpiringMap(this.window.retentionMs, MAX_BUDGET_KEYS * this.thresholds.length);
    this.passes = new ExpiringMap(this.window.retentionMs, MAX_BUDGET_KEYS);
  }

  /** Thresholds reached and calls targeted survive a restart; the ledger is rebuilt from the store (restoreCost). */
  snapshot(now: number): unknown {
    return checkpointed({ reached: this.reached, targeted: this.targeted }).snapshot(now);
  }

  restore(snapshot: unknown, now: number): void {
    checkpointed({ reached: this.reached, targeted: this.targeted }).restore(snapshot, now);
  }

  /** History is only queued here: judging it needs the classifier, which comes with the next evaluation. */
  restoreCost(entry: CostEntry): void {
    this.newestHistory = Math.max(this.newestHistory, entry.endedAt);
    // Older than a window before the newest history: it can never count again (now is later still).
    if (entry.endedAt < this.newestHistory - this.window.retentionMs) return;
    this.pending.push(entry);
    if (this.pending.length >= 2 * MAX_PENDING_HISTORY) this.pending = this.pending.slice(-MAX_PENDING_HISTORY);
  }

  evaluate(context: EvalContext): readonly Finding[] {
    const now = context.now;
    const restored = this.drainHistory(context);
    // An event that moved no money and no call (a scan's security event) cannot cross a threshold.
    if (context.input.type === 'event' && restored === 0 && context.committed.length === 0 && context.changes.length === 0) return NO_FINDINGS;
    // Most events commit nothing: no map for them.
    let touched: ReadonlyMap<string, number> = NOTHING_TOUCHED;
    if (context.committed.length > 0) {
      const costs = new Map<string, number>();
      for (const entry of context.committed) {
        const key = this.record(entry, context);
        if (key !== undefined) costs.set(key, (costs.get(key) ?? 0) + entry.micros);
      }
      touched = costs;
    }
    // A full pass (every live call) on ticks, reconciliations and restored history; on committed
    // costs, answers (a new call starts accruing and its projection jumps) and call starts (so a call
    // starting just as time-accrued spend crosses a threshold is caught) only when a threshold may
    // be crossed — on a busy PBX far below its budget, most events then cost almost nothing.
    if (context.input.type === 'event' && restored === 0 && !this.mayCross(context, touched)) return NO_FINDINGS;
    const live = this.liveByKey(context);
    const findings: Finding[] = [];
    for (const key of new Set([...live.keys(), ...touched.keys()])) {
      const status = this.status(key, live.get(key) ?? [], now);
      this.passes.set(key, { at: now, total: status.total, microsPerSecond: status.microsPerSecond, stepMicros: status.stepMicros, slack: 0 }, now);
      findings.push(...this.crossings(status, context), ...this.refusals(status, context));
    }
    return findings;
  }

  /**
   * Whether this event could take a budget to a threshold not yet reached (or needs a refusal).
   * Upper bound of a budget's total since its last full pass: that total, plus every second of talk
   * since at the live calls' prices, plus one billing increment and connection fee per live call,
   * plus everything committed since, plus the whole cost, projection and increments of every call
   * that started, dialled out or was answered since. Below the next threshold, nothing can fire.
   */
  private mayCross(context: EvalContext, committed: ReadonlyMap<string, number>): boolean {
    // Usually one budget moves (a call starts): its slack is kept aside, a map only for several.
    let added = committed.size > 0 ? new Map(committed) : undefined;
    let only: string | undefined;
    let onlySlack = 0;
    for (const change of context.changes) {
      if (!isCheckpoint(change)) continue;
      const facts = context.facts(change.call);
      if (!this.counts(facts)) continue;
      const key = this.keyOfFacts(facts);
      if (key === undefined) continue;
      const cost = context.liveCost(change.call);
      const slack = cost.micros + cost.stepMicros + Math.ceil(cost.microsPerSecond * this.projectSeconds);
      if (added !== undefined) {
        added.set(key, (added.get(key) ?? 0) + slack);
      } else if (only === undefined || only === key) {
        only = key;
        onlySlack += slack;
      } else {
        added = new Map([[only, onlySlack]]);
        added.set(key, slack);
        only = undefined;
      }
    }
    if (added === undefined) return only !== undefined && this.slackMayCross(only, onlySlack, context.now);
    let cross = false;
    for (const [key, slack] of added) {
      if (!this.passes.has(key, context.now)) return true;
      if (this.slackMayCross(key, slack, context.now)) cross = true;
    }
    return cross;
  }

  /** Adds slack to a budget's last pass; whether its bound now reaches the next threshold (true when it had no pass). */
  private slackMayCross(key: string, slack: number, now: number): boolean {
    const pass = this.passes.get(key, now);
    if (!pass) return true;
    pass.slack += slack;
    const elapsedSeconds = Math.max(0, now - pass.at) / 1000;
    const bound = pass.total + pass.slack + Math.ceil(pass.microsPerSecond * (elapsedSeconds + 1)) + pass.stepMicros;
    return this.hangupHold(key, now) !== undefined || bound >= this.nextThresholdAmount(key, now);
  }

  /** The lowest threshold of a budget not yet reached in its window (Infinity when all are). */
  private nextThresholdAmount(key: string, now: number): number {
    for (const threshold of this.thresholds) if (this.holdOf(key, threshold, now) === undefined) return threshold.amount;
    return Number.POSITIVE_INFINITY;
  }

  /** The highest hang-up threshold currently held for a budget. */
  private hangupHold(key: string, now: number): { threshold: Threshold; hold: Hold } | undefined {
    let holding: { threshold: Threshold; hold: Hold } | undefined;
    for (const threshold of this.thresholds) {
      if (!threshold.targetsCalls) continue;
      const hold = this.holdOf(key, threshold, now);
      if (hold !== undefined) holding = { threshold, hold };
    }
    return holding;
  }

  /** Marks a call as having its finding for a hold; false when it already had one. */
  private target(call: Call, key: string, threshold: Threshold, until: number, now: number): boolean {
    const holdKey = `${key}|${threshold.percent}|${until}`;
    let calls = this.targeted.get(holdKey, now);
    if (!calls) {
      calls = new Set();
      this.targeted.set(holdKey, calls, now, Math.max(1, until - now));
    }
    if (calls.has(call.linkedid)) return false;
    calls.add(call.linkedid);
    // Bounded: the oldest targets go first (their calls are long over).
    if (calls.size > MAX_CALLS_TARGETED) calls.delete(calls.values().next().value!);
    return true;
  }

  /** Counts the history delivered since the last evaluation; returns how many budgets it added to. */
  private drainHistory(context: EvalContext): number {
    if (this.pending.length === 0) return 0;
    const entries = this.pending;
    this.pending = [];
    const keys = new Set<string>();
    for (const entry of entries) {
      const key = this.record(entry, context);
      if (key !== undefined) keys.add(key);
    }
    // Thresholds the history alone reaches were reported before the restart: reached, quietly.
    for (const key of keys) {
      const spent = this.ledger.spent(key, context.now);
      for (const threshold of this.thresholds) {
        if (spent >= threshold.amount && this.holdOf(key, threshold, context.now) === undefined) this.hold(key, threshold, context.now);
      }
    }
    return keys.size;
  }

  /** Puts a committed cost in its budget; returns the key when it counted (in scope, not seen before). */
  private record(entry: CostEntry, context: EvalContext): string | undefined {
    const facts = this.entryFacts(entry, context);
    if (!this.counts(facts)) return undefined;
    const key = this.keyOfEntry(entry);
    return this.ledger.add(key, `${entry.linkedid}|${entry.destUniqueid}`, entry.endedAt, entry.micros, context.now) ? key : undefined;
  }

  /** The facts of the entry's call (when still known) with the dial's own destination, else what the entry says. */
  private entryFacts(entry: CostEntry, context: EvalContext): MatchFacts {
    const number = entry.dialled ?? entry.e164;
    const classification = number !== undefined ? context.classify(number) : undefined;
    const call = context.table.getCall(entry.linkedid);
    const base: MatchFacts = call
      ? { ...context.facts(call) }
      : {
          direction: entry.direction ?? (context.table.trunks.isTrunk(entry.endpoint) ? 'transit' : 'outbound'),
          endpoint: entry.endpoint,
          context: entry.context ?? '',
          rateAssumed: false,
          emergency: false,
        };
    if (entry.trunk !== undefined) base.trunk = entry.trunk;
    if (entry.accountCode !== undefined) base.accountCode = entry.accountCode;
    if (entry.dialled !== undefined) base.dialled = entry.dialled;
    if (classification) base.classification = classification;
    return base;
  }

  private counts(facts: MatchFacts): boolean {
    // The match predicates read the facts' fields only, never the Call (absent for history).
    return (facts.direction === 'outbound' || facts.direction === 'transit') && this.scope.applies(facts as CallFacts);
  }

  private liveByKey(context: EvalContext): Map<string, LiveContribution[]> {
    const byKey = new Map<string, LiveContribution[]>();
    for (const call of context.table.liveCalls()) {
      const facts = context.facts(call);
      if (!this.counts(facts)) continue;
      const key = this.keyOfFacts(facts);
      if (key === undefined) continue;
      const cost = context.liveCost(call);
      const list = byKey.get(key) ?? [];
      // liveCost gives Σ (price per minute / 60) per second; back to integer micro-units per minute.
      list.push({ call, facts, micros: cost.micros, pricePerMinuteMicros: Math.round(cost.microsPerSecond * 60), microsPerSecond: cost.microsPerSecond, stepMicros: cost.stepMicros });
      byKey.set(key, list);
    }
    return byKey;
  }

  /** A phone's call still in the dialplan has no trunk yet: it joins a per-trunk budget when it dials out. */
  private keyOfFacts(facts: CallFacts): string | undefined {
    const group = groupOf(this.policy.per, facts) ?? (this.policy.per === 'country' ? 'unknown' : undefined);
    return group === undefined ? undefined : groupScope(this.policy.per, group);
  }

  private keyOfEntry(entry: CostEntry): string {
    const per = this.policy.per;
    const group = per === 'endpoint' ? entry.endpoint : per === 'trunk' ? (entry.trunk ?? 'unknown') : per === 'country' ? countryKey(entry.country, entry.callingCode) : 'all';
    return groupScope(per, group);
  }

  private status(key: string, calls: LiveContribution[], now: number): BudgetStatus {
    const spent = this.ledger.spent(key, now);
    let accrued = 0;
    let pricePerMinute = 0;
    let microsPerSecond = 0;
    let stepMicros = 0;
    for (const call of calls) {
      accrued += call.micros;
      pricePerMinute += call.pricePerMinuteMicros;
      microsPerSecond += call.microsPerSecond;
      stepMicros += call.stepMicros;
    }
    const projected = projectedMicros(pricePerMinute, this.projectSeconds);
    return { key, span: this.window.spanAt(now), spent, accrued, projected, total: spent + accrued + projected, calls, microsPerSecond, stepMicros };
  }

  /** Thresholds reached now for the first time in this window instance, lowest first. */
  private crossings(status: BudgetStatus, context: EvalContext): Finding[] {
    const findings: Finding[] = [];
    for (const threshold of this.thresholds) {
      if (status.total < threshold.amount) break;
      if (this.holdOf(status.key, threshold, context.now) !== undefined) continue;
      const { until } = this.hold(status.key, threshold, context.now);
      const summary = this.summary(status, threshold);
      if (threshold.targetsCalls && status.calls.length > 0) {
        for (const contribution of status.calls) {
          this.target(contribution.call, status.key, threshold, until, context.now);
          findings.push(this.callFindingFor(context, contribution.facts, status, threshold, `${summary}: hanging up ${describeCall(contribution.facts)}`));
        }
      } else {
        findings.push(this.budgetFinding(context, status, threshold, summary));
      }
    }
    return findings;
  }

  /** While a hangup threshold stays reached, every call of the budget not yet targeted is refused. */
  private refusals(status: BudgetStatus, context: EvalContext): Finding[] {
    if (status.calls.length === 0) return [];
    const holding = this.hangupHold(status.key, context.now);
    if (!holding) return [];
    const { threshold, hold } = holding;
    const zone = this.displayZone;
    const findings: Finding[] = [];
    for (const contribution of status.calls) {
      if (!this.target(contribution.call, status.key, threshold, hold.until, context.now)) continue;
      const message = `${this.budgetName(status)} reached ${threshold.level} at ${isoIn(hold.at, zone)} and stays closed until ${isoIn(hold.until, zone)} (now ${this.amounts(status)}): new call ${describeCall(contribution.facts)} refused`;
      findings.push(this.callFindingFor(context, contribution.facts, status, threshold, message));
    }
    return findings;
  }

  private holdOf(key: string, threshold: Threshold, now: number): Hold | undefined {
    return this.reached.get(`${key}|${threshold.percent}`, now);
  }

  private hold(key: string, threshold: Threshold, now: number): Hold {
    const hold = { at: now, until: this.window.holdUntil(now) };
    this.reached.set(`${key}|${threshold.percent}`, hold, now, Math.max(1, hold.until - now));
    return hold;
  }

  private callFindingFor(context: EvalContext, facts: CallFacts, status: BudgetStatus, threshold: Threshold, message: string): Finding {
    return callFinding(this.policy, context, facts, {
      level: threshold.level,
      message,
      actions: threshold.actions,
      ...(threshold.severity ? { severity: threshold.severity } : {}),
      scope: status.key,
      evidence: this.evidence(status, threshold),
    });
  }

  private budgetFinding(context: EvalContext, status: BudgetStatus, threshold: Threshold, message: string): Finding {
    const endpoint = status.key.startsWith('endpoint:') ? status.key.slice('endpoint:'.length) : undefined;
    return baseFinding(this.policy, context, {
      scope: status.key,
      level: threshold.level,
      message,
      actions: threshold.actions,
      ...(threshold.severity ? { severity: threshold.severity } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      evidence: this.evidence(status, threshold),
    });
  }

  private summary(status: BudgetStatus, threshold: Threshold): string {
    return `${this.budgetName(status)} reached ${threshold.level}: ${this.amounts(status)}`;
  }

  /** `Budget 50.00 USD for all calls, day 2026-11-21 (UTC),` */
  private budgetName(status: BudgetStatus): string {
    const scope = status.key === 'global' ? 'all calls' : status.key.replace(':', ' ');
    return `Budget ${formatMicros(this.policy.budget)} ${this.currency} for ${scope}, ${status.span.label},`;
  }

  /** `spent 11.15 + live 6.65 + next 1m 10.90 = 28.70 USD (57.4%)` */
  private amounts(status: BudgetStatus): string {
    const projection = this.projectSeconds > 0 ? ` + next ${describeDuration(this.projectSeconds * 1000)} ${formatMicros(status.projected)}` : '';
    return `spent ${formatMicros(status.spent)} + live ${formatMicros(status.accrued)}${projection} = ${formatMicros(status.total)} ${this.currency} (${percentOf(status.total, this.policy.budget)}%)`;
  }

  private evidence(status: BudgetStatus, threshold: Threshold): Finding['evidence'] {
    const zone = this.displayZone;
    return {
      budgetKey: status.key,
      threshold: threshold.level,
      spent: formatMicros(status.spent),
      accrued: formatMicros(status.accrued),
      projected: formatMicros(status.projected),
      total: formatMicros(status.total),
      budget: formatMicros(this.policy.budget),
      percent: percentOf(status.total, this.policy.budget),
      currency: this.currency,
      window: status.span.label,
      windowStart: isoIn(status.span.start, zone),
      windowEnd: isoIn(status.span.end, zone),
      projectSeconds: this.projectSeconds,
      liveCalls: status.calls.length,
    };
  }
}

/** Budget key for a destination: its country, else `+882`-style for non-geographic ranges. */
function countryKey(country: string | undefined, callingCode: string | undefined): string {
  return country ?? (callingCode ? `+${callingCode}` : 'unknown');
}

/** Share of the budget, rounded DOWN to a tenth (99.96 % is not shown as 100 %). */
function percentOf(total: number, budget: number): number {
  return Math.floor((total * 1000) / budget) / 10;
}

/** An instant in the budget's zone, as admins read it: `2026-11-22T00:00:00+01:00`. */
function isoIn(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISO({ suppressMilliseconds: true }) ?? new Date(ms).toISOString();
}

/** Changes after which a budget is worth a full look between ticks. */
function isCheckpoint(change: EvalContext['changes'][number]): boolean {
  return change.kind === 'call.started' || change.kind === 'dial.started' || change.kind === 'dial.answered';
}
