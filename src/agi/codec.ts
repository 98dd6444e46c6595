/**
 * The Asterisk Gateway Interface (AGI) on the wire, pure: no sockets, no timers.
 *
 * A FastAGI session: Asterisk connects, sends its environment (`agi_name: value` lines, then an
 * empty line), and then waits for commands, one line each; every command gets one reply line —
 * `200 result=<n> [(data)] [endpos=…]`, `510 Invalid or unknown command`, `511 Command Not Permitted
 * on a dead channel or intercepted channel`, or a multi-line `520-…` usage block ending `520 …`.
 * When the channel hangs up during the session Asterisk writes `HANGUP` on a line of its own.
 */

export type AgiEnvironment = Readonly<Record<string, string>>;

export interface AgiReply {
  code: number;
  /** `result=` value (`1`, `-1`, `0`); undefined for 5xx replies without one. */
  result?: string;
  /** The text in parentheses after the result (the variable's value for GET VARIABLE). */
  data?: string;
  /** The whole reply, for errors and logs. */
  text: string;
}

/** One unit the reader produced: the environment (once), a reply, or Asterisk's HANGUP notice. */
export type AgiFrame = { type: 'environment'; environment: AgiEnvironment } | { type: 'reply'; reply: AgiReply } | { type: 'hangup' } | { type: 'garbage'; line: string };

/** Longest line accepted; Asterisk's own lines are short (its AGI buffer is 2 KiB). */
const MAX_LINE = 8192;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;
const AGI_PREFIX = Buffer.from('agi_');

/** What push() returns when no line was completed (most chunks of a slow sender; never changed). */
const NO_FRAMES: readonly AgiFrame[] = Object.freeze([]);

/**
 * Streaming reader: bytes in any chunks, `\n` or `\r\n`, frames out. The environment comes first;
 * after it every line is a reply, a usage block or HANGUP.
 *
 * Lines are read in the bytes: each value becomes a string of its own, not a slice of the chunk,
 * which would keep the whole environment block alive as long as any value is (a call's channel
 * and unique id are kept for seconds after it ends), and a chunk is not re-sliced per line.
 */
export class AgiReader {
  /** The bytes of an unfinished line (a copy: never a view that would hold a whole read). */
  private partial: Buffer | undefined;
  private environment: Record<string, string> | undefined = {};
  private usage: string[] | undefined;

  push(chunk: Buffer | string): readonly AgiFrame[] {
    const received = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const bytes = this.partial === undefined ? received : Buffer.concat([this.partial, received]);
    this.partial = undefined;
    let frames: AgiFrame[] | undefined;
    let start = 0;
    for (let newline = bytes.indexOf(NEWLINE); newline >= 0; newline = bytes.indexOf(NEWLINE, start)) {
      const end = newline > start && bytes[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      const frame = this.line(bytes, start, end);
      if (frame) (frames ??= []).push(frame);
      start = newline + 1;
    }
    if (start < bytes.length) {
      if (bytes.length - start > MAX_LINE) {
        const sample = bytes.toString('utf8', start, start + 80);
        (frames ??= []).push({ type: 'garbage', line: `${sample}… (${bytes.length - start} bytes without a newline)` });
      } else {
        this.partial = Buffer.from(bytes.subarray(start));
      }
    }
    return frames ?? NO_FRAMES;
  }

  private line(bytes: Buffer, start: number, end: number): AgiFrame | undefined {
    if (this.environment !== undefined) return this.environmentLine(bytes, start, end);
    const line = bytes.toString('utf8', start, end);
    if (line === 'HANGUP') return { type: 'hangup' };
    if (this.usage !== undefined) {
      this.usage.push(line);
      if (line.startsWith('520 ')) {
        const text = this.usage.join('\n');
        this.usage = undefined;
        return { type: 'reply', reply: { code: 520, text } };
      }
      return undefined;
    }
    if (line.startsWith('520-')) {
      this.usage = [line];
      return undefined;
    }
    if (line === '') return undefined;
    const reply = parseReply(line);
    return reply ? { type: 'reply', reply } : { type: 'garbage', line };
  }

  /** `agi_name: value`, or the empty line that ends the block. */
  private environmentLine(bytes: Buffer, start: number, end: number): AgiFrame | undefined {
    const environment = this.environment!;
    if (start === end) {
      this.environment = undefined;
      return { type: 'environment', environment };
    }
    const colon = bytes.indexOf(COLON, start);
    if (end - start < AGI_PREFIX.length || colon <= start || colon >= end || bytes.compare(AGI_PREFIX, 0, AGI_PREFIX.length, start, start + AGI_PREFIX.length) !== 0) {
      return { type: 'garbage', line: bytes.toString('utf8', start, end) };
    }
    let nameEnd = colon;
    while (nameEnd > start && isBlank(bytes[nameEnd - 1]!)) nameEnd--;
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && isBlank(bytes[valueStart]!)) valueStart++;
    while (valueEnd > valueStart && isBlank(bytes[valueEnd - 1]!)) valueEnd--;
    environment[bytes.toString('latin1', start, nameEnd)] = bytes.toString('utf8', valueStart, valueEnd);
    return undefined;
  }
}

