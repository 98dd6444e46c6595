/**
 * The simulator's own table of live channels and bridges, kept up to date from every event it
 * sends (or replays), so CoreShowChannels and Hangup answer like the PBX that sent those events.
 */
import type { AmiField, AmiMessage } from '../ami/message.js';

/** The channel block of Asterisk 12+ events, in wire order (`Tenantid` only on recent releases). */
export const CHANNEL_BLOCK_KEYS = [
  'Channel',
  'ChannelState',
  'ChannelStateDesc',
  'CallerIDNum',
  'CallerIDName',
  'ConnectedLineNum',
  'ConnectedLineName',
  'Language',
  'AccountCode',
  'Context',
  'Exten',
  'Priority',
  'Uniqueid',
  'Linkedid',
  'Tenantid',
] as const;

const CHAN_VARIABLE = 'ChanVariable';

/** `ChannelStateDesc` for each `ChannelState` (ast_state2str). */
export const CHANNEL_STATE_DESCRIPTIONS = ['Down', 'Rsrvd', 'OffHook', 'Dialing', 'Ring', 'Ringing', 'Up', 'Busy', 'Dialing Offhook', 'Pre-ring'] as const;

export function channelStateDescription(state: number): string {
  return CHANNEL_STATE_DESCRIPTIONS[state] ?? 'Unknown';
}

/** Prefixes under which events carry a channel block (DialBegin's callee, LocalBridge's halves). */
const BLOCK_PREFIXES = ['', 'Dest', 'LocalOne', 'LocalTwo'] as const;

/** How many hung-up Uniqueids are remembered so a late event cannot bring a channel back. */
const ENDED_MEMORY = 10_000;

export class SimChannel {
  /** The channel block as the last event showed it, in wire order, keys unprefixed. */
  readonly block: AmiField[];
  application = '';
  applicationData = '';
  /** BridgeUniqueid of the bridge the channel is in, or '' when it is in none. */
  bridgeId = '';
  /** When the simulator learnt of the channel (ms since the epoch): the base of CoreShowChannel's Duration. */
  readonly createdAt: number;

  constructor(block: AmiField[], createdAt: number) {
    this.block = block;
    this.createdAt = createdAt;
  }

  get name(): string {
    return this.get('Channel') ?? '';
  }

  get uniqueid(): string {
    return this.get('Uniqueid') ?? '';
  }

  get linkedid(): string {
    return this.get('Linkedid') ?? this.uniqueid;
  }

  get state(): number {
    return Number(this.get('ChannelState') ?? 0);
  }

  get(key: string): string | undefined {
    for (const [blockKey, value] of this.block) if (blockKey === key) return value;
    return undefined;
  }

  /** Sets one block field, keeping the wire order (new keys go before any ChanVariable lines). */
  set(key: string, value: string): void {
    const index = this.block.findIndex(([blockKey]) => blockKey === key);
    if (index >= 0) {
      this.block[index] = [key, value];
      return;
    }
    const firstVariable = this.block.findIndex(([blockKey]) => blockKey === CHAN_VARIABLE);
    if (firstVariable < 0) this.block.push([key, value]);
    else this.block.splice(firstVariable, 0, [key, value]);
  }

  /** The block with every key prefixed (`Dest`, …), ready to put into an event. */
  fields(prefix = ''): AmiField[] {
    return this.block.map(([key, value]) => [prefix + key, value] as const);
  }

  /** A plain snapshot (for assertions and logs). */
  toJSON(): Record<string, string | number> {
    const record: Record<string, string | number> = {};
    for (const [key, value] of this.block) if (key !== CHAN_VARIABLE) record[key] = value;
    record['Application'] = this.application;
    record['ApplicationData'] = this.applicationData;
    record['BridgeId'] = this.bridgeId;
    record['createdAt'] = this.createdAt;
    return record;
  }
}

export class SimBridge {
  /** The `Bridge*` fields of the last event about this bridge, in wire order. */
  fields: AmiField[];
  /** Uniqueids of the channels in the bridge, in the order they entered. */
  readonly members = new Set<string>();

  constructor(
    readonly id: string,
    fields: AmiField[],
  ) {
    this.fields = fields;
  }

  /** The bridge block with `BridgeNumChannels` set to the current member count. */
  block(): AmiField[] {
    return this.fields.map(([key, value]) => (key === 'BridgeNumChannels' ? [key, String(this.members.size)] : [key, value]));
  }
}

