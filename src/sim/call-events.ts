/**
 * Builds the AMI events of one outbound call through a trunk, in the shape and order of the real
 * Asterisk 22 captures (`intl-call-cuba.ami`): Newchannel, the dialplan's Newexten, the trunk
 * leg's Newchannel/NewCallerid/NewConnectedLine, DialBegin, DialState, Newstate Ringing, answer
 * (Newstate Up, DialEnd, BridgeCreate, BridgeEnter ×2), then HangupRequest, BridgeLeave,
 * SoftHangupRequest, BridgeLeave, BridgeDestroy, Cdr and the two Hangup events. VarSet and DeviceStateChange
 * noise is left out.
 */
import { AmiMessage, type AmiField } from '../ami/message.js';
import { CAUSE_NORMAL_CLEARING, hangupCauseFields } from './causes.js';
import { channelStateDescription } from './channels.js';
import type { AsteriskIds } from './ids.js';
import type { TranscriptEntry } from './transcript.js';

export type DialOutcome = 'ANSWER' | 'BUSY' | 'NOANSWER' | 'CONGESTION' | 'CANCEL';

export interface CallEventsOptions {
  /** Calling extension (endpoint name), e.g. `1001`. */
  from: string;
  /** Dialled number, e.g. `011535551234`. */
  to: string;
  /** Trunk endpoint. @default 'carrier' */
  trunk?: string;
  /** @default `Ext ${from}` */
  callerName?: string;
  /** @default 'from-internal' */
  context?: string;
  /** Context the trunk leg is created in. @default 'from-carrier' */
  trunkContext?: string;
  /** @default 'PJSIP' */
  tech?: string;
  /** How the dial ends. @default 'ANSWER' */
  outcome?: DialOutcome;
  /** Time of the first event, ms since the epoch. @default now */
  startAt?: number;
  /** From the dial to the answer (or to the failure). @default 300 */
  ringMs?: number;
  /** From the answer to the hangup. @default 20000 */
  talkMs?: number;
  /** Which side hangs up an answered call. @default 'caller' */
  hangupBy?: 'caller' | 'callee';
  /** Cause of the hangup of an answered call. @default 16 */
  hangupCause?: number;
  /** Include the `Cdr` event (class cdr). @default true */
  cdr?: boolean;
}

export interface CallLeg {
  channel: string;
  uniqueid: string;
}

export interface CallScript {
  caller: CallLeg;
  callee: CallLeg;
  /** = the caller's Uniqueid (every leg of the call carries it). */
  linkedid: string;
  /** BridgeUniqueid once answered ('' for unanswered calls). */
  bridgeId: string;
  /** Newchannel … DialState RINGING and the trunk leg's Newstate Ringing. */
  setup: TranscriptEntry[];
  /** Newstate Up … the second BridgeEnter; empty when the call is not answered. */
  answer: TranscriptEntry[];
  /** Everything from the end of the dial or the hangup request to the last Hangup. */
  hangup: TranscriptEntry[];
  /** All of the above, in order. */
  entries: TranscriptEntry[];
}

const OUTCOME_CAUSE: Record<Exclude<DialOutcome, 'ANSWER'>, number> = { BUSY: 17, NOANSWER: 19, CONGESTION: 34, CANCEL: CAUSE_NORMAL_CLEARING };
const CDR_DISPOSITION: Record<DialOutcome, string> = { ANSWER: 'ANSWERED', BUSY: 'BUSY', NOANSWER: 'NO ANSWER', CONGESTION: 'FAILED', CANCEL: 'NO ANSWER' };

/** A channel's block while the call is built (mutated as the call goes on). */
interface Leg {
  channel: string;
  state: number;
  callerIdNum: string;
  callerIdName: string;
  connectedLineNum: string;
  connectedLineName: string;
  context: string;
  exten: string;
  priority: number;
  uniqueid: string;
  linkedid: string;
}

function block(leg: Leg, prefix = ''): AmiField[] {
  return [
    [`${prefix}Channel`, leg.channel],
    [`${prefix}ChannelState`, String(leg.state)],
    [`${prefix}ChannelStateDesc`, channelStateDescription(leg.state)],
    [`${prefix}CallerIDNum`, leg.callerIdNum],
    [`${prefix}CallerIDName`, leg.callerIdName],
    [`${prefix}ConnectedLineNum`, leg.connectedLineNum],
    [`${prefix}ConnectedLineName`, leg.connectedLineName],
    [`${prefix}Language`, 'en'],
    [`${prefix}AccountCode`, ''],
    [`${prefix}Context`, leg.context],
    [`${prefix}Exten`, leg.exten],
    [`${prefix}Priority`, String(leg.priority)],
    [`${prefix}Uniqueid`, leg.uniqueid],
    [`${prefix}Linkedid`, leg.linkedid],
  ];
}

