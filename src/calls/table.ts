/**
 * The live call table: every channel Asterisk has up, grouped into calls.
 *
 * A *leg* is one channel (keyed by Uniqueid). A *call* is every leg sharing a Linkedid: the
 * phone's channel, the trunk leg it dialled, Local channel halves, forwards and transfers. Counting
 * calls (never legs) is what keeps Local `;1`/`;2` halves and forwards from being counted twice.
 *
 * The table is a reducer: `apply(event)` changes it and returns what changed, for the policy
 * engine and the logs. After every (re)connect `reconcile()` compares it with CoreShowChannels:
 * calls that started while we were away are added (flagged), calls that ended are closed.
 */
import { dropOldest } from '../bounded.js';
import { parseDialString } from '../numbers/dialstring.js';
import type { CallEvent, CdrRecord, ChannelSnapshot, DomainEvent } from './events.js';

export interface Leg {
  readonly uniqueid: string;
  linkedid: string;
  channel: string;
  tech: string;
  endpoint: string;
  localHalf?: 1 | 2;
  context: string;
  exten: string;
  callerIdNum?: string;
  callerIdName?: string;
  connectedLineNum?: string;
  connectedLineName?: string;
  accountCode?: string;
  state: number;
  stateDesc: string;
  variables?: Record<string, string>;
  createdAt: number;
  answeredAt?: number;
  endedAt?: number;
  cause?: number;
  causeText?: string;
  techCause?: string;
  /** Learnt from CoreShowChannels or a mid-call event rather than from its Newchannel. */
  discovered?: boolean;
  /** Dialplan application, when known (CoreShowChannels). */
  application?: string;
  applicationData?: string;
  /** Change sequence number, for reconciliation. */
  seq: number;
}

export interface Dial {
  callerUniqueid?: string;
  destUniqueid: string;
  destChannel: string;
  dialString: string;
  /** Dialled digits from the dial string (`011535551234@carrier`) or the destination's exten. */
  number?: string;
  /** The trunk the dial goes out on, when the destination endpoint is a trunk. */
  trunk?: string;
  beganAt: number;
  answeredAt?: number;
  endedAt?: number;
  status?: string;
  /** Rebuilt from CoreShowChannels: times are estimates. */
  estimated?: boolean;
}

export type CallDirection = 'outbound' | 'inbound' | 'internal' | 'transit' | 'pending';

export class Call {
  readonly legs = new Map<string, Leg>();
  readonly dials: Dial[] = [];
  readonly cdrs: CdrRecord[] = [];
  answeredAt: number | undefined;
  endedAt: number | undefined;
  /** Added by reconciliation: the call began while Tollgate was not connected. */
  startedDuringOutage = false;
  /** Ended by reconciliation: its Hangup was missed while Tollgate was not connected. */
  closedByReconcile = false;
  /** Bumped on every change, so derived facts can be cached until the call changes. */
  version = 0;

  constructor(
    readonly linkedid: string,
    readonly createdAt: number,
    private readonly trunks: TrunkRegistry,
    private readonly endpoints: EndpointRegistry = new EndpointRegistry(),
  ) {}

  /**
   * The endpoint of this PBX the call rings, when it rings one and no trunk: an internal call,
   * whatever the dialled digits look like (no internal pattern needs to be configured). Before
   * the Dial, the dialled exten names a known endpoint; after it, the dialled channel is one.
   */
  get internalTarget(): string | undefined {
    if (this.fromTrunk || this.trunkDial !== undefined) return undefined;
    for (const dial of this.dials) {
      const target = endpointOfChannel(dial.destChannel);
      if (target && !this.trunks.isTrunk(target)) return target;
    }
    if (this.dials.length > 0) return undefined;
    const exten = this.origin.exten;
    return exten && exten !== this.origin.endpoint && this.endpoints.isEndpoint(exten) ? exten : undefined;
  }

  /** The leg the call started from: the channel whose Uniqueid is the Linkedid, else the first seen. */
  get origin(): Leg {
    return this.legs.get(this.linkedid) ?? this.legs.values().next().value!;
  }

  /** Where the call comes from: `1001` for `PJSIP/1001-…`, the trunk for inbound calls. */
  get sourceEndpoint(): string {
    return this.origin.endpoint;
  }

