/**
 * One AMI message as it crossed the wire: an ordered list of `Key: Value` fields.
 *
 * Keys may repeat (`Variable`, `ChanVariable`, `Output`, …) and are case-insensitive, so the
 * message is kept as a list, never as an object. `get()` answers the first field with that key.
 */
export type AmiField = readonly [key: string, value: string];

export type AmiMessageKind = 'event' | 'response' | 'action' | 'unknown';

export class AmiMessage {
  private parsedFields: AmiField[] | undefined;
  private parsedUnparsed: string[] | undefined;
  /** The text of an event read but not yet cut into fields (see deferred()); undefined once cut. */
  private deferredText: string | undefined;
  private readonly deferredName: string | undefined;
  /**
   * Raw text of a legacy `Response: Follows` answer (Asterisk ≤ 13 `Command`), without the
   * `--END COMMAND--` terminator. Undefined for every other message.
   */
  readonly output: string | undefined;
  /** When the bytes that completed it were read (performance.now(); set by the AMI client): how long it waited. */
  receivedAt: number | undefined;

  constructor(fields: AmiField[], output?: string, unparsedLines?: string[], deferred?: { name: string; text: string }) {
    this.parsedFields = deferred ? undefined : fields;
    this.parsedUnparsed = unparsedLines && unparsedLines.length > 0 ? unparsedLines : undefined;
    this.deferredText = deferred?.text;
    this.deferredName = deferred?.name;
    this.output = output;
    this.receivedAt = undefined;
  }

  /**
   * An event whose lines are cut into fields only when one is read: a scan's refusals wait in a
   * queue by the thousand, most are shed unread, and one string each is cheaper to keep than
   * dozens. `text` is the event's lines as they came (`\r\n` or `\n`), the `Event:` line first.
   */
  static deferred(name: string, text: string): AmiMessage {
    return new AmiMessage([], undefined, undefined, { name, text });
  }

  /** Still uncut (see deferred()). */
  get isDeferred(): boolean {
    return this.deferredText !== undefined;
  }

  /** A deferred event's lines as they came (see deferred()); undefined once cut, and for every other message. */
  get uncutText(): string | undefined {
    return this.deferredText;
  }

  /**
   * This event with its fields cut, as a new message (this one stays as it is). A deferred event
   * waits long enough to be promoted to the old generation: fields written into it would live
   * with it until the next full collection, whereas a new message and its fields die young once
   * read.
   */
  withFieldsCut(): AmiMessage {
    if (this.deferredText === undefined) return this;
    const message = new AmiMessage([], undefined, undefined, { name: this.deferredName!, text: this.deferredText });
    message.cut();
    message.receivedAt = this.receivedAt;
    return message;
  }

  /** Every field, in wire order. */
  get fields(): AmiField[] {
    if (this.parsedFields === undefined) this.cut();
    return this.parsedFields!;
  }

  /** Lines inside the message that were not `Key: Value`; kept so nothing is silently lost. */
  get unparsedLines(): string[] | undefined {
    if (this.parsedFields === undefined) this.cut();
    return this.parsedUnparsed;
  }

  /** Builds a message from an object, in key order (handy in tests and in the simulator). */
  static from(record: Record<string, string | number | readonly string[]>): AmiMessage {
    const fields: AmiField[] = [];
    // for…in, not Object.entries: the same order (a record's own keys), without an array per key.
    for (const key in record) {
      if (!Object.hasOwn(record, key)) continue;
      const value = record[key]!;
      if (Array.isArray(value)) for (const item of value) fields.push([key, String(item)]);
      else fields.push([key, String(value)]);
    }
    return new AmiMessage(fields);
  }

  /** The event name, or undefined for responses and actions. */
  get event(): string | undefined {
    if (this.deferredName !== undefined) return this.deferredName;
    const first = this.fields[0];
    return first !== undefined && sameIgnoringCase(first[0], 'Event') ? first[1] : undefined;
  }

  /** A message is classified by its FIRST line: `Event:` or `Response:` (some events also carry `Response:`). */
  get kind(): AmiMessageKind {
    if (this.deferredName !== undefined) return 'event';
    const first = this.fields[0]?.[0].toLowerCase();
    if (first === 'event') return 'event';
    if (first === 'response') return 'response';
    if (first === 'action') return 'action';
    return 'unknown';
  }

  /** The event name, response status or action name: the value of the first line. */
  get name(): string {
    if (this.deferredName !== undefined) return this.deferredName;
    return this.fields[0]?.[1] ?? '';
  }

