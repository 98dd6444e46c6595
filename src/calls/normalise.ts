/**
 * AMI message → typed domain event. Pure apart from its counters.
 *
 * Unknown events are not errors: Asterisk has hundreds and modules add more. They are counted by
 * name (so `tollgate run` can report them) and skipped. A channel event without the fields it must
 * carry (Uniqueid, Channel) is counted as malformed and skipped — never thrown.
 */
import { isIP } from 'node:net';
import { detached, sameIgnoringCaseAt, type AmiMessage } from '../ami/message.js';
import { normaliseIp } from '../net/cidr.js';
import { parseChannelName } from '../numbers/dialstring.js';
import {
  SECURITY_EVENT_KINDS,
  type CallEvent,
  type ChannelSnapshot,
  type ContactEvent,
  type DomainEvent,
  type RegistrationEvent,
  type SecurityAddress,
  type SecurityEvent,
  type SecurityEventKind,
} from './events.js';

const SECURITY_KINDS: ReadonlySet<string> = new Set(SECURITY_EVENT_KINDS);

/** Events we know and deliberately do not turn into domain events (noise for fraud detection). */
const IGNORED_EVENTS: ReadonlySet<string> = new Set([
  'VarSet',
  'Newexten',
  'DeviceStateChange',
  'BridgeCreate',
  'BridgeDestroy',
  'BridgeEnter',
  'BridgeLeave',
  'BridgeMerge',
  'BridgeInfoChannel',
  'BridgeInfoComplete',
  'DialState',
  'HangupRequest',
  'SoftHangupRequest',
  'LocalBridge',
  'LocalOptimizationBegin',
  'LocalOptimizationEnd',
  'OriginateResponse',
  'PeerStatus',
  'ContactStatus',
  'Registry',
  'DTMFBegin',
  'DTMFEnd',
  'Hold',
  'Unhold',
  'MusicOnHoldStart',
  'MusicOnHoldStop',
  'ChannelTalkingStart',
  'ChannelTalkingStop',
  'RTCPSent',
  'RTCPReceived',
  'CEL',
  'UserEvent',
  'MessageWaiting',
  'Reload',
  'AGIExecStart',
  'AGIExecEnd',
  'AsyncAGIStart',
  'AsyncAGIExec',
  'AsyncAGIEnd',
  'QueueCallerJoin',
  'QueueCallerLeave',
  'QueueMemberStatus',
  'AgentCalled',
  'AgentConnect',
  'AgentComplete',
  'AgentRingNoAnswer',
  'AttendedTransfer',
  'BlindTransfer',
  'ChanSpyStart',
  'ChanSpyStop',
  'MixMonitorStart',
  'MixMonitorStop',
  'ExtensionStatus',
  'DeviceStateListComplete',
  'ChannelHungup',
  'ChannelsHungupListComplete',
  'CoreShowChannel',
  'CoreShowChannelsComplete',
  'DBGetResponse',
  'DBGetComplete',
  'ContactListComplete',
]);

/** Events that change a channel's caller id, connected line or account code. */
const CHANNEL_UPDATE_EVENTS: ReadonlySet<string> = new Set(['NewCallerid', 'NewConnectedLine', 'NewAccountCode']);

export interface NormaliserStats {
  normalised: number;
  ignored: number;
  unknown: number;
  malformed: number;
  /** Unknown event names and how often each was seen (bounded to 200 names). */
  unknownNames: Map<string, number>;
  lastMalformed?: string;
}

export class Normaliser {
  readonly stats: NormaliserStats = { normalised: 0, ignored: 0, unknown: 0, malformed: 0, unknownNames: new Map() };

  /** Turns one AMI event into a domain event; `at` is the event time (ms since epoch). */
  normalise(message: AmiMessage, at: number): DomainEvent | undefined {
    if (message.kind !== 'event') return undefined;
    const name = message.name;
    const event = this.convert(name, message, at);
    if (event === null) {
      this.stats.malformed++;
      this.stats.lastMalformed = `${name} without Channel/Uniqueid`;
      return undefined;
    }
    if (event) {
      this.stats.normalised++;
      return event;
    }
    if (IGNORED_EVENTS.has(name)) {
      this.stats.ignored++;
    } else {
      this.stats.unknown++;
      const names = this.stats.unknownNames;
      if (names.has(name) || names.size < 200) names.set(name, (names.get(name) ?? 0) + 1);
    }
    return undefined;
  }