  /** True when the call was created by AMI/ARI Originate (its first channel is a Local channel). */
  get originated(): boolean {
    return this.origin.tech.toLowerCase() === 'local';
  }

  get live(): boolean {
    return this.endedAt === undefined;
  }

  /** Dials that leave the PBX through a trunk. */
  get outboundDials(): Dial[] {
    return this.dials.filter((dial) => dial.trunk !== undefined);
  }

  /** The primary dialled number: the first trunk dial, else what the originating phone dialled. */
  get dialled(): string | undefined {
    // Loops, not find() with a closure: facts are worked out from these on every call change.
    for (const dial of this.dials) if (dial.trunk !== undefined && dial.number) return dial.number;
    const origin = this.origin;
    if (this.trunks.isTrunk(origin.endpoint)) return undefined;
    return origin.exten && origin.exten !== 's' ? origin.exten : undefined;
  }

  get outboundTrunk(): string | undefined {
    return this.trunkDial?.trunk;
  }

  /** The first dial out on a trunk. */
  private get trunkDial(): Dial | undefined {
    for (const dial of this.dials) if (dial.trunk !== undefined) return dial;
    return undefined;
  }

  get destinationChannel(): string | undefined {
    return (this.trunkDial ?? this.dials[0])?.destChannel;
  }

  /** The call came in from a trunk (a carrier), not from a phone or an Originate. */
  get fromTrunk(): boolean {
    return this.trunks.isTrunk(this.origin.endpoint) && !this.originated;
  }

  get direction(): CallDirection {
    const fromTrunk = this.fromTrunk;
    const toTrunk = this.trunkDial !== undefined;
    if (fromTrunk) return toTrunk ? 'transit' : 'inbound';
    if (toTrunk) return 'outbound';
    return this.dials.length > 0 ? 'internal' : 'pending';
  }

  get liveLegs(): Leg[] {
    return [...this.legs.values()].filter((leg) => leg.endedAt === undefined);
  }

  /** Whether any leg is still up (without listing them). */
  get hasLiveLeg(): boolean {
    for (const leg of this.legs.values()) if (leg.endedAt === undefined) return true;
    return false;
  }

  /** The channels of the legs still up, in order. */
  liveChannels(): string[] {
    // Sized exactly (a finding keeps it): counted first, then filled.
    let count = 0;
    for (const leg of this.legs.values()) if (leg.endedAt === undefined) count++;
    const channels = new Array<string>(count);
    let index = 0;
    for (const leg of this.legs.values()) if (leg.endedAt === undefined) channels[index++] = leg.channel;
    return channels;
  }

  /** The Q.850 cause that ended the call: the first abnormal one among its legs, else the first. */
  get cause(): { cause: number; causeText: string; techCause?: string } | undefined {
    const ended = [...this.legs.values()].filter((leg) => leg.cause !== undefined).sort((a, b) => a.endedAt! - b.endedAt!);
    const pick = ended.find((leg) => leg.cause !== 16 && leg.cause !== 0) ?? ended[0];
    if (!pick) return undefined;
    const result: { cause: number; causeText: string; techCause?: string } = { cause: pick.cause!, causeText: pick.causeText ?? '' };
    if (pick.techCause) result.techCause = pick.techCause;
    return result;
  }

  /** Seconds from answer to end (or to `now` while live); 0 when never answered. */
  answeredSeconds(now: number): number {
    if (this.answeredAt === undefined) return 0;
    return Math.max(0, ((this.endedAt ?? now) - this.answeredAt) / 1000);
  }
}

export type CallChange =
  | { kind: 'call.started'; call: Call; at: number }
  | { kind: 'leg.added'; call: Call; leg: Leg; at: number }
  | { kind: 'dial.started'; call: Call; dial: Dial; at: number }
  | { kind: 'dial.answered'; call: Call; dial: Dial; at: number }
  | { kind: 'dial.ended'; call: Call; dial: Dial; at: number }
  | { kind: 'call.answered'; call: Call; at: number }
  | { kind: 'leg.ended'; call: Call; leg: Leg; at: number }
  | { kind: 'call.ended'; call: Call; at: number }
  | { kind: 'call.cdr'; call: Call; record: CdrRecord; at: number }
  /**
   * An ended call dropped from the recent calls (the table keeps `recentCallLimit`): nothing about
   * it is looked up any more, so what was kept per call (what was judged, what fired) can go.
   */
  | { kind: 'call.forgotten'; call: Call; at: number };

