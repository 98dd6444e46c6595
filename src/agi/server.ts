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
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const reader = new AgiReader();
    const pending: { resolve: (reply: AgiReply) => void; reject: (error: Error) => void }[] = [];
    let environment: AgiEnvironment | undefined;
    let hungUp = false;
    let closed = false;
    let corked = false;
    const failAll = (why: string): void => {
      if (pending.length === 0) return;
      const error = new AgiHangupError(why);
      for (const waiter of pending.splice(0)) waiter.reject(error);
    };

    const session: AgiSession = {
      get environment() {
        return environment ?? {};
      },
      remote,
      get hungUp() {
        return hungUp || closed;
      },
      command: (command, ...args) => {
        if (closed) return Promise.reject(new AgiHangupError('connection closed'));
        if (hungUp) return Promise.reject(new AgiHangupError('HANGUP'));
        return new Promise<AgiReply>((resolve, reject) => {
          pending.push({ resolve, reject });
          // Commands sent in one turn (the verdict's two SET VARIABLEs) leave in one segment.
          if (!corked) {
            corked = true;
            socket.cork();
            process.nextTick(() => {
              corked = false;
              socket.uncork();
            });
          }
          socket.write(formatCommand(command, ...args));
        });
      },
      getVariable: async (name) => {
        const reply = await session.command('GET VARIABLE', name);
        if (reply.code === 511) throw new AgiHangupError(reply.text);
        if (reply.code !== 200) throw new Error(`GET VARIABLE ${name}: ${reply.text}`);
        return reply.result === '1' ? (reply.data ?? '') : undefined;
      },
      setVariable: async (name, value) => {
        const reply = await session.command('SET VARIABLE', name, value);
        if (reply.code === 511) throw new AgiHangupError(reply.text);
        if (reply.code !== 200) throw new Error(`SET VARIABLE ${name}: ${reply.text}`);
      },
    };

    socket.on('data', (chunk) => {
      for (const frame of reader.push(chunk)) {
        if (frame.type === 'environment') {
          environment = frame.environment;
          this.stats.sessions++;
          void this.run(session, socket);
        } else if (frame.type === 'reply') {
          pending.shift()?.resolve(frame.reply);
        } else if (frame.type === 'hangup') {
          hungUp = true;
          this.stats.hangups++;
        } else {
          this.stats.garbage++;
          this.log.debug({ remote, line: frame.line.slice(0, 120) }, 'AGI line not understood');
        }
      }
    });
    socket.on('error', (error) => this.log.debug({ remote, err: error.message }, 'AGI connection error'));
    socket.on('close', () => {
      closed = true;
      this.sockets.delete(socket);
      failAll('connection closed');
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
