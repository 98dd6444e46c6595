/**
 * Risk lists: data files under `policies/lists/` (and any directory a user points at) grading
 * destinations by E.164 prefix or by country. Every `.yaml`/`.yml`/`.csv` file in the directory is
 * read, in name order, so users add lists without touching code.
 *
 * How entries combine with the classifier's own grading (classify.ts, `assessRisk`):
 * - An international destination starts at `medium` (the baseline) only when no entry names its
 *   country. A country entry, at any level, replaces the baseline: `country: DE, risk: low` makes
 *   German numbers `low` from abroad (policies/lists/low-risk-countries.yaml).
 * - Everything else only raises: prefix entries (a `low` prefix entry changes nothing), the number
 *   type (premium rate, shared cost → critical), an international number invalid for its country
 *   (→ critical), non-geographic ranges. The highest level wins, so a country listed `low` in one
 *   file and `high` in another is high.
 * - National destinations start at `low`; a country's `low` entry is not applied to them.
 *
 * YAML format (see the comment block at the top of each shipped file):
 *   name: my-list            # optional, defaults to the file name
 *   source: "…"              # optional, the public source the entries come from
 *   entries:
 *     - prefix: "+882"       # `+` and digits (spaces allowed); quote it, YAML reads +882 as a number
 *       risk: high           # low | medium | high | critical (see above for `low`)
 *       reason: "…"          # shown in the classification's reasons
 *       source: "…"          # optional, overrides the file's source
 *     - country: CU          # ISO 3166-1 alpha-2, as libphonenumber names regions
 *       risk: high
 *       reason: "…"
 * CSV format: header `match,risk,reason` (optional 4th column `source`), `match` being `+digits` or a
 * country code; `#` starts a comment line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, Pair } from 'yaml';
import { ConfigError } from '../errors.js';
import { packagePath } from '../paths.js';
import { parseCsvTable } from '../rates/csv.js';
import { RISK_LEVELS, isRiskLevel, riskRank } from './types.js';
import type { RiskLevel } from './types.js';

export type RiskListMatch = { kind: 'prefix'; digits: string } | { kind: 'country'; country: string };

export interface RiskListEntry {
  match: RiskListMatch;
  risk: RiskLevel;
  reason: string;
  source?: string;
  /** List name (the file's `name:` or its base name). */
  list: string;
  file: string;
  line: number;
}

/** The loaded lists, indexed for matching on every dial event. */
export class RiskLists {
  private readonly byPrefix = new Map<string, RiskListEntry[]>();
  private readonly byCountry = new Map<string, RiskListEntry[]>();
  private longestPrefix = 0;

  constructor(readonly entries: readonly RiskListEntry[] = []) {
    for (const entry of entries) {
      if (entry.match.kind === 'prefix') {
        push(this.byPrefix, entry.match.digits, entry);
        this.longestPrefix = Math.max(this.longestPrefix, entry.match.digits.length);
      } else push(this.byCountry, entry.match.country, entry);
    }
  }

