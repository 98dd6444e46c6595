/**
 * Hanging up an offending call: every live channel of the call (its Linkedid), with a Q.850 cause
 * (21, call rejected, by default), through AMI `Hangup` — written to the socket at once, in the
 * event-loop turn of the event that condemned the call — or through ARI `DELETE /ari/channels`.
 * Each hang-up is confirmed by Asterisk's Hangup event; what is not confirmed in time is tried
 * once more, and a hang-up that still fails is reported loudly (it is money running).
 */
import type { AmiActionResult } from '../ami/client.js';
import { AmiResponseError } from '../ami/errors.js';
import type { CallChange, CallTable, Leg } from '../calls/table.js';
import type { Decision } from '../decide/decider.js';
import { silentLogger, type Logger } from '../log.js';
import type { ActionOutcome } from './outcome.js';

/** What the hang-up needs from an AMI connection (AmiClient satisfies it). */
export interface HangupAmi {
  action(action: string, fields: Record<string, string | number>, options?: { timeoutMs?: number }): Promise<AmiActionResult>;
  readonly connected: boolean;
}

/** What the hang-up needs from ARI (AriClient satisfies it). */
export interface HangupAri {
  hangup(channelId: string, options: { reasonCode?: number }): Promise<{ outcome: 'hung-up' | 'not-found' }>;
}

/** Tells the hang-up when channels end (the call tracker's table changes). */
export interface LegEndings {
  on(event: 'event', listener: (event: unknown, changes: CallChange[]) => void): unknown;
  off(event: 'event', listener: (event: unknown, changes: CallChange[]) => void): unknown;
}

export interface HangupOptions {
  ami: HangupAmi;
  ari?: HangupAri;
  /** `ari` only when an ARI client is given. @default 'ami' */
  via?: 'ami' | 'ari';
  table: CallTable;
  endings: LegEndings;
  /** Q.850 cause. @default 21 */
  cause?: number;
  /** @default 3000 */
  confirmTimeoutMs?: number;
  logger?: Logger;
}

export class Hangups {
  /** Outcomes so far (the status endpoint's counters): confirmed by Asterisk, failed, or nothing left to hang up. */
  readonly stats = { confirmed: 0, failed: 0, skipped: 0 };
  private readonly cause: number;
  private readonly confirmTimeoutMs: number;
  private readonly via: 'ami' | 'ari';
  private readonly log: Logger;

  constructor(private readonly options: HangupOptions) {
    this.cause = options.cause ?? 21;
    this.confirmTimeoutMs = options.confirmTimeoutMs ?? 3000;
    this.via = options.via === 'ari' && options.ari ? 'ari' : 'ami';
    this.log = (options.logger ?? silentLogger).child({ part: 'hangup' });
  }

  /**
   * Hangs up every live channel of the decision's call. The AMI actions are written before this
   * returns (same event-loop turn); the promise settles once Asterisk confirmed — or did not.
   */
  hangUp(decision: Decision): Promise<ActionOutcome> {
    const started = Date.now();
    const linkedid = decision.target.linkedid;
    const call = linkedid !== undefined ? this.options.table.getCall(linkedid) : undefined;
    const legs = call?.liveLegs ?? [];
    if (legs.length === 0) {
      this.stats.skipped++;
      return Promise.resolve({ decision, result: 'skipped', detail: `the call${linkedid ? ` ${linkedid}` : ''} had already ended: nothing to hang up` });
    }
    const waiting = new Map(legs.map((leg) => [leg.uniqueid, leg]));
    const confirmed = this.confirmation(waiting);
    // Errors are collected as they come: the confirmation clock runs from the send, not from the answers
    // (an action Asterisk never answers must not hold the retry back).
    const errors: string[] = [];
    this.send(legs, errors);
    return (async () => {
      let done = await confirmed.until(this.confirmTimeoutMs);
      let retried = false;
      if (!done && waiting.size > 0) {
        retried = true;
        const remaining = [...waiting.values()];
        this.log.warn({ linkedid, channels: remaining.map((leg) => leg.channel), errors }, 'hang-up not confirmed in time; trying once more');
        this.send(remaining, errors);
        done = await confirmed.until(this.confirmTimeoutMs);
      }
      confirmed.stop();
      const names = legs.map((leg) => leg.channel).join(' and ');
      const tookMs = Date.now() - started;
      if (done || waiting.size === 0) {
        this.stats.confirmed++;
        return {
          decision,
          result: 'done',
          detail: `Hung up ${names} (cause ${this.cause}, via ${this.via.toUpperCase()}), confirmed by Asterisk after ${tookMs} ms${retried ? ' on the second attempt' : ''}`,
        };
      }
      const left = [...waiting.values()].map((leg) => leg.channel).join(', ');
      this.stats.failed++;
      this.log.error({ linkedid, channels: left, errors }, `HANG-UP FAILED: ${left} still up after two attempts — the call may still be costing money`);
      return {
        decision,
        result: 'failed',
        detail: `Hang-up FAILED: ${left} still up after two attempts in ${tookMs} ms${errors.length > 0 ? ` (${[...new Set(errors)].join('; ')})` : ''}. Hang it up by hand: asterisk -rx "channel request hangup ${[...waiting.values()][0]!.channel}"`,
      };
    })();
  }

  /** Sends the hang-up of each leg now; errors land in `errors` as they come (legs already gone are not errors). */
  private send(legs: Leg[], errors: string[]): void {
    for (const leg of legs) void this.sendOne(leg).then((error) => error !== undefined && errors.push(error));
  }

  private sendOne(leg: Leg): Promise<string | undefined> {
    if (this.via === 'ari') {
      return this.options
        .ari!.hangup(leg.uniqueid, { reasonCode: this.cause })
        .then(() => undefined)
        .catch((error: unknown) => `ARI: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!this.options.ami.connected) return Promise.resolve('AMI not connected');
    // Written to the socket now: a hang-up never waits for anything else.
    return this.options.ami.action('Hangup', { Channel: leg.channel, Cause: this.cause }).then(
      () => undefined,
      (error: unknown) => {
        // "No such channel": it is gone already — that is what we wanted.
        if (error instanceof AmiResponseError && /no such channel/i.test(error.response.get('Message') ?? '')) return undefined;
        return `AMI: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  }

  /** Watches the call table until every waiting leg has ended. */
  private confirmation(waiting: Map<string, Leg>): { until(timeoutMs: number): Promise<boolean>; stop(): void } {
    let wake: (() => void) | undefined;
    const listener = (_event: unknown, changes: CallChange[]): void => {
      for (const change of changes) if (change.kind === 'leg.ended') waiting.delete(change.leg.uniqueid);
      // A leg can also vanish without our seeing its Hangup (a reconciliation closed it).
      for (const [uniqueid, leg] of waiting) if (leg.endedAt !== undefined) waiting.delete(uniqueid);
      if (waiting.size === 0) wake?.();
    };
    this.options.endings.on('event', listener);
    return {
      until: (timeoutMs) =>
        new Promise<boolean>((resolve) => {
          for (const [uniqueid, leg] of waiting) if (leg.endedAt !== undefined) waiting.delete(uniqueid);
          if (waiting.size === 0) return resolve(true);
          const timer = setTimeout(() => {
            wake = undefined;
            resolve(false);
          }, timeoutMs);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve(true);
          };
        }),
      stop: () => this.options.endings.off('event', listener),
    };
  }
}