/** What a test may give to put a channel straight into the table (no event is sent). */
export interface ChannelSpec {
  channel: string;
  uniqueid: string;
  /** @default the uniqueid (the first channel of a call) */
  linkedid?: string;
  /** ChannelState number. @default 6 (Up) */
  state?: number;
  callerIdNum?: string;
  callerIdName?: string;
  connectedLineNum?: string;
  connectedLineName?: string;
  language?: string;
  accountCode?: string;
  context?: string;
  exten?: string;
  priority?: number;
  application?: string;
  applicationData?: string;
  bridgeId?: string;
  /** ms since the epoch. @default now */
  createdAt?: number;
}

export class ChannelTable {
  private readonly channels = new Map<string, SimChannel>();
  private readonly bridgesById = new Map<string, SimBridge>();
  private readonly ended = new Set<string>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.channels.size;
  }

  /** Live channels in creation order. */
  list(): SimChannel[] {
    return [...this.channels.values()];
  }

  /** A channel by Uniqueid, or by name (case-insensitive, as ast_channel_get_by_name). */
  get(nameOrUniqueid: string): SimChannel | undefined {
    const byId = this.channels.get(nameOrUniqueid);
    if (byId) return byId;
    const lower = nameOrUniqueid.toLowerCase();
    for (const channel of this.channels.values()) if (channel.name.toLowerCase() === lower) return channel;
    return undefined;
  }

  /** Every live channel of one call (same Linkedid), in creation order. */
  byLinkedid(linkedid: string): SimChannel[] {
    return this.list().filter((channel) => channel.linkedid === linkedid);
  }

  bridge(id: string): SimBridge | undefined {
    return this.bridgesById.get(id);
  }

  get bridges(): SimBridge[] {
    return [...this.bridgesById.values()];
  }

  /** Whether a Hangup removed this Uniqueid (recently). */
  hasEnded(uniqueid: string): boolean {
    return this.ended.has(uniqueid);
  }

  /** Puts a channel in the table without any event (a call that began while a client was away). */
  add(spec: ChannelSpec): SimChannel {
    const state = spec.state ?? 6;
    const block: AmiField[] = [
      ['Channel', spec.channel],
      ['ChannelState', String(state)],
      ['ChannelStateDesc', channelStateDescription(state)],
      ['CallerIDNum', spec.callerIdNum ?? '<unknown>'],
      ['CallerIDName', spec.callerIdName ?? '<unknown>'],
      ['ConnectedLineNum', spec.connectedLineNum ?? '<unknown>'],
      ['ConnectedLineName', spec.connectedLineName ?? '<unknown>'],
      ['Language', spec.language ?? 'en'],
      ['AccountCode', spec.accountCode ?? ''],
      ['Context', spec.context ?? 'from-internal'],
      ['Exten', spec.exten ?? ''],
      ['Priority', String(spec.priority ?? 1)],
      ['Uniqueid', spec.uniqueid],
      ['Linkedid', spec.linkedid ?? spec.uniqueid],
    ];
    const channel = new SimChannel(block, spec.createdAt ?? this.now());
    channel.application = spec.application ?? '';
    channel.applicationData = spec.applicationData ?? '';
    this.channels.set(spec.uniqueid, channel);
    this.ended.delete(spec.uniqueid);
    if (spec.bridgeId) this.joinBridge(channel, spec.bridgeId, [['BridgeUniqueid', spec.bridgeId]]);
    return channel;
  }

  /** Takes a channel out without any event (a call that ended while a client was away). */
  remove(nameOrUniqueid: string): SimChannel | undefined {
    const channel = this.get(nameOrUniqueid);
    if (!channel) return undefined;
    this.leaveBridge(channel);
    this.channels.delete(channel.uniqueid);
    this.rememberEnded(channel.uniqueid);
    return channel;
  }

  clear(): void {
    this.channels.clear();
    this.bridgesById.clear();
    this.ended.clear();
  }

  /** Updates the table from one event, as the PBX's own state changed when it sent it. */
  apply(event: AmiMessage): void {
    const name = event.name.toLowerCase();
    switch (name) {
      case 'newchannel':
        this.upsert(event, '', true);
        return;
      case 'hangup': {
        const uniqueid = event.get('Uniqueid');
        const channel = uniqueid !== undefined ? this.channels.get(uniqueid) : undefined;
        const target = channel ?? (event.get('Channel') !== undefined ? this.get(event.get('Channel')!) : undefined);
        if (target) this.remove(target.uniqueid);
        else if (uniqueid !== undefined) this.rememberEnded(uniqueid);
        return;
      }
      case 'rename': {
        const channel = this.findByEvent(event, '');
        const newName = event.get('Newname');
        if (channel && newName !== undefined) channel.set('Channel', newName);
        return;
      }
      case 'bridgecreate':
        this.ensureBridge(event);
        return;
      case 'bridgedestroy': {
        const id = event.get('BridgeUniqueid');
        const bridge = id !== undefined ? this.bridgesById.get(id) : undefined;
        if (!bridge) return;
        for (const member of bridge.members) {
          const channel = this.channels.get(member);
          if (channel) channel.bridgeId = '';
        }
        this.bridgesById.delete(bridge.id);
        return;
      }
      default:
        break;
    }

    for (const prefix of BLOCK_PREFIXES) this.upsert(event, prefix, false);

    if (name === 'newexten') {
      const channel = this.findByEvent(event, '');
      if (channel) {
        channel.application = event.get('Application') ?? '';
        channel.applicationData = event.get('AppData') ?? '';
      }
    } else if (name === 'bridgeenter') {
      const channel = this.findByEvent(event, '');
      const id = event.get('BridgeUniqueid');
      if (channel && id !== undefined) this.joinBridge(channel, id, bridgeFields(event));
    } else if (name === 'bridgeleave') {
      const channel = this.findByEvent(event, '');
      const bridge = event.get('BridgeUniqueid');
      if (bridge !== undefined) this.ensureBridge(event);
      if (channel) this.leaveBridge(channel);
    }
  }

  private findByEvent(event: AmiMessage, prefix: string): SimChannel | undefined {
    const uniqueid = event.get(`${prefix}Uniqueid`);
    if (uniqueid !== undefined) return this.channels.get(uniqueid);
    const name = event.get(`${prefix}Channel`);
    return name !== undefined ? this.get(name) : undefined;
  }

  /**
   * Refreshes a channel from the event's block under `prefix`. A complete block for a channel the
   * table does not know (a capture that starts mid-call) adds it, unless that channel hung up.
   */
  private upsert(event: AmiMessage, prefix: string, isNewchannel: boolean): void {
    const uniqueid = event.get(`${prefix}Uniqueid`);
    const name = event.get(`${prefix}Channel`);
    if (uniqueid === undefined || name === undefined) return;
    let channel = this.channels.get(uniqueid);
    if (!channel) {
      const completeBlock = event.has(`${prefix}ChannelState`) && event.has(`${prefix}Linkedid`);
      if (!completeBlock || (!isNewchannel && this.ended.has(uniqueid))) return;
      channel = new SimChannel([], this.now());
      this.channels.set(uniqueid, channel);
      this.ended.delete(uniqueid);
    }
    const variables: AmiField[] = [];
    for (const [key, value] of event.fields) {
      if (!key.startsWith(prefix) && prefix.length > 0) continue;
      const bare = key.slice(prefix.length);
      if (bare === CHAN_VARIABLE) variables.push([CHAN_VARIABLE, value]);
      else if ((CHANNEL_BLOCK_KEYS as readonly string[]).includes(bare)) channel.set(bare, value);
    }
    if (variables.length > 0) {
      for (let i = channel.block.length - 1; i >= 0; i--) if (channel.block[i]![0] === CHAN_VARIABLE) channel.block.splice(i, 1);
      channel.block.push(...variables);
    }
  }

  private ensureBridge(event: AmiMessage): SimBridge | undefined {
    const id = event.get('BridgeUniqueid');
    if (id === undefined) return undefined;
    let bridge = this.bridgesById.get(id);
    if (!bridge) {
      bridge = new SimBridge(id, bridgeFields(event));
      this.bridgesById.set(id, bridge);
    } else {
      bridge.fields = bridgeFields(event);
    }
    return bridge;
  }

  private joinBridge(channel: SimChannel, id: string, fields: AmiField[]): void {
    if (channel.bridgeId && channel.bridgeId !== id) this.leaveBridge(channel);
    let bridge = this.bridgesById.get(id);
    if (!bridge) {
      bridge = new SimBridge(id, fields);
      this.bridgesById.set(id, bridge);
    } else if (fields.length > 1) {
      bridge.fields = fields;
    }
    bridge.members.add(channel.uniqueid);
    channel.bridgeId = id;
  }

  private leaveBridge(channel: SimChannel): void {
    if (!channel.bridgeId) return;
    this.bridgesById.get(channel.bridgeId)?.members.delete(channel.uniqueid);
    channel.bridgeId = '';
  }

  private rememberEnded(uniqueid: string): void {
    this.ended.add(uniqueid);
    if (this.ended.size > ENDED_MEMORY) {
      const oldest = this.ended.values().next().value;
      if (oldest !== undefined) this.ended.delete(oldest);
    }
  }
}

function bridgeFields(event: AmiMessage): AmiField[] {
  return event.fields.filter(([key]) => key.startsWith('Bridge'));
}
