/**
 * Dial strings and channel names as they appear in AMI, taken apart.
 *
 *   PJSIP/0044123@carrier          tech PJSIP, number 0044123, endpoint carrier
 *   011535551234@carrier           (DialBegin's DialString carries no tech) same shape
 *   PJSIP/carrier/sip:0044…@host   endpoint carrier, number from the URI's user part
 *   SIP/trunk/011…   IAX2/trunk/011…   DAHDI/g1/011…   endpoint/group then number
 *   SIP/011…@trunk                 chan_sip's number@peer form
 *   IAX2/user:secret@host/011…@ctx  credentials dropped (never logged), number 011…
 *   Local/00252615123456@from-internal   number and dialplan context
 *   PJSIP/1001                     a device dial: endpoint 1001, no number
 */
export interface DialTarget {
  /** Channel technology when the string names it (`PJSIP`, `SIP`, `IAX2`, `Local`, …). */
  tech?: string;
  /** The dialled digits (may include `+`, `*`, `#`), when the string carries them. */
  number?: string;
  /** The endpoint, peer, trunk or DAHDI group the call is sent through. */
  endpoint?: string;
  /** Host of a SIP URI or IAX2 peer address. */
  host?: string;
  /** Dialplan context of a Local channel. */
  context?: string;
}

const TECH = /^([A-Za-z][A-Za-z0-9_]*)\/(.*)$/;
const SIP_URI = /^sips?:([^@;>]*)@([^;>]*)/i;

/**
 * Parses one dial target. `defaultTech` is used when the string has none (DialBegin's DialString
 * omits it; take it from the DestChannel name). Dial() options after the first `,` are ignored.
 */
export function parseDialString(raw: string, defaultTech?: string): DialTarget {
  let rest = raw.trim();
  const comma = rest.indexOf(',');
  if (comma >= 0) rest = rest.slice(0, comma);
  let tech = defaultTech;
  const techMatch = TECH.exec(rest);
  // `carrier/sip:…` has a slash too: only a known-looking tech before the first slash counts.
  if (techMatch && isTech(techMatch[1]!)) {
    tech = techMatch[1]!;
    rest = techMatch[2]!;
  }
  const target: DialTarget = {};
  if (tech) target.tech = tech;
  if (rest.length === 0) return target;
  const techUpper = tech?.toUpperCase();

  if (techUpper === 'LOCAL') {
    const at = rest.indexOf('@');
    const exten = at >= 0 ? rest.slice(0, at) : rest;
    // `Local/x@ctx-00000000;1` is a channel name: drop the instance suffix.
    const context = at >= 0 ? rest.slice(at + 1).replace(/-[0-9a-f]{8};[12]$/, '').replace(/\/.*$/, '') : undefined;
    setNumber(target, exten);
    if (context) target.context = context;
    return target;
  }

  // endpoint/sip:user@host (PJSIP with an explicit URI) or a bare SIP URI.
  const slash = rest.indexOf('/');
  const uriPart = slash >= 0 && /^sips?:/i.test(rest.slice(slash + 1)) ? rest.slice(slash + 1) : /^sips?:/i.test(rest) ? rest : undefined;
  if (uriPart !== undefined) {
    if (slash >= 0 && uriPart !== rest) target.endpoint = rest.slice(0, slash);
    const uri = SIP_URI.exec(uriPart);
    if (uri) {
      setNumber(target, uri[1]!);
      target.host = uri[2]!;
    } else {
      const hostOnly = uriPart.replace(/^sips?:/i, '');
      target.host = hostOnly;
    }
    return target;
  }

  if (techUpper === 'PJSIP' || (tech === undefined && slash < 0)) {
    // PJSIP: number@endpoint, or a bare endpoint.
    const at = rest.indexOf('@');
    if (at >= 0) {
      setNumber(target, rest.slice(0, at));
      target.endpoint = rest.slice(at + 1).split('/')[0]!;
    } else {
      target.endpoint = rest;
    }
    return target;
  }

  // chan_sip's usual form `SIP/number@peer[:port]` (chan_sip has no credentials syntax; IAX2 does).
  if (techUpper === 'SIP' && slash < 0 && rest.includes('@')) {
    const at = rest.indexOf('@');
    setNumber(target, rest.slice(0, at));
    target.endpoint = rest.slice(at + 1);
    return target;
  }

  // SIP / IAX2 / DAHDI / others: [credentials@]peer[/number[@context]]
  let peer = slash >= 0 ? rest.slice(0, slash) : rest;
  const after = slash >= 0 ? rest.slice(slash + 1) : undefined;
  const credentials = peer.lastIndexOf('@');
  if (credentials >= 0) {
    // IAX2/user:secret@host — keep the host, never the secret.
    target.host = peer.slice(credentials + 1);
    peer = target.host;
  }
  target.endpoint = peer;
  if (after !== undefined) {
    const at = after.indexOf('@');
    const exten = at >= 0 ? after.slice(0, at) : after;
    if (at >= 0) target.context = after.slice(at + 1);
    setNumber(target, exten);
  }
  return target;
}

