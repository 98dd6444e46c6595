/**
 * `tollgate init <dir>`: a starting point — the commented example configuration as
 * `<dir>/tollgate.yaml` and the shipped policies (with their risk lists) in `<dir>/policies`.
 * Refuses to overwrite anything that is there unless --force.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { packagePath } from '../paths.js';

export const EXAMPLE_CONFIG_FILE = packagePath('tollgate.example.yaml');

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a starter configuration (tollgate.yaml) and the shipped policies into a directory')
    .argument('<dir>', 'directory to write into (created if missing), e.g. /etc/tollgate')
    .option('--force', 'overwrite tollgate.yaml and policy files that are already there')
    .action((dir: string, options: { force?: boolean }) => {
      for (const line of initDirectory(dir, options)) console.log(line);
    });
}

/** Writes the files; returns what it says. Throws ConfigError naming what exists when not forced. */
export function initDirectory(dir: string, options: { force?: boolean } = {}): string[] {
  const target = resolve(dir);
  const configFile = join(target, 'tollgate.yaml');
  const policyDir = join(target, 'policies');
  const existing = [configFile, policyDir].filter((path) => existsSync(path));
  if (existing.length > 0 && !options.force) {
    throw new ConfigError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: nothing written (--force overwrites them)`);
  }
  mkdirSync(target, { recursive: true });
  writeFileSync(configFile, readFileSync(EXAMPLE_CONFIG_FILE, 'utf8'));
  cpSync(packagePath('policies'), policyDir, { recursive: true, force: true });
  const shown = relative(process.cwd(), configFile) || configFile;
  return [
    `wrote ${configFile} (every setting, commented)`,
    `copied the shipped policies to ${policyDir}`,
    'next:',
    `  1. set ami.secret (or TOLLGATE_AMI_SECRET), numbering.homeCountry, trunks, alerts.to and smtp.url in ${shown}`,
    `  2. tollgate check --config ${shown}`,
    `  3. tollgate test-mail --config ${shown}`,
    `  4. tollgate run --config ${shown} --dry-run   (simulate first; then without --dry-run)`,
  ];
}
