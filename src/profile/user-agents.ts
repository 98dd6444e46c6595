/**
 * User-Agent lists: `policies/lists/user-agents/*.yaml`, each entry a string that a User-Agent
 * header contains (case-insensitive substring) when the client is a known scanning or attack tool.
 * Kept in a directory of their own: the destination risk lists beside them have another format.
 *
 *   name: scanners
 *   source: "…"                     # optional, where the file's entries come from
 *   entries:
 *     - match: friendly-scanner     # a substring of the User-Agent, compared case-insensitively
 *       tool: SIPVicious            # what sends it
 *       source: "…"                 # where it is documented (overrides the file's source)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parse } from 'yaml';
import type { TollgateConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { riskListDir } from '../numbers/from-config.js';
import { packagePath } from '../paths.js';

export interface UserAgentEntry {
  match: string;
  tool: string;
  source?: string;
  list: string;
  file: string;
}

export class UserAgentList {
  private readonly lowered: { needle: string; entry: UserAgentEntry }[];

  constructor(readonly entries: readonly UserAgentEntry[] = []) {
    this.lowered = entries.map((entry) => ({ needle: entry.match.toLowerCase(), entry }));
  }

  /** The first entry whose `match` the User-Agent contains (case-insensitive), if any. */
  match(userAgent: string | undefined): UserAgentEntry | undefined {
    if (!userAgent) return undefined;
    const lowered = userAgent.toLowerCase();
    return this.lowered.find(({ needle }) => lowered.includes(needle))?.entry;
  }

  get size(): number {
    return this.entries.length;
  }
}

/** The lists of a configuration: `user-agents/` beside its risk lists, else the shipped ones. */
export function userAgentListFor(config: TollgateConfig): UserAgentList {
  const own = join(riskListDir(config), 'user-agents');
  return loadUserAgentLists(existsSync(own) ? own : packagePath('policies', 'lists', 'user-agents'));
}

/** Every `.yaml`/`.yml` list in `directory` (none when it does not exist). */
export function loadUserAgentLists(directory: string): UserAgentList {
  if (!existsSync(directory)) return new UserAgentList();
  const names = readdirSync(directory)
    .filter((name) => !name.startsWith('.') && ['.yaml', '.yml'].includes(extname(name).toLowerCase()))
    .sort();
  return new UserAgentList(names.flatMap((name) => parseUserAgentList(readFileSync(join(directory, name), 'utf8'), join(directory, name))));
}

export function parseUserAgentList(text: string, file: string): UserAgentEntry[] {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    throw new ConfigError(`YAML syntax error: ${(error as Error).message.split('\n')[0]}`, file);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('a User-Agent list is a mapping with `entries:`', file);
  const { name, source, entries, ...rest } = raw as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new ConfigError(`unknown key \`${Object.keys(rest)[0]}\` (expected name, source, entries)`, file);
  if (!Array.isArray(entries)) throw new ConfigError('`entries` must be a list of { match, tool, source }', file);
  const list = typeof name === 'string' && name.trim() ? name.trim() : basename(file, extname(file));
  return entries.map((entry: unknown, index) => {
    const item = (entry ?? {}) as Record<string, unknown>;
    const unknownKey = Object.keys(item).find((key) => !['match', 'tool', 'source'].includes(key));
    if (unknownKey) throw new ConfigError(`entries[${index}]: unknown key \`${unknownKey}\` (expected match, tool, source)`, file);
    if (typeof item.match !== 'string' || item.match.trim().length < 3) throw new ConfigError(`entries[${index}].match: a User-Agent substring of 3 characters or more`, file);
    if (typeof item.tool !== 'string' || !item.tool.trim()) throw new ConfigError(`entries[${index}].tool: say which tool sends it`, file);
    const parsed: UserAgentEntry = { match: item.match.trim(), tool: item.tool.trim(), list, file };
    const from = typeof item.source === 'string' ? item.source : typeof source === 'string' ? source : undefined;
    if (from) parsed.source = from.trim();
    return parsed;
  });
}
