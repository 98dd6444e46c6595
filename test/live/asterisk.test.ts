/**
 * The shipped Asterisk configuration (docker/asterisk/etc) as the real Asterisk loads it: no error,
 * the modules the demo needs, loopback only, Tollgate's least-privilege AMI user, ARI, the lock check.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { asteriskMessages, asteriskSetting, rx } from './live.js';

test('the configuration loads without a single ERROR line', async () => {
  expect(await rx('core show version')).toMatch(/^Asterisk 22\./m);
  expect(asteriskMessages.lines().filter((line) => line.includes('ERROR['))).toEqual([]);
  const modules = await rx('module show');
  for (const module of ['chan_pjsip.so', 'res_pjsip.so', 'res_ari.so', 'res_ari_channels.so', 'cdr_manager.so', 'func_db.so', 'app_stack.so', 'app_dial.so', 'res_security_log.so']) {
    expect(modules).toMatch(new RegExp(`^${module.replace('.', '\\.')}\\s.*Running`, 'm'));
  }
});

test('everything Asterisk and the sipp carrier listen on is bound to 127.0.0.1', () => {
  const sockets = execFileSync('ss', ['-H', '-lntup'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('"asterisk"'));
  const listening = sockets.filter((line) => line.startsWith('tcp')).map((line) => line.split(/\s+/)[4]);
  expect(listening.sort()).toEqual(['127.0.0.1:5038', '127.0.0.1:8088']);
  const sip = sockets.filter((line) => line.startsWith('udp')).map((line) => line.split(/\s+/)[4]);
  expect(sip).toContain('127.0.0.1:5060');
  // UDP beyond 127.0.0.1 (SIP, RTP): only the two client sockets pjproject keeps on an ephemeral
  // port of the wildcard address (0.0.0.0 and [::]), which serve nothing.
  const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  for (const address of sip) {
    if (address!.startsWith('127.0.0.1:')) continue;
    const port = Number(address!.slice(address!.lastIndexOf(':') + 1));
    expect(port).toBeGreaterThanOrEqual(low!);
    expect(port).toBeLessThanOrEqual(high!);
  }
  const carrier = execFileSync('ss', ['-H', '-lntup'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('"sipp"'))
    .map((line) => line.split(/\s+/)[4]);
  expect(carrier).toContain('127.0.0.1:5080');
  for (const address of carrier) expect(address).toMatch(/^127\.0\.0\.1:/);
});

test("Tollgate's AMI user is the README's least-privilege one, reachable from loopback only", async () => {
  const user = await rx('manager show user tollgate');
  const perms = (name: string): string[] => (new RegExp(`${name} perm: (.*)`).exec(user)?.[1] ?? '').split(',').map((perm) => perm.trim()).sort();
  expect(perms('read')).toEqual(['call', 'cdr', 'security', 'system']);
  expect(perms('write')).toEqual(['call', 'reporting', 'system']);
  expect(user).toMatch(/deny - 0\.0\.0\.0\/0\.0\.0\.0/);
  expect(user).toMatch(/allow - 127\.0\.0\.1\/255\.255\.255\.255/);
  expect(await rx('manager show settings')).toMatch(/Timestamp events:\s+Yes/);
});

test('ARI answers the tollgate ARI user on 127.0.0.1:8088', async () => {
  const password = asteriskSetting('ari.conf', 'tollgate', 'password');
  const response = await fetch('http://127.0.0.1:8088/ari/asterisk/info', { headers: { authorization: `Basic ${Buffer.from(`tollgate:${password}`).toString('base64')}` } });
  expect(response.status).toBe(200);
  const denied = await fetch('http://127.0.0.1:8088/ari/asterisk/info', { headers: { authorization: `Basic ${Buffer.from('tollgate:wrong').toString('base64')}` } });
  expect(denied.status).toBe(401);
});

test('the outbound route runs the lock check before Dial(), internal calls stay internal', async () => {
  const internal = await rx('dialplan show from-internal');
  expect(internal).toMatch(/'_X\.' =>\s+1\. NoOp[^\n]*\n\s+2\. Gosub\(tollgate-check,s,1\)[\s\S]*Dial\(PJSIP\/\$\{EXTEN\}@carrier\)/);
  expect(internal).toMatch(/'_1XXX' =>[\s\S]*Dial\(PJSIP\/\$\{EXTEN\},30\)/);
  expect(await rx('dialplan show tollgate-check')).toContain('DB_EXISTS(tollgate/lock/${CHANNEL(endpoint)})');
});