/** Trunk endpoints: configured names plus those learnt from dial strings (`number@carrier`). */
export class TrunkRegistry {
  private readonly configured: Set<string>;
  private readonly learnt = new Set<string>();
  /** Bumped when a trunk is learnt (a call's direction may change with it). */
  version = 0;

  constructor(configured: Iterable<string> = []) {
    this.configured = new Set(configured);
  }

  isTrunk(endpoint: string | undefined): boolean {
    return endpoint !== undefined && (this.configured.has(endpoint) || this.learnt.has(endpoint));
  }

  /** Records a trunk seen in a dial string; true when it was new. */
  learn(endpoint: string): boolean {
    if (this.isTrunk(endpoint)) return false;
    this.learnt.add(endpoint);
    this.version++;
    return true;
  }

  get names(): string[] {
    return [...new Set([...this.configured, ...this.learnt])].sort();
  }
}

/** Channel technologies whose channels belong to a phone or a trunk (not Local, not Message). */
const DEVICE_TECHS: ReadonlySet<string> = new Set(['pjsip', 'sip', 'iax2', 'dahdi', 'skinny', 'motif', 'unistim']);

/** `PJSIP/1002-0000000a` → `1002`; undefined for Local and other non-device channels. */
function endpointOfChannel(channel: string): string | undefined {
  const slash = channel.indexOf('/');
  if (slash <= 0 || !DEVICE_TECHS.has(channel.slice(0, slash).toLowerCase())) return undefined;
  const rest = channel.slice(slash + 1);
  const dash = rest.lastIndexOf('-');
  return (dash > 0 ? rest.slice(0, dash) : rest) || undefined;
}

/**
 * Endpoints of this PBX (phones and SIP accounts): learnt from the channels they open, their
 * registrations and their logins. A trunk is never one, even if it was seen before it was known
 * to be a trunk. Bounded.
 */
export class EndpointRegistry {
  private readonly names = new Set<string>();

  constructor(
    private readonly trunks?: TrunkRegistry,
    private readonly limit = 50_000,
  ) {}

  learn(name: string): void {
    if (!name || this.names.has(name)) return;
    this.names.add(name);
    if (this.names.size > this.limit) dropOldest(this.names, 1);
  }

  isEndpoint(name: string): boolean {
    return this.names.has(name) && !(this.trunks?.isTrunk(name) ?? false);
  }
}

/** A CoreShowChannel item: the channel block plus what only that list carries. */
export interface ChannelListing extends ChannelSnapshot {
  durationSeconds: number;
  application?: string;
  applicationData?: string;
  bridgeId?: string;
}

export interface CallTableOptions {
  trunks?: TrunkRegistry;
  endpoints?: EndpointRegistry;
  /** Ended calls kept for late events (Cdr) and reports. @default 2000 */
  recentCallLimit?: number;
}

export class CallTable {
  readonly trunks: TrunkRegistry;
  readonly endpoints: EndpointRegistry;
  private readonly calls = new Map<string, Call>();
  private readonly legs = new Map<string, Leg>();
  /** Recently ended calls, oldest first (bounded). */
  private readonly recent = new Map<string, Call>();
  /** Ended channels: when (sequence number, for reconciliation) and in which call (bounded with `recent`). */
  private readonly endedLegs = new Map<string, { seq: number; linkedid: string }>();
  private readonly recentCallLimit: number;
  private seq = 0;

  constructor(options: CallTableOptions = {}) {
    this.trunks = options.trunks ?? new TrunkRegistry();
    this.endpoints = options.endpoints ?? new EndpointRegistry(this.trunks);
    this.recentCallLimit = options.recentCallLimit ?? 2000;
  }

  /** Live calls (at least one leg up). */
  liveCalls(): Call[] {
    return [...this.calls.values()];
  }

  /** The live calls without a copy (for a loop that must not change the table). */
  liveCallValues(): IterableIterator<Call> {
    return this.calls.values();
  }

  get liveCallCount(): number {
    return this.calls.size;
  }

  getCall(linkedid: string): Call | undefined {
    return this.calls.get(linkedid) ?? this.recent.get(linkedid);
  }