  static empty(): RiskLists {
    return new RiskLists([]);
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Every entry matching an E.164 number (digits, with or without `+`) or its country, highest
   * risk first. Both arguments are optional: an invalid number may have digits but no country.
   */
  match(e164: string | undefined, country: string | undefined): RiskListEntry[] {
    const found: RiskListEntry[] = [];
    if (e164) {
      const digits = e164.startsWith('+') ? e164.slice(1) : e164;
      const longest = Math.min(this.longestPrefix, digits.length);
      for (let length = 1; length <= longest; length++) {
        const entries = this.byPrefix.get(digits.slice(0, length));
        if (entries) found.push(...entries);
      }
    }
    if (country) {
      const entries = this.byCountry.get(country);
      if (entries) found.push(...entries);
    }
    return found.sort((a, b) => riskRank(b.risk) - riskRank(a.risk));
  }
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Directory of the shipped lists: `<package root>/policies/lists` (this file is src/numbers/ or dist/numbers/). */
export function defaultRiskListDir(): string {
  return packagePath('policies', 'lists');
}

const LIST_EXTENSIONS = new Set(['.yaml', '.yml', '.csv']);

/**
 * Loads every list file in a directory (`.yaml`, `.yml`, `.csv`; dot-files and `.md` notes are
 * skipped; any other file is an error so a misnamed list is not silently ignored).
 * Throws ConfigError naming file, line and the bad entry.
 */
export function loadRiskLists(directory: string = defaultRiskListDir()): RiskLists {
  let names: string[];
  try {
    names = readdirSync(directory, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new ConfigError(`cannot read risk list directory: ${(error as Error).message}`, directory);
  }
  const entries: RiskListEntry[] = [];
  for (const name of names) {
    if (name.startsWith('.') || extname(name).toLowerCase() === '.md') continue;
    const file = join(directory, name);
    if (!LIST_EXTENSIONS.has(extname(name).toLowerCase())) {
      throw new ConfigError(`not a risk list: expected .yaml, .yml or .csv (move other files out of the list directory)`, file);
    }
    entries.push(...loadRiskListFile(file));
  }
  return new RiskLists(entries);
}

/** Reads one list file (YAML or CSV by extension). */
export function loadRiskListFile(file: string): RiskListEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read risk list: ${(error as Error).message}`, file);
  }
  return extname(file).toLowerCase() === '.csv' ? parseRiskListCsv(text, file) : parseRiskListYaml(text, file);
}

interface RawEntry {
  prefix?: unknown;
  country?: unknown;
  risk?: unknown;
  reason?: unknown;
  source?: unknown;
}

const ENTRY_KEYS = new Set(['prefix', 'country', 'risk', 'reason', 'source']);

/** Parses a YAML risk list. `file` is used in error messages and entries. */
export function parseRiskListYaml(text: string, file: string): RiskListEntry[] {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  const lineOf = (node: Node | Pair | null | undefined): number | undefined => {
    const range = node && 'range' in node ? node.range : node && 'key' in node && isScalar(node.key) ? node.key.range : undefined;
    return range ? lineCounter.linePos(range[0]).line : undefined;
  };
  const syntaxError = document.errors[0];
  if (syntaxError) {
    throw new ConfigError(`YAML syntax error: ${syntaxError.message.split('\n')[0]}`, file, syntaxError.linePos?.[0].line);
  }
  const root = document.contents;
  let listName = basename(file, extname(file));
  let fileSource: string | undefined;
  let items: Node | null = null;
  if (root === null) return [];
  if (isSeq(root)) items = root;
  else if (isMap(root)) {
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = pair.value as Node | null;
      if (key === 'name' || key === 'source') {
        if (!isScalar(value) || typeof value.value !== 'string' || value.value.trim() === '') {
          throw new ConfigError(`\`${key}\` must be a non-empty string`, file, lineOf(pair));
        }
        if (key === 'name') listName = value.value.trim();
        else fileSource = value.value.trim();
      } else if (key === 'entries') items = value;
      else throw new ConfigError(`unknown key \`${key}\` (expected name, source, entries)`, file, lineOf(pair));
    }
    if (items === null) throw new ConfigError('missing `entries:` list', file, lineOf(root));
  } else {
    throw new ConfigError('a risk list is a mapping with `entries:` (or a plain list of entries)', file, lineOf(root));
  }
  if (!isSeq(items)) throw new ConfigError('`entries` must be a list', file, lineOf(items));

  const entries: RiskListEntry[] = [];
  for (const item of items.items) {
    const line = lineOf(item as Node) ?? 0;
    if (!isMap(item)) throw new ConfigError(`entry is not a mapping: ${describe(item)}`, file, line);
    const raw: RawEntry = {};
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (!ENTRY_KEYS.has(key)) throw new ConfigError(`unknown key \`${key}\` in entry ${describe(item)} (expected prefix or country, risk, reason, source)`, file, lineOf(pair) ?? line);
      raw[key as keyof RawEntry] = isScalar(pair.value) ? pair.value.value : pair.value === null ? null : '[non-scalar]';
    }
    entries.push(validateEntry(raw, { file, line, list: listName, fileSource, shown: describe(item) }));
  }
  return entries;
}

