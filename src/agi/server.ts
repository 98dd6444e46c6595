/**
 * A FastAGI server: Asterisk's `AGI(agi://host:port/script)` connects here; each connection is a
 * session handed to the handler, which sends commands and reads replies until it is done; closing
 * the connection hands the channel back to the dialplan. Getting a socket apart from speaking the
 * protocol (codec.ts), as the AMI client does.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../log.js';
import { AgiReader, formatCommand, type AgiEnvironment, type AgiReply } from './codec.js';

/** The channel hung up (Asterisk said HANGUP, or closed the connection): no command can run. */
export class AgiHangupError extends Error {
  constructor(what: string) {
    super(`the channel hung up during the AGI session (${what})`);
    this.name = 'AgiHangupError';
  }
}

export interface AgiSession {
  readonly environment: AgiEnvironment;
  /** `127.0.0.1:41234`: the Asterisk that connected. */
  readonly remote: string;
  /** Asterisk said HANGUP or the connection closed. */
  readonly hungUp: boolean;
  command(command: string, ...args: string[]): Promise<AgiReply>;
  /** `GET VARIABLE`: the value, or undefined when the variable is not set. */
  getVariable(name: string): Promise<string | undefined>;
  setVariable(name: string, value: string): Promise<void>;
  /** Several `SET VARIABLE`s, each sent once the one before is answered; done when all are (the first failure fails it). */
  setVariables(variables: readonly (readonly [name: string, value: string])[]): Promise<void>;
}

export interface AgiServerOptions {
  host: string;
  port: number;
  handler: (session: AgiSession) => Promise<void>;
  logger?: Logger;
  /** Connections served at once; more are closed at once (the dialplan goes on). @default 1000 */
  maxConnections?: number;
}

export interface AgiServerStats {
  sessions: number;
  garbage: number;
  hangups: number;
  errors: number;
}

export class AgiServer {
  readonly stats: AgiServerStats = { sessions: 0, garbage: 0, hangups: 0, errors: 0 };
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly log: Logger;

  constructor(private readonly options: AgiServerOptions) {
    this.log = (options.logger ?? silentLogger).child({ part: 'agi' });
  }

  get port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.options.port;
  }

  async start(): Promise<void> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections ?? 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.log.error({ err: error.message }, 'AGI server error'));
    this.server = server;
    this.log.info({ host: this.options.host, port: this.port }, 'pre-dial gate listening (FastAGI)');
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    const session = new AgiConnection(socket);
    socket.on('data', (chunk) => {
      for (const frame of session.reader.push(chunk)) {
        if (frame.type === 'environment') {
          session.environment = frame.environment;
          this.stats.sessions++;
          void this.run(session, socket);
        } else if (frame.type === 'reply') {
          session.replied(frame.reply);
        } else if (frame.type === 'hangup') {
          session.sawHangup = true;
          this.stats.hangups++;
        } else {
          this.stats.garbage++;
          this.log.debug({ remote: session.remote, line: frame.line.slice(0, 120) }, 'AGI line not understood');
        }
      }
    });
    socket.on('error', (error) => this.log.debug({ remote: session.remote, err: error.message }, 'AGI connection error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      session.closed();
    });
  }

  private async run(session: AgiSession, socket: Socket): Promise<void> {
    try {
      await this.options.handler(session);
    } catch (error) {
      if (!(error instanceof AgiHangupError)) {
        this.stats.errors++;
        this.log.warn({ remote: session.remote, err: error instanceof Error ? error.message : String(error) }, 'AGI session failed; the dialplan goes on');
      }
    } finally {
      // Closing hands the channel back to the dialplan (AGISTATUS=SUCCESS).
      socket.end();
    }
  }
}

/**
 * One connection's session. A class, not an object literal with getters: with a literal whose
 * getters close over the connection's state, V8 kept every session's closures (and through them
 * its socket and buffers) alive through young collections until a full one. Measured with
 * --trace-gc-nvp at 1 000 sessions/s: each young collection copied ~1 MB instead of ~0.1 MB.
 */
class AgiConnection implements AgiSession {
  readonly reader = new AgiReader();
  readonly remote: string;
  environment: AgiEnvironment = {};
  /** Asterisk said HANGUP. */
  sawHangup = false;
  private isClosed = false;
  private readonly pending: { resolve: (reply: AgiReply) => void; reject: (error: Error) => void }[] = [];

  constructor(private readonly socket: Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
  }

  get hungUp(): boolean {
    return this.sawHangup || this.isClosed;
  }

  command(command: string, ...args: string[]): Promise<AgiReply> {
    return this.send(formatCommand(command, ...args));
  }

  getVariable(name: string): Promise<string | undefined> {
    return this.send(formatCommand('GET VARIABLE', name)).then((reply) => {
      const failure = failureOf(reply, 'GET VARIABLE', name);
      if (failure) throw failure;
      return reply.result === '1' ? (reply.data ?? '') : undefined;
    });
  }

  setVariable(name: string, value: string): Promise<void> {
    return this.setVariables([[name, value]]);
  }

  /**
   * One command at a time, never two in one write: Asterisk reads its AGI socket through a buffered
   * stream (res_agi: poll, then fgets), so a second command that came with the first stays in that
   * buffer, unread, until more bytes or the end of the connection wake it. Seen on Asterisk 22.10:
   * every verdict's second SET VARIABLE waited for the gate's timeout (~200 ms) to close the session.
   */
  async setVariables(variables: readonly (readonly [name: string, value: string])[]): Promise<void> {
    for (const [name, value] of variables) {
      const failure = failureOf(await this.send(formatCommand('SET VARIABLE', name, value)), 'SET VARIABLE', name);
      if (failure) throw failure;
    }
  }

  private send(line: string): Promise<AgiReply> {
    const gone = this.gone();
    if (gone) return Promise.reject(gone);
    return new Promise<AgiReply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(line);
    });
  }

  /** A reply answers the oldest command waiting. */
  replied(reply: AgiReply): void {
    this.pending.shift()?.resolve(reply);
  }

  /** The connection closed: commands still waiting fail as hung up. */
  closed(): void {
    this.isClosed = true;
    if (this.pending.length === 0) return;
    const error = new AgiHangupError('connection closed');
    for (const waiter of this.pending.splice(0)) waiter.reject(error);
  }

  /** Why no command can run any more (the connection closed, or Asterisk said HANGUP), or undefined. */
  private gone(): AgiHangupError | undefined {
    if (this.isClosed) return new AgiHangupError('connection closed');
    if (this.sawHangup) return new AgiHangupError('HANGUP');
    return undefined;
  }
}

/** Why a reply fails its command (anything but `200`; a dead channel, 511, is a hang-up), or undefined. */
function failureOf(reply: AgiReply, command: string, name: string): Error | undefined {
  if (reply.code === 511) return new AgiHangupError(reply.text);
  if (reply.code !== 200) return new Error(`${command} ${name}: ${reply.text}`);
  return undefined;
}