  /** undefined = not ours (ignored/unknown), null = ours but malformed. */
  private convert(name: string, message: AmiMessage, at: number): DomainEvent | undefined | null {
    if (SECURITY_KINDS.has(name)) {
      // The agent's own AMI login shows up as SuccessfulAuth too; that is data like any other.
      return securityEvent(name as SecurityEventKind, message, at);
    }
    switch (name) {
      case 'Newchannel': {
        const channel = channelSnapshot(message, '');
        return channel ? { type: 'channel.created', at, channel } : null;
      }
      case 'Newstate': {
        const channel = channelSnapshot(message, '');
        return channel ? { type: 'channel.state', at, channel } : null;
      }
      case 'DialBegin':
      case 'DialEnd': {
        const destination = channelSnapshot(message, 'Dest');
        if (!destination) return null;
        // An originated call's DialBegin has only the Dest* block.
        const caller = message.has('Channel') ? channelSnapshot(message, '') : undefined;
        if (name === 'DialBegin') {
          const event: CallEvent = { type: 'dial.begin', at, destination, dialString: message.get('DialString') ?? '' };
          if (caller) event.caller = caller;
          return event;
        }
        const event: CallEvent = { type: 'dial.end', at, destination, status: message.get('DialStatus') ?? '' };
        if (caller) event.caller = caller;
        return event;
      }
      case 'Dial':
        return asterisk11Dial(message, at);
      case 'Hangup': {
        const channel = channelSnapshot(message, '');
        if (!channel) return null;
        const event: CallEvent = {
          type: 'channel.hangup',
          at,
          channel,
          cause: toInt(message.get('Cause'), 0),
          causeText: message.get('Cause-txt') ?? '',
        };
        const techCause = message.get('TechCause');
        if (techCause) event.techCause = techCause;
        return event;
      }
      case 'Rename': {
        const channel = channelSnapshot(message, '');
        if (!channel) return null;
        const newName = message.get('Newname');
        if (newName) {
          const parsed = parseChannelName(newName);
          channel.channel = newName;
          if (parsed) {
            channel.tech = parsed.tech;
            channel.endpoint = parsed.endpoint;
          }
        }
        return { type: 'channel.updated', at, channel, source: name };
      }
      case 'Cdr':
        return {
          type: 'cdr',
          at,
          record: {
            uniqueid: message.get('UniqueID') ?? '',
            channel: message.get('Channel') ?? '',
            destinationChannel: message.get('DestinationChannel') ?? '',
            source: message.get('Source') ?? '',
            destination: message.get('Destination') ?? '',
            destinationContext: message.get('DestinationContext') ?? '',
            accountCode: message.get('AccountCode') ?? '',
            disposition: message.get('Disposition') ?? '',
            durationSeconds: toInt(message.get('Duration'), 0),
            billableSeconds: toInt(message.get('BillableSeconds'), 0),
            startTime: message.get('StartTime') ?? '',
            answerTime: message.get('AnswerTime') ?? '',
            endTime: message.get('EndTime') ?? '',
          },
        };
      case 'ContactStatus':
        return contactStatus(message, at);
      case 'PeerStatus':
        return peerStatus(message, at);
      case 'ContactList':
      case 'ContactStatusDetail':
        return contactDetails(message, at);
      case 'FullyBooted':
        return { type: 'ami.fullyBooted', at };
      case 'Shutdown':
        return { type: 'ami.shutdown', at, restart: (message.get('Restart') ?? '').toLowerCase() === 'true' };
      default:
        if (CHANNEL_UPDATE_EVENTS.has(name)) {
          const channel = channelSnapshot(message, '');
          return channel ? { type: 'channel.updated', at, channel, source: name } : null;
        }
        return undefined;
    }
  }
}

