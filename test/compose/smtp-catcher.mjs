#!/usr/bin/env node
// A loopback SMTP server for test/compose/pack.sh (the `smtp-server` dev dependency): accepts every
// message, appends one line per message to <out>/mails.log ("<recipients> | <decoded subject>") and keeps
// the raw message as <out>/<n>.eml. Prints the port it listens on, then runs until SIGTERM.
//   node test/compose/smtp-catcher.mjs <out-dir> [port]
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

const [out, port = '0'] = process.argv.slice(2);
if (!out) {
  console.error('usage: smtp-catcher.mjs <out-dir> [port]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
let count = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    stream.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      simpleParser(raw).then(
        (parsed) => {
          count++;
          writeFileSync(join(out, `${count}.eml`), raw);
          appendFileSync(join(out, 'mails.log'), `${session.envelope.rcptTo.map((rcpt) => rcpt.address).join(',')} | ${parsed.subject ?? ''}\n`);
          callback();
        },
        (error) => callback(error),
      );
    });
  },
});
server.listen(Number(port), '127.0.0.1', () => console.log(server.server.address().port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
