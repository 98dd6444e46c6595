/**
 * One set of defaults everywhere: `tollgate classify`, `tollgate replay` and the running agent (over
 * TCP against the AMI simulator) read the same configuration file and must make the same thing of
 * the same dialled string — E.164, type, scope, risk and price. The call is a UK premium number
 * dialled with 00 and with 011, from a PBX in the US and from one in the UK; the configuration names
 * no international prefixes and no rate table, so the defaults (the home country's prefixes, the
 * shipped example rates) are what is compared.
 */
import { jest } from '@jest/globals';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerClassifyCommand } from '../../src/commands/classify.js';
import { registerReplayCommand } from '../../src/commands/replay.js';
import { loadConfig } from '../../src/config/load.js';
import { createAgent } from '../../src/main.js';
import type { FindingCall } from '../../src/policy/types.js';
import { AmiSimulator, parseTranscript } from '../../src/sim/index.js';
import { fixturePath } from '../helpers/fixtures.js';
import { MemoryLogger } from '../../src/log.js';
import { until } from '../helpers/wait.js';

const USER = { username: 'tollgate', secret: 'same-defaults-secret' };
/** The recorded call dials 011535551234 (Cuba); the test dials the UK premium number instead. */
const RECORDED_NUMBER = '011535551234';

interface Facts {
  e164: string | undefined;
  type: string | undefined;
  scope: string | undefined;
  risk: string | undefined;
  pricePerMinute: string | undefined;
}

const work = mkdtempSync(join(tmpdir(), 'tollgate-same-defaults-'));

function configFile(country: string): string {
  const file = join(work, `tollgate-${country}.yaml`);
  writeFileSync(file, [`numbering:`, `  homeCountry: ${country}`, `trunks: [carrier]`, `policies:`, `  dir: ${fixturePath('observe-policies')}`, `http:`, `  port: 0`, ''].join('\n'));
  return file;
}

function capture(dialled: string): Buffer {
  const file = join(work, `${dialled}.ami`);
  writeFileSync(file, readFileSync(fixturePath('ami', 'intl-call-cuba.timestamped.ami'), 'utf8').replaceAll(RECORDED_NUMBER, dialled));
  return readFileSync(file);
}

/** Runs a registered command on a commander program, as the CLI does, and returns what it printed. */
async function cli(register: (program: Command) => void, argv: string[]): Promise<string[]> {
  const program = new Command().exitOverride();
  register(program);
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await program.parseAsync(['node', 'tollgate', ...argv]);
    return log.mock.calls.map((call) => String(call[0]));
  } finally {
    log.mockRestore();
  }
}

async function viaClassify(config: string, dialled: string): Promise<Facts> {
  const [line] = await cli(registerClassifyCommand, ['classify', '--config', config, '--json', dialled]);
  const result = JSON.parse(line!) as { e164?: string; type: string; scope: string; risk: string; price: { pricePerMinute?: string; source?: string } | null };
  expect(result.price?.source).toBe('example');
  return { e164: result.e164, type: result.type, scope: result.scope, risk: result.risk, pricePerMinute: result.price?.pricePerMinute };
}

async function viaReplay(config: string, dialled: string): Promise<Facts> {
  const file = join(work, `replay-${dialled}.ami`);
  writeFileSync(file, capture(dialled));
  const lines = await cli(registerReplayCommand, ['replay', '--config', config, '--policies', fixturePath('observe-policies'), '--json', file]);
  const finding = lines.map((line) => JSON.parse(line) as Record<string, string | undefined>).find((record) => record.kind === 'finding');
  expect(finding).toBeDefined();
  return { e164: finding!.e164, type: finding!.numberType, scope: finding!.destinationScope, risk: finding!.risk, pricePerMinute: finding!.ratePerMinute };
}

async function viaAgent(config: string, dialled: string): Promise<Facts> {
  const sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  const { config: settings } = loadConfig({
    file: config,
    env: { TOLLGATE_AMI_PORT: String(sim.port), TOLLGATE_AMI_USERNAME: USER.username, TOLLGATE_AMI_SECRET: USER.secret, TOLLGATE_AMI_PING_INTERVAL_MS: '0', TOLLGATE_DB: join(mkdtempSync(join(work, 'db-')), 'tollgate.db') },
  });
  const agent = createAgent({ config: settings, logger: new MemoryLogger(), mailQueue: { enqueue: () => undefined } });
  const calls: FindingCall[] = [];
  agent.pipeline.onResult((result) => calls.push(...result.findings.flatMap((finding) => (finding.call ? [finding.call] : []))));
  try {
    await agent.start();
    await agent.client.waitForConnected(5000);
    await sim.replay(parseTranscript(capture(dialled)), { speed: Infinity, times: 'now' });
    await until(() => calls.length > 0, 'a finding about the call');
    const call = calls[0]!;
    return { e164: call.e164, type: call.numberType, scope: call.destinationScope, risk: call.risk, pricePerMinute: call.ratePerMinute };
  } finally {
    await agent.stop();
    await sim.stop();
  }
}

describe('classify, replay and run agree on a number with the same configuration', () => {
  const cases: { country: string; dialled: string; expected: Facts }[] = [
    { country: 'US', dialled: '00449098790123', expected: { e164: '+449098790123', type: 'PREMIUM_RATE', scope: 'international', risk: 'critical', pricePerMinute: '3.00' } },
    { country: 'US', dialled: '011449098790123', expected: { e164: '+449098790123', type: 'PREMIUM_RATE', scope: 'international', risk: 'critical', pricePerMinute: '3.00' } },
    { country: 'GB', dialled: '00449098790123', expected: { e164: '+449098790123', type: 'PREMIUM_RATE', scope: 'national', risk: 'critical', pricePerMinute: '3.00' } },
    { country: 'GB', dialled: '09098790123', expected: { e164: '+449098790123', type: 'PREMIUM_RATE', scope: 'national', risk: 'critical', pricePerMinute: '3.00' } },
  ];

  test.each(cases)('home $country, dialled $dialled', async ({ country, dialled, expected }) => {
    const config = configFile(country);
    const classified = await viaClassify(config, dialled);
    expect(classified).toEqual(expected);
    expect(await viaReplay(config, dialled)).toEqual(classified);
    expect(await viaAgent(config, dialled)).toEqual(classified);
  });

  test('home GB, 011 is not an international prefix: every command reads 011… the same (national)', async () => {
    const config = configFile('GB');
    const classified = await viaClassify(config, '011449098790123');
    expect(classified.scope).not.toBe('international');
    expect(await viaReplay(config, '011449098790123')).toEqual(classified);
  });
});
