/**
 * Loads the agent configuration: YAML file (optional) + TOLLGATE_* environment (wins) + defaults.
 * All problems are reported together, each with its file:line or environment variable.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { schemaLeaves, type SchemaLeaf } from './schema-walk.js';
import { configSchema, ENV_ALIASES, type TollgateConfig } from './schema.js';
import { parseYaml, validateSource, ValidationError, type SourceIssue, type YamlSource } from './yaml-source.js';

export interface LoadConfigOptions {
  /** YAML file; when absent, TOLLGATE_CONFIG is used if set, else environment and defaults only. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Base for relative paths when there is no file. @default process.cwd() */
  cwd?: string;
}

export interface LoadedConfig {
  config: TollgateConfig;
  /** The file read, if any. */
  file?: string;
  /** Environment variables that set something (names only — values may be secrets). */
  fromEnvironment: string[];
}

const ENV_SOURCE = 'environment';

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.TOLLGATE_CONFIG || undefined);
  const issues: SourceIssue[] = [];
  let source: YamlSource;
  if (file) {
    if (!existsSync(file)) throw new ConfigError(`configuration file not found (from --config or TOLLGATE_CONFIG)`, file);
    source = parseYaml(readFileSync(file, 'utf8'), file);
    issues.push(...source.issues);
  } else {
    source = parseYaml('{}', ENV_SOURCE);
  }
  let raw: unknown = source.doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({ file: source.file, line: 1, message: 'the configuration must be a YAML mapping (key: value lines)' });
    raw = {};
  }

  const { applied, envIssues, envPaths } = applyEnvironment(raw as Record<string, unknown>, env);
  issues.push(...envIssues);

  const result = validateSource(source, configSchema, raw);
  if (!result.ok) {
    for (const issue of result.issues) {
      // A bad value that came from the environment is reported against the variable, not the file.
      const fromEnv = issue.key ? [...envPaths].find(([path]) => issue.key === path || issue.key!.startsWith(`${path}.`) || issue.key!.startsWith(`${path}[`)) : undefined;
      issues.push(fromEnv ? { file: ENV_SOURCE, key: fromEnv[1], message: issue.message } : issue);
    }
  }
  if (issues.length > 0 || !result.ok) throw new ValidationError(issues, `invalid configuration${file ? ` in ${file}` : ''}`);

  const config = result.value;
  const base = file ? dirname(resolve(file)) : (options.cwd ?? process.cwd());
  resolvePaths(config, base);
  if (!config.ami.secret && config.ami.secretFile) {
    const secretFile = config.ami.secretFile;
    try {
      config.ami.secret = readFileSync(secretFile, 'utf8').trim();
    } catch (error) {
      // Say what is wrong: a missing file, one this user may not read, or a directory.
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? `cannot be read by this user (uid ${process.getuid?.() ?? '?'}): check its owner and mode` : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${(error as Error).message})`;
      throw new ConfigError(`ami.secretFile ${secretFile} ${why}`, file);
    }
  }
  const loaded: LoadedConfig = { config, fromEnvironment: applied };
  if (file) loaded.file = file;
  return loaded;
}

/** Environment variable for a setting path: ami.pingIntervalMs → TOLLGATE_AMI_PING_INTERVAL_MS. */
export function envName(path: readonly string[]): string {
  return `TOLLGATE_${path.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

/** Every environment variable the configuration understands, with its setting path. */
export function environmentVariables(): { name: string; path: string; kind: SchemaLeaf['kind'] }[] {
  const leaves = schemaLeaves(configSchema).filter((leaf) => leaf.kind !== 'other');
  const generic = leaves.map((leaf) => ({ name: envName(leaf.path), path: leaf.path.join('.'), kind: leaf.kind }));
  const aliases = Object.entries(ENV_ALIASES).map(([name, path]) => ({
    name,
    path,
    kind: name === 'TOLLGATE_DRY_RUN' ? ('boolean' as const) : (leaves.find((leaf) => leaf.path.join('.') === path)?.kind ?? 'string'),
  }));
  return [...generic, ...aliases];
}

function applyEnvironment(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): { applied: string[]; envIssues: SourceIssue[]; envPaths: Map<string, string> } {
  const applied: string[] = [];
  const envIssues: SourceIssue[] = [];
  const envPaths = new Map<string, string>();
  // Aliases first so the generic (more specific) names win when both are set.
  const variables = environmentVariables().sort((a, b) => Number(b.name in ENV_ALIASES) - Number(a.name in ENV_ALIASES));
  for (const variable of variables) {
    const text = env[variable.name];
    if (text === undefined || text === '') continue;
    const parsed = parseEnvValue(text, variable.kind, variable.name === 'TOLLGATE_DRY_RUN');
    if (!parsed.ok) {
      envIssues.push({ file: ENV_SOURCE, key: variable.name, message: parsed.message });
      continue;
    }
    if (variable.name === 'TOLLGATE_DRY_RUN') {
      if (parsed.value !== true) continue;
      setPath(raw, ['mode'], 'simulate');
    } else {
      setPath(raw, variable.path.split('.'), parsed.value);
    }
    applied.push(variable.name);
    envPaths.set(variable.name === 'TOLLGATE_DRY_RUN' ? 'mode' : variable.path, variable.name);
  }
  return { applied, envIssues, envPaths };
}

function parseEnvValue(text: string, kind: SchemaLeaf['kind'], booleanFlag: boolean): { ok: true; value: unknown } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (kind === 'boolean' || booleanFlag) {
    if (/^(1|true|yes|on)$/i.test(trimmed)) return { ok: true, value: true };
    if (/^(0|false|no|off)$/i.test(trimmed)) return { ok: true, value: false };
    return { ok: false, message: `expected true/false (or 1/0, yes/no), got "${trimmed}"` };
  }
  if (kind === 'number') {
    const value = Number(trimmed);
    if (trimmed === '' || !Number.isFinite(value)) return { ok: false, message: `expected a number, got "${trimmed}"` };
    return { ok: true, value };
  }
  if (kind === 'string[]') {
    return {
      ok: true,
      value: trimmed
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    };
  }
  return { ok: true, value: text };
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function resolvePaths(config: TollgateConfig, base: string): void {
  const absolute = (path: string): string => (path && !isAbsolute(path) ? resolve(base, path) : path);
  config.policies.dir = absolute(config.policies.dir);
  config.db.file = config.db.file === ':memory:' ? config.db.file : absolute(config.db.file);
  if (config.rates.file && config.rates.file !== 'none') config.rates.file = absolute(config.rates.file);
  if (config.ami.tlsCaFile) config.ami.tlsCaFile = absolute(config.ami.tlsCaFile);
  if (config.ari.tlsCaFile) config.ari.tlsCaFile = absolute(config.ari.tlsCaFile);
  if (config.smtp.caFile) config.smtp.caFile = absolute(config.smtp.caFile);
  if (config.ami.secretFile) config.ami.secretFile = absolute(config.ami.secretFile);
}
