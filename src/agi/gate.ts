/**
 * The pre-dial gate: Asterisk asks, through FastAGI, before it dials the carrier; the answer is
 * the same engine's and the same decider's as on the live AMI path — a verdict is a decision like
 * any other (incident, mail, audit row), never a parallel rule set.
 *
 *   same => n,AGI(agi://127.0.0.1:4573/tollgate,linkedid=${CHANNEL(linkedid)})
 *   same => n,GotoIf($["${TOLLGATE_VERDICT}" = "deny"]?denied)
 *   same => n,Dial(PJSIP/${EXTEN}@carrier)
 *   same => n(denied),Hangup(21)
 *
 * How: when the live path already knows the call (AMI's Newchannel came first, as it usually
 * does), the call was judged then; otherwise the gate feeds the call to the live path itself from
 * the AGI environment (an AMI Newchannel made of agi_channel, agi_uniqueid, the call's linkedid,
 * the number dialled …), which judges it at once. The linkedid comes with the environment when the
 * dialplan passes it (`linkedid=…` among the AGI arguments); a bare `AGI(agi://…/tollgate)` works
 * too, and the gate then asks for `CHANNEL(linkedid)`: one round trip more. Either way the verdict is
 * whether a hang-up of the call was decided. The live path never judges it twice: policies judge a
 * call once, by its Linkedid.
 *
 * Fail-open: no verdict within `timeoutMs` (or any error) → the session is closed with no verdict
 * and the dialplan goes on; contexts listed in `failClosedContexts` get `deny` instead.
 */
import { AmiMessage, type AmiField } from '../ami/message.js';
import type { CallTable } from '../calls/table.js';
import type { Clock } from '../clock.js';
import type { Decider } from '../decide/decider.js';
import { silentLogger, type Logger } from '../log.js';
import { globMatcher } from '../policy/match.js';
import { AgiHangupError, type AgiSession } from './server.js';

export type GateVerdict = 'allow' | 'deny';

export interface GateOptions {
  table: CallTable;
  decider: Pick<Decider, 'hangupOf'>;
  /** Feeds an AMI event through the live path (the tracker), synchronously. */
  ingest: (message: AmiMessage, at: number) => void;
  clock: Clock;
  /** @default 200 */
  timeoutMs?: number;
  /** Contexts (wildcards) where no verdict in time means deny. */
  failClosedContexts?: readonly string[];
  logger?: Logger;
}

export interface GateStats {
  allow: number;
  deny: number;
  /** Denials a simulated policy (or the dry run) would have made: answered allow. */
  simulatedDeny: number;
  /** Sessions closed without a verdict in time (fail-open) or answered deny for it (fail-closed). */
  timeouts: number;
  errors: number;
  /** The channel hung up before the verdict was given. */
  hungUp: number;
}

/**
 * Latencies kept for percentiles (the last ones; a fixed-size ring, 32 KB). A p99 is then read
 * from its ~40 slowest: one young collection's stragglers no longer make it alone.
 */
const LATENCY_SAMPLES = 4096;
const REASON_LIMIT = 200;

export class PreDialGate {
  readonly stats: GateStats = { allow: 0, deny: 0, simulatedDeny: 0, timeouts: 0, errors: 0, hungUp: 0 };
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private latencyCount = 0;
  private readonly timeoutMs: number;
  private readonly failClosed: (context: string) => boolean;
  private readonly log: Logger;

  constructor(private readonly options: GateOptions) {
    this.timeoutMs = options.timeoutMs ?? 200;
    const contexts = options.failClosedContexts ?? [];
    this.failClosed = contexts.length > 0 ? globMatcher(contexts) : () => false;
    this.log = (options.logger ?? silentLogger).child({ part: 'gate' });
  }

