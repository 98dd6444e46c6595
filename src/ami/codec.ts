/**
 * AMI wire codec: bytes ⇄ messages. Pure — no sockets, no timers, no logging.
 *
 * The decoder takes bytes in chunks of any size (one byte at a time works) and returns complete
 * frames: the banner line, messages, and "garbage" frames for input that is not AMI, so a caller
 * can count and report bad input without losing the good messages around it. Accepts `\r\n` and
 * bare `\n` line ends, and the legacy `Response: Follows … --END COMMAND--` answer of Asterisk ≤ 13.
 */
import { StringDecoder } from 'node:string_decoder';
import { AmiMessage, detached, fieldOfLine, type AmiField } from './message.js';

export { AmiMessage, type AmiField } from './message.js';

export type AmiFrame =
  | { type: 'banner'; version: string; line: string }
  | { type: 'message'; message: AmiMessage }
  /** An event the caller asked not to read (skipEvent): only its name. */
  | { type: 'skipped'; name: string }
  | { type: 'garbage'; reason: string; sample: string };

export interface AmiDecoderOptions {
  /**
   * Largest message accepted, in characters. A larger one is dropped (reported as garbage) and
   * decoding resumes at the next blank line, so a runaway peer cannot grow memory without bound.
   * @default 1_048_576
   */
  maxMessageChars?: number;
  /**
   * Events not worth reading now, by name (a flood the consumer would shed anyway): their other
   * lines are passed over without being cut into fields, and a `skipped` frame says which.
   */
  skipEvent?: (name: string) => boolean;
  /**
   * Events to keep uncut for now, by name (a scan's refusals, most of which wait and many are
   * shed): their lines are kept as one string and cut into fields only when one is read (see
   * AmiMessage.deferred). Checked after skipEvent.
   */
  deferEvent?: (name: string) => boolean;
}

export interface AmiDecoderStats {
  bytes: number;
  messages: number;
  garbage: number;
  banners: number;
}

const BANNER = /^Asterisk Call Manager\/(\S+)/;
const END_COMMAND = '--END COMMAND--';
const FOLLOWS_HEADER = /^(Privilege|ActionID|Message):/i;
const SAMPLE_CHARS = 120;

type Mode = 'fields' | 'followsHeaders' | 'followsOutput' | 'followsDone' | 'skipping' | 'deferring';

export class AmiDecoder {
  readonly stats: AmiDecoderStats = { bytes: 0, messages: 0, garbage: 0, banners: 0 };
  private readonly maxMessageChars: number;
  private readonly text = new StringDecoder('utf8');
  private buffer = '';
  private mode: Mode = 'fields';
  private fields: AmiField[] = [];
  private unparsed: string[] = [];
  private output: string[] = [];
  private messageChars = 0;
  private garbageLines: string[] = [];

  /** See AmiDecoderOptions.skipEvent; may be changed between chunks. */
  skipEvent: ((name: string) => boolean) | undefined;
  /** See AmiDecoderOptions.deferEvent; may be changed between chunks. */
  deferEvent: ((name: string) => boolean) | undefined;
  /** Where the line being read starts in the buffer (a deferred event's text starts at its Event line). */
  private lineStart = 0;
  /** The deferred event being read: its name, where its text starts in the buffer, and its text from earlier chunks. */
  private deferredName = '';
  private deferredStart = 0;
  private deferredHead = '';

  constructor(options: AmiDecoderOptions = {}) {
    this.maxMessageChars = options.maxMessageChars ?? 1_048_576;
    this.skipEvent = options.skipEvent;
    this.deferEvent = options.deferEvent;
  }

  /** Feeds bytes; returns every frame they complete, in order. */
  push(chunk: Buffer | string): AmiFrame[] {
    const frames: AmiFrame[] = [];
    if (typeof chunk === 'string') {
      this.stats.bytes += Buffer.byteLength(chunk);
      this.buffer += chunk;
    } else {
      this.stats.bytes += chunk.length;
      this.buffer += this.text.write(chunk);
    }
    const buffer = this.buffer;
    let start = 0;
    let newline = buffer.indexOf('\n', start);
    while (newline >= 0) {
      const end = newline > start && buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      if (this.mode === 'skipping') {
        // Passing over a message: only its end (a blank line) matters; no string is cut.
        if (end === start) this.mode = 'fields';
      } else if (this.mode === 'deferring') {
        // Keeping a message whole: its end is found, its size counted; no string is cut until then.
        if (end === start) this.finishDeferred(buffer.slice(this.deferredStart, start), frames);
        else this.grow(newline + 1 - start, frames);
      } else {
        this.lineStart = start;
        this.line(buffer.slice(start, end), newline + 1 - start, frames);
      }
      start = newline + 1;
      newline = buffer.indexOf('\n', start);
    }
    if (this.mode === 'deferring') {
      // The event goes on in the next chunk: what it has so far is kept, the buffer restarts after it.
      this.deferredHead = detached(this.deferredHead + buffer.slice(this.deferredStart, start));
      this.deferredStart = 0;
    }
    // The unfinished rest as a copy: a slice would keep this whole read alive until the next one.
    this.buffer = start === 0 ? buffer : detached(buffer.slice(start));
    if (this.buffer.length > this.maxMessageChars) {
      // One endless line: drop it and everything up to the next blank line.
      this.tooLong(frames);
      this.buffer = '';
    }
    return frames;
  }