  /** The call a channel belongs to (live or recently ended). */
  callOfChannel(uniqueid: string): Call | undefined {
    const linkedid = this.legs.get(uniqueid)?.linkedid ?? this.endedLegs.get(uniqueid)?.linkedid;
    return linkedid === undefined ? undefined : this.getCall(linkedid);
  }

  /** Recently ended calls, oldest first. */
  recentCalls(): Call[] {
    return [...this.recent.values()];
  }

  /** Applies a call event; security and registration events change nothing here. */
  apply(event: DomainEvent): CallChange[] {
    const changes: CallChange[] = [];
    switch (event.type) {
      case 'channel.created':
        this.upsertLeg(event.channel, event.at, changes, false);
        break;
      case 'channel.updated':
        this.upsertLeg(event.channel, event.at, changes, true);
        break;
      case 'channel.state': {
        const leg = this.upsertLeg(event.channel, event.at, changes, true);
        if (leg && leg.state === 6) this.markAnswered(leg, event.at, changes);
        break;
      }
      case 'dial.begin':
        this.dialBegin(event, changes);
        break;
      case 'dial.end':
        this.dialEnd(event, changes);
        break;
      case 'channel.hangup':
        this.hangup(event.channel, event.at, event.cause, event.causeText, event.techCause, changes);
        break;
      case 'cdr': {
        const call = this.callOfChannel(event.record.uniqueid);
        if (call) {
          call.cdrs.push(event.record);
          changes.push({ kind: 'call.cdr', call, record: event.record, at: event.at });
        }
        break;
      }
      default:
        this.learnEndpoint(event);
        break;
    }
    touchAll(changes);
    return changes;
  }

  /** Registrations and logins of phones name endpoints of this PBX. */
  private learnEndpoint(event: DomainEvent): void {
    if (event.type === 'registration') this.endpoints.learn(event.endpoint);
    else if (event.type === 'security' && event.kind === 'SuccessfulAuth' && /^(PJSIP|SIP|IAX2)$/i.test(event.service)) this.endpoints.learn(event.accountId.trim());
  }

  // ───────────────────────────── reconciliation ─────────────────────────────

  /**
   * Gives a call found by reconciliation back what the agent knew of it before a restart (its
   * checkpoint): the real answer times instead of estimates, and it is no longer "started during
   * the outage". False when the call is not live.
   */
  restoreCheckpoint(checkpoint: { linkedid: string; answeredAt?: number; dials: { destUniqueid: string; answeredAt?: number }[] }): boolean {
    const call = this.calls.get(checkpoint.linkedid);
    if (!call) return false;
    call.startedDuringOutage = false;
    for (const saved of checkpoint.dials) {
      const dial = call.dials.find((candidate) => candidate.destUniqueid === saved.destUniqueid);
      if (!dial || saved.answeredAt === undefined) continue;
      dial.answeredAt = saved.answeredAt;
      delete dial.estimated;
    }
    if (checkpoint.answeredAt !== undefined) call.answeredAt = checkpoint.answeredAt;
    call.version++;
    return true;
  }

  /** Call before sending CoreShowChannels: changes seen after this mark are newer than the list. */
  reconcileMark(): number {
    return this.seq;
  }