function isBlank(byte: number): boolean {
  return byte === SPACE || byte === TAB || byte === CARRIAGE_RETURN;
}

const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * `200 result=1 (1795259065.0)` → code, result, data. That is: three digits, then a space or `-`
 * and the rest; in the rest, `result=<integer>` at its start or after a blank, optionally followed
 * by blanks and `(data)` (up to the line's last `)`).
 */
export function parseReply(line: string): AgiReply | undefined {
  if (line.length < 3 || !isDigit(line, 0) || !isDigit(line, 1) || !isDigit(line, 2)) return undefined;
  if (line.length > 3 && line[3] !== ' ' && line[3] !== '-') return undefined;
  const code = (line.charCodeAt(0) - DIGIT_0) * 100 + (line.charCodeAt(1) - DIGIT_0) * 10 + (line.charCodeAt(2) - DIGIT_0);
  const reply: AgiReply = { code, text: line };
  const result = resultOf(line);
  if (result) {
    reply.result = result.value;
    if (result.data !== undefined) reply.data = result.data;
  }
  return reply;
}

function isDigit(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= DIGIT_0 && code <= DIGIT_9;
}

/** The first `result=<integer>` of a reply's rest (from index 4) and the `(data)` after it. */
function resultOf(line: string): { value: string; data: string | undefined } | undefined {
  for (let at = line.indexOf('result=', 4); at >= 0; at = line.indexOf('result=', at + 1)) {
    if (at !== 4 && !/\s/.test(line[at - 1]!)) continue;
    const digitsStart = at + 'result='.length;
    let digitsEnd = digitsStart + (line[digitsStart] === '-' ? 1 : 0);
    const firstDigit = digitsEnd;
    while (digitsEnd < line.length && isDigit(line, digitsEnd)) digitsEnd++;
    if (digitsEnd === firstDigit) continue;
    const value = line.slice(digitsStart, digitsEnd);
    let open = digitsEnd;
    while (open < line.length && /\s/.test(line[open]!)) open++;
    const close = line.lastIndexOf(')');
    const data = open > digitsEnd && line[open] === '(' && close > open ? line.slice(open + 1, close) : undefined;
    return { value, data };
  }
  return undefined;
}

/**
 * One command line. Arguments are quoted when they need it (spaces, quotes, backslashes, empty),
 * with `"` and `\` escaped as Asterisk's argument parser expects; CR/LF can never end a command
 * early: they are removed.
 */
export function formatCommand(command: string, ...args: string[]): string {
  let line = withoutLineBreaks(command);
  for (const arg of args) line += ` ${quoteArgument(arg)}`;
  return `${line}\n`;
}

const LINE_BREAK = /[\r\n]/;
const LINE_BREAKS = /[\r\n]/g;
const PLAIN_ARGUMENT = /^[^\s"\\]+$/;
const ESCAPED = /[\\"]/g;

function withoutLineBreaks(text: string): string {
  return LINE_BREAK.test(text) ? text.replace(LINE_BREAKS, ' ') : text;
}

function quoteArgument(value: string): string {
  const clean = withoutLineBreaks(value);
  if (clean !== '' && PLAIN_ARGUMENT.test(clean)) return clean;
  return `"${clean.replace(ESCAPED, '\\$&')}"`;
}
