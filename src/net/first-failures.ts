/**
 * The one failure of each address that has failed once, off the JavaScript heap (see
 * AddressTable). A scan from a million addresses fails once from nearly every one of them: a
 * record apiece, kept until it is pushed out, was copied out of the young generation by the
 * hundred thousand a second. Only what that failure said is kept — when, the service, the event's
 * kind, the account, the session and its port — so that the record can be made as it would have
 * been if the address comes back.
 *
 * Texts are kept as bytes in fields of fixed size: a failure with a text that does not fit (a
 * character past U+00FF, or longer than its field) is refused — remember() says so — and the
 * caller keeps it its own way. Each address is forgotten `ttlMs` after its failure (or taken
 * out by the owner: takeOldest). Addresses are kept in the order they failed (the clock's).
 */
import { AddressTable, NO_ENTRY } from './address-table.js';

export interface FirstFailure {
  at: number;
  service: string;
  kind: string;
  account: string | undefined;
  sessionId: string | undefined;
  /** The source port, -1 when unknown. */
  port: number;
}

/** Field sizes in characters; account names and session ids are cut to these before (see the security kind). */
const SERVICE = 16;
const KIND = 32;
export const FIRST_FAILURE_ACCOUNT_CHARS = 80;
export const FIRST_FAILURE_SESSION_CHARS = 128;
const ABSENT = -1;

/** One text field of every entry: bytes and a length (ABSENT for no text). */
class TextField {
  private readonly bytes: Uint8Array;
  private readonly lengths: Int16Array;

  constructor(
    capacity: number,
    private readonly size: number,
  ) {
    this.bytes = new Uint8Array(capacity * size);
    this.lengths = new Int16Array(capacity);
  }

  fits(text: string | undefined): boolean {
    if (text === undefined) return true;
    if (text.length > this.size) return false;
    for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0xff) return false;
    return true;
  }

  /** Writes a text that fits (see fits()). */
  write(entry: number, text: string | undefined): void {
    if (text === undefined) {
      this.lengths[entry] = ABSENT;
      return;
    }
    const base = entry * this.size;
    for (let index = 0; index < text.length; index++) this.bytes[base + index] = text.charCodeAt(index);
    this.lengths[entry] = text.length;
  }

  read(entry: number): string | undefined {
    const length = this.lengths[entry]!;
    if (length === ABSENT) return undefined;
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + entry * this.size, length).toString('latin1');
  }
}

export class FirstFailures {
  private readonly table: AddressTable;
  private readonly at: Float64Array;
  private readonly port: Int32Array;
  private readonly service: TextField;
  private readonly kind: TextField;
  private readonly account: TextField;
  private readonly session: TextField;

  constructor(
    capacity: number,
    private readonly ttlMs: number,
  ) {
    this.table = new AddressTable(capacity);
    this.at = new Float64Array(capacity);
    this.port = new Int32Array(capacity);
    this.service = new TextField(capacity, SERVICE);
    this.kind = new TextField(capacity, KIND);
    this.account = new TextField(capacity, FIRST_FAILURE_ACCOUNT_CHARS);
    this.session = new TextField(capacity, FIRST_FAILURE_SESSION_CHARS);
  }

  get size(): number {
    return this.table.size;
  }

  /** Addresses pushed out by newer ones before they came back. */
  get evicted(): number {
    return this.table.evicted;
  }

  /** Keeps the address's failure (in place of one kept before); false when a text does not fit. */
  remember(ip: string, failure: FirstFailure): boolean {
    if (!this.service.fits(failure.service) || !this.kind.fits(failure.kind) || !this.account.fits(failure.account) || !this.session.fits(failure.sessionId)) return false;
    const entry = this.table.write(ip);
    this.at[entry] = failure.at;
    this.port[entry] = failure.port;
    this.service.write(entry, failure.service);
    this.kind.write(entry, failure.kind);
    this.account.write(entry, failure.account);
    this.session.write(entry, failure.sessionId);
    return true;
  }

  /** The address's failure, forgotten here (the address came back); undefined when none is kept or it expired. */
  take(ip: string, now: number): FirstFailure | undefined {
    const entry = this.table.find(ip);
    if (entry === NO_ENTRY) return undefined;
    const failure = this.at[entry]! + this.ttlMs > now ? this.failureOf(entry) : undefined;
    this.table.remove(entry);
    return failure;
  }

  /** The address that has waited longest, with its failure, forgotten here — if it failed before `before`. */
  takeOldest(before: number): [string, FirstFailure] | undefined {
    const entry = this.table.oldest;
    if (entry === NO_ENTRY || this.at[entry]! >= before) return undefined;
    const taken: [string, FirstFailure] = [this.table.keyOf(entry), this.failureOf(entry)];
    this.table.remove(entry);
    return taken;
  }

  /** Up to `count` of the latest failures not yet expired, the oldest first: what a checkpoint keeps. */
  newest(count: number, now: number): [string, FirstFailure][] {
    const kept: [string, FirstFailure][] = [];
    for (const entry of this.table.newest(count)) if (this.at[entry]! + this.ttlMs > now) kept.push([this.table.keyOf(entry), this.failureOf(entry)]);
    return kept.reverse();
  }

  /** When a failure kept now expires. */
  expiresAt(failure: FirstFailure): number {
    return failure.at + this.ttlMs;
  }

  private failureOf(entry: number): FirstFailure {
    return {
      at: this.at[entry]!,
      service: this.service.read(entry) ?? '',
      kind: this.kind.read(entry) ?? '',
      account: this.account.read(entry),
      sessionId: this.session.read(entry),
      port: this.port[entry]!,
    };
  }
}
