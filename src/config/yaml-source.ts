/**
 * YAML files validated with zod, with every problem reported as `file:line: key: message`.
 * Shared by the agent configuration and the policy loader: admins edit these files by hand, and
 * a typo must point at the exact line, with all problems listed at once.
 */
import { LineCounter, parseDocument, isMap, isPair, isScalar, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { describeSchemaKeys } from './schema-walk.js';

export interface SourceIssue {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the offending key (`ami.port`, `match.countries[2]`). */
  key?: string;
  message: string;
}

export function formatIssue(issue: SourceIssue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}` : issue.file;
  return `${where}: ${issue.key ? `${issue.key}: ` : ''}${issue.message}`;
}

/** Every problem found in one or more files, reported together. */
export class ValidationError extends ConfigError {
  override name = 'ValidationError';
  constructor(
    readonly issues: SourceIssue[],
    heading = 'invalid configuration',
  ) {
    super(`${heading} (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
  }
}

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /** YAML syntax problems (the document may still be partly usable). */
  issues: SourceIssue[];
}

export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues: SourceIssue[] = [...doc.errors, ...doc.warnings].map((problem) => {
    const position = problem.linePos?.[0] ?? lines.linePos(problem.pos[0]);
    const issue: SourceIssue = { file, message: `YAML ${problem.code === 'DUPLICATE_KEY' ? 'duplicate key' : 'syntax error'}: ${firstLine(problem.message)}` };
    if (position) {
      issue.line = position.line;
      issue.column = position.col;
    }
    return issue;
  });
  return { file, doc, lines, issues };
}

/**
 * Line and column of the node at `path` (the key's line for map entries), or of the nearest parent
 * mapping that exists. Undefined when not even the first key exists: the whole file lacks it, and the
 * file's first key (usually `id:`) would point at the wrong line.
 */
export function locate(source: YamlSource, path: readonly PropertyKey[]): { line: number; column: number } | undefined {
  let node: unknown = source.doc.contents;
  let best: { line: number; column: number } | undefined = position(source, node);
  for (const [index, segment] of path.entries()) {
    if (index === 0) best = undefined;
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      best = position(source, pair.key) ?? best;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && Array.isArray((node as { items: unknown[] }).items) && typeof segment === 'number') {
      const item = (node as { items: unknown[] }).items[segment];
      if (item === undefined) break;
      best = position(source, item) ?? best;
      node = item;
    } else {
      break;
    }
  }
  return best;
}

function position(source: YamlSource, node: unknown): { line: number; column: number } | undefined {
  const range = (node as Node | undefined)?.range;
  if (!range) return undefined;
  const { line, col } = source.lines.linePos(range[0]);
  return { line, column: col };
}

export function dottedPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text ? `.${String(segment)}` : String(segment);
  }
  return text;
}

export interface ValidateOptions {
  /** Prefix for paths when the document is a section of something larger. */
  basePath?: readonly PropertyKey[];
  /** Report keys the schema does not know (typos), with a suggestion. @default true */
  rejectUnknownKeys?: boolean;
}

/**
 * Validates a parsed YAML document (or any plain value located in it) against a zod schema.
 * Returns the typed value, or the located issues.
 */
export function validateSource<S extends z.ZodType>(
  source: YamlSource,
  schema: S,
  value: unknown = source.doc.toJS(),
  options: ValidateOptions = {},
): { ok: true; value: z.output<S> } | { ok: false; issues: SourceIssue[] } {
  const basePath = options.basePath ?? [];
  const issues: SourceIssue[] = [];
  if (options.rejectUnknownKeys ?? true) issues.push(...unknownKeyIssues(source, schema, value, basePath));
  const result = schema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) {
      // zod's own unrecognized_keys would duplicate ours (which carry line numbers and suggestions).
      if (issue.code === 'unrecognized_keys') continue;
      issues.push(describeIssue(source, value, basePath, issue));
    }
  }
  if (issues.length > 0) return { ok: false, issues: dedupe(issues) };
  if (!result.success) return { ok: false, issues: [{ file: source.file, message: 'invalid' }] };
  return { ok: true, value: result.data };
}