/** Reads the channel block (`Channel`, `Uniqueid`, …), or the `Dest`-prefixed one. */
export function channelSnapshot(message: AmiMessage, prefix: '' | 'Dest'): ChannelSnapshot | undefined {
  const keys = prefix === '' ? CHANNEL_KEYS : DEST_CHANNEL_KEYS;
  const channel = message.get(keys.channel);
  const uniqueid = message.get(keys.uniqueid);
  if (!channel || !uniqueid) return undefined;
  const parsed = parseChannelName(channel);
  const snapshot: ChannelSnapshot = {
    channel,
    uniqueid,
    // Asterisk 11 has no Linkedid: a channel is then its own call until a Dial links it.
    linkedid: message.get(keys.linkedid) || uniqueid,
    tech: parsed?.tech ?? '',
    endpoint: parsed?.endpoint ?? channel,
    state: toInt(message.get(keys.state), 0),
    stateDesc: message.get(keys.stateDesc) ?? '',
    context: message.get(keys.context) ?? '',
    exten: message.get(keys.exten) ?? '',
  };
  if (parsed?.localHalf) snapshot.localHalf = parsed.localHalf;
  setKnown(snapshot, 'callerIdNum', message.get(keys.callerIdNum));
  setKnown(snapshot, 'callerIdName', message.get(keys.callerIdName));
  setKnown(snapshot, 'connectedLineNum', message.get(keys.connectedLineNum));
  setKnown(snapshot, 'connectedLineName', message.get(keys.connectedLineName));
  setKnown(snapshot, 'accountCode', message.get(keys.accountCode));
  if (message.has(keys.variable)) {
    snapshot.variables = {};
    for (const entry of message.getAll(keys.variable)) {
      const eq = entry.indexOf('=');
      if (eq > 0) snapshot.variables[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
  }
  return snapshot;
}

/** The keys of a channel block, spelt once per prefix (not once per event). */
function channelKeys(prefix: '' | 'Dest') {
  return {
    channel: `${prefix}Channel`,
    uniqueid: `${prefix}Uniqueid`,
    linkedid: `${prefix}Linkedid`,
    state: `${prefix}ChannelState`,
    stateDesc: `${prefix}ChannelStateDesc`,
    context: `${prefix}Context`,
    exten: `${prefix}Exten`,
    callerIdNum: `${prefix}CallerIDNum`,
    callerIdName: `${prefix}CallerIDName`,
    connectedLineNum: `${prefix}ConnectedLineNum`,
    connectedLineName: `${prefix}ConnectedLineName`,
    accountCode: `${prefix}AccountCode`,
    variable: prefix === '' ? 'ChanVariable' : 'DestChanVariable',
  } as const;
}

const CHANNEL_KEYS = channelKeys('');
const DEST_CHANNEL_KEYS = channelKeys('Dest');

/** PJSIP ContactStatus: `URI: sip:1001@203.0.113.7:5060;ob`, `EndpointName`, `ContactStatus`. */
function contactStatus(message: AmiMessage, at: number): RegistrationEvent | undefined {
  const endpoint = message.get('EndpointName') || message.get('AOR');
  if (!endpoint) return undefined;
  const event: RegistrationEvent = { type: 'registration', at, service: 'PJSIP', endpoint, status: message.get('ContactStatus') ?? '' };
  const uri = message.get('URI');
  if (uri) {
    event.uri = uri;
    Object.assign(event, hostOfSipUri(uri));
  }
  return event;
}

/**
 * A registered contact as PJSIPShowContacts (`ContactList`: Endpoint, Uri, ViaAddr, ViaPort, CallId,
 * ExpirationTime) or PJSIPShowEndpoint (`ContactStatusDetail`: EndpointName, URI, ViaAddress
 * `ip:port`, CallID, RegExpire) lists it; both carry `UserAgent`. Permanent contacts (pjsip.conf
 * `contact=`) have no User-Agent and no Call-ID: they are no registration and are skipped.
 */
function contactDetails(message: AmiMessage, at: number): ContactEvent | undefined {
  const endpoint = message.get('Endpoint') || message.get('EndpointName') || message.get('AOR');
  const uri = message.get('Uri') ?? message.get('URI');
  const callId = message.get('CallId') ?? message.get('CallID');
  if (!endpoint || !uri || !callId) return undefined;
  const event: ContactEvent = { type: 'contact', at, service: 'PJSIP', endpoint, uri, userAgent: (message.get('UserAgent') ?? '').trim(), callId, status: message.get('Status') ?? '' };
  const via = message.get('ViaAddr') !== undefined ? literalAddress(message.get('ViaAddr')!, message.get('ViaPort')) : hostPort(message.get('ViaAddress') ?? '');
  Object.assign(event, via.ip ? via : hostOfSipUri(uri));
  const expires = Number(message.get('ExpirationTime') ?? message.get('RegExpire'));
  if (Number.isFinite(expires) && expires > 0) event.expiresAt = expires * 1000;
  return event;
}

/**
 * chan_sip's PeerStatus carries the peer's `Address` (`203.0.113.7:5060`); PJSIP's carries none
 * (its ContactStatus does), so it stays an ignored event.
 */
function peerStatus(message: AmiMessage, at: number): RegistrationEvent | undefined {
  const address = message.get('Address');
  const peer = message.get('Peer') ?? '';
  const channelType = message.get('ChannelType') ?? peer.split('/')[0] ?? '';
  if (!address || !peer.includes('/')) return undefined;
  const event: RegistrationEvent = { type: 'registration', at, service: channelType.toUpperCase(), endpoint: peer.slice(peer.indexOf('/') + 1), status: message.get('PeerStatus') ?? '' };
  Object.assign(event, hostPort(address));
  return event;
}

/** The host of `sip:user@host:port;params` when it is an IP literal (IPv6 in brackets). */
export function hostOfSipUri(uri: string): { ip?: string; port?: number } {
  const match = /^sips?:(?:[^@;]*@)?(\[[0-9A-Fa-f:.]+\]|[^:;>]+)(?::(\d+))?/.exec(uri.trim().replace(/^<|>$/g, ''));
  if (!match) return {};
  return literalAddress(match[1]!.replace(/^\[|\]$/g, ''), match[2]);
}

/** `203.0.113.7:5060`, `[2001:db8::1]:5060`, `(null)` → address and port. */
function hostPort(text: string): { ip?: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return literalAddress(bracketed[1]!, bracketed[2]);
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host, port] = text.split(':');
    return literalAddress(host!, port);
  }
  return literalAddress(text, undefined);
}

