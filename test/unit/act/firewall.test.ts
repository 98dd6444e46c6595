import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirewallHook } from '../../../src/act/firewall.js';

/** A real program standing in for ipset: records its arguments, one per line. */
function recorder(): { command: string[]; calls: () => string[][] } {
  const file = join(mkdtempSync(join(tmpdir(), 'tollgate-fw-')), 'calls.txt');
  return {
    command: [process.execPath, '-e', 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")', file, 'add', 'tollgate', '{ip}'],
    calls: () => {
      try {
        return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as string[]);
      } catch {
        return [];
      }
    },
  };
}

describe('firewall hook', () => {
  test('runs the command with the address as one argument, no shell', async () => {
    const fake = recorder();
    const hook = new FirewallHook({ command: fake.command });
    const result = await hook.block('203.0.113.9');
    expect(result.ok).toBe(true);
    expect(result.detail).toMatch(/^handed 203\.0\.113\.9 to the firewall: `.* add tollgate 203\.0\.113\.9` succeeded in \d+ ms$/);
    expect(fake.calls()).toEqual([['add', 'tollgate', '203.0.113.9']]);
  });

  test('anything that is not an address is refused before anything runs (no injection)', async () => {
    const fake = recorder();
    const hook = new FirewallHook({ command: fake.command });
    for (const attempt of ['203.0.113.9; rm -rf /', '$(reboot)', '203.0.113.9 || true', '', '999.1.1.1']) {
      const result = await hook.block(attempt);
      expect(result.ok).toBe(false);
      expect(result.detail).toContain('not an IP address');
    }
    expect(fake.calls()).toEqual([]);
  });

  test('IPv6 is normalised; loopback and the never-block list are spared', async () => {
    const fake = recorder();
    const hook = new FirewallHook({ command: fake.command, neverBlock: ['198.51.100.0/24'] });
    expect((await hook.block('2001:DB8:0:0::7')).ok).toBe(true);
    expect((await hook.block('127.0.0.1')).detail).toBe('127.0.0.1 is on the never-block list (127.0.0.0/8): not handed to the firewall');
    expect((await hook.block('198.51.100.20')).detail).toBe('198.51.100.20 is on the never-block list (198.51.100.0/24): not handed to the firewall');
    expect(fake.calls()).toEqual([['add', 'tollgate', '2001:db8::7']]);
  });

  test('failures are reported: exit code, missing program, timeout', async () => {
    const failing = new FirewallHook({ command: [process.execPath, '-e', 'console.error("ipset v7.15: Set cannot be found"); process.exit(1)', '{ip}'] });
    expect(await failing.block('203.0.113.9')).toMatchObject({ ok: false, exitCode: 1, detail: expect.stringMatching(/failed \(exit 1\): ipset v7\.15: Set cannot be found$/) });
    const missing = new FirewallHook({ command: ['/nonexistent/ipset', 'add', 'tollgate', '{ip}'] });
    expect((await missing.block('203.0.113.9')).detail).toBe('firewall hook failed: /nonexistent/ipset not found (firewall.command)');
    const slow = new FirewallHook({ command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)', '{ip}'], timeoutMs: 300 });
    expect((await slow.block('203.0.113.9')).detail).toMatch(/did not finish within 300 ms and was killed$/);
    expect(new FirewallHook({ command: [] }).configured).toBe(false);
    expect((await new FirewallHook({ command: [] }).block('203.0.113.9')).detail).toBe('no firewall hook configured (firewall.command): nothing was blocked');
  });

  test('a bad never-block entry is a clear configuration error', () => {
    expect(() => new FirewallHook({ command: ['ipset'], neverBlock: ['198.51.100.0/40'] })).toThrow('firewall.neverBlock: "198.51.100.0/40" is not an address or CIDR block');
  });
});
