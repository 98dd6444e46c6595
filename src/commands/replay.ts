/**
 * `tollgate replay <capture…>`: the call timeline of raw AMI captures — calls, endpoints,
 * destinations, durations, security events — and, with --policies, what every policy found and
 * what would have been done, all computed from event time: identical on every run. Several
 * captures are replayed in the order given, the agent's state carried from one to the next.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadPoliciesOrThrow } from '../policy/loader.js';
import { numberMasker } from '../privacy.js';
import { describeRateSource, rateTableFromConfig } from '../rates/index.js';
import { replayTranscript, type ReplayOptions } from '../replay.js';
import { classifierFor } from '../numbers/from-config.js';
import { userAgentListFor } from '../profile/user-agents.js';
import { configFromOptions, describeClassification } from './common.js';

export interface ReplayCommandOptions {
  config?: string;
  country?: string;
  policies?: string;
  rates?: string;
  dryRun?: boolean;
  json?: boolean;
  verbose?: boolean;
  mask?: boolean;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('print the call timeline of AMI captures (raw bytes Asterisk sent); with --policies, the findings and decisions too. Several captures are replayed in the order given, state (addresses seen, spend, locks, counters) carried from one to the next')
    .argument('<captures...>', 'files with raw AMI bytes, e.g. a capture made with `nc 127.0.0.1 5038 | tee capture.ami`')
    .option('-c, --config <file>', 'configuration file (numbering plan, trunks, rates, privacy)')
    .option('--policies <dir>', 'evaluate the policies in this directory')
    .option('--rates <csv>', 'rate table (overrides rates.file; default: the shipped example table); `none` for no table')
    .option('--country <code>', 'home country of the PBX (overrides the configuration)')
    .option('--dry-run', 'treat every policy as simulate')
    .option('--json', 'one JSON object per line (calls, security events, findings, decisions)')
    .option('--verbose', 'also show ChallengeSent security events')
    .option('--mask', 'mask phone numbers (as privacy.maskNumbers does)')
    .action((captures: string[], options: ReplayCommandOptions) => {
      for (const line of replayForDisplay(captures.map((file) => readFileSync(file)), options)) console.log(line);
    });
}

export function replayForDisplay(bytes: Buffer | readonly Buffer[], options: ReplayCommandOptions): string[] {
  const { config } = configFromOptions(options);
  const classifier = classifierFor(config);
  const replay: ReplayOptions = {
    trunks: config.trunks,
    verbose: options.verbose ?? false,
    mask: numberMasker(options.mask ?? config.privacy.maskNumbers),
    describeNumber: (number) => describeClassification(classifier.classify(number)),
    classifier,
    mode: options.dryRun ? 'simulate' : config.mode,
    timezone: config.timezone,
    userAgents: userAgentListFor(config),
  };
  if (options.policies) {
    replay.policies = loadPoliciesOrThrow(options.policies);
    // The same rate table as `run` and `classify` for this configuration (default: the example table).
    replay.rates = rateTableFromConfig(options.rates ? { ...config.rates, file: options.rates === 'none' ? 'none' : resolve(options.rates) } : config.rates);
  }
  const result = replayTranscript(bytes, replay);
  if (options.json) return result.records.map((record) => JSON.stringify(record));
  const prices = replay.rates ? [`  prices: ${describeRateSource(replay.rates.source)}`] : [];
  return [...result.lines, '', ...result.summary, ...prices];
}