function literalAddress(host: string, port: string | undefined): { ip?: string; port?: number } {
  if (isIP(host) === 0) return {};
  return port && /^\d+$/.test(port) ? { ip: host, port: Number(port) } : { ip: host };
}

/** Asterisk 11: `Event: Dial` with `SubEvent: Begin|End`, no Dest* blocks, no Linkedid. */
function asterisk11Dial(message: AmiMessage, at: number): CallEvent | null {
  const sub = (message.get('SubEvent') ?? '').toLowerCase();
  const callerChannel = message.get('Channel');
  const callerId = message.get('UniqueID');
  const destChannel = message.get('Destination');
  const destId = message.get('DestUniqueID');
  if (!callerChannel || !callerId) return null;
  const caller = minimalSnapshot(callerChannel, callerId, callerId);
  if (sub === 'begin') {
    if (!destChannel || !destId) return null;
    const destination = minimalSnapshot(destChannel, destId, callerId);
    setKnown(caller, 'callerIdNum', message.get('CallerIDNum'));
    setKnown(caller, 'callerIdName', message.get('CallerIDName'));
    return { type: 'dial.begin', at, caller, destination, dialString: message.get('Dialstring') ?? '' };
  }
  if (sub === 'end') {
    // Asterisk 11's Dial End names only the caller; the table finds the open dial by caller.
    const destination = minimalSnapshot(destChannel ?? '', destId ?? '', callerId);
    return { type: 'dial.end', at, caller, destination, status: message.get('DialStatus') ?? '' };
  }
  return null;
}

function minimalSnapshot(channel: string, uniqueid: string, linkedid: string): ChannelSnapshot {
  const parsed = parseChannelName(channel);
  const snapshot: ChannelSnapshot = {
    channel,
    uniqueid,
    linkedid,
    tech: parsed?.tech ?? '',
    endpoint: parsed?.endpoint ?? channel,
    state: 0,
    stateDesc: '',
    context: '',
    exten: '',
  };
  if (parsed?.localHalf) snapshot.localHalf = parsed.localHalf;
  return snapshot;
}

