/**
 * Loads and validates a directory of policy files (one policy per YAML file). Every problem in every
 * file is reported at once, each as `file:line: key: message`, so an admin fixes them in one pass.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { closest, located, parseYaml, validateSource, ValidationError, type SourceIssue } from '../config/yaml-source.js';
import type { LoadedPolicy } from './engine.js';
import type { AnyPolicyKind } from './kind.js';
import { POLICY_KINDS } from './registry.js';
import { basePolicyFields, type BasePolicy } from './schema.js';

export interface PolicySet {
  dir: string;
  files: string[];
  policies: LoadedPolicy[];
  issues: SourceIssue[];
}

/** Reads every `*.yaml` / `*.yml` file directly in `dir` (subdirectories such as lists/ are not policies). */
export function loadPolicyDir(dir: string, kinds: readonly AnyPolicyKind[] = POLICY_KINDS): PolicySet {
  const set: PolicySet = { dir, files: [], policies: [], issues: [] };
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    set.issues.push({ file: dir, message: 'policy directory not found (policies.dir / TOLLGATE_POLICIES / --policies)' });
    return set;
  }
  set.files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/i.test(name) && !name.startsWith('.'))
    .sort()
    .map((name) => join(dir, name));
  if (set.files.length === 0) set.issues.push({ file: dir, message: 'no policy files (*.yaml) here: Tollgate would watch and protect nothing' });
  const ids = new Map<string, string>();
  for (const file of set.files) {
    const result = parsePolicy(readFileSync(file, 'utf8'), file, kinds);
    set.issues.push(...result.issues);
    if (!result.policy) continue;
    const id = result.policy.definition.id;
    const other = ids.get(id);
    if (other) {
      set.issues.push({ ...result.idLocation, file, key: 'id', message: `"${id}" is already the id of ${other}: every policy needs its own id` });
      continue;
    }
    ids.set(id, file);
    set.policies.push(result.policy);
  }
  return set;
}

/** Like loadPolicyDir, but throws a ValidationError listing every problem. */
export function loadPoliciesOrThrow(dir: string, kinds: readonly AnyPolicyKind[] = POLICY_KINDS): LoadedPolicy[] {
  const set = loadPolicyDir(dir, kinds);
  if (set.issues.length > 0) throw new ValidationError(set.issues, `invalid policies in ${dir}`);
  return set.policies;
}

const schemaCache = new WeakMap<AnyPolicyKind, z.ZodType>();

function schemaOf(kind: AnyPolicyKind): z.ZodType {
  let schema = schemaCache.get(kind);
  if (!schema) {
    schema = z.object({ ...basePolicyFields, ...kind.fields });
    schemaCache.set(kind, schema);
  }
  return schema;
}

/** Validates one policy file's text. */
export function parsePolicy(text: string, file: string, kinds: readonly AnyPolicyKind[] = POLICY_KINDS): { policy?: LoadedPolicy; issues: SourceIssue[]; idLocation: { line?: number } } {
  const source = parseYaml(text, file);
  const idLocation: { line?: number } = {};
  if (source.issues.length > 0) return { issues: source.issues, idLocation };
  const value: unknown = source.doc.toJS();
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return { issues: [{ file, line: 1, message: 'a policy file holds one policy: a YAML mapping with id, kind, description, …' }], idLocation };
  }
  const record = value as Record<string, unknown>;
  const idLine = located(source, ['id'], '').line;
  if (idLine !== undefined) idLocation.line = idLine;
  const names = kinds.map((kind) => kind.kind);
  if (record.kind === undefined) {
    return { issues: [{ file, key: 'kind', message: `missing at the top level of the file: every policy needs a kind (${names.join(', ')})` }], idLocation };
  }
  const kind = kinds.find((candidate) => candidate.kind === record.kind);
  if (!kind) {
    const suggestion = closest(String(record.kind), names);
    return {
      issues: [located(source, ['kind'], `unknown kind "${String(record.kind)}"${suggestion ? ` — did you mean "${suggestion}"?` : ''} (kinds: ${names.join(', ')})`)],
      idLocation,
    };
  }
  const result = validateSource(source, schemaOf(kind), value);
  if (!result.ok) return { issues: result.issues, idLocation };
  const definition = result.value as BasePolicy & Record<string, unknown>;
  const issues: SourceIssue[] = [];
  kind.validate?.(definition as never, (path, message) => issues.push(located(source, path, message)));
  if (issues.length > 0) return { issues, idLocation };
  return { policy: { definition, file, kind }, issues, idLocation };
}
