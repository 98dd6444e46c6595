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

/**
 * Streaming reader: bytes in any chunks, `\n` or `\r\n`, frames out. The environment comes first;
 * after it every line is a reply, a usage block or HANGUP.
 */
export class AgiReader {
  private buffer = '';
  private environment: Record<string, string> | undefined = {};
  private usage: string[] | undefined;

  push(chunk: Buffer | string): AgiFrame[] {
    this.buffer += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const frames: AgiFrame[] = [];
    for (let newline = this.buffer.indexOf('\n'); newline >= 0; newline = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      const frame = this.line(line);
      if (frame) frames.push(frame);
    }
    if (this.buffer.length > MAX_LINE) {
      frames.push({ type: 'garbage', line: `${this.buffer.slice(0, 80)}… (${this.buffer.length} bytes without a newline)` });
      this.buffer = '';
    }
    return frames;
  }

  private line(line: string): AgiFrame | undefined {
    if (this.environment !== undefined) {
      if (line === '') {
        const environment = this.environment;
        this.environment = undefined;
        return { type: 'environment', environment };
      }
      const colon = line.indexOf(':');
      if (colon <= 0 || !line.startsWith('agi_')) return { type: 'garbage', line };
      this.environment[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
      return undefined;
    }
    if (line === 'HANGUP') return { type: 'hangup' };
    if (this.usage !== undefined) {
      this.usage.push(line);
      if (/^520 /.test(line)) {
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
}

/** `200 result=1 (1795259065.0)` → code, result, data. */
export function parseReply(line: string): AgiReply | undefined {
  const match = /^(\d{3})(?:[ -](.*))?$/.exec(line);
  if (!match) return undefined;
  const reply: AgiReply = { code: Number(match[1]), text: line };
  const rest = match[2] ?? '';
  const result = /(?:^|\s)result=(-?\d+)(?:\s+\((.*)\))?/.exec(rest);
  if (result) {
    reply.result = result[1]!;
    if (result[2] !== undefined) reply.data = result[2];
  }
  return reply;
}

/**
 * One command line. Arguments are quoted when they need it (spaces, quotes, backslashes, empty),
 * with `"` and `\` escaped as Asterisk's argument parser expects; CR/LF can never end a command
 * early: they are removed.
 */
export function formatCommand(command: string, ...args: string[]): string {
  const parts = [command, ...args.map(quoteArgument)];
  return `${parts.join(' ').replace(/[\r\n]/g, ' ')}\n`;
}

function quoteArgument(value: string): string {
  const clean = value.replace(/[\r\n]/g, ' ');
  if (clean !== '' && /^[^\s"\\]+$/.test(clean)) return clean;
  return `"${clean.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}