function securityEvent(kind: SecurityEventKind, message: AmiMessage, at: number): SecurityEvent {
  const text = message.uncutText;
  if (text !== undefined) {
    const event = securityEventOfText(kind, text, at);
    if (event) return event;
  }
  // A deferred event that is not as Asterisk writes them is cut into a message of its own (this one
  // may be old enough to be in the old generation: see AmiMessage.withFieldsCut).
  const fields = message.isDeferred ? message.withFieldsCut() : message;
  const event: SecurityEvent = {
    type: 'security',
    at,
    kind,
    severity: fields.get('Severity') ?? '',
    service: fields.get('Service') ?? '',
    accountId: detached(fields.get('AccountID') ?? ''),
    details: {},
  };
  const sessionId = fields.get('SessionID');
  if (sessionId) event.sessionId = detached(sessionId);
  const remote = parseSecurityAddress(fields.get('RemoteAddress'));
  if (remote) event.remote = remote;
  const local = parseSecurityAddress(fields.get('LocalAddress'));
  if (local) event.local = local;
  const eventTv = fields.get('EventTV');
  if (eventTv) event.eventTv = eventTv;
  for (const [key, value] of fields.fields) {
    // Asterisk's own spelling first: no lower-casing (a string per field) for the keys every event has.
    if (COMMON_SECURITY_FIELDS_AS_SENT.has(key) || COMMON_SECURITY_FIELDS.has(key.toLowerCase()) || key in event.details) continue;
    event.details[key] = value;
  }
  return event;
}

/**
 * A security event read straight from its text, line by line: only the values it keeps are cut
 * (a scan sends tens of thousands a second, and cutting every line into a field costs more than
 * judging the event). Undefined when a line is not as Asterisk writes it (then the fields decide).
 */
function securityEventOfText(kind: SecurityEventKind, text: string, at: number): SecurityEvent | undefined {
  const event: SecurityEvent = { type: 'security', at, kind, severity: '', service: '', accountId: '', details: {} };
  // The first value of each common key (by its place in COMMON_SECURITY_FIELDS_AS_SENT_LIST), as the fields' get() would answer.
  const common = NO_COMMON_VALUES.slice();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const lineStart = start;
    start = end + 1;
    if (lineEnd === lineStart) continue;
    const colon = text.indexOf(':', lineStart);
    if (colon <= lineStart || colon >= lineEnd) return undefined;
    const valueStart = text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
    const slot = commonSecurityField(text, lineStart, colon);
    if (slot >= 0) {
      common[slot] ??= text.slice(valueStart, lineEnd);
      continue;
    }
    if (slot === ANOTHER_SPELLING) return undefined;
    const key = text.slice(lineStart, colon);
    if (!(key in event.details)) event.details[key] = text.slice(valueStart, lineEnd);
  }
  event.severity = common[SEVERITY] ?? '';
  event.service = common[SERVICE] ?? '';
  event.accountId = detached(common[ACCOUNT_ID] ?? '');
  if (common[SESSION_ID]) event.sessionId = detached(common[SESSION_ID]);
  const remote = parseSecurityAddress(common[REMOTE_ADDRESS]);
  if (remote) event.remote = remote;
  const local = parseSecurityAddress(common[LOCAL_ADDRESS]);
  if (local) event.local = local;
  if (common[EVENT_TV]) event.eventTv = common[EVENT_TV];
  return event;
}

/** The place of the common key the line at `start` has as Asterisk spells it; ANOTHER_SPELLING for one spelt otherwise; -1 for any other key. Nothing is cut. */
function commonSecurityField(text: string, start: number, colon: number): number {
  const candidates = COMMON_SECURITY_SLOTS_BY_LENGTH[colon - start];
  if (candidates === undefined) return -1;
  for (const slot of candidates) if (text.startsWith(COMMON_SECURITY_FIELDS_AS_SENT_LIST[slot]!, start)) return slot;
  for (const slot of candidates) if (sameIgnoringCaseAt(text, start, COMMON_SECURITY_FIELDS_AS_SENT_LIST[slot]!)) return ANOTHER_SPELLING;
  return -1;
}

