/**
 * A real SMTP server on loopback for tests (the `smtp-server` package), collecting every accepted
 * message parsed by `mailparser`. Plain, STARTTLS or implicit TLS with the self-signed test
 * certificate (test/fixtures/tls), optional AUTH PLAIN/LOGIN, and switchable availability
 * (421 at connect) to play an SMTP outage.
 *
 *   const smtp = await startSmtpServer({ tls: 'starttls', auth: { user: 'u', pass: 'p' } });
 *   … url: `smtp://u:p@127.0.0.1:${smtp.port}` …
 *   const [mail] = await smtp.waitFor(1);
 *   await smtp.close();
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { fixturePath } from './fixtures.js';
import { until } from './wait.js';

export interface SmtpServerOptions {
  /** false: plain SMTP, STARTTLS not offered; 'starttls': offered (test certificate); 'implicit': TLS from the first byte (smtps). @default false */
  tls?: false | 'starttls' | 'implicit';
  /** Require AUTH with these credentials; `methods` limits what the server offers. */
  auth?: { user: string; pass: string; methods?: ('PLAIN' | 'LOGIN')[] };
  /** Start unavailable: every connection gets `421` and is closed, until `setAvailable(true)`. */
  reject?: boolean;
  /** @default 0 (a free port) */
  port?: number;
}

export interface ReceivedMail {
  parsed: ParsedMail;
  raw: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** A header's value as text (`x-tollgate-key`). */
  header(name: string): string | undefined;
  envelope: { from: string; to: string[] };
  /** The authenticated user, if any. */
  user?: string;
  /** The session was encrypted (STARTTLS or implicit TLS) when the message was sent. */
  secure: boolean;
  /** Date.now() when the message was accepted. */
  receivedAt: number;
}

export interface TestSmtpServer {
  readonly port: number;
  /** Accepted messages, in arrival order. */
  readonly messages: ReceivedMail[];
  readonly stats: { connections: number; refused: number; authFailures: number; dataRejected: number };
  /** Resolves with the messages once at least `count` arrived; fails after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** false: new connections get `421 Service not available` and are closed. */
  setAvailable(available: boolean): void;
  /** The next `count` messages are refused at end of DATA with `code` (a temporary failure by default). */
  rejectNextData(count: number, code?: number): void;
  close(): Promise<void>;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const stats = { connections: 0, refused: 0, authFailures: 0, dataRejected: 0 };
  let available = !options.reject;
  let rejectData = { count: 0, code: 451 };
  const tls = options.tls ?? false;
  const disabled: string[] = [];
  if (tls === false) disabled.push('STARTTLS');
  if (!options.auth) disabled.push('AUTH');

  const serverOptions: SMTPServerOptions = {
    secure: tls === 'implicit',
    ...(tls ? { key: readFileSync(fixturePath('tls', 'key.pem')), cert: readFileSync(fixturePath('tls', 'cert.pem')) } : {}),
    disabledCommands: disabled,
    authMethods: options.auth?.methods ?? ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    authOptional: !options.auth,
    logger: false,
    closeTimeout: 200,
    size: 10 * 1024 * 1024,
    onConnect(_session, callback) {
      stats.connections++;
      if (available) return callback();
      stats.refused++;
      callback(Object.assign(new Error('Service not available, try again later'), { responseCode: 421 }));
    },
    onAuth(auth, _session, callback) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return callback(null, { user: auth.username });
      stats.authFailures++;
      callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', callback);
      stream.on('end', () => {
        if (rejectData.count > 0) {
          rejectData.count--;
          stats.dataRejected++;
          callback(Object.assign(new Error('Requested action aborted: try again later'), { responseCode: rejectData.code }));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        // Parsed before the 250, so a client that saw its mail accepted finds it in `messages`.
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              parsed,
              raw,
              subject: parsed.subject ?? '',
              text: parsed.text ?? '',
              html: typeof parsed.html === 'string' ? parsed.html : '',
              messageId: parsed.messageId ?? '',
              header: (name) => {
                const value = parsed.headers.get(name.toLowerCase());
                return value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
              },
              envelope: {
                from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                to: session.envelope.rcptTo.map((address) => address.address),
              },
              ...(typeof session.user === 'string' ? { user: session.user } : {}),
              secure: session.secure,
              receivedAt: Date.now(),
            });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });

  return {
    port,
    messages,
    stats,
    waitFor: (count, timeoutMs = 10_000) => until(() => messages.length >= count && messages, `${count} mail(s) at the test SMTP server (got ${messages.length})`, timeoutMs, 10),
    setAvailable(value) {
      available = value;
    },
    rejectNextData(count, code = 451) {
      rejectData = { count, code };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (right now): an SMTP relay that is down. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
