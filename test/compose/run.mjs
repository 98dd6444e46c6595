#!/usr/bin/env node
// `npm run test:compose`: the top-level docker-compose.yml run for real — Asterisk, Tollgate, the
// sipp carrier, the mail catcher, and the attacker's scenarios — then torn down (`down -v`).
//
// Needs Docker with the Compose v2 plugin and the base images the Dockerfiles name (on a machine
// without a registry: scripts/compose-env.sh builds them locally). Uses the host's network like the
// demo: the ports of docker-compose.yml on 127.0.0.1 must be free.
//
// Asserts, in order:
//   the stack comes up and every service reports healthy (tollgate's HEALTHCHECK is /healthz);
//   Asterisk loaded docker/asterisk/etc with no ERROR line, every module of modules.conf running,
//     the phones and the carrier trunk known, Tollgate logged in to AMI;
//   bruteforce: the scan finds 1001's password, Tollgate locks 1001 and mails about it;
//   fraud (1001 locked: the dialplan's lock check and Tollgate), then fraud again with the lock
//     lifted by `tollgate unlock 1001` (Tollgate alone): no fraud call answered by the carrier,
//     Tollgate's hang-ups in its log;
//   legit: 1002's national calls are answered by the carrier and end normally;
//   the alert mails are in the catcher (its HTTP API): the attack is one thread (one first mail, the
//     rest [UPDATE]s answering it: the guessed password, the scanner's registration, the first call
//     hung up with the next ones folded in), none about the legitimate calls;
//   tollgate is still healthy at the end.
// Prints one line per check and a summary; exits 1 on any failure (after dumping the services' logs).
//
// Environment: COMPOSE_TEST_PROJECT (default tollgate-compose-test), COMPOSE_TEST_KEEP=1 (leave the
// stack up afterwards), COMPOSE_TEST_NO_BUILD=1 (skip --build).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const project = process.env.COMPOSE_TEST_PROJECT || 'tollgate-compose-test';
const composeFile = resolve(root, 'docker-compose.yml');
const started = Date.now();

const FRAUD = ['005355512345', '0037190123456', '00252612345678', '00882161234567', '09098790000'];
const LEGIT = ['02079460123', '01614960000'];
// The alert mails' subjects (act/mail/render.ts), with or without [UPDATE]: that depends on the thread.
const COMPROMISE = /\] password guessed on 1001 from 127\.0\.0\.1 — locked/;
const SCANNER = /\] scanner on 1001 from 127\.0\.0\.1 — locked/;
const HUNG_UP = /\] 1001 → .* hung up$/;
// docker-compose.yml's listeners on 127.0.0.1: a leftover demo or the live tier's Asterisk would
// answer in place of the containers.
const PORTS = [['udp', 5060], ['tcp', 5038], ['tcp', 8088], ['udp', 5080], ['tcp', 1025], ['tcp', 1080], ['tcp', 9090]];

const results = [];
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const say = (line) => console.log(`[compose ${elapsed().padStart(4)}] ${line}`);

