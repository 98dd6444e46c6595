/**
 * The events Asterisk 22 sends when channels are hung up by the AMI `Hangup` action, as recorded
 * in `hangup-by-ami-and-ari.ami` (after ActionID hup-ami-1): for each call, BridgeLeave of the
 * killed leg, its SoftHangupRequest (Cause 16 = AST_SOFTHANGUP_EXPLICIT, not Q.850), BridgeLeave of
 * the other legs, BridgeDestroy, Hangup of the killed leg with the requested cause (+ TechCause
 * on PJSIP), then Hangup of every other leg of the call (same Linkedid) with Cause 16.
 */
import { AmiMessage, type AmiField } from '../ami/message.js';
import { CAUSE_NORMAL_CLEARING, hangupCauseFields } from './causes.js';
import type { ChannelTable, SimChannel } from './channels.js';

/** A basic two-party bridge as Asterisk describes it, for bridges the table knows only by id. */
const BRIDGE_DEFAULTS: readonly AmiField[] = [
  ['BridgeUniqueid', ''],
  ['BridgeType', 'basic'],
  ['BridgeTechnology', 'simple_bridge'],
  ['BridgeCreator', '<unknown>'],
  ['BridgeName', '<unknown>'],
  ['BridgeNumChannels', '0'],
  ['BridgeVideoSourceMode', 'none'],
];

export interface HangupPlan {
  /** The channels hung up (targets first, then the other legs of their calls). */
  channels: SimChannel[];
  /** Linkedids of the calls that ended. */
  linkedids: string[];
  /** BridgeUniqueids of the bridges those calls were in. */
  bridgeIds: string[];
  /** The events to send, in order. */
  events: AmiMessage[];
}

/** Plans the hangup of `targets` with Q.850 `cause`; the table is not changed (the events do that). */
export function planHangup(table: ChannelTable, targets: readonly SimChannel[], cause: number): HangupPlan {
  const targetIds = new Set(targets.map((channel) => channel.uniqueid));
  const linkedids = [...new Set(targets.map((channel) => channel.linkedid))];
  const events: AmiMessage[] = [];
  const channels: SimChannel[] = [...targets];
  const bridgeIds: string[] = [];

  for (const linkedid of linkedids) {
    const legs = table.byLinkedid(linkedid);
    const killed = legs.filter((leg) => targetIds.has(leg.uniqueid));
    const others = legs.filter((leg) => !targetIds.has(leg.uniqueid));
    channels.push(...others);

    // Members left in each bridge as the legs leave, for BridgeNumChannels.
    const members = new Map<string, Set<string>>();
    for (const leg of legs) {
      if (!leg.bridgeId || members.has(leg.bridgeId)) continue;
      members.set(leg.bridgeId, new Set(table.bridge(leg.bridgeId)?.members ?? [leg.uniqueid]));
      bridgeIds.push(leg.bridgeId);
    }
    const leave = (leg: SimChannel): void => {
      const inBridge = members.get(leg.bridgeId);
      if (!leg.bridgeId || !inBridge) return;
      inBridge.delete(leg.uniqueid);
      events.push(event('BridgeLeave', bridgeBlock(table, leg.bridgeId, inBridge.size), leg.fields()));
    };

    killed.forEach(leave);
    for (const leg of killed) events.push(event('SoftHangupRequest', leg.fields(), [['Cause', String(CAUSE_NORMAL_CLEARING)]]));
    others.forEach(leave);
    for (const [bridgeId, inBridge] of members) if (inBridge.size === 0) events.push(event('BridgeDestroy', bridgeBlock(table, bridgeId, 0)));
    for (const leg of killed) events.push(event('Hangup', leg.fields(), hangupCauseFields(leg.name, cause)));
    for (const leg of others) events.push(event('Hangup', leg.fields(), hangupCauseFields(leg.name, CAUSE_NORMAL_CLEARING)));
  }
  return { channels: dedupe(channels), linkedids, bridgeIds, events };
}

function event(name: string, ...parts: readonly (readonly AmiField[])[]): AmiMessage {
  return new AmiMessage([['Event', name], ['Privilege', 'call,all'], ...parts.flat()]);
}

function bridgeBlock(table: ChannelTable, bridgeId: string, memberCount: number): AmiField[] {
  const known = table.bridge(bridgeId)?.fields ?? [];
  const block: AmiField[] = BRIDGE_DEFAULTS.map(([key, fallback]) => [key, known.find(([knownKey]) => knownKey === key)?.[1] ?? fallback]);
  block[0] = ['BridgeUniqueid', bridgeId];
  block[5] = ['BridgeNumChannels', String(memberCount)];
  // Keep fields a newer Asterisk adds (BridgeVideoSource, …) after the standard ones.
  for (const field of known) if (!BRIDGE_DEFAULTS.some(([key]) => key === field[0])) block.push(field);
  return block;
}

function dedupe(channels: SimChannel[]): SimChannel[] {
  return [...new Map(channels.map((channel) => [channel.uniqueid, channel])).values()];
}
