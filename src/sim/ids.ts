import { randomUUID } from 'node:crypto';

/**
 * Identifiers in Asterisk's formats. Asterisk numbers channels with one counter shared by the
 * Uniqueid suffix and the hex suffix of the channel name (`1795258894.14` ↔ `PJSIP/1001-0000000e`),
 * so one allocation gives both.
 */
export class AsteriskIds {
  private channelCounter: number;
  private sessionCounter = 0;
  private readonly sessionBase: number;

  constructor(
    private readonly now: () => number = Date.now,
    firstChannel = 0,
  ) {
    this.channelCounter = firstChannel;
    // A plausible heap address for manager SessionIDs (`0x7fc5040017d0`).
    this.sessionBase = 0x7f0000000000 + Math.floor(Math.random() * 0xffffff) * 0x1000;
  }

  /** A channel name and Uniqueid for `endpointPath` (e.g. `PJSIP/1001`), created at `atMs`. */
  allocateChannel(endpointPath: string, atMs = this.now()): { name: string; uniqueid: string } {
    const sequence = this.channelCounter++;
    return {
      name: `${endpointPath}-${sequence.toString(16).padStart(8, '0')}`,
      uniqueid: `${Math.floor(atMs / 1000)}.${sequence}`,
    };
  }

  /** A Uniqueid alone, for channels whose name the caller chose. */
  uniqueid(atMs = this.now()): string {
    return `${Math.floor(atMs / 1000)}.${this.channelCounter++}`;
  }

  bridgeId(): string {
    return randomUUID();
  }

  /** The `SessionID` Asterisk puts in AMI security events: the session's address, in hex. */
  sessionId(): string {
    this.sessionCounter++;
    return `0x${(this.sessionBase + this.sessionCounter * 0x2a50).toString(16)}`;
  }
}