  /**
   * Makes the table match a CoreShowChannels listing taken after `mark`. Channels listed but unknown
   * are added (their calls flagged `startedDuringOutage`); live channels not listed, and not touched
   * by an event since the mark, are closed (`closedByReconcile`).
   */
  reconcile(listing: ChannelListing[], mark: number, at: number): CallChange[] {
    const changes: CallChange[] = [];
    const listed = new Set(listing.map((item) => item.uniqueid));
    // Closing first: a call whose legs all vanished ends before new ones are added.
    for (const leg of [...this.legs.values()]) {
      if (listed.has(leg.uniqueid) || leg.seq > mark) continue;
      const call = this.calls.get(leg.linkedid);
      if (call) call.closedByReconcile = true;
      this.hangup(leg, at, undefined, 'closed by reconciliation: not in CoreShowChannels', undefined, changes);
    }
    const added: Leg[] = [];
    for (const item of listing) {
      const ended = this.endedLegs.get(item.uniqueid);
      if (ended !== undefined && ended.seq > mark) continue; // hung up after the list was taken
      const known = this.legs.get(item.uniqueid);
      if (known) {
        if (known.seq <= mark) {
          this.refreshLeg(known, item);
          const call = this.calls.get(known.linkedid);
          if (call) call.version++;
        }
        if (item.application) known.application = item.application;
        if (item.applicationData !== undefined) known.applicationData = item.applicationData;
        continue;
      }
      const createdAt = at - item.durationSeconds * 1000;
      const isNewCall = !this.calls.has(item.linkedid);
      const leg = this.upsertLeg(item, createdAt, changes, false);
      if (!leg) continue;
      leg.discovered = true;
      if (item.application) leg.application = item.application;
      if (item.applicationData !== undefined) leg.applicationData = item.applicationData;
      if (isNewCall) this.calls.get(item.linkedid)!.startedDuringOutage = true;
      added.push(leg);
    }
    for (const leg of added) if (leg.state === 6) this.markAnswered(leg, leg.createdAt, changes);
    this.rebuildDials(added, listing, changes);
    touchAll(changes);
    return changes;
  }

  /** Rebuilds dials for discovered legs from `Dial` application data and `AppDial` legs. */
  private rebuildDials(added: Leg[], listing: ChannelListing[], changes: CallChange[]): void {
    const bridgeOf = new Map(listing.map((item) => [item.uniqueid, item.bridgeId]));
    for (const caller of added) {
      if ((caller.application ?? '').toLowerCase() !== 'dial' || !caller.applicationData) continue;
      const call = this.calls.get(caller.linkedid);
      if (!call) continue;
      const target = parseDialString(caller.applicationData);
      // The outgoing leg runs AppDial; prefer the one bridged with the caller.
      const candidates = [...call.legs.values()].filter((leg) => leg !== caller && (leg.application ?? '').toLowerCase() === 'appdial' && leg.endedAt === undefined);
      const dest =
        candidates.find((leg) => bridgeOf.get(leg.uniqueid) && bridgeOf.get(leg.uniqueid) === bridgeOf.get(caller.uniqueid)) ??
        candidates.find((leg) => leg.endpoint === target.endpoint) ??
        candidates[0];
      if (!dest || call.dials.some((dial) => dial.destUniqueid === dest.uniqueid)) continue;
      const dial: Dial = {
        callerUniqueid: caller.uniqueid,
        destUniqueid: dest.uniqueid,
        destChannel: dest.channel,
        dialString: caller.applicationData,
        beganAt: dest.createdAt,
        estimated: true,
      };
      const number = target.number ?? dest.callerIdNum;
      if (number) dial.number = number;
      if (target.number && target.endpoint && target.endpoint === dest.endpoint) this.trunks.learn(target.endpoint);
      if (this.trunks.isTrunk(dest.endpoint)) dial.trunk = dest.endpoint;
      if (dest.answeredAt !== undefined) dial.answeredAt = dest.answeredAt;
      call.dials.push(dial);
      changes.push({ kind: 'dial.started', call, dial, at: dial.beganAt });
    }
  }

  // ───────────────────────────── reducers ─────────────────────────────

  private upsertLeg(snapshot: ChannelSnapshot, at: number, changes: CallChange[], isUpdate: boolean): Leg | undefined {
    const existing = this.legs.get(snapshot.uniqueid);
    if (existing) {
      this.refreshLeg(existing, snapshot);
      existing.seq = ++this.seq;
      const call = this.calls.get(existing.linkedid);
      if (call) call.version++;
      return existing;
    }
    // A late event for a channel that already hung up must not resurrect it.
    if (this.endedLegs.has(snapshot.uniqueid)) return undefined;
    let call = this.calls.get(snapshot.linkedid);
    if (!call) {
      call = new Call(snapshot.linkedid, at, this.trunks, this.endpoints);
      this.calls.set(snapshot.linkedid, call);
    }
    const leg: Leg = {
      uniqueid: snapshot.uniqueid,
      linkedid: snapshot.linkedid,
      channel: snapshot.channel,
      tech: snapshot.tech,
      endpoint: snapshot.endpoint,
      context: snapshot.context,
      exten: snapshot.exten,
      state: snapshot.state,
      stateDesc: snapshot.stateDesc,
      createdAt: at,
      seq: ++this.seq,
    };
    if (isUpdate) leg.discovered = true;
    this.refreshLeg(leg, snapshot);
    const isFirstLeg = call.legs.size === 0;
    // A phone's own channel names an endpoint (a trunk's too, until it is known as one: see EndpointRegistry).
    if (isFirstLeg && DEVICE_TECHS.has(leg.tech.toLowerCase())) this.endpoints.learn(leg.endpoint);
    call.legs.set(leg.uniqueid, leg);
    this.legs.set(leg.uniqueid, leg);
    if (isFirstLeg) changes.push({ kind: 'call.started', call, at });
    else changes.push({ kind: 'leg.added', call, leg, at });
    return leg;
  }

