/**
 * `tollgate derive <file…>`: writes the derived transcript a recipe describes. A recipe file (a
 * policy test case, for instance) names the output (`transcript:`) and how to make it (`derived:`,
 * see src/sim/derive.ts): a real capture with numbers, endpoints and times changed.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { deriveTranscript, type DerivationRecipe } from '../sim/derive.js';

export function registerDeriveCommand(program: Command): void {
  program
    .command('derive')
    .description('write the derived AMI transcripts described by recipe files (keys: transcript, derived.steps)')
    .argument('<recipe...>', 'YAML files, e.g. test/policies/*/*.case.yaml')
    .action((files: string[]) => {
      for (const file of files) {
        const written = deriveRecipeFile(file);
        if (written) console.log(`${written}  (from ${file})`);
      }
    });
}

/** Writes the transcript of one recipe file; returns its path, or undefined when the file has no recipe. */
export function deriveRecipeFile(file: string): string | undefined {
  const recipe = parse(readFileSync(file, 'utf8')) as { transcript?: string; derived?: DerivationRecipe } | null;
  if (!recipe?.derived) return undefined;
  if (!recipe.transcript || !/derived/.test(recipe.transcript)) throw new ConfigError('a derived transcript must say "derived" in its file name', file, undefined, 'transcript');
  const output = resolve(dirname(file), recipe.transcript);
  writeFileSync(output, deriveTranscript(recipe.derived, dirname(file)));
  return output;
}