  get actionId(): string | undefined {
    return this.peek('ActionID');
  }

  /**
   * The first value for `key` (exact case, as Asterisk spells keys; any case once cut), without
   * cutting a deferred event into fields.
   */
  peek(key: string): string | undefined {
    const text = this.deferredText;
    if (text === undefined) return this.get(key);
    let at = text.indexOf(key);
    while (at >= 0) {
      const end = at + key.length;
      if ((at === 0 || text.charCodeAt(at - 1) === 10) && text.charCodeAt(end) === 58) {
        let lineEnd = text.indexOf('\n', end);
        if (lineEnd < 0) lineEnd = text.length;
        if (text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
        return text.slice(text.charCodeAt(end + 1) === 32 ? end + 2 : end + 1, lineEnd);
      }
      at = text.indexOf(key, end);
    }
    return undefined;
  }

  /** The first value for `key`, compared case-insensitively. */
  get(key: string): string | undefined {
    const index = this.indexOf(key);
    return index < 0 ? undefined : this.fields[index]![1];
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  /** Every value for a repeated key, in wire order. */
  getAll(key: string): string[] {
    const values: string[] = [];
    for (const [name, value] of this.fields) if (sameIgnoringCase(name, key)) values.push(value);
    return values;
  }

  /** `ChanVariable: name=value` style fields as a map (later duplicates win). */
  getVariables(key: string): Map<string, string> {
    const variables = new Map<string, string>();
    for (const entry of this.getAll(key)) {
      const eq = entry.indexOf('=');
      if (eq > 0) variables.set(entry.slice(0, eq), entry.slice(eq + 1));
    }
    return variables;
  }

  /** Plain object view (first value wins), for logs and JSON output. */
  toObject(): Record<string, string> {
    const record: Record<string, string> = {};
    for (const [key, value] of this.fields) if (!(key in record)) record[key] = value;
    return record;
  }

  private cut(): void {
    // Cut from a copy: the text is a slice of a whole socket read, which the fields a call keeps
    // (channel names, ids, the number) would otherwise keep alive for as long as the call.
    const text = detached(this.deferredText ?? '');
    const fields: AmiField[] = [];
    const unparsed: string[] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
      start = end + 1;
      if (line.length === 0) continue;
      const field = fieldOfLine(line);
      if (field) fields.push(field);
      else unparsed.push(line);
    }
    this.parsedFields = fields;
    this.parsedUnparsed = unparsed.length > 0 ? unparsed : undefined;
    this.deferredText = undefined;
  }

  private indexOf(key: string): number {
    // Exact-case hit first: Asterisk always spells keys the same way, so this is the hot path.
    const fields = this.fields;
    for (let i = 0; i < fields.length; i++) if (fields[i]![0] === key) return i;
    // A miss (most events have no ActionID) compares only keys of the same length, without allocating.
    for (let i = 0; i < fields.length; i++) if (sameIgnoringCase(fields[i]![0], key)) return i;
    return -1;
  }
}

/** `Key: Value` (one space after the colon is not part of the value); undefined for a line that is not a field. */
export function fieldOfLine(line: string): AmiField | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  return [line.slice(0, colon), line.charCodeAt(colon + 1) === 32 ? line.slice(colon + 2) : line.slice(colon + 1)];
}

/** ASCII case-insensitive equality (AMI keys are ASCII). */
function sameIgnoringCase(a: string, b: string): boolean {
  return a.length === b.length && sameIgnoringCaseAt(a, 0, b);
}

/** Whether `text` holds `key` at `start`, ASCII letters compared case-insensitively (nothing is cut). */
export function sameIgnoringCaseAt(text: string, start: number, key: string): boolean {
  if (start + key.length > text.length) return false;
  for (let i = 0; i < key.length; i++) {
    const x = text.charCodeAt(start + i);
    const y = key.charCodeAt(i);
    if (x === y) continue;
    const lower = x | 0x20;
    if (lower !== (y | 0x20) || lower < 0x61 || lower > 0x7a) return false;
  }
  return true;
}

/**
 * `text` as a string of its own. A string cut from a larger one (a socket read of 64 KB, an AMI
 * frame) is a slice that keeps the whole of it alive while it is held: a deferred event kept in the
 * lane, or an address kept for minutes in per-address state, would hold socket reads alive many
 * times their own size. V8 copies slices shorter than 13 characters anyway; a longer one is copied
 * by flattening a concatenation.
 */
export function detached(text: string): string {
  return text.length < 13 ? text : (' ' + text).slice(1);
}
