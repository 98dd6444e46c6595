/**
 * A bare AMI client for tests: a net.Socket and the project's decoder, nothing else, so tests see
 * exactly what crossed the wire. Every wait is bounded and fails with a message saying what was
 * awaited.
 */
import { connect, type Socket } from 'node:net';
import { AmiDecoder, encodeAction, type AmiActionFields, type AmiFrame } from '../../src/ami/codec.js';
import type { AmiMessage } from '../../src/ami/message.js';

export const DEFAULT_WAIT_MS = 5000;

export interface ListAnswer {
  response: AmiMessage;
  items: AmiMessage[];
  complete: AmiMessage | undefined;
}

export class RawAmiClient {
  /** Every message received, in order. */
  readonly received: AmiMessage[] = [];
  /** `process.hrtime.bigint()` when each of `received` was decoded (same index). */
  readonly receivedAt: bigint[] = [];
  /** Frames that were not AMI messages (banner excluded). */
  readonly garbage: AmiFrame[] = [];
  banner: string | undefined;
  /** Everything received, as text. */
  rawText = '';
  /** `process.hrtime.bigint()` when the server closed the connection (or it was closed here). */
  closedAt: bigint | undefined;
  private readonly decoder = new AmiDecoder();
  private readonly listeners = new Set<() => void>();
  private nextActionId = 1;
  /** Kept from the start: a closed socket no longer reports it. */
  readonly localPort: number;

  private constructor(
    readonly socket: Socket,
    private readonly prefix: string,
  ) {
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.rawText += chunk.toString('utf8');
      const now = process.hrtime.bigint();
      for (const frame of this.decoder.push(chunk)) {
        if (frame.type === 'banner') {
          this.banner = frame.line;
        } else if (frame.type === 'message') {
          this.received.push(frame.message);
          this.receivedAt.push(now);
        } else {
          this.garbage.push(frame);
        }
      }
      this.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedAt ??= process.hrtime.bigint();
      this.notify();
    });
  }

  /** Connects to 127.0.0.1:port and waits for the banner. */
  static async connect(port: number, options: { actionIdPrefix?: string; timeoutMs?: number } = {}): Promise<RawAmiClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const client = new RawAmiClient(socket, options.actionIdPrefix ?? 't');
    await client.until(() => client.banner !== undefined, 'the banner', options.timeoutMs);
    return client;
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  /** The received events, optionally only those named `name`. */
  events(name?: string): AmiMessage[] {
    return this.received.filter((message) => message.kind === 'event' && (name === undefined || message.name === name));
  }

  /** Sends an action; returns its ActionID. */
  send(action: string, fields: AmiActionFields = {}, actionId = `${this.prefix}-${this.nextActionId++}`): string {
    this.socket.write(encodeAction(action, actionId, fields));
    return actionId;
  }

  sendRaw(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends an action and resolves with the response carrying its ActionID. */
  async action(action: string, fields: AmiActionFields = {}, options: { timeoutMs?: number } = {}): Promise<AmiMessage> {
    const actionId = this.send(action, fields);
    return this.waitFor((message) => message.kind === 'response' && message.actionId === actionId, `the answer to ${action} (${actionId})`, options);
  }

  /** Sends a list action and collects the response, the items and the `…Complete` event. */
  async list(action: string, fields: AmiActionFields = {}, options: { timeoutMs?: number } = {}): Promise<ListAnswer> {
    const actionId = this.send(action, fields);
    const response = await this.waitFor((message) => message.kind === 'response' && message.actionId === actionId, `the answer to ${action} (${actionId})`, options);
    if (response.get('EventList') !== 'start') return { response, items: [], complete: undefined };
    const complete = await this.waitFor(
      (message) => message.kind === 'event' && message.actionId === actionId && message.get('EventList') === 'Complete',
      `the end of the ${action} list (${actionId})`,
      options,
    );
    const items = this.received.filter((message) => message.kind === 'event' && message.actionId === actionId && message !== complete);
    return { response, items, complete };
  }

  login(username: string, secret: string, events?: string): Promise<AmiMessage> {
    return this.action('Login', { Username: username, Secret: secret, Events: events });
  }

  /** Resolves with the first received message (from index `from`) matching the predicate. */
  async waitFor(predicate: (message: AmiMessage) => boolean, what = 'a matching message', options: { from?: number; timeoutMs?: number } = {}): Promise<AmiMessage> {
    const from = options.from ?? 0;
    let found: AmiMessage | undefined;
    await this.until(
      () => {
        found = this.received.slice(from).find(predicate);
        return found !== undefined;
      },
      what,
      options.timeoutMs,
    );
    return found!;
  }

  waitForEvent(name: string, predicate: (event: AmiMessage) => boolean = () => true, options: { from?: number; timeoutMs?: number } = {}): Promise<AmiMessage> {
    return this.waitFor((message) => message.kind === 'event' && message.name === name && predicate(message), `Event: ${name}`, options);
  }

  /** Resolves once `count` messages have been received. */
  async waitForCount(count: number, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.until(() => this.received.length >= count, `${count} messages (have ${this.received.length})`, options.timeoutMs);
  }

  async waitForClose(options: { timeoutMs?: number } = {}): Promise<bigint> {
    await this.until(() => this.closed, 'the server to close the connection', options.timeoutMs);
    return this.closedAt!;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.socket.destroy();
    await this.waitForClose();
  }

  /** Resolves when `condition` holds, re-checked after every read; rejects after the timeout. */
  until(condition: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        finish();
        resolve();
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last received: ${this.received.slice(-3).map((m) => `${m.fields[0]?.[0]}: ${m.name}`).join(' | ') || 'nothing'}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
