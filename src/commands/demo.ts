/**
 * `tollgate demo`: the whole agent against the built-in AMI simulator on loopback, replaying
 * recorded attacks from a real Asterisk — no PBX needed. What the agent sees is printed as a
 * timeline while it happens.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutboxMail } from '../store/store.js';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { createAgent } from '../main.js';
import { packagePath } from '../paths.js';
import { TimelineReport } from '../report/timeline.js';
import { AmiSimulator, loadTranscript } from '../sim/index.js';
import { classifierFor } from '../numbers/from-config.js';
import { describeClassification } from './common.js';
import { numberMasker } from '../privacy.js';

interface DemoOptions {
  speed: string;
  transcript?: string[];
  verbose?: boolean;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the agent against a built-in Asterisk simulator replaying recorded attacks (no PBX needed)')
    .option('--speed <factor>', 'replay speed: 1 = as recorded, 20 = twenty times faster, max = no pauses', '20')
    .option('--transcript <file...>', 'replay these captures instead of the shipped demo/*.ami')
    .option('--verbose', 'also print the agent log (JSON on stderr)')
    .action(async (options: DemoOptions) => {
      await runDemo(options, (line) => console.log(line));
    });
}

export async function runDemo(options: DemoOptions, print: (line: string) => void): Promise<void> {
  const speed = options.speed === 'max' ? Infinity : Number(options.speed);
  if (!Number.isFinite(speed) && speed !== Infinity) throw new Error(`--speed must be a number or "max", not "${options.speed}"`);
  const transcripts = options.transcript ?? demoTranscripts();
  const user = { username: 'tollgate', secret: randomBytes(12).toString('hex') };
  const sim = new AmiSimulator({ users: [user] });
  const port = await sim.start();

  // The lab the captures come from dials North American style (011) and also 00 prefixes.
  const stateDir = mkdtempSync(join(tmpdir(), 'tollgate-demo-'));
  const { config } = loadConfig({
    env: {
      TOLLGATE_DB: join(stateDir, 'tollgate.db'),
      TOLLGATE_ALERT_TO: 'pbx-admin@example.com',
      TOLLGATE_ACTIONS_CONFIRM_TIMEOUT_MS: '1000',
      TOLLGATE_HTTP_PORT: '0',
      TOLLGATE_AMI_HOST: '127.0.0.1',
      TOLLGATE_AMI_PORT: String(port),
      TOLLGATE_AMI_USERNAME: user.username,
      TOLLGATE_AMI_SECRET: user.secret,
      TOLLGATE_HOME_COUNTRY: 'US',
      TOLLGATE_NUMBERING_INTERNATIONAL_PREFIXES: '011,00',
      TOLLGATE_TRUNKS: 'carrier',
      TOLLGATE_POLICIES: packagePath('policies'),
      TOLLGATE_MODE: 'enforce',
    },
  });
  const logger = createLogger(options.verbose ? 'info' : 'silent');
  // The demo has no mail server: incident mails are printed as the admin would receive them.
  const mails: OutboxMail[] = [];
  const mailQueue = {
    enqueue(mail: OutboxMail): void {
      mails.push(mail);
      print(`${' '.repeat(25)}MAIL      to ${mail.to.join(', ')}: ${mail.subject}`);
    },
  };
  const agent = createAgent({ config, logger, mailQueue });
  const classifier = classifierFor(config);
  const report = new TimelineReport({ describeNumber: (number) => describeClassification(classifier.classify(number)), mask: numberMasker(config.privacy.maskNumbers) });
  agent.pipeline.onResult((result) => {
    if (result.event) report.add(result.event, result.changes).forEach(print);
    else report.addChanges(result.changes).forEach(print);
    report.addVerdicts(result.findings, result.decisions).forEach(print);
  });

  print(`Tollgate demo: AMI simulator on 127.0.0.1:${port}, replaying ${transcripts.length} recorded capture(s) at ${speed === Infinity ? 'full' : `${speed}×`} speed`);
  try {
    await agent.start();
    await agent.client.waitForConnected(10_000);
    for (const file of transcripts) {
      print(`\n── ${file.replace(/.*\//, '')} ──`);
      await sim.replay(await loadTranscript(file), { speed, times: 'now' });
    }
    // Let the last events and actions settle before summing up.
    await agent.client.action('Ping');
    await agent.actor.settled();
    print('');
    for (const line of report.summary(Date.now())) print(line);
    const hangups = sim.actions.filter((action) => action.name === 'Hangup').length;
    print(`  AMI Hangup actions sent to Asterisk: ${hangups}; mails: ${mails.length}; locked now: ${agent.store.locks(Date.now()).map((lock) => lock.endpoint).join(', ') || 'none'}`);
    const first = mails.find((mail) => mail.subject.endsWith('hung up')) ?? mails[0];
    if (first) {
      print('');
      print(`One of the mails, as the admin reads it (${first.subject}):`);
      print('');
      for (const line of first.text.split('\n')) print(`  ${line}`);
    }
  } finally {
    await agent.stop();
    await sim.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

function demoTranscripts(): string[] {
  const dir = packagePath('demo');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.ami'))
    .sort()
    .map((name) => join(dir, name));
}
