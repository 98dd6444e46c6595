/**
 * `tollgate check [dir]`: validates a policy directory the way the agent does at start-up and on
 * reload — every problem of every file at once, each as file:line: key: message. Exit code 1 when
 * anything is wrong, so it can guard a deployment (CI, a pre-reload hook).
 */
import type { Command } from 'commander';
import { formatIssue } from '../config/yaml-source.js';
import { loadPolicyDir } from '../policy/loader.js';
import { actionList } from '../policy/kind.js';
import { POLICY_KINDS } from '../policy/registry.js';
import { describeRateSource, rateTableFromConfig } from '../rates/index.js';
import { configFromOptions } from './common.js';

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('validate the configuration (--config) and a policy directory (default: policies.dir from the configuration)')
    .argument('[dir]', 'policy directory')
    .option('-c, --config <file>', 'configuration file')
    .option('--kinds', 'list the policy kinds this version knows')
    .action((dir: string | undefined, options: { config?: string; kinds?: boolean }) => {
      const { lines, ok } = checkForDisplay(dir, options);
      for (const line of lines) (ok ? console.log : console.error)(line);
      if (!ok) process.exitCode = 1;
    });
}

export function checkForDisplay(dir: string | undefined, options: { config?: string; kinds?: boolean } = {}): { ok: boolean; lines: string[] } {
  if (options.kinds) {
    const width = Math.max(...POLICY_KINDS.map((kind) => kind.kind.length));
    return { ok: true, lines: POLICY_KINDS.map((kind) => `${kind.kind.padEnd(width)}  ${kind.summary}`) };
  }
  // The configuration is checked too (an invalid one throws with every problem at its file:line).
  const loaded = configFromOptions(options);
  const { config } = loaded;
  const configLines = loaded.file
    ? [
        `${loaded.file}: configuration valid — mode ${config.mode}, home country ${config.numbering.homeCountry} (international prefixes ${config.numbering.internationalPrefixes.join(', ')}), prices: ${describeRateSource(rateTableFromConfig(config.rates).source)}, database ${config.db.file}`,
      ]
    : [];
  const directory = dir ?? config.policies.dir;
  const set = loadPolicyDir(directory);
  if (set.issues.length > 0) {
    return { ok: false, lines: [...configLines, `${directory}: ${set.issues.length} problem${set.issues.length === 1 ? '' : 's'} in ${set.files.length} file(s):`, ...set.issues.map((issue) => `  ${formatIssue(issue)}`)] };
  }
  const rows = set.policies.map(({ definition, kind }) => [
    definition.id,
    definition.kind,
    definition.enabled ? definition.mode : 'disabled',
    definition.severity,
    kind.describeActions?.(definition) ?? actionList(definition.actions),
    definition.description,
  ]);
  const widths = [0, 1, 2, 3, 4].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
  return {
    ok: true,
    lines: [
      ...configLines,
      `${directory}: ${set.policies.length} polic${set.policies.length === 1 ? 'y' : 'ies'}, all valid`,
      ...rows.map((row) => `  ${row.map((cell, column) => (column < 5 ? cell.padEnd(widths[column]!) : cell)).join('  ')}`),
    ],
  };
}