function check(name, ok, detail = '') {
  results.push({ name, ok });
  console.log(`${ok ? 'ok    ' : 'FAIL  '} ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

/** Runs a command; returns { status, stdout, stderr }. Never throws. */
function run(cmd, args, { timeoutMs = 600_000, input, quiet = true } = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: timeoutMs, input, maxBuffer: 64 * 1024 * 1024, stdio: quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'] });
  return { status: r.status ?? (r.error ? 127 : 1), stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const compose = (args, options) => run('docker', ['compose', '-p', project, '-f', composeFile, ...args], options);
const exec = (service, argv, options) => compose(['exec', '-T', service, ...argv], options);
const attacker = (scenario) => compose(['run', '--rm', '-T', 'attacker', scenario], { timeoutMs: 180_000 });
const logs = (service) => compose(['logs', '--no-color', '--no-log-prefix', service]).stdout;

/** `docker compose ps` as { service: health-or-state }. */
function states() {
  const r = compose(['ps', '--all', '--format', 'json']);
  const out = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    // Compose prints one JSON object per line (older versions: one array).
    const items = line.trim().startsWith('[') ? JSON.parse(line) : [JSON.parse(line)];
    for (const c of items) out[c.Service] = c.Health || c.State;
  }
  return out;
}

async function waitFor(what, fn, timeoutMs, everyMs = 1000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(everyMs);
  }
  say(`gave up waiting for ${what} after ${timeoutMs / 1000}s`);
  return undefined;
}

async function httpGet(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    return { status: 0, body: String(error?.cause?.code ?? error) };
  }
}

/** The carrier's call log: invite / answered / cancelled / ended <number> <call-id>. */
function carrierCalls() {
  const calls = [];
  for (const line of logs('carrier').split('\n')) {
    const m = /^(invite|answered|cancelled|ended) (\S+) (\S+)$/.exec(line.trim());
    if (m) calls.push({ event: m[1], number: m[2], callId: m[3] });
  }
  return calls;
}

function portUsers() {
  const busy = [];
  for (const [proto, port] of PORTS) {
    const r = run('ss', ['-H', proto === 'udp' ? '-lunp' : '-ltnp', `sport = :${port}`]);
    if (r.status === 0 && r.stdout.trim()) busy.push(`${port}/${proto}: ${r.stdout.trim().split('\n')[0].replace(/\s+/g, ' ')}`);
  }
  return busy;
}

async function main() {
  const version = run('docker', ['compose', 'version']);
  if (!check('docker compose is available', version.status === 0, version.stdout.trim() || version.stderr.trim())) return;

  // A stack of this project left over from an interrupted run.
  compose(['--profile', 'attacker', 'down', '-v', '--remove-orphans'], { timeoutMs: 120_000 });
  const busy = portUsers();
  if (!check('the demo\'s ports on 127.0.0.1 are free', busy.length === 0, busy.join('; '))) return;

  // ---- up ----
  say(`docker compose -p ${project} up -d${process.env.COMPOSE_TEST_NO_BUILD ? '' : ' --build'} (first build: several minutes)`);
  const upArgs = ['up', '-d', '--quiet-pull', ...(process.env.COMPOSE_TEST_NO_BUILD ? [] : ['--build'])];
  const up = compose(upArgs, { timeoutMs: 1_800_000 });
  if (!check('docker compose up -d --build', up.status === 0, up.status === 0 ? '' : tail(up.stderr + up.stdout, 40))) return;
  const build = compose(['--profile', 'attacker', 'build', 'attacker'], { timeoutMs: 900_000 });
  if (!check('the attacker image builds', build.status === 0, build.status === 0 ? '' : tail(build.stderr + build.stdout, 40))) return;

  const services = ['asterisk', 'carrier', 'mail', 'tollgate'];
  const healthy = await waitFor('every service healthy', () => {
    const s = states();
    return services.every((name) => s[name] === 'healthy') ? s : undefined;
  }, 180_000, 2000);
  const ps = compose(['ps']).stdout.trim();
  console.log(ps.replace(/^/gm, '    '));
  if (!check('every service is healthy (docker compose ps)', Boolean(healthy), JSON.stringify(states()))) return;

  // ---- Asterisk ----
  const messages = exec('asterisk', ['cat', '/var/log/asterisk/messages.log']).stdout;
  const errors = messages.split('\n').filter((line) => /\bERROR\[/.test(line));
  check('Asterisk started with no ERROR line (messages.log)', messages.includes('modules will be loaded') && errors.length === 0, errors.slice(0, 5).join(' | ') || firstMatch(messages, /(\d+ modules will be loaded)/));
  const wanted = [...readFileSync(resolve(root, 'docker/asterisk/etc/modules.conf'), 'utf8').matchAll(/^\s*load\s*=>\s*(\S+\.so)/gm)].map((m) => m[1]);
  const moduleShow = exec('asterisk', ['asterisk', '-rx', 'module show']).stdout;
  const missing = wanted.filter((mod) => !new RegExp(`^${mod.replace('.', '\\.')}\\s.*\\bRunning\\b`, 'm').test(moduleShow));
  check(`Asterisk runs every module of modules.conf (${wanted.length})`, wanted.length > 0 && missing.length === 0, missing.length ? `not running: ${missing.join(', ')}` : firstMatch(moduleShow, /(\d+ modules loaded)/));
  const endpoints = exec('asterisk', ['asterisk', '-rx', 'pjsip show endpoints']).stdout;
  check('PJSIP endpoints 1001, 1002 and carrier are configured', ['1001', '1002', 'carrier'].every((e) => new RegExp(`Endpoint:\\s+${e}\\b`).test(endpoints)));

  // ---- Tollgate ----
  const health = await httpGet('http://127.0.0.1:9090/healthz');
  check('Tollgate /healthz answers 200 with AMI connected', health.status === 200 && /"ami":"connected"/.test(health.body), `${health.status} ${health.body.trim()}`);
  check('Tollgate logged in to Asterisk AMI (its log)', /connected to Asterisk AMI/.test(logs('tollgate')));
  const managers = exec('asterisk', ['asterisk', '-rx', 'manager show connected']).stdout;
  check('Asterisk shows the tollgate AMI user connected', /^\s*tollgate\s+127\.0\.0\.1/m.test(managers), firstMatch(managers, /^\s*(tollgate\s+\S+)/m));

  // ---- the attack ----
  say('attacker bruteforce');
  const scan = attacker('bruteforce');
  process.stdout.write(indent(scan.stdout));
  check('bruteforce: the scan finds 1001\'s password', /^FOUND 1001 1234$/m.test(scan.stdout), tail(scan.stderr, 5));
  const locked = await waitFor('1001 locked', () => {
    const r = exec('tollgate', ['tollgate', 'locks']);
    return /^1001\s/m.test(r.stdout) ? r.stdout : undefined;
  }, 20_000);
  check('Tollgate locked 1001 (tollgate locks)', Boolean(locked), locked?.trim());

  say('attacker fraud (1001 locked)');
  const fraud1 = attacker('fraud');
  process.stdout.write(indent(fraud1.stdout));
  check('fraud, 1001 locked: every call refused', FRAUD.every((n) => new RegExp(`^fraud ${n}: .*refused`, 'm').test(fraud1.stdout)), tail(fraud1.stdout + fraud1.stderr, 3));

  const unlock = exec('tollgate', ['tollgate', 'unlock', '1001']);
  check('tollgate unlock 1001 (AstDB too)', unlock.status === 0 && /unlocked/.test(unlock.stdout), unlock.stdout.trim().replace(/\n/g, '; '));
  const since = new Date().toISOString();
  say('attacker fraud (lock lifted: Tollgate alone)');
  const fraud2 = attacker('fraud');
  process.stdout.write(indent(fraud2.stdout));
  check('fraud, lock lifted: every call refused', FRAUD.every((n) => new RegExp(`^fraud ${n}: .*refused`, 'm').test(fraud2.stdout)), tail(fraud2.stdout + fraud2.stderr, 3));
  await sleep(2000);
  const phase2 = compose(['logs', '--no-color', '--no-log-prefix', '--since', since, 'tollgate']).stdout;
  const hangups = phase2.split('\n').filter((line) => /"action":"hangup"/.test(line) && /decision/.test(line)).length;
  check('Tollgate decided a hang-up for every fraud call (its log)', hangups >= FRAUD.length, `${hangups} hang-up decisions`);
  // The pre-dial gate (TOLLGATE_AGI_LISTEN, the AGI() line of the dialplan's outbound route) answered Asterisk before Dial().
  const gateDenials = phase2.split('\n').filter((line) => /"msg":"gate: deny"/.test(line)).length;
  check('the pre-dial gate refused fraud calls before Dial() (its log)', gateDenials > 0, `${gateDenials} gate denials`);

  say('attacker legit');
  const legit = attacker('legit');
  process.stdout.write(indent(legit.stdout));
  check('legit: every call answered', LEGIT.every((n) => new RegExp(`^legit ${n}: .*answered`, 'm').test(legit.stdout)), tail(legit.stdout + legit.stderr, 3));

  // ---- the carrier's own log ----
  await sleep(1000);
  const calls = carrierCalls();
  console.log(indent(calls.map((c) => `carrier: ${c.event} ${c.number}`).join('\n') + '\n'));
  const answeredFraud = calls.filter((c) => c.event === 'answered' && FRAUD.includes(c.number));
  check('the carrier answered no fraud call', answeredFraud.length === 0, answeredFraud.map((c) => c.number).join(', ') || `${calls.filter((c) => c.event === 'invite' && FRAUD.includes(c.number)).length} fraud INVITEs reached it, none answered`);
  // The phone's and Asterisk's side of it: no fraud call was answered anywhere (a 200 OK crossing
  // Asterisk's CANCEL would show up here even if the carrier's scenario did not log it).
  const answeredInTollgate = logs('tollgate').split('\n').filter((line) => /"msg":"call answered"/.test(line) && FRAUD.some((n) => line.includes(`"dialled":"${n}"`)));
  check('Tollgate saw no fraud call answered (its log)', answeredInTollgate.length === 0, answeredInTollgate.slice(0, 3).join(' | '));
  const legitOk = LEGIT.every((n) => calls.some((c) => c.event === 'answered' && c.number === n) && calls.some((c) => c.event === 'ended' && c.number === n));
  check('the carrier answered and ended every legitimate call', legitOk);

  // ---- the mails ----
  const mails = await waitFor('the alert mails', async () => {
    const r = await httpGet('http://127.0.0.1:1080/api/email');
    if (r.status !== 200) return undefined;
    const list = JSON.parse(r.body);
    const subjects = list.map((m) => m.subject ?? '');
    return [COMPROMISE, SCANNER, HUNG_UP].every((re) => subjects.some((s) => re.test(s))) ? list : undefined;
  }, 30_000, 2000);
  const subjects = (mails ?? []).map((m) => m.subject ?? '');
  console.log(indent(subjects.map((s) => `mail: ${s}`).join('\n') + '\n'));
  check('the catcher has the compromise mail (password guessed on 1001, locked)', subjects.some((s) => COMPROMISE.test(s)));
  check('the catcher has the scanner mail (endpoint-baseline: 1001 registered by friendly-scanner, locked)', subjects.some((s) => SCANNER.test(s)));
  const hungUp = subjects.filter((s) => HUNG_UP.test(s)).length;
  check('one hang-up mail for the first call, the next calls folded in', hungUp >= 1 && hungUp < FRAUD.length, `${hungUp} hang-up mails for ${FRAUD.length} fraud calls`);
  // Mail threads (act/mail/threads.ts): the scan, the guessed password, the scanner's registration and
  // the calls share an address and an endpoint — one attack, one thread. Which finding opens it
  // depends on which event Tollgate judges first; the others answer it (In-Reply-To).
  const incidentMails = (mails ?? []).filter((m) => !/\[DIGEST\]/.test(m.subject ?? ''));
  const firsts = incidentMails.filter((m) => !/\[UPDATE\]/.test(m.subject ?? ''));
  const rootId = firsts[0]?.headers?.['message-id'];
  const strays = incidentMails.filter((m) => m !== firsts[0] && !(/\[UPDATE\]/.test(m.subject ?? '') && m.headers?.['in-reply-to'] === rootId));
  check('the attack is one mail thread: one first mail, every other an [UPDATE] answering it', firsts.length === 1 && Boolean(rootId) && strays.length === 0,
    `first: ${firsts.map((m) => m.subject).join(' | ') || 'none'}${strays.length ? `; not in the thread: ${strays.map((m) => m.subject).join(' | ')}` : ''}`);
  check('every mail is addressed to the admin', (mails ?? []).length > 0 && mails.every((m) => (m.to ?? []).some((t) => t.address === 'pbx-admin@example.com')));
  // Subjects write numbers grouped (+44 20 7946 0123): compare digits only.
  check('no mail about the legitimate calls', !subjects.some((s) => LEGIT.some((n) => s.replace(/\D/g, '').includes(n.slice(1)))));

  // ---- still healthy ----
  const final = states();
  check('tollgate is healthy at the end (docker compose ps)', final.tollgate === 'healthy', JSON.stringify(final));
}

function firstMatch(text, re) {
  return re.exec(text)?.[1] ?? '';
}
function tail(text, lines) {
  return text.trim().split('\n').slice(-lines).join('\n');
}
function indent(text) {
  return text.replace(/^(?=.)/gm, '    ');
}

let crashed;
try {
  await main();
} catch (error) {
  crashed = error;
  check('the compose test ran to its end', false, error?.stack ?? String(error));
}
const failed = results.filter((r) => !r.ok);
if (failed.length > 0 || crashed) {
  for (const service of ['asterisk', 'tollgate', 'carrier', 'mail']) {
    console.log(`---- last lines of ${service}'s log ----`);
    console.log(indent(tail(logs(service), 40) + '\n'));
  }
  console.log('---- asterisk messages.log ----');
  console.log(indent(tail(exec('asterisk', ['cat', '/var/log/asterisk/messages.log']).stdout, 40) + '\n'));
}
if (process.env.COMPOSE_TEST_KEEP) {
  say(`left running (COMPOSE_TEST_KEEP): docker compose -p ${project} down -v`);
} else {
  const down = compose(['--profile', 'attacker', 'down', '-v', '--remove-orphans'], { timeoutMs: 180_000 });
  check('docker compose down -v', down.status === 0, down.status === 0 ? '' : tail(down.stderr, 5));
}
const passed = results.length - results.filter((r) => !r.ok).length;
const failures = results.filter((r) => !r.ok);
console.log(`\ncompose: ${failures.length === 0 ? 'PASS' : 'FAIL'} in ${elapsed()}`);
for (const f of failures) console.log(`  failed: ${f.name}`);
console.log(`${passed} passed, ${failures.length} failed`);
process.exit(failures.length === 0 ? 0 : 1);
