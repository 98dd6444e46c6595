/**
 * `tollgate corpus [dirs…]`: clock independence, proven. Replays every case (test/policies/*,
 * test/corpus) with the whole policy set at three clock positions — a working day at 10:00 and
 * 22:00, a Sunday at 15:00 — and prints case × position → stopped / left alone against each case's
 * label (fraud, restricted, legitimate, emergency). Exit code 1 when fraud or restricted traffic
 * is not stopped somewhere, or legitimate or emergency traffic is touched somewhere.
 */
import type { Command } from 'commander';
import { corpusJson, DEFAULT_CORPUS_DIRS, formatCorpusMarkdown, formatCorpusTable, runCorpus, type CorpusOptions } from '../corpus/runner.js';

export interface CorpusCommandOptions {
  policies?: string;
  config?: string;
  labels?: string[];
  only?: string;
  json?: boolean;
  markdown?: boolean;
}

export function registerCorpusCommand(program: Command): void {
  program
    .command('corpus')
    .description('replay every labelled case with the whole policy set on a working day at 10:00 and 22:00 and on a Sunday at 15:00: fraud must be stopped, legitimate calls left alone, at every hour')
    .argument('[dirs...]', 'directories of *.case.yaml (and of subdirectories of them), with their labels.yaml (default: test/policies and test/corpus of the package)')
    .option('--policies <dir>', 'the policy set (default: the shipped policies/)')
    .option('-c, --config <file>', 'base configuration of every case (default: test/fixtures/lab-config.yaml); a case\'s config: overrides it')
    .option('--labels <file...>', 'more label files (keys <dir>/<case>)')
    .option('--only <text>', 'only the cases whose key contains this text')
    .option('--json', 'the whole result as JSON')
    .option('--markdown', 'the table in Markdown (for the README)')
    .action((dirs: string[], options: CorpusCommandOptions) => {
      const { lines, ok } = corpusForDisplay(dirs, options);
      for (const line of lines) console.log(line);
      if (!ok) process.exitCode = 1;
    });
}

export function corpusForDisplay(dirs: readonly string[], options: CorpusCommandOptions = {}): { lines: string[]; ok: boolean } {
  const corpus: CorpusOptions = { dirs: dirs.length > 0 ? dirs : DEFAULT_CORPUS_DIRS };
  if (options.policies) corpus.policiesDir = options.policies;
  if (options.config) corpus.configFile = options.config;
  if (options.labels) corpus.labelFiles = options.labels;
  if (options.only) {
    const only = options.only;
    corpus.filter = (key) => key.includes(only);
  }
  const result = runCorpus(corpus);
  if (options.json) return { lines: [JSON.stringify(corpusJson(result), null, 2)], ok: result.ok };
  if (options.markdown) return { lines: formatCorpusMarkdown(result), ok: result.ok };
  return { lines: formatCorpusTable(result), ok: result.ok };
}
