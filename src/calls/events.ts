/**
 * Typed domain events: what the rest of Tollgate sees instead of raw AMI.
 * Produced by normalise.ts; consumed by the live call table, the policy engine and the CLI.
 */

/** One channel's identity and dialplan position, as carried by every AMI channel event. */
export interface ChannelSnapshot {
  channel: string;
  uniqueid: string;
  linkedid: string;
  /** Channel technology: `PJSIP`, `SIP`, `IAX2`, `Local`, … */
  tech: string;
  /** Endpoint / peer / trunk name from the channel name: `PJSIP/1001-00000003` → `1001`. */
  endpoint: string;
  /** `1` or `2` for the two halves of a Local channel. */
  localHalf?: 1 | 2;
  /** AMI ChannelState (0 Down, 4 Ring, 5 Ringing, 6 Up, …). */
  state: number;
  stateDesc: string;
  callerIdNum?: string;
  callerIdName?: string;
  connectedLineNum?: string;
  connectedLineName?: string;
  accountCode?: string;
  context: string;
  exten: string;
  /** `ChanVariable` values when manager.conf `channelvars` is set. */
  variables?: Record<string, string>;
}

export type CallEvent =
  | { type: 'channel.created'; at: number; channel: ChannelSnapshot }
  | { type: 'channel.updated'; at: number; channel: ChannelSnapshot; source: string }
  | { type: 'channel.state'; at: number; channel: ChannelSnapshot }
  | { type: 'dial.begin'; at: number; caller?: ChannelSnapshot; destination: ChannelSnapshot; dialString: string }
  | { type: 'dial.end'; at: number; caller?: ChannelSnapshot; destination: ChannelSnapshot; status: string }
  | { type: 'channel.hangup'; at: number; channel: ChannelSnapshot; cause: number; causeText: string; techCause?: string }
  | { type: 'cdr'; at: number; record: CdrRecord }
  | { type: 'ami.fullyBooted'; at: number }
  | { type: 'ami.shutdown'; at: number; restart: boolean };

export interface CdrRecord {
  uniqueid: string;
  channel: string;
  destinationChannel: string;
  source: string;
  destination: string;
  destinationContext: string;
  accountCode: string;
  disposition: string;
  durationSeconds: number;
  billableSeconds: number;
  startTime: string;
  answerTime: string;
  endTime: string;
}

/** Security event names Asterisk emits on the `security` class (each kind is its own event name). */
export const SECURITY_EVENT_KINDS = [
  'InvalidAccountID',
  'ChallengeResponseFailed',
  'ChallengeSent',
  'SuccessfulAuth',
  'FailedACL',
  'InvalidPassword',
  'RequestBadFormat',
  'RequestNotAllowed',
  'RequestNotSupported',
  'UnexpectedAddress',
  'AuthMethodNotAllowed',
  'InvalidTransport',
  'SessionLimit',
  'MemoryLimit',
  'LoadAverageLimit',
] as const;

export type SecurityEventKind = (typeof SECURITY_EVENT_KINDS)[number];

/** Kinds that mean "someone failed to authenticate or was refused". */
export const SECURITY_FAILURE_KINDS: ReadonlySet<SecurityEventKind> = new Set<SecurityEventKind>([
  'InvalidAccountID',
  'ChallengeResponseFailed',
  'FailedACL',
  'InvalidPassword',
  'RequestNotAllowed',
  'UnexpectedAddress',
  'AuthMethodNotAllowed',
  'InvalidTransport',
]);

/** `IPV4/UDP/203.0.113.9/5060` taken apart. */
export interface SecurityAddress {
  family: string;
  transport: string;
  /** Canonical text (normaliseIp: one spelling per address), or the text as sent when it is no address. */
  ip: string;
  /** The address part did not parse: `ip` is what Asterisk sent. */
  invalid?: true;
  port?: number;
}

export interface SecurityEvent {
  type: 'security';
  at: number;
  kind: SecurityEventKind;
  severity: string;
  /** `PJSIP`, `AMI`, `SIP`, `IAX2`, … */
  service: string;
  accountId: string;
  sessionId?: string;
  remote?: SecurityAddress;
  local?: SecurityAddress;
  /** Asterisk's own time of the event (ISO 8601, server local time with offset). */
  eventTv?: string;
  /** Every other field of the event (Challenge, UsingPassword, ACLName, RequestType, …). */
  details: Record<string, string>;
}

/**
 * A phone's registration seen on AMI: PJSIP's ContactStatus (the contact URI carries the address
 * the phone registered from, with `rewrite_contact`) or chan_sip's PeerStatus (`Address`).
 */
export interface RegistrationEvent {
  type: 'registration';
  at: number;
  /** `PJSIP`, `SIP`, `IAX2`. */
  service: string;
  endpoint: string;
  /** Created, Updated, Removed, Reachable, Unreachable, NonQualified (PJSIP); Registered, Unregistered, Reachable … (chan_sip). */
  status: string;
  /** The contact's address when it is an IP literal (host names are not addresses to remember). */
  ip?: string;
  port?: number;
  uri?: string;
}

/**
 * One registered contact as PJSIPShowContacts lists it (`ContactList`) or PJSIPShowEndpoint does
 * (`ContactStatusDetail`): the registration's User-Agent, the address of its last Via, its Call-ID.
 * Asterisk's events carry none of these; the agent asks after each registration (calls/contacts.ts).
 */
export interface ContactEvent {
  type: 'contact';
  at: number;
  service: 'PJSIP';
  endpoint: string;
  uri: string;
  /** The User-Agent header of the REGISTER (empty when the phone sent none). */
  userAgent: string;
  /** The contact's address: the last Via's, else the URI's host (IP literals only). */
  ip?: string;
  port?: number;
  callId?: string;
  /** When the registration expires (ms since epoch), as Asterisk reports it. */
  expiresAt?: number;
  status: string;
}

export type DomainEvent = CallEvent | SecurityEvent | RegistrationEvent | ContactEvent;