  /** The AGI session handler. */
  readonly handle = async (session: AgiSession): Promise<void> => {
    const started = performance.now();
    const environment = session.environment;
    const context = environment.agi_context ?? '';
    try {
      // A call the live path already knows was judged then: its verdict is there at once, no deadline to set.
      const outcome = this.verdictOfKnownCall(environment) ?? (await withDeadline(this.judge(session), this.timeoutMs));
      if (outcome === 'timeout') {
        this.stats.timeouts++;
        this.log.warn({ channel: environment.agi_channel, context, timeoutMs: this.timeoutMs, failClosed: this.failClosed(context) }, 'no verdict in time');
        if (this.failClosed(context)) await this.answer(session, 'deny', `no verdict within ${this.timeoutMs} ms (fail-closed context ${context})`);
        return;
      }
      // Logged before it is written: the channel may be hung up (by the AMI path) meanwhile.
      const fields = { verdict: outcome.verdict, channel: environment.agi_channel, uniqueid: environment.agi_uniqueid, context, reason: outcome.reason };
      const message = outcome.verdict === 'deny' ? 'gate: deny' : 'gate: allow';
      if (outcome.verdict === 'deny' || outcome.simulated) this.log.info(fields, message);
      else this.log.debug(fields, message);
      if (outcome.verdict === 'deny') this.stats.deny++;
      else this.stats.allow++;
      if (outcome.simulated) this.stats.simulatedDeny++;
      await this.answer(session, outcome.verdict, outcome.reason);
    } catch (error) {
      if (error instanceof AgiHangupError) {
        this.stats.hungUp++;
        return;
      }
      this.stats.errors++;
      this.log.warn({ channel: environment.agi_channel, err: error instanceof Error ? error.message : String(error) }, 'gate failed; the dialplan goes on');
      if (this.failClosed(context) && !session.hungUp) {
        try {
          await this.answer(session, 'deny', 'the gate failed (fail-closed context)');
        } catch {
          // The session failed already: nothing more can be said on it.
        }
      }
    } finally {
      this.latencies[this.latencyCount++ % LATENCY_SAMPLES] = performance.now() - started;
    }
  };

  /** p50, p99 and max of the latest decisions, in milliseconds. */
  latency(): { p50: number; p99: number; max: number; samples: number } {
    const samples = Math.min(this.latencyCount, LATENCY_SAMPLES);
    if (samples === 0) return { p50: 0, p99: 0, max: 0, samples };
    const sorted = Array.from(this.latencies.subarray(0, samples)).sort((a, b) => a - b);
    const at = (quantile: number) => sorted[Math.min(samples - 1, Math.floor(quantile * samples))]!;
    return { p50: at(0.5), p99: at(0.99), max: sorted[samples - 1]!, samples };
  }

  /** The verdict on a call the live path already follows; undefined when it does not (yet). */
  private verdictOfKnownCall(environment: AgiSession['environment']): Verdict | undefined {
    const uniqueid = environment.agi_uniqueid ?? '';
    if (!uniqueid || !environment.agi_channel) throw new Error('the AGI environment has no agi_uniqueid or agi_channel');
    const call = this.options.table.callOfChannel(uniqueid);
    return call ? this.verdictOf(call.linkedid) : undefined;
  }

  /** Feeds a call the live path does not know yet (it judges it at once), then gives the verdict. */
  private async judge(session: AgiSession): Promise<Verdict> {
    const environment = session.environment;
    const uniqueid = environment.agi_uniqueid!;
    const { table } = this.options;
    const linkedid = linkedidArgument(environment) ?? ((await session.getVariable('CHANNEL(linkedid)')) || uniqueid);
    // AMI may have delivered the channel while we asked.
    let call = table.callOfChannel(uniqueid);
    if (!call) {
      this.options.ingest(newchannelFrom(environment, linkedid), this.options.clock.now());
      call = table.callOfChannel(uniqueid);
    }
    if (!call) throw new Error(`the call of ${environment.agi_channel} could not be followed`);
    return this.verdictOf(call.linkedid);
  }

  private verdictOf(linkedid: string): Verdict {
    const decided = this.options.decider.hangupOf(linkedid, this.options.clock.now());
    if (!decided) return NO_OBJECTION;
    const incident = decided.incident;
    const why = incident ? `${incident.policy}: ${incident.latest.linkedid === linkedid ? incident.latest.message : incident.first.message}` : 'a policy condemned this call';
    if (decided.mode === 'simulate') return { verdict: 'allow', reason: `SIMULATED, would deny — ${why}`, simulated: true };
    return { verdict: 'deny', reason: why, simulated: false };
  }

