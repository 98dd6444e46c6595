/**
 * A small SMTP server on loopback for the soak: accepts every message (no TLS, no AUTH), keeps
 * each message's X-Tollgate-Key header, and can be stopped and started again on the same port to
 * play a mail server that is down for minutes. It speaks enough of RFC 5321 for nodemailer
 * (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT).
 */
import { createServer, type Server, type Socket } from 'node:net';

export class SmtpSink {
  /** X-Tollgate-Key of every accepted message, in arrival order (duplicates kept). */
  readonly keys: string[] = [];
  accepted = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private boundPort = 0;

  get port(): number {
    return this.boundPort;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(port = this.boundPort): Promise<number> {
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as { port: number }).port;
    return this.boundPort;
  }

  /** Closes the listener and every connection (a mail server gone). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('latin1');
    let buffer = '';
    let data: string[] | undefined;
    const reply = (line: string): void => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };
    reply('220 soak-smtp ESMTP ready');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data) {
          if (line === '.') {
            this.accept(data);
            data = undefined;
            reply('250 2.0.0 queued');
          } else {
            data.push(line.startsWith('..') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') {
          reply('250-soak-smtp');
          reply('250 8BITMIME');
        } else if (verb === 'HELO' || verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') reply('250 2.0.0 ok');
        else if (verb === 'DATA') {
          data = [];
          reply('354 end with <CRLF>.<CRLF>');
        } else if (verb === 'QUIT') {
          reply('221 2.0.0 bye');
          socket.end();
        } else reply('502 5.5.2 not implemented');
      }
    });
  }

  private accept(lines: string[]): void {
    this.accepted++;
    // Headers end at the first empty line; long ones are folded onto lines starting with white space.
    const headers: string[] = [];
    for (const line of lines) {
      if (line === '') break;
      if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += ` ${line.trim()}`;
      else headers.push(line);
    }
    const header = headers.find((line) => /^x-tollgate-key:/i.test(line));
    this.keys.push(header ? header.slice(header.indexOf(':') + 1).trim() : '');
  }
}
