/**
 * One AMI TCP session of the simulator: frames what the client sends into messages (keeping each
 * message's exact text), tracks login and event mask, and writes without ever blocking — Node
 * buffers whatever the client has not read yet, as a real server would have to.
 */
import type { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { AmiDecoder, type AmiFrame } from '../ami/codec.js';
import type { AmiMessage } from '../ami/message.js';
import { ALL_CLASSES, NO_CLASSES, maskToClassNames } from './event-mask.js';

export interface SessionInfo {
  /** Simulator-wide session number, from 1. */
  id: number;
  /** The `SessionID` this session has in AMI security events. */
  managerSessionId: string;
  remoteAddress: string;
  remotePort: number;
  /** ms since the epoch. */
  connectedAt: number;
  loggedIn: boolean;
  username: string | undefined;
  /** Event classes this session receives now (read permission ∩ requested events). */
  eventClasses: string[];
  actionsReceived: number;
  garbageReceived: number;
  bytesSent: number;
  /** Bytes written but not yet taken by the kernel (a client that does not read). */
  bytesBuffered: number;
}

export interface SessionHandlers {
  message(session: SimSession, message: AmiMessage, raw: string): void;
  garbage(session: SimSession, frame: Extract<AmiFrame, { type: 'garbage' | 'banner' }>): void;
  closed(session: SimSession): void;
}

/** Largest unterminated input kept while waiting for its blank line (the decoder's own limit). */
const MAX_PENDING_CHARS = 1_048_576;
const BLANK_LINE = /\n\r?\n/;
const LEADING_BLANK_LINES = /^(?:\r?\n)+/;

export class SimSession {
  readonly remoteAddress: string;
  readonly remotePort: number;
  loggedIn = false;
  username: string | undefined;
  /** manager.conf `read=` of the user. */
  readMask = NO_CLASSES;
  /** manager.conf `write=` of the user. */
  writeMask = NO_CLASSES;
  /** What the client asked for (`Events:` at login, `Events` action); everything until then. */
  eventMask = ALL_CLASSES;
  /** Set once the session is on its way out (failed login, Logoff): input is ignored from then on. */
  closing = false;
  actionsReceived = 0;
  garbageReceived = 0;
  bytesSent = 0;
  private readonly decoder = new AmiDecoder();
  private readonly text = new StringDecoder('utf8');
  private pending = '';
  private closed = false;

  constructor(
    readonly id: number,
    readonly managerSessionId: string,
    readonly socket: Socket,
    /** ms since the epoch, on the simulator's clock. */
    readonly connectedAt: number,
    private readonly handlers: SessionHandlers,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '127.0.0.1';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    // A client that resets the connection is ordinary; 'close' follows and does the cleanup.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.handlers.closed(this);
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** Whether an event of these classes goes to this session (manager.c: every class must be allowed). */
  receivesEvents(eventClasses: number): boolean {
    if (!this.loggedIn || this.closing || !this.isOpen) return false;
    const allowed = this.readMask & this.eventMask;
    return allowed !== NO_CLASSES && (allowed & eventClasses) === eventClasses;
  }

  /** Queues text for the client. Never blocks and never throws; false when the socket is gone. */
  write(text: string): boolean {
    if (!this.isOpen || !this.socket.writable) return false;
    this.bytesSent += Buffer.byteLength(text);
    this.socket.write(text);
    return true;
  }

  /** Sends what is queued, then closes (Logoff, failed login). */
  end(): void {
    if (!this.isOpen) return;
    this.closing = true;
    this.socket.end(() => this.socket.destroy());
  }

  destroy(): void {
    this.socket.destroy();
  }

  info(): SessionInfo {
    return {
      id: this.id,
      managerSessionId: this.managerSessionId,
      remoteAddress: this.remoteAddress,
      remotePort: this.remotePort,
      connectedAt: this.connectedAt,
      loggedIn: this.loggedIn,
      username: this.username,
      eventClasses: this.loggedIn ? maskToClassNames(this.readMask & this.eventMask) : [],
      actionsReceived: this.actionsReceived,
      garbageReceived: this.garbageReceived,
      bytesSent: this.bytesSent,
      bytesBuffered: this.socket.writableLength,
    };
  }

  /**
   * Cuts the input at blank lines so each message keeps the exact text it arrived as, and lets
   * the shared decoder do all the parsing (and the accounting of what is not AMI).
   */
  private receive(chunk: Buffer): void {
    if (this.closing) return;
    this.pending += this.text.write(chunk);
    for (;;) {
      const lead = LEADING_BLANK_LINES.exec(this.pending);
      if (lead) this.pending = this.pending.slice(lead[0].length);
      const match = BLANK_LINE.exec(this.pending);
      if (!match) break;
      const end = match.index + match[0].length;
      const raw = this.pending.slice(0, end);
      this.pending = this.pending.slice(end);
      this.dispatch(this.decoder.push(raw), raw);
      if (this.closing) return;
    }
    if (this.pending.length > MAX_PENDING_CHARS) {
      // A runaway line: the decoder reports it once and skips to the next blank line.
      const overflow = this.pending;
      this.pending = '';
      this.dispatch(this.decoder.push(overflow), overflow);
    }
  }

  private dispatch(frames: AmiFrame[], raw: string): void {
    for (const frame of frames) {
      if (frame.type === 'message') this.handlers.message(this, frame.message, raw);
      else if (frame.type !== 'skipped') this.handlers.garbage(this, frame); // the simulator skips nothing
      if (this.closing || !this.isOpen) return;
    }
  }
}