  private refreshLeg(leg: Leg, snapshot: ChannelSnapshot): void {
    leg.channel = snapshot.channel;
    leg.tech = snapshot.tech;
    leg.endpoint = snapshot.endpoint;
    if (snapshot.localHalf) leg.localHalf = snapshot.localHalf;
    leg.state = snapshot.state || leg.state;
    leg.stateDesc = snapshot.stateDesc || leg.stateDesc;
    leg.context = snapshot.context || leg.context;
    // The trunk leg's Exten goes empty once answered; keep the last real one.
    if (snapshot.exten) leg.exten = snapshot.exten;
    if (snapshot.callerIdNum !== undefined) leg.callerIdNum = snapshot.callerIdNum;
    if (snapshot.callerIdName !== undefined) leg.callerIdName = snapshot.callerIdName;
    if (snapshot.connectedLineNum !== undefined) leg.connectedLineNum = snapshot.connectedLineNum;
    if (snapshot.connectedLineName !== undefined) leg.connectedLineName = snapshot.connectedLineName;
    if (snapshot.accountCode !== undefined) leg.accountCode = snapshot.accountCode;
    if (snapshot.variables) leg.variables = { ...leg.variables, ...snapshot.variables };
  }

  private dialBegin(event: Extract<CallEvent, { type: 'dial.begin' }>, changes: CallChange[]): void {
    const caller = event.caller ? this.upsertLeg(event.caller, event.at, changes, true) : undefined;
    if (caller) this.adoptIntoCall(event.destination, caller.linkedid);
    const dest = this.upsertLeg(event.destination, event.at, changes, true);
    if (!dest) return;
    const call = this.calls.get(dest.linkedid);
    if (!call || call.dials.some((dial) => dial.destUniqueid === dest.uniqueid && dial.endedAt === undefined)) return;
    const target = parseDialString(event.dialString, dest.tech);
    // `number@endpoint` (or `endpoint/number`) dialled on that very endpoint: it is a trunk.
    if (target.number && target.endpoint && target.endpoint === dest.endpoint) this.trunks.learn(target.endpoint);
    const dial: Dial = {
      destUniqueid: dest.uniqueid,
      destChannel: dest.channel,
      dialString: event.dialString,
      beganAt: event.at,
    };
    if (caller) dial.callerUniqueid = caller.uniqueid;
    const number = target.number ?? (this.trunks.isTrunk(dest.endpoint) ? nonEmpty(event.destination.exten) : undefined);
    if (number) dial.number = number;
    if (this.trunks.isTrunk(dest.endpoint)) dial.trunk = dest.endpoint;
    call.dials.push(dial);
    changes.push({ kind: 'dial.started', call, dial, at: event.at });
    if (dest.state === 6) this.markAnswered(dest, event.at, changes);
  }

  /** Asterisk 11 has no Linkedid: a dialled channel joins its caller's call when the Dial links them. */
  private adoptIntoCall(destination: ChannelSnapshot, linkedid: string): void {
    const leg = this.legs.get(destination.uniqueid);
    if (!leg || leg.linkedid === linkedid) return;
    const oldCall = this.calls.get(leg.linkedid);
    const newCall = this.calls.get(linkedid);
    if (!oldCall || !newCall || oldCall.legs.size !== 1 || leg.linkedid !== leg.uniqueid) return;
    this.calls.delete(oldCall.linkedid);
    leg.linkedid = linkedid;
    newCall.legs.set(leg.uniqueid, leg);
    newCall.version++;
  }