/** Splits `Dial()` data with several devices (`PJSIP/a&PJSIP/b,30`) into single targets. */
export function splitDialTargets(appData: string): string[] {
  const comma = appData.indexOf(',');
  const devices = comma >= 0 ? appData.slice(0, comma) : appData;
  return devices.split('&').map((device) => device.trim()).filter((device) => device.length > 0);
}

export interface ChannelName {
  tech: string;
  /** Endpoint / peer / trunk name: `PJSIP/1001-00000003` → `1001`. For Local: `exten@context`. */
  endpoint: string;
  /** Local channel half (`;1` or `;2`), when the channel is a Local channel. */
  localHalf?: 1 | 2;
}

/**
 * Parses a channel name such as `PJSIP/1001-00000003`, `SIP/trunk-0000a1b2`, `IAX2/peer-1234`,
 * `DAHDI/1-1`, `Local/00252615123456@from-internal-00000000;1`.
 */
export function parseChannelName(channel: string): ChannelName | undefined {
  const slash = channel.indexOf('/');
  if (slash <= 0) return undefined;
  // Every channel of an event is parsed: indexes into the name, one slice for the endpoint.
  const tech = commonTech(channel, slash) ?? channel.slice(0, slash);
  const restStart = slash + 1;
  let end = channel.length;
  let localHalf: 1 | 2 | undefined;
  if (end - restStart >= 2 && channel.charCodeAt(end - 2) === SEMICOLON) {
    const digit = channel.charCodeAt(end - 1);
    if (digit === ONE || digit === TWO) {
      localHalf = digit === ONE ? 1 : 2;
      end -= 2;
    }
  }
  // Asterisk appends `-<sequence>` (hex for most techs, digits for DAHDI) to the endpoint name.
  const dash = end > restStart ? channel.lastIndexOf('-', end - 1) : -1;
  const endpoint = dash > restStart ? channel.slice(restStart, dash) : channel.slice(restStart, end);
  const name: ChannelName = { tech, endpoint };
  if (localHalf !== undefined) name.localHalf = localHalf;
  return name;
}

const SEMICOLON = 0x3b;
const ONE = 0x31;
const TWO = 0x32;
/** The usual technologies, shared: a channel's tech is then no new string. */
const COMMON_TECHS = ['PJSIP', 'SIP', 'IAX2', 'DAHDI', 'Local'];

function commonTech(channel: string, slash: number): string | undefined {
  for (const tech of COMMON_TECHS) if (tech.length === slash && channel.startsWith(tech)) return tech;
  return undefined;
}

function setNumber(target: DialTarget, candidate: string): void {
  const number = decodeURIComponentSafe(candidate).trim();
  if (number.length > 0) target.number = number;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function isTech(candidate: string): boolean {
  // Channel technologies are short identifiers; SIP URIs and endpoint names with digits-only are not.
  return /^(PJSIP|SIP|IAX2|DAHDI|Local|Motif|ooh323|H323|MGCP|Skinny|UNISTIM|WebSocket|Console|Multicast|UnicastRTP|Bridge|Message|Recorder|Announcer|Surrogate|CBAnn|CBRec|Snoop|AudioSocket|dongle|Dongle|Zap|mISDN|Agent)$/i.test(
    candidate,
  );
}