  /**
   * The verdict, then the reason (one command at a time: see AgiSession.setVariables), bounded in
   * time: after a timeout a reply may still be owed for an earlier command, and Asterisk may not
   * answer at all.
   */
  private answer(session: AgiSession, verdict: GateVerdict, reason: string): Promise<unknown> {
    // Most reasons need no quoting: no copy then (nor when they are short enough).
    const quoted = QUOTES.test(reason) ? reason.replace(QUOTES_ALL, "'") : reason;
    const text = quoted.length > REASON_LIMIT ? quoted.slice(0, REASON_LIMIT) : quoted;
    return withDeadline(
      session.setVariables([
        ['TOLLGATE_VERDICT', verdict],
        ['TOLLGATE_REASON', text],
      ]),
      this.timeoutMs,
    );
  }
}

interface Verdict {
  verdict: GateVerdict;
  reason: string;
  simulated: boolean;
}

/** The AGI arguments looked at for `linkedid=` (Asterisk numbers them from 1; the dialplan line has one or two). */
const ARGUMENT_NAMES = ['agi_arg_1', 'agi_arg_2', 'agi_arg_3', 'agi_arg_4'] as const;
const LINKEDID_ARGUMENT = 'linkedid=';
/** Asterisk's call ids: `1796205600.42`, or `<systemname>-1796205600.42`. */
const LINKEDID = /^[\w.:@-]{1,150}$/;

/**
 * The linkedid the dialplan passed (`AGI(agi://…/tollgate,linkedid=${CHANNEL(linkedid)})`), or
 * undefined: no such argument, or one that is not an id (e.g. the expression arrived unexpanded), so
 * the gate asks.
 */
export function linkedidArgument(environment: Readonly<Record<string, string>>): string | undefined {
  for (const name of ARGUMENT_NAMES) {
    const argument = environment[name];
    if (argument === undefined) return undefined;
    if (!argument.startsWith(LINKEDID_ARGUMENT)) continue;
    const linkedid = argument.slice(LINKEDID_ARGUMENT.length).trim();
    return LINKEDID.test(linkedid) ? linkedid : undefined;
  }
  return undefined;
}

/** The verdict of most calls, shared (never changed). */
const NO_OBJECTION: Readonly<Verdict> = { verdict: 'allow', reason: 'no policy objects', simulated: false };
const QUOTES = /["\\]/;
const QUOTES_ALL = /["\\]/g;

/** The work's result, or 'timeout' once `ms` have passed (a late rejection of the work is then ignored). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T | 'timeout'> {
  // One promise and one timer per call (no race array, no async frame): it runs twice per gated call.
  return new Promise<T | 'timeout'>((resolve, reject) => {
    const timer = setTimeout(resolve, ms, 'timeout');
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

// A message's fields are never changed: the constant ones are shared by every message made here.
const NEWCHANNEL: AmiField = ['Event', 'Newchannel'];
const RINGING: AmiField = ['ChannelState', '4'];
const RINGING_TEXT: AmiField = ['ChannelStateDesc', 'Ring'];

/**
 * The number the call is for: the extension the AGI runs in, or, when that is no number at all (the
 * `s` of a subroutine the route called: Gosub(…,s,1)), the number the caller dialled (agi_dnid).
 */
export function dialledExtension(environment: Readonly<Record<string, string>>): string {
  const extension = environment.agi_extension ?? '';
  if (HAS_DIGIT.test(extension)) return extension;
  const dialled = environment.agi_dnid;
  return dialled && dialled !== 'unknown' ? dialled : extension;
}

const HAS_DIGIT = /\d/;

/** The Newchannel Asterisk sent (or is about to send) for the channel, rebuilt from the AGI environment. */
export function newchannelFrom(environment: Readonly<Record<string, string>>, linkedid: string): AmiMessage {
  const known = (value: string | undefined) => (value && value !== 'unknown' ? value : '');
  return new AmiMessage([
    NEWCHANNEL,
    ['Channel', environment.agi_channel ?? ''],
    RINGING,
    RINGING_TEXT,
    ['CallerIDNum', known(environment.agi_callerid)],
    ['CallerIDName', known(environment.agi_calleridname)],
    ['AccountCode', environment.agi_accountcode ?? ''],
    ['Context', environment.agi_context ?? ''],
    ['Exten', dialledExtension(environment)],
    ['Priority', environment.agi_priority ?? '1'],
    ['Uniqueid', environment.agi_uniqueid ?? ''],
    ['Linkedid', linkedid],
  ]);
}