function event(name: string, privilege: string, ...parts: AmiField[][]): AmiMessage {
  return new AmiMessage([['Event', name], ['Privilege', privilege], ...parts.flat()]);
}

const callEvent = (name: string, ...parts: AmiField[][]): AmiMessage => event(name, 'call,all', ...parts);

/** `2026-11-21 11:00:36`: the Cdr time format (printed in UTC here). */
function cdrTime(ms: number | undefined): string {
  return ms === undefined ? '' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function bridgeBlock(bridgeId: string, technology: string, members: number): AmiField[] {
  return [
    ['BridgeUniqueid', bridgeId],
    ['BridgeType', 'basic'],
    ['BridgeTechnology', technology],
    ['BridgeCreator', '<unknown>'],
    ['BridgeName', '<unknown>'],
    ['BridgeNumChannels', String(members)],
    ['BridgeVideoSourceMode', 'none'],
  ];
}

/** Collects events with increasing times within one phase of the call. */
class Phase {
  readonly entries: TranscriptEntry[] = [];
  constructor(private readonly start: number) {}
  add(message: AmiMessage): void {
    // Events of one phase 50 µs apart, strictly increasing, as on a real PBX.
    this.entries.push({ message, time: this.start + this.entries.length * 0.05, timed: true });
  }
}

/** Builds calls with channel names and Uniqueids that never repeat within one factory. */
export class CallEventFactory {
  constructor(
    private readonly ids: AsteriskIds,
    private readonly now: () => number = Date.now,
  ) {}

  build(options: CallEventsOptions): CallScript {
    const tech = options.tech ?? 'PJSIP';
    const trunk = options.trunk ?? 'carrier';
    const callerName = options.callerName ?? `Ext ${options.from}`;
    const outcome = options.outcome ?? 'ANSWER';
    const start = options.startAt ?? this.now();
    const ringMs = options.ringMs ?? 300;
    const talkMs = options.talkMs ?? 20_000;
    const dialData = `${tech}/${options.to}@${trunk},,`;

    const callerIds = this.ids.allocateChannel(`${tech}/${options.from}`, start);
    const caller: Leg = {
      channel: callerIds.name,
      state: 4,
      callerIdNum: options.from,
      callerIdName: callerName,
      connectedLineNum: '<unknown>',
      connectedLineName: '<unknown>',
      context: options.context ?? 'from-internal',
      exten: options.to,
      priority: 1,
      uniqueid: callerIds.uniqueid,
      linkedid: callerIds.uniqueid,
    };

    const setup = new Phase(start);
    setup.add(callEvent('Newchannel', block(caller)));
    const dialplan: [string, string][] = [
      ['NoOp', `Outbound call "${callerName}" <${options.from}> -> ${options.to}`],
      ['Set', 'CDR(userfield)=outbound'],
      ['Dial', dialData],
    ];
    dialplan.forEach(([application, data], index) => {
      caller.priority = index + 1;
      setup.add(event('Newexten', 'dialplan,all', block(caller), [['Extension', options.to], ['Application', application], ['AppData', data]]));
    });

    const calleeIds = this.ids.allocateChannel(`${tech}/${trunk}`, start);
    const callee: Leg = {
      channel: calleeIds.name,
      state: 0,
      callerIdNum: '<unknown>',
      callerIdName: '<unknown>',
      connectedLineNum: '<unknown>',
      connectedLineName: '<unknown>',
      context: options.trunkContext ?? 'from-carrier',
      exten: 's',
      priority: 1,
      uniqueid: calleeIds.uniqueid,
      linkedid: caller.linkedid,
    };
    setup.add(callEvent('Newchannel', block(callee)));
    Object.assign(callee, { callerIdNum: options.to, connectedLineNum: options.from, connectedLineName: callerName, exten: options.to });
    setup.add(event('Newexten', 'dialplan,all', block(callee), [['Extension', options.to], ['Application', 'AppDial'], ['AppData', '(Outgoing Line)']]));
    setup.add(callEvent('NewCallerid', block(callee), [['CID-CallingPres', '0 (Presentation Allowed, Not Screened)']]));
    setup.add(callEvent('NewConnectedLine', block(callee)));
    setup.add(callEvent('DialBegin', block(caller), block(callee, 'Dest'), [['DialString', `${options.to}@${trunk}`]]));
    caller.connectedLineNum = options.to;
    setup.add(callEvent('NewConnectedLine', block(caller)));
    // As in intl-call-cuba.ami: DialState RINGING goes out before the trunk leg's Newstate.
    setup.add(callEvent('DialState', block(caller), block(callee, 'Dest'), [['DialStatus', 'RINGING']]));
    callee.state = 5;
    setup.add(callEvent('Newstate', block(callee)));

    const answerAt = start + ringMs;
    const answer = new Phase(answerAt);
    const endAt = outcome === 'ANSWER' ? answerAt + talkMs : answerAt;
    const end = new Phase(endAt);
    let bridgeId = '';

    if (outcome === 'ANSWER') {
      bridgeId = this.ids.bridgeId();
      callee.state = 6;
      answer.add(callEvent('Newstate', block(callee)));
      callee.exten = '';
      answer.add(callEvent('DialEnd', block(caller), block(callee, 'Dest'), [['DialStatus', 'ANSWER']]));
      caller.state = 6;
      answer.add(callEvent('Newstate', block(caller)));
      answer.add(callEvent('BridgeCreate', bridgeBlock(bridgeId, 'simple_bridge', 0)));
      answer.add(event('Newexten', 'dialplan,all', block(callee), [['Extension', ''], ['Application', 'AppDial'], ['AppData', '(Outgoing Line)']]));
      answer.add(callEvent('BridgeEnter', bridgeBlock(bridgeId, 'simple_bridge', 1), block(callee)));
      answer.add(callEvent('BridgeEnter', bridgeBlock(bridgeId, 'simple_bridge', 2), block(caller)));

      const cause = options.hangupCause ?? CAUSE_NORMAL_CLEARING;
      const [first, second] = options.hangupBy === 'callee' ? [callee, caller] : [caller, callee];
      end.add(callEvent('HangupRequest', block(first), [['Cause', String(cause)]]));
      end.add(callEvent('BridgeLeave', bridgeBlock(bridgeId, 'native_rtp', 1), block(first)));
      end.add(callEvent('SoftHangupRequest', block(first), [['Cause', String(CAUSE_NORMAL_CLEARING)]]));
      end.add(callEvent('BridgeLeave', bridgeBlock(bridgeId, 'native_rtp', 0), block(second)));
      end.add(callEvent('BridgeDestroy', bridgeBlock(bridgeId, 'native_rtp', 0)));
      if (options.cdr !== false) end.add(this.cdrEvent(options, caller, callee, dialData, start, answerAt, endAt, outcome));
      // As in intl-call-cuba.ami: the far leg's Hangup arrives before the one that hung up.
      end.add(callEvent('Hangup', block(second), hangupCauseFields(second.channel, cause)));
      end.add(callEvent('Hangup', block(first), hangupCauseFields(first.channel, cause)));
    } else {
      const cause = OUTCOME_CAUSE[outcome];
      if (outcome === 'CANCEL') end.add(callEvent('HangupRequest', block(caller), [['Cause', String(cause)]]));
      end.add(callEvent('DialEnd', block(caller), block(callee, 'Dest'), [['DialStatus', outcome]]));
      end.add(callEvent('Hangup', block(callee), hangupCauseFields(callee.channel, cause)));
      if (options.cdr !== false) end.add(this.cdrEvent(options, caller, callee, dialData, start, undefined, endAt, outcome));
      end.add(callEvent('Hangup', block(caller), hangupCauseFields(caller.channel, cause)));
    }

    return {
      caller: { channel: caller.channel, uniqueid: caller.uniqueid },
      callee: { channel: callee.channel, uniqueid: callee.uniqueid },
      linkedid: caller.linkedid,
      bridgeId,
      setup: setup.entries,
      answer: answer.entries,
      hangup: end.entries,
      entries: [...setup.entries, ...answer.entries, ...end.entries],
    };
  }

  private cdrEvent(
    options: CallEventsOptions,
    caller: Leg,
    callee: Leg,
    dialData: string,
    start: number,
    answerTime: number | undefined,
    endTime: number,
    outcome: DialOutcome,
  ): AmiMessage {
    const duration = Math.round((endTime - start) / 1000);
    const billable = answerTime === undefined ? 0 : Math.round((endTime - answerTime) / 1000);
    return event('Cdr', 'cdr,all', [
      ['AccountCode', ''],
      ['Source', options.from],
      ['Destination', options.to],
      ['DestinationContext', caller.context],
      ['CallerID', `"${caller.callerIdName}" <${options.from}>`],
      ['Channel', caller.channel],
      ['DestinationChannel', callee.channel],
      ['LastApplication', 'Dial'],
      ['LastData', dialData],
      ['StartTime', cdrTime(start)],
      ['AnswerTime', cdrTime(answerTime)],
      ['EndTime', cdrTime(endTime)],
      ['Duration', String(duration)],
      ['BillableSeconds', String(billable)],
      ['Disposition', CDR_DISPOSITION[outcome]],
      ['AMAFlags', 'DOCUMENTATION'],
      ['UniqueID', caller.uniqueid],
      ['UserField', 'outbound'],
    ]);
  }
}

/** Interleaves several calls' entries into one transcript by time (stable for equal times). */
export function mergeEntries(...lists: readonly (readonly TranscriptEntry[])[]): TranscriptEntry[] {
  return lists
    .flatMap((list, listIndex) => list.map((entry, index) => ({ entry, listIndex, index })))
    .sort((a, b) => a.entry.time - b.entry.time || a.listIndex - b.listIndex || a.index - b.index)
    .map(({ entry }) => entry);
}