  private dialEnd(event: Extract<CallEvent, { type: 'dial.end' }>, changes: CallChange[]): void {
    const call = this.calls.get(event.destination.linkedid) ?? (event.caller ? this.calls.get(event.caller.linkedid) : undefined);
    if (!call) return;
    const dial = findOpenDial(call, event.destination.uniqueid, event.caller?.uniqueid);
    if (!dial) return;
    dial.status = event.status;
    if (event.status === 'ANSWER') {
      if (dial.answeredAt === undefined) {
        dial.answeredAt = event.at;
        changes.push({ kind: 'dial.answered', call, dial, at: event.at });
      }
      this.markCallAnswered(call, event.at, changes);
    } else if (dial.endedAt === undefined) {
      dial.endedAt = event.at;
      changes.push({ kind: 'dial.ended', call, dial, at: event.at });
    }
  }

  private markAnswered(leg: Leg, at: number, changes: CallChange[]): void {
    if (leg.answeredAt === undefined) leg.answeredAt = at;
    const call = this.calls.get(leg.linkedid);
    if (!call) return;
    // The trunk leg going Up is the carrier answering: that is when billing starts.
    const dial = call.dials.find((candidate) => candidate.destUniqueid === leg.uniqueid && candidate.endedAt === undefined);
    if (dial && dial.answeredAt === undefined) {
      dial.answeredAt = at;
      changes.push({ kind: 'dial.answered', call, dial, at });
    }
    this.markCallAnswered(call, at, changes);
  }

  private markCallAnswered(call: Call, at: number, changes: CallChange[]): void {
    if (call.answeredAt !== undefined) return;
    call.answeredAt = at;
    changes.push({ kind: 'call.answered', call, at });
  }

  private hangup(
    snapshot: ChannelSnapshot | Leg,
    at: number,
    cause: number | undefined,
    causeText: string,
    techCause: string | undefined,
    changes: CallChange[],
  ): void {
    const leg = this.legs.get(snapshot.uniqueid);
    if (!leg) return;
    if ('channel' in snapshot && snapshot !== leg) this.refreshLeg(leg, snapshot);
    leg.endedAt = at;
    if (cause !== undefined) leg.cause = cause;
    leg.causeText = causeText;
    if (techCause !== undefined) leg.techCause = techCause;
    this.legs.delete(leg.uniqueid);
    this.endedLegs.set(leg.uniqueid, { seq: ++this.seq, linkedid: leg.linkedid });
    const call = this.calls.get(leg.linkedid);
    if (!call) return;
    changes.push({ kind: 'leg.ended', call, leg, at });
    for (const dial of call.dials) {
      if (dial.endedAt !== undefined) continue;
      if (dial.destUniqueid === leg.uniqueid || dial.callerUniqueid === leg.uniqueid) {
        dial.endedAt = at;
        changes.push({ kind: 'dial.ended', call, dial, at });
      }
    }
    if (!call.hasLiveLeg) {
      call.endedAt = at;
      this.calls.delete(call.linkedid);
      changes.push({ kind: 'call.ended', call, at });
      this.remember(call, at, changes);
    }
  }

  private remember(call: Call, at: number, changes: CallChange[]): void {
    this.recent.set(call.linkedid, call);
    while (this.recent.size > this.recentCallLimit) {
      const oldest = this.recent.values().next().value!;
      this.recent.delete(oldest.linkedid);
      for (const uniqueid of oldest.legs.keys()) this.endedLegs.delete(uniqueid);
      changes.push({ kind: 'call.forgotten', call: oldest, at });
    }
  }
}

function touchAll(changes: readonly CallChange[]): void {
  let last: Call | undefined;
  for (const change of changes) {
    if (change.call === last) continue;
    change.call.version++;
    last = change.call;
  }
}

function findOpenDial(call: Call, destUniqueid: string, callerUniqueid: string | undefined): Dial | undefined {
  const open = call.dials.filter((dial) => dial.endedAt === undefined);
  return (
    open.find((dial) => dial.destUniqueid === destUniqueid) ??
    // Asterisk 11's Dial End names only the caller.
    (destUniqueid === '' ? open.find((dial) => dial.callerUniqueid === callerUniqueid) : undefined)
  );
}

function nonEmpty(text: string | undefined): string | undefined {
  return text && text !== 's' ? text : undefined;
}