  /** True while a message has started but not ended (used to detect a peer closing mid-message). */
  get midMessage(): boolean {
    return this.buffer.length > 0 || this.fields.length > 0 || this.garbageLines.length > 0 || this.mode !== 'fields';
  }

  private line(line: string, chars: number, frames: AmiFrame[]): void {
    switch (this.mode) {
      case 'skipping':
        if (line.length === 0) this.mode = 'fields';
        return;
      case 'followsOutput':
        this.followsOutputLine(line, chars, frames);
        return;
      case 'followsDone':
        if (line.length === 0) this.finishMessage(frames);
        else this.unparsed.push(line);
        return;
      default:
        break;
    }

    if (line.length === 0) {
      if (this.fields.length > 0) this.finishMessage(frames);
      else this.flushGarbage(frames);
      return;
    }
    if (this.fields.length === 0 && this.garbageLines.length === 0) {
      const banner = BANNER.exec(line);
      if (banner) {
        this.stats.banners++;
        frames.push({ type: 'banner', version: banner[1]!, line });
        return;
      }
    }
    if (!this.grow(chars, frames)) return;

    if (this.mode === 'followsHeaders' && !FOLLOWS_HEADER.test(line)) {
      this.mode = 'followsOutput';
      this.followsOutputLine(line, 0, frames);
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      // Not `Key: Value`. Inside a message it is kept on the message; before one it is garbage.
      if (this.fields.length > 0) this.unparsed.push(line);
      else this.garbageLines.push(line);
      return;
    }
    // A valid line after garbage starts a real message: report the garbage, keep the message.
    if (this.fields.length === 0 && this.garbageLines.length > 0) this.flushGarbage(frames, chars);
    const field = fieldOfLine(line)!;
    const [key, value] = field;
    if (this.fields.length === 0 && key.length === 5 && (this.skipEvent !== undefined || this.deferEvent !== undefined) && key.toLowerCase() === 'event') {
      if (this.skipEvent?.(value)) {
        frames.push({ type: 'skipped', name: value });
        this.reset();
        this.mode = 'skipping';
        return;
      }
      if (this.deferEvent?.(value)) {
        this.mode = 'deferring';
        this.deferredName = value;
        this.deferredStart = this.lineStart;
        this.deferredHead = '';
        return;
      }
    }
    this.fields.push(field);
    if (this.fields.length === 1 && key.length === 8 && key.toLowerCase() === 'response' && value.toLowerCase() === 'follows') {
      this.mode = 'followsHeaders';
    }
  }

  private followsOutputLine(line: string, chars: number, frames: AmiFrame[]): void {
    if (chars > 0 && !this.grow(chars, frames)) return;
    if (line.endsWith(END_COMMAND)) {
      const rest = line.slice(0, line.length - END_COMMAND.length);
      if (rest.length > 0) this.output.push(rest);
      this.mode = 'followsDone';
      return;
    }
    this.output.push(line);
  }

  /** Counts a line toward the current message; false once the message is too large (then skipped). */
  private grow(chars: number, frames: AmiFrame[]): boolean {
    this.messageChars += chars;
    if (this.messageChars <= this.maxMessageChars) return true;
    this.tooLong(frames);
    return false;
  }

  private tooLong(frames: AmiFrame[]): void {
    const sample = this.fields.length > 0 ? `${this.fields[0]![0]}: ${this.fields[0]![1]}` : this.buffer.slice(0, SAMPLE_CHARS);
    this.garbage(frames, `message longer than ${this.maxMessageChars} characters dropped`, sample);
    this.reset();
    this.mode = 'skipping';
  }

  private finishDeferred(tail: string, frames: AmiFrame[]): void {
    this.stats.messages++;
    frames.push({ type: 'message', message: AmiMessage.deferred(this.deferredName, this.deferredHead + tail) });
    this.reset();
  }