/** Parses a CSV risk list (`match,risk,reason[,source]`). */
export function parseRiskListCsv(text: string, file: string): RiskListEntry[] {
  const table = parseCsvTable(text, file);
  const required = ['match', 'risk', 'reason'];
  for (const name of required) {
    if (!table.header.includes(name)) throw new ConfigError(`header must name the columns ${required.join(', ')} (and optionally source)`, file, table.headerLine);
  }
  const column = (name: string): number => table.header.indexOf(name);
  const listName = basename(file, extname(file));
  return table.records.map((record) => {
    const value = (name: string): string | undefined => {
      const index = column(name);
      return index >= 0 ? record.fields[index]?.value : undefined;
    };
    const match = value('match') ?? '';
    const raw: RawEntry = { risk: value('risk'), reason: value('reason'), source: value('source') || undefined };
    if (match.startsWith('+')) raw.prefix = match;
    else raw.country = match;
    const shown = record.fields.map((field) => field.value).join(',');
    return validateEntry(raw, { file, line: record.line, list: listName, shown });
  });
}

interface EntryContext {
  file: string;
  line: number;
  list: string;
  fileSource?: string | undefined;
  shown: string;
}

function validateEntry(raw: RawEntry, context: EntryContext): RiskListEntry {
  const fail = (message: string): never => {
    throw new ConfigError(`${message} in entry ${context.shown}`, context.file, context.line);
  };
  let match: RiskListMatch;
  if (raw.prefix !== undefined && raw.country !== undefined) return fail('give either `prefix` or `country`, not both');
  if (raw.prefix !== undefined) {
    if (typeof raw.prefix !== 'string') return fail(`\`prefix\` must be a quoted string such as "+882" (YAML read ${String(raw.prefix)} as a number)`);
    const digits = raw.prefix.replace(/[\s-]/g, '');
    if (!/^\+[0-9]{1,15}$/.test(digits)) return fail(`bad prefix "${raw.prefix}": expected + and 1 to 15 digits`);
    match = { kind: 'prefix', digits: digits.slice(1) };
  } else if (raw.country !== undefined) {
    const country = typeof raw.country === 'string' ? raw.country.trim().toUpperCase() : '';
    if (!/^[A-Z]{2}$/.test(country) || !isSupportedCountry(country)) return fail(`unknown country "${String(raw.country)}": expected an ISO 3166-1 alpha-2 code`);
    match = { kind: 'country', country };
  } else return fail('missing `prefix` or `country`');
  const risk = typeof raw.risk === 'string' ? raw.risk.trim().toLowerCase() : raw.risk;
  if (!isRiskLevel(risk)) return fail(`bad risk "${String(raw.risk)}": expected one of ${RISK_LEVELS.join(', ')}`);
  if (typeof raw.reason !== 'string' || raw.reason.trim() === '') return fail('missing `reason`');
  if (raw.source !== undefined && raw.source !== null && typeof raw.source !== 'string') return fail('`source` must be a string');
  const entry: RiskListEntry = { match, risk, reason: raw.reason.trim(), list: context.list, file: context.file, line: context.line };
  const source = typeof raw.source === 'string' && raw.source.trim() !== '' ? raw.source.trim() : context.fileSource;
  if (source) entry.source = source;
  return entry;
}

function describe(node: unknown): string {
  const text = node && typeof node === 'object' && 'toJSON' in node ? JSON.stringify((node as { toJSON(): unknown }).toJSON()) : JSON.stringify(node);
  return text && text.length > 120 ? `${text.slice(0, 117)}...` : (text ?? String(node));
}
