/**
 * `tollgate test-mail` against a real SMTP server on loopback: accepted (with the configured
 * credentials, From and recipients), refused credentials, and a server that is down — each said
 * plainly, failures with exit code 1 and without the password.
 */
import { jest } from '@jest/globals';
import { Command } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTestMailCommand, sendTestMail } from '../../src/commands/test-mail.js';
import { freePort, startSmtpServer } from '../helpers/smtp.js';

describe('tollgate test-mail', () => {
  test('--smtp and --to: one mail, accepted, said so', async () => {
    const smtp = await startSmtpServer();
    try {
      const result = await sendTestMail({ smtp: `smtp://127.0.0.1:${smtp.port}`, to: 'admin@example.com,noc@example.com' }, {});
      expect(result.ok).toBe(true);
      expect(result.lines[0]).toBe(`test mail accepted by the SMTP server 127.0.0.1:${smtp.port}`);
      expect(result.lines[1]).toBe('  from tollgate@localhost to admin@example.com, noc@example.com');
      const [mail] = await smtp.waitFor(1);
      expect(mail!.envelope.to.sort()).toEqual(['admin@example.com', 'noc@example.com']);
      expect(mail!.subject).toMatch(/^\[Tollgate\] test mail from /);
      expect(mail!.text).toContain('Nothing has happened on your PBX.');
      expect(mail!.header('x-tollgate-kind')).toBe('test');
    } finally {
      await smtp.close();
    }
  });

  test('smtp and alerts from the configuration file, with authentication', async () => {
    const smtp = await startSmtpServer({ auth: { user: 'tollgate', pass: 'relay-secret-7' } });
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-test-mail-'));
    const config = join(dir, 'tollgate.yaml');
    writeFileSync(config, [`smtp:`, `  url: smtp://tollgate:relay-secret-7@127.0.0.1:${smtp.port}`, `alerts:`, `  to: [pbx-admin@example.com]`, `  from: Tollgate <tollgate@pbx.example.net>`, ''].join('\n'));
    try {
      const result = await sendTestMail({ config }, {});
      expect(result).toMatchObject({ ok: true });
      expect(result.lines[0]).toBe(`test mail accepted by the SMTP server 127.0.0.1:${smtp.port} as tollgate`);
      const [mail] = await smtp.waitFor(1);
      expect(mail!.user).toBe('tollgate');
      expect(mail!.envelope).toEqual({ from: 'tollgate@pbx.example.net', to: ['pbx-admin@example.com'] });
      expect(result.lines.join('\n')).not.toContain('relay-secret-7');
    } finally {
      await smtp.close();
    }
  });

  test('wrong password: not sent, the server\'s answer, no password in the output', async () => {
    const smtp = await startSmtpServer({ auth: { user: 'tollgate', pass: 'right-one' } });
    try {
      const result = await sendTestMail({ smtp: `smtp://tollgate:wrong-one@127.0.0.1:${smtp.port}`, to: 'admin@example.com' }, {});
      expect(result.ok).toBe(false);
      expect(result.lines[0]).toMatch(new RegExp(`^test mail NOT sent: the SMTP server 127\\.0\\.0\\.1:${smtp.port} as tollgate failed: .*(535|auth)`, 'i'));
      expect(result.lines.join('\n')).not.toContain('wrong-one');
      expect(smtp.messages).toEqual([]);
    } finally {
      await smtp.close();
    }
  });

  test('SMTP down: exit code 1 and the reason on stderr', async () => {
    const port = await freePort();
    const program = new Command().exitOverride();
    registerTestMailCommand(program);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await program.parseAsync(['node', 'tollgate', 'test-mail', '--smtp', `smtp://127.0.0.1:${port}`, '--to', 'admin@example.com']);
      expect(process.exitCode).toBe(1);
      expect(String(error.mock.calls[0]![0])).toMatch(new RegExp(`^test mail NOT sent: the SMTP server 127\\.0\\.0\\.1:${port} failed: .*connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`));
      expect(String(error.mock.calls[1]![0])).toMatch(/^  check smtp\.url \(host, port, smtp:\/\/ or smtps:\/\/, user and password\)/);
    } finally {
      process.exitCode = undefined;
      error.mockRestore();
    }
  });

  test('no SMTP server or no recipient configured: a clear error, nothing tried', async () => {
    await expect(sendTestMail({}, {})).rejects.toThrow('cannot send a test mail: smtp.url is not set (TOLLGATE_SMTP_URL) — or give --smtp smtp://host:port and --to you@example.com');
    await expect(sendTestMail({ smtp: 'smtp://127.0.0.1:25' }, {})).rejects.toThrow(/cannot send a test mail: alerts\.to is empty/);
  });
});