  private finishMessage(frames: AmiFrame[]): void {
    const output = this.mode === 'followsDone' || this.mode === 'followsOutput' ? this.output.join('\n') : undefined;
    this.stats.messages++;
    frames.push({ type: 'message', message: new AmiMessage(this.fields, output, this.unparsed) });
    this.reset();
  }

  /** Reports the lines seen before any message started; `keepChars` is the size of the line that follows. */
  private flushGarbage(frames: AmiFrame[], keepChars = 0): void {
    if (this.garbageLines.length === 0) return;
    this.garbage(frames, 'lines that are not "Key: Value" outside any message', this.garbageLines.join('\\n'));
    this.reset();
    this.messageChars = keepChars;
  }

  private garbage(frames: AmiFrame[], reason: string, sample: string): void {
    this.stats.garbage++;
    frames.push({ type: 'garbage', reason, sample: sample.slice(0, SAMPLE_CHARS) });
  }

  private reset(): void {
    // A finished message keeps its arrays; empty ones are reused (most messages have no unparsed lines).
    if (this.fields.length > 0) this.fields = [];
    if (this.unparsed.length > 0) this.unparsed = [];
    if (this.output.length > 0) this.output = [];
    this.messageChars = 0;
    if (this.garbageLines.length > 0) this.garbageLines = [];
    this.deferredHead = '';
    this.mode = 'fields';
  }
}

/** Decodes a whole capture at once (tests, replay, benchmarks). */
export function decodeAll(bytes: Buffer | string, options?: AmiDecoderOptions): AmiFrame[] {
  return new AmiDecoder(options).push(bytes);
}

// ───────────────────────────── encoder ─────────────────────────────

/** Asterisk reads an action line into a 1024-byte buffer; a longer line is dropped there. */
export const MAX_ACTION_LINE_BYTES = 1024;

export class AmiEncodeError extends Error {
  override readonly name = 'AmiEncodeError';
}

export type AmiActionValue = string | number | boolean | undefined | readonly (string | number)[];
export type AmiActionFields = Readonly<Record<string, AmiActionValue>> | readonly AmiField[];

const CRLF = /[\r\n]/g;
const BAD_KEY = /[\r\n:]/;

/**
 * Encodes an action. CR and LF are stripped from values (header injection); a key holding CR, LF
 * or `:` and a line longer than 1024 bytes (CRLF included) are refused with an AmiEncodeError.
 * Array values repeat the key (`Variable: a=1`, `Variable: b=2`); undefined values are left out.
 */
export function encodeAction(action: string, actionId: string, fields: AmiActionFields = {}): string {
  const lines: string[] = [actionLine('Action', action), actionLine('ActionID', actionId)];
  const entries: [string, AmiActionValue][] = Array.isArray(fields)
    ? (fields as readonly AmiField[]).map(([key, value]) => [key, value])
    : Object.entries(fields as Record<string, AmiActionValue>);
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    if (key.toLowerCase() === 'action' || key.toLowerCase() === 'actionid') {
      throw new AmiEncodeError(`"${key}" is set by the encoder; do not pass it as a field of action ${action}`);
    }
    if (Array.isArray(value)) for (const item of value) lines.push(actionLine(key, String(item)));
    else lines.push(actionLine(key, String(value)));
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

function actionLine(key: string, value: string): string {
  if (key.length === 0 || BAD_KEY.test(key)) throw new AmiEncodeError(`invalid AMI key ${JSON.stringify(key)}`);
  const line = `${key}: ${value.replace(CRLF, '')}`;
  const bytes = Buffer.byteLength(line) + 2;
  if (bytes > MAX_ACTION_LINE_BYTES) {
    throw new AmiEncodeError(`AMI line "${key}: …" is ${bytes} bytes; Asterisk accepts at most ${MAX_ACTION_LINE_BYTES} per line`);
  }
  return line;
}

/**
 * Encodes any message (events and responses, used by the simulator and by round-trip tests).
 * CR/LF are stripped from values so a value can never end a message early.
 */
export function encodeMessage(message: AmiMessage): string {
  let text = '';
  for (const [key, value] of message.fields) text += `${key}: ${value.replace(CRLF, '')}\r\n`;
  if (message.unparsedLines) for (const line of message.unparsedLines) text += `${line.replace(CRLF, '')}\r\n`;
  if (message.output !== undefined) text += `${message.output}\n${END_COMMAND}\r\n`;
  return text + '\r\n';
}

export function encodeBanner(version: string): string {
  return `Asterisk Call Manager/${version}\r\n`;
}
