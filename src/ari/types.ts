/**
 * ARI data shapes, typed from what Asterisk 22.10.1 actually sends (test/fixtures/ari/) and the
 * ARI data models. Parsers keep every field Asterisk sends, check the ones Tollgate relies on and
 * fill absent optional parts with empty values, so consumers get total objects.
 */

/** `ast_state2str()` values. ARI's model lists `Rsrved`; the C code prints `Rsrvd`. */
export type AriChannelState =
  | 'Down'
  | 'Rsrvd'
  | 'Rsrved'
  | 'OffHook'
  | 'Dialing'
  | 'Ring'
  | 'Ringing'
  | 'Up'
  | 'Busy'
  | 'Dialing Offhook'
  | 'Pre-ring'
  | 'Unknown';

export interface AriCallerId {
  name: string;
  number: string;
}

/** Where the channel is in the dialplan (ARI's `DialplanCEP`). */
export interface AriDialplan {
  context: string;
  /** Empty on a carrier leg created by Dial (`from-carrier`, app `AppDial`). */
  exten: string;
  priority: number;
  app_name: string;
  app_data: string;
}

/** One channel (`GET /ari/channels`, and inside channel events). */
export interface AriChannel {
  /** The channel's Uniqueid (`1795258862.6`). */
  id: string;
  /** `PJSIP/1001-00000006`, `Local/00252615123456@from-internal-00000000;2`. */
  name: string;
  state: AriChannelState | (string & {});
  /** SIP Call-ID for PJSIP channels; empty for Local channels. */
  protocol_id?: string;
  caller: AriCallerId;
  connected: AriCallerId;
  accountcode: string;
  dialplan: AriDialplan;
  /** `2026-11-21T11:01:02.726+0000`. */
  creationtime: string;
  language: string;
  /** Only when ari.conf/`channelvars` asks for them. */
  channelvars?: Record<string, string>;
  caller_rdnis?: string;
  tenantid?: string;
  [field: string]: unknown;
}

/** Every event has these (ARI's `Message` + `Event`). Unknown event types arrive as this shape. */
export interface AriEventBase {
  type: string;
  /** The Stasis application the event was sent for. */
  application: string;
  /** `2026-11-21T11:01:49.120+0000`. */
  timestamp: string;
  asterisk_id?: string;
  [field: string]: unknown;
}

export interface ChannelCreatedEvent extends AriEventBase {
  type: 'ChannelCreated';
  channel: AriChannel;
}

export interface ChannelDestroyedEvent extends AriEventBase {
  type: 'ChannelDestroyed';
  /** Q.850 cause: 21 after `DELETE …?reason_code=21`, 34 after `reason=congestion`, 16 for a normal clearing. */
  cause: number;
  /** Asterisk's text for the cause (`Call Rejected`). */
  cause_txt: string;
  /** Technology cause (SIP response), on releases that report it; not verified on ARI for 22.10.1. */
  tech_cause?: number;
  channel: AriChannel;
}

export interface ChannelStateChangeEvent extends AriEventBase {
  type: 'ChannelStateChange';
  channel: AriChannel;
}

export interface ChannelHangupRequestEvent extends AriEventBase {
  type: 'ChannelHangupRequest';
  cause?: number;
  soft?: boolean;
  channel: AriChannel;
}

export interface StasisStartEvent extends AriEventBase {
  type: 'StasisStart';
  /** Arguments of `Stasis(app,arg1,…)`. */
  args: string[];
  channel: AriChannel;
  replace_channel?: AriChannel;
}

export interface StasisEndEvent extends AriEventBase {
  type: 'StasisEnd';
  channel: AriChannel;
}

export type AriEvent = AriEventBase;

/** Event types that AriEvents also emits under their own name, fully typed. */
export interface AriTypedEvents {
  ChannelCreated: ChannelCreatedEvent;
  ChannelDestroyed: ChannelDestroyedEvent;
  ChannelStateChange: ChannelStateChangeEvent;
  ChannelHangupRequest: ChannelHangupRequestEvent;
  StasisStart: StasisStartEvent;
  StasisEnd: StasisEndEvent;
}

export type AriTypedEventName = keyof AriTypedEvents;

export const ARI_TYPED_EVENT_NAMES: readonly AriTypedEventName[] = [
  'ChannelCreated',
  'ChannelDestroyed',
  'ChannelStateChange',
  'ChannelHangupRequest',
  'StasisStart',
  'StasisEnd',
];

