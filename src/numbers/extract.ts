/**
 * Gets the dialled number out of whatever a PBX event carries: bare digits (`9011441234…`), E.164
 * (`+44…`), `tel:` and `sip:` URIs, and AMI dial strings (`PJSIP/0044…@carrier`,
 * `PJSIP/carrier/sip:0044…@host`, `SIP/trunk/011…`, `IAX2/…`, `Local/…@ctx`). Never throws: bad input
 * comes back as `{ ok: false, problem }`.
 */
import { parseDialString } from './dialstring.js';

export type ExtractedNumber =
  | {
      ok: true;
      /** ASCII digits with an optional leading `+`, and `*` / `#` for feature codes. */
      number: string;
      /** Where the number came from. `device`: a dial string naming only an endpoint (`PJSIP/1001`). */
      via: 'plain' | 'tel' | 'sip' | 'dialstring' | 'device';
    }
  | { ok: false; problem: string };

/** Longer input is not a dial string; refuse it before doing any work on it. */
const MAX_INPUT_LENGTH = 256;

const VISUAL_SEPARATORS = /[\s\-.()]/g;
const HAS_VISUAL_SEPARATOR = /[\s\-.()]/;

export function extractDialledNumber(input: unknown): ExtractedNumber {
  if (typeof input !== 'string') return { ok: false, problem: `not a string (${input === null ? 'null' : typeof input})` };
  let text = input.trim();
  if (text.length === 0) return { ok: false, problem: 'empty dialled string' };
  if (text.length > MAX_INPUT_LENGTH) return { ok: false, problem: `dialled string too long (${text.length} characters)` };

  // `"Bob" <sip:+44…@host>`: a name-addr; only the URI between the brackets matters.
  const bracketed = /<([^<>]*)>/.exec(text);
  if (bracketed) text = bracketed[1]!.trim();

  if (/^tel:/i.test(text)) {
    // RFC 3966: parameters (`;ext=`, `;phone-context=`) follow the number.
    const number = text.slice(4).split(';')[0]!;
    return cleanNumber(number, 'tel', text);
  }

  if (/^sips?:/i.test(text)) {
    const afterScheme = text.slice(text.indexOf(':') + 1);
    const at = afterScheme.indexOf('@');
    if (at < 0) return { ok: false, problem: `SIP URI "${text}" has no user part (no number)` };
    const user = decodePercent(afterScheme.slice(0, at).split(';')[0]!);
    if (user.length === 0) return { ok: false, problem: `SIP URI "${text}" has an empty user part` };
    return cleanNumber(user, 'sip', user);
  }

  if (text.includes('/') || text.includes('@')) {
    const target = parseDialString(text);
    if (target.number !== undefined) return cleanNumber(target.number, 'dialstring', target.number);
    // `PJSIP/1001`: a device dial; the endpoint name is the extension when it is all digits.
    if (target.endpoint !== undefined && /^[0-9]+$/.test(target.endpoint)) return { ok: true, number: target.endpoint, via: 'device' };
    const named = target.endpoint ?? target.host;
    return { ok: false, problem: named ? `dial string "${text}" names endpoint "${named}" but no number` : `dial string "${text}" carries no number` };
  }

  return cleanNumber(text, 'plain', text);
}

/** `source`: what the problem quotes (the URI for `tel`, else the raw number), described only when there is a problem. */
function cleanNumber(raw: string, via: 'plain' | 'tel' | 'sip' | 'dialstring', source: string): ExtractedNumber {
  // Most numbers have no separators: no copy of them then.
  const number = HAS_VISUAL_SEPARATOR.test(raw) ? raw.replace(VISUAL_SEPARATORS, '') : raw;
  if (number.length === 0 || number === '+') return { ok: false, problem: `${describeSource(via, source)} contains no digits` };
  if (/^\+?[0-9*#]+$/.test(number)) return { ok: true, number, via };
  return { ok: false, problem: `${describeSource(via, source)} ${describeBadCharacter(number)}` };
}

function describeSource(via: 'plain' | 'tel' | 'sip' | 'dialstring', source: string): string {
  switch (via) {
    case 'tel':
      return `tel: URI "${source}"`;
    case 'sip':
      return `SIP URI user part "${source}"`;
    case 'dialstring':
      return `number "${source}" in dial string`;
    case 'plain':
      return `"${source}"`;
  }
}

function describeBadCharacter(number: string): string {
  for (const char of number) {
    if (/[0-9*#]/.test(char)) continue;
    const codePoint = `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    // Asterisk only ever dials ASCII digits; Arabic-Indic or full-width digits mean a forged or broken string.
    if (/\p{Nd}/u.test(char)) return `contains a non-ASCII digit '${char}' (${codePoint})`;
    if (char === '+') return "has a '+' that is not at the start";
    if (char === '\uFF0B') return `contains a full-width plus sign (${codePoint})`;
    if (/\p{L}/u.test(char)) return `contains letters ('${char}')`;
    return `contains an unexpected character '${char}' (${codePoint})`;
  }
  return 'is not a number';
}

function decodePercent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
