/**
 * `tollgate lock / unlock / locks` on the real SQLite file: they find the database through the same
 * configuration as `tollgate run` (--config, TOLLGATE_DB), say which file they changed, never create
 * one, warn when no running agent uses it, and refuse what is not an endpoint name.
 */
import { jest } from '@jest/globals';
import { Command } from 'commander';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointNameProblem, listLocks, lockEndpoint, registerLockCommands, unlockEndpoint } from '../../src/commands/locks.js';
import { loadConfig } from '../../src/config/load.js';
import type { TollgateConfig } from '../../src/config/schema.js';
import { AGENT_HEARTBEAT_MS, writeAgentMarker } from '../../src/store/agent-marker.js';
import { Store } from '../../src/store/store.js';

const ISO = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/;

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'tollgate-locks-'));
}

/** A database as the agent leaves it: created, with (or without) its running note. */
function agentDatabase(file: string, marker?: { seenAgoMs: number; stopped?: boolean }): void {
  const store = new Store(file);
  if (marker) {
    const seenAt = new Date(Date.now() - marker.seenAgoMs).toISOString();
    writeAgentMarker(store, { pid: 4242, host: 'pbx1', startedAt: '2026-12-05T08:00:00.000Z', seenAt, ...(marker.stopped ? { stoppedAt: seenAt } : {}) });
  }
  store.close();
}

function configWithDb(file: string): TollgateConfig {
  return loadConfig({ env: { TOLLGATE_DB: file } }).config;
}

/** Runs the registered commands as the CLI does; returns what they printed. */
async function cli(argv: string[], env: Record<string, string> = {}): Promise<string[]> {
  const program = new Command().exitOverride();
  registerLockCommands(program);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    await program.parseAsync(['node', 'tollgate', ...argv]);
    return log.mock.calls.map((call) => String(call[0]));
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    log.mockRestore();
  }
}