/**
 * The `reason` values `DELETE /ari/channels/{id}` accepts and the Q.850 cause Asterisk sets for
 * each (res/ari/resource_channels.c, `convert_reason_to_hangup_code`).
 */
export const ARI_HANGUP_REASONS = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
} as const satisfies Record<string, number>;

export type AriHangupReason = keyof typeof ARI_HANGUP_REASONS;

export function isAriHangupReason(value: unknown): value is AriHangupReason {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ARI_HANGUP_REASONS, value);
}

// ───────────────────────────── parsing ─────────────────────────────

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function callerId(value: unknown): AriCallerId {
  const record = isRecord(value) ? value : {};
  return { ...record, name: text(record.name), number: text(record.number) };
}

function dialplan(value: unknown): AriDialplan {
  const record = isRecord(value) ? value : {};
  const priority = typeof record.priority === 'number' ? record.priority : Number(record.priority ?? 0);
  return {
    ...record,
    context: text(record.context),
    exten: text(record.exten),
    priority: Number.isFinite(priority) ? priority : 0,
    app_name: text(record.app_name),
    app_data: text(record.app_data),
  };
}

/**
 * A channel object as ARI sends it, or undefined when it lacks a string `id` or `name` (the two
 * fields nothing can do without). Every other field Asterisk sent is kept.
 */
export function parseAriChannel(value: unknown): AriChannel | undefined {
  if (!isRecord(value) || typeof value.id !== 'string' || value.id === '' || typeof value.name !== 'string') return undefined;
  return {
    ...value,
    id: value.id,
    name: value.name,
    state: text(value.state, 'Unknown'),
    caller: callerId(value.caller),
    connected: callerId(value.connected),
    accountcode: text(value.accountcode),
    dialplan: dialplan(value.dialplan),
    creationtime: text(value.creationtime),
    language: text(value.language),
  };
}

export type AriFrame = { ok: true; event: AriEvent } | { ok: false; reason: string; sample: string };

function sampleOf(raw: string): string {
  const cut = raw.length > 120 ? `${raw.slice(0, 120)}…` : raw;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** One WebSocket frame → an event, or the reason it is not one. Never throws. */
export function parseAriFrame(data: Buffer | string, isBinary = false): AriFrame {
  if (isBinary) return { ok: false, reason: 'binary frame', sample: sampleOf(Buffer.isBuffer(data) ? data.toString('hex') : data) };
  const raw = Buffer.isBuffer(data) ? data.toString('utf8') : data;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { ok: false, reason: 'not JSON', sample: sampleOf(raw) };
  }
  if (!isRecord(parsed)) return { ok: false, reason: 'not a JSON object', sample: sampleOf(raw) };
  if (typeof parsed.type !== 'string' || parsed.type === '') return { ok: false, reason: 'no event type', sample: sampleOf(raw) };
  return {
    ok: true,
    event: { ...parsed, type: parsed.type, application: text(parsed.application), timestamp: text(parsed.timestamp) },
  };
}

/**
 * Checks and normalises the fields of the event types Tollgate emits by name. Returns the typed
 * event, undefined for other types, or a string saying what is wrong.
 */
export function typedAriEvent(event: AriEvent): AriTypedEvents[AriTypedEventName] | string | undefined {
  if (!(ARI_TYPED_EVENT_NAMES as readonly string[]).includes(event.type)) return undefined;
  const channel = parseAriChannel(event.channel);
  if (!channel) return `${event.type} without a channel id and name`;
  switch (event.type as AriTypedEventName) {
    case 'ChannelDestroyed': {
      const cause = typeof event.cause === 'number' ? event.cause : Number(event.cause);
      if (!Number.isInteger(cause)) return 'ChannelDestroyed without a numeric cause';
      return { ...event, type: 'ChannelDestroyed', cause, cause_txt: text(event.cause_txt), channel };
    }
    case 'StasisStart': {
      const args = Array.isArray(event.args) ? event.args.map((arg) => String(arg)) : [];
      const replace = event.replace_channel === undefined ? undefined : parseAriChannel(event.replace_channel);
      return { ...event, type: 'StasisStart', args, channel, ...(replace ? { replace_channel: replace } : {}) };
    }
    default:
      return { ...event, channel } as AriTypedEvents[AriTypedEventName];
  }
}