/**
 * One zod issue in words an admin acts on: a missing key is reported at the mapping that lacks it
 * (not wherever the nearest existing key happens to be), a mistyped value gets a "did you mean".
 */
function describeIssue(source: YamlSource, value: unknown, basePath: readonly PropertyKey[], issue: z.core.$ZodIssue): SourceIssue {
  const path = [...basePath, ...issue.path];
  const parentPath = issue.path.slice(0, -1);
  const parent = valueAt(value, parentPath);
  const key = issue.path[issue.path.length - 1];
  if (issue.code === 'invalid_type' && key !== undefined && isPlainObject(parent) && !(String(key) in parent)) {
    const mappingPath = [...basePath, ...parentPath];
    if (mappingPath.length === 0) return { file: source.file, key: dottedPath(path), message: `missing: required at the top level of the file (add "${String(key)}: …")` };
    const where = locate(source, mappingPath);
    const missing: SourceIssue = { file: source.file, key: dottedPath(path), message: `missing: ${dottedPath(mappingPath)} (the mapping at this line) has no "${String(key)}:", which is required` };
    if (where) {
      missing.line = where.line;
      missing.column = where.column;
    }
    return missing;
  }
  if (issue.code === 'invalid_value' && issue.values.length > 0) {
    const given = valueAt(value, issue.path);
    const allowed = issue.values.map(String);
    const suggestion = given === undefined || given === null ? undefined : closest(String(given), allowed);
    const text = given === undefined ? 'missing' : `"${String(given)}" is not allowed`;
    return located(source, path, `${text}${suggestion ? ` — did you mean "${suggestion}"?` : ''} (one of: ${allowed.join(', ')})`);
  }
  return located(source, path, issue.message);
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let node = value;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  return node;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function located(source: YamlSource, path: readonly PropertyKey[], message: string): SourceIssue {
  const issue: SourceIssue = { file: source.file, message };
  const key = dottedPath(path);
  if (key) issue.key = key;
  const where = locate(source, path);
  if (where) {
    issue.line = where.line;
    issue.column = where.column;
  }
  return issue;
}

function unknownKeyIssues(source: YamlSource, schema: z.ZodType, value: unknown, basePath: readonly PropertyKey[]): SourceIssue[] {
  const issues: SourceIssue[] = [];
  const visit = (node: unknown, path: PropertyKey[]): void => {
    if (!node || typeof node !== 'object') return;
    const known = describeSchemaKeys(schema, path.slice(basePath.length));
    if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, [...path, index]));
      return;
    }
    if (known === 'any') return;
    for (const [key, child] of Object.entries(node)) {
      if (known && !known.has(key)) {
        const suggestion = closest(key, [...known]);
        issues.push(located(source, [...path, key], `unknown key${suggestion ? ` — did you mean "${suggestion}"?` : ''} (known: ${[...known].sort().join(', ')})`));
        continue;
      }
      visit(child, [...path, key]);
    }
  };
  visit(value, [...basePath]);
  return issues;
}

function dedupe(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const text = formatIssue(issue);
    if (seen.has(text)) return false;
    seen.add(text);
    return true;
  });
}

/** The candidate within edit distance 2 (or a case-insensitive match), for "did you mean". */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate.toLowerCase() === word.toLowerCase()) return candidate;
    const distance = levenshtein(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  if (bestDistance <= Math.max(2, Math.floor(word.length / 4))) return best;
  // Else a longer or shorter form of one value (`enforcing` → enforce, `PREMIUM` → PREMIUM_RATE).
  const shared = candidates.map((candidate) => ({ candidate, length: commonPrefixLength(word.toLowerCase(), candidate.toLowerCase()) }));
  const longest = Math.max(0, ...shared.map((entry) => entry.length));
  const sharing = shared.filter((entry) => entry.length === longest);
  return longest >= 4 && sharing.length === 1 && longest * 2 >= sharing[0]!.candidate.length ? sharing[0]!.candidate : undefined;
}

function commonPrefixLength(a: string, b: string): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length++;
  return length;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