describe('which database the lock commands use', () => {
  test('--config: db.file relative to the configuration file; the output names it', async () => {
    const dir = scratch();
    const db = join(dir, 'state', 'tollgate.db');
    agentDatabase(db, { seenAgoMs: 1000 });
    const config = join(dir, 'tollgate.yaml');
    writeFileSync(config, 'db:\n  file: state/tollgate.db\n');
    const lines = await cli(['lock', '1003', '--config', config, '--reason', 'left the company']);
    expect(lines[0]).toBe(`database: ${db}`);
    expect(lines[1]).toBe('agent running on it: pid 4242 on pbx1, since 2026-12-05T08:00:00.000Z');
    const store = new Store(db);
    expect(store.lockOf('1003', Date.now())).toMatchObject({ endpoint: '1003', reason: 'left the company' });
    store.close();
    const listed = await cli(['locks', '--config', config]);
    expect(listed[0]).toBe(`database: ${db}`);
    expect(listed[2]).toMatch(new RegExp(`^1003  since ${ISO.source}  until unlocked  manual: left the company$`));
  });

  test('TOLLGATE_DB, as for `tollgate run`', async () => {
    const db = join(scratch(), 'agent.db');
    agentDatabase(db, { seenAgoMs: 1000 });
    const lines = await cli(['lock', '1004'], { TOLLGATE_DB: db });
    expect(lines[0]).toBe(`database: ${db}`);
    const unlocked = await cli(['unlock', '1004'], { TOLLGATE_DB: db });
    expect(unlocked).toContain('1004 unlocked');
  });

  test('a database that does not exist is never created: the error says how to point at the agent\'s', async () => {
    const db = join(scratch(), 'tollgate.db');
    await expect(lockEndpoint('1003', configWithDb(db), {})).rejects.toThrow(/no Tollgate database at .*tollgate\.db: the agent has never run with this configuration\. Give the same --config as `tollgate run` \(or TOLLGATE_DB=/);
    await expect(unlockEndpoint('1003', configWithDb(db))).rejects.toThrow(/no Tollgate database/);
    expect(() => listLocks(configWithDb(db), Date.now())).toThrow(/no Tollgate database/);
    expect(existsSync(db)).toBe(false);
  });
});

describe('whether an agent uses that database', () => {
  test.each([
    ['never ran on it', undefined, /^WARNING: no agent has ever run on this database/],
    ['stopped cleanly', { seenAgoMs: 60_000, stopped: true }, /^WARNING: the agent that uses this database stopped at .*: the change takes effect when it starts again$/],
    ['silent for three heartbeats', { seenAgoMs: 3 * AGENT_HEARTBEAT_MS + 1000 }, /^WARNING: no running agent uses this database \(last heard of at .*, pid 4242 on pbx1\)/],
    ['heard of lately', { seenAgoMs: AGENT_HEARTBEAT_MS }, /^agent running on it: pid 4242 on pbx1/],
  ] as const)('%s', async (_name, marker, expected) => {
    const db = join(scratch(), 'tollgate.db');
    agentDatabase(db, marker);
    const lines = await lockEndpoint('1005', configWithDb(db), {});
    expect(lines[0]).toBe(`database: ${db}`);
    expect(lines[1]).toMatch(expected);
    // The lock is written either way: the agent sees it when it (re)starts.
    expect(lines[2]).toMatch(/1005/);
  });
});

describe('endpoint names', () => {
  test.each([
    ['PJSIP/1003', '"PJSIP/1003" is a channel, not an endpoint name: did you mean "1003"?'],
    ['SIP/1003-0000002a', '"SIP/1003-0000002a" is a channel, not an endpoint name: did you mean "1003"?'],
    ['pjsip/office-7', '"pjsip/office-7" is a channel, not an endpoint name: did you mean "office-7"?'],
    ['1003@carrier', '"1003@carrier" is a dial string, not an endpoint name: did you mean "1003"?'],
    ['10 03', '"10 03" is not an endpoint name: no spaces, quotes or separators (e.g. 1003)'],
    ['a/b', '"a/b" is not an endpoint name (no "/"): give the name as in pjsip.conf, e.g. 1003'],
    ['', 'the endpoint name is empty'],
  ])('%j is refused', (name, message) => {
    expect(endpointNameProblem(name)).toBe(message);
  });

  test.each(['1003', 'office-7', 'trunk_carrier.b', 'Alice'])('%s is an endpoint name', (name) => {
    expect(endpointNameProblem(name)).toBeUndefined();
  });

  test('lock and unlock refuse PJSIP/1003 before touching the database', async () => {
    const db = join(scratch(), 'tollgate.db');
    agentDatabase(db, { seenAgoMs: 1000 });
    await expect(lockEndpoint('PJSIP/1003', configWithDb(db), {})).rejects.toThrow('did you mean "1003"?');
    await expect(unlockEndpoint('PJSIP/1003', configWithDb(db))).rejects.toThrow('did you mean "1003"?');
    const store = new Store(db);
    expect(store.locks(Date.now())).toEqual([]);
    store.close();
  });
});

describe('an endpoint locked twice', () => {
  test('`tollgate locks` shows when and why it was first locked, with every reason and policy; `tollgate unlock` lifts it in one go', async () => {
    const db = join(scratch(), 'tollgate.db');
    agentDatabase(db, { seenAgoMs: 1000 });
    // The agent locked 1001 an hour ago (account-compromise), then again ten minutes ago (endpoint-baseline).
    const firstAt = Date.now() - 3_600_000;
    const agent = new Store(db);
    agent.lock({ endpoint: '1001', since: firstAt, reason: 'password guessed from 203.0.113.9', policy: 'account-compromise' });
    agent.lock({ endpoint: '1001', since: Date.now() - 600_000, until: Date.now() + 3_600_000, reason: 'scanner User-Agent "friendly-scanner" from 198.51.100.7', policy: 'endpoint-baseline' });
    agent.close();

    const locked = await cli(['lock', '1001', '--reason', 'phone stolen', '--for', '2h'], { TOLLGATE_DB: db });
    expect(locked[2]).toBe(`Endpoint 1001 was locked already (since ${new Date(firstAt).toISOString()}, account-compromise, endpoint-baseline): this reason added, locked until unlocked; its new outbound calls are refused`);
    const listed = await cli(['locks'], { TOLLGATE_DB: db });
    expect(listed.slice(2)).toEqual([
      `1001  since ${new Date(firstAt).toISOString()}  until unlocked  account-compromise, endpoint-baseline, manual: password guessed from 203.0.113.9; scanner User-Agent "friendly-scanner" from 198.51.100.7; phone stolen`,
    ]);

    expect((await cli(['unlock', '1001'], { TOLLGATE_DB: db }))[2]).toBe('1001 unlocked');
    expect((await cli(['locks'], { TOLLGATE_DB: db })).slice(2)).toEqual(['no endpoint is locked']);
  });
});