const COMMON_SECURITY_FIELDS_AS_SENT_LIST = ['Event', 'Privilege', 'Timestamp', 'EventTV', 'Severity', 'Service', 'EventVersion', 'AccountID', 'SessionID', 'LocalAddress', 'RemoteAddress'] as const;
const COMMON_SECURITY_FIELDS_AS_SENT: ReadonlySet<string> = new Set(COMMON_SECURITY_FIELDS_AS_SENT_LIST);
const [EVENT_TV, SEVERITY, SERVICE, ACCOUNT_ID, SESSION_ID, LOCAL_ADDRESS, REMOTE_ADDRESS] = ['EventTV', 'Severity', 'Service', 'AccountID', 'SessionID', 'LocalAddress', 'RemoteAddress'].map((key) =>
  COMMON_SECURITY_FIELDS_AS_SENT_LIST.indexOf(key as never),
) as [number, number, number, number, number, number, number];
const ANOTHER_SPELLING = -2;
const NO_COMMON_VALUES: (string | undefined)[] = COMMON_SECURITY_FIELDS_AS_SENT_LIST.map(() => undefined);
/** The common keys' places by length: a line's key is compared in place with the few of its length. */
const COMMON_SECURITY_SLOTS_BY_LENGTH: readonly (readonly number[] | undefined)[] = (() => {
  const byLength: number[][] = [];
  COMMON_SECURITY_FIELDS_AS_SENT_LIST.forEach((key, slot) => (byLength[key.length] ??= []).push(slot));
  return byLength;
})();
/** The common keys lower-cased (a key spelt otherwise is still one of them). */
const COMMON_SECURITY_FIELDS: ReadonlySet<string> = new Set(COMMON_SECURITY_FIELDS_AS_SENT_LIST.map((key) => key.toLowerCase()));

/**
 * The canonical source address of a RemoteAddress (`IPV4/UDP/203.0.113.9/5060`) as
 * parseSecurityAddress would give it, without building the rest: a waiting refusal is matched
 * by its address before it is read. '' when there is none.
 */
export function securitySourceOf(text: string | undefined): string {
  const bounds = text ? addressBounds(text) : undefined;
  if (!text || !bounds) return '';
  const sent = text.slice(bounds.second + 1, bounds.end);
  return normaliseIp(sent) ?? sent;
}

/** The canonical source address of a security event not yet read (see securitySourceOf). */
export function sourceOfSecurityEvent(message: AmiMessage): string {
  return securitySourceOf(message.peek('RemoteAddress'));
}

/** `IPV4/UDP/203.0.113.9/5060`, `IPV6/TCP/2001:db8::1/5061` → parts. */
export function parseSecurityAddress(text: string | undefined): SecurityAddress | undefined {
  const bounds = text ? addressBounds(text) : undefined;
  if (!text || !bounds) return undefined;
  const { first, second, end } = bounds;
  const family = known(text, 0, first, FAMILIES);
  const transport = known(text, first + 1, second, TRANSPORTS);
  const sent = text.slice(second + 1, end);
  // Canonical once here: every policy, the address memory and the log then compare plain strings.
  const canonical = normaliseIp(sent);
  const ip = canonical === undefined ? undefined : detached(canonical);
  const address: SecurityAddress = ip !== undefined ? { family, transport, ip } : { family, transport, ip: sent, invalid: true };
  if (end < text.length) address.port = Number(text.slice(end + 1));
  return address;
}

/**
 * Where the parts of a security address lie: the family before `first`, the transport up to
 * `second`, the address up to `end`, then the port (when the last part is numeric; IPv6
 * addresses have colons, never slashes). Found without splitting: every security event has one.
 */
function addressBounds(text: string): { first: number; second: number; end: number } | undefined {
  const first = text.indexOf('/');
  const second = first < 0 ? -1 : text.indexOf('/', first + 1);
  if (second < 0) return undefined;
  const last = text.lastIndexOf('/');
  const end = last > second && last + 1 < text.length && allDigits(text, last + 1) ? last : text.length;
  return { first, second, end };
}

const FAMILIES = ['IPV4', 'IPV6'];
const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'];

/** text[start, end) as one of `spellings` when it is one (no new string), else a copy. */
function known(text: string, start: number, end: number, spellings: readonly string[]): string {
  for (const spelling of spellings) if (spelling.length === end - start && text.startsWith(spelling, start)) return spelling;
  return text.slice(start, end);
}

function allDigits(text: string, from: number): boolean {
  for (let index = from; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

function setKnown(target: ChannelSnapshot, key: 'callerIdNum' | 'callerIdName' | 'connectedLineNum' | 'connectedLineName' | 'accountCode', value: string | undefined): void {
  // AMI writes a missing caller id as the literal `<unknown>`.
  if (value !== undefined && value !== '' && value !== '<unknown>') target[key] = value;
}

function toInt(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number.parseInt(text, 10);
  return Number.isFinite(value) ? value : fallback;
}
