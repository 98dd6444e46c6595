/**
 * `tollgate replay <transcript>`: the call timeline of a raw AMI capture — calls, endpoints,
 * destinations, durations, security events — computed from event time, identical on every run.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { numberMasker } from '../privacy.js';
import { replayTranscript } from '../replay.js';
import { classifierFor, configFromOptions, describeClassification } from './common.js';

interface ReplayCommandOptions {
  config?: string;
  country?: string;
  json?: boolean;
  verbose?: boolean;
  mask?: boolean;
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('print the call timeline of an AMI transcript (a raw capture of what Asterisk sent)')
    .argument('<transcript>', 'file with raw AMI bytes, e.g. a capture made with `nc 127.0.0.1 5038 | tee capture.ami`')
    .option('-c, --config <file>', 'configuration file (numbering plan, trunks, privacy)')
    .option('--country <code>', 'home country of the PBX (overrides the configuration)')
    .option('--json', 'one JSON object per line')
    .option('--verbose', 'also show ChallengeSent security events')
    .option('--mask', 'mask phone numbers (as privacy.maskNumbers does)')
    .action((transcript: string, options: ReplayCommandOptions) => {
      for (const line of replayForDisplay(readFileSync(transcript), options)) console.log(line);
    });
}

export function replayForDisplay(bytes: Buffer, options: ReplayCommandOptions): string[] {
  const { config } = configFromOptions(options);
  const classifier = classifierFor(config);
  const result = replayTranscript(bytes, {
    trunks: config.trunks,
    verbose: options.verbose ?? false,
    mask: numberMasker(options.mask ?? config.privacy.maskNumbers),
    describeNumber: (number) => describeClassification(classifier.classify(number)),
  });
  if (options.json) return result.records.map((record) => JSON.stringify(record));
  return [...result.lines, '', ...result.summary];
}
