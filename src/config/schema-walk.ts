/**
 * Reading a zod (v4) schema's shape: which keys an object accepts (for "unknown key — did you
 * mean …?") and which leaf settings exist (for TOLLGATE_* environment variables).
 */
import type { z } from 'zod';

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  entries?: Record<string, string | number>;
  values?: unknown[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { def: Def }).def;
}

/** Strips default / optional / nullable / pipe (transform) / readonly / catch wrappers. */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 0; depth < 20; depth++) {
    const def = defOf(current);
    if (['default', 'optional', 'nullable', 'readonly', 'catch', 'prefault', 'nonoptional'].includes(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else break;
  }
  return current;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const unwrapped = unwrapSchema(schema);
  const def = defOf(unwrapped);
  if (def.type === 'object') return (unwrapped as unknown as { shape: Record<string, z.ZodType> }).shape;
  return undefined;
}

/**
 * Keys accepted at `path` inside `schema`: a set for objects, 'any' where anything goes (records,
 * unknown, unions we cannot narrow), undefined for leaves.
 */
export function describeSchemaKeys(schema: z.ZodType, path: readonly PropertyKey[]): Set<string> | 'any' | undefined {
  let current: z.ZodType | undefined = schema;
  for (const segment of path) {
    if (!current) return 'any';
    const unwrapped = unwrapSchema(current);
    const def = defOf(unwrapped);
    if (def.type === 'object') current = objectShape(unwrapped)![String(segment)];
    else if (def.type === 'array') current = def.element;
    else return 'any';
  }
  if (!current) return 'any';
  const unwrapped = unwrapSchema(current);
  const def = defOf(unwrapped);
  if (def.type === 'object') return new Set(Object.keys(objectShape(unwrapped)!));
  if (def.type === 'union' && def.options) {
    const keys = new Set<string>();
    for (const option of def.options) {
      const shape = objectShape(option);
      if (!shape) return 'any';
      for (const key of Object.keys(shape)) keys.add(key);
    }
    return keys;
  }
  if (def.type === 'record' || def.type === 'unknown' || def.type === 'any') return 'any';
  return undefined;
}

export type LeafKind = 'string' | 'number' | 'boolean' | 'string[]' | 'enum' | 'other';

export interface SchemaLeaf {
  path: string[];
  kind: LeafKind;
  /** For enums: the accepted values. */
  values?: string[];
}

/** Every leaf setting under `schema` (objects are walked; arrays of scalars are leaves). */
export function schemaLeaves(schema: z.ZodType, path: string[] = []): SchemaLeaf[] {
  const shape = objectShape(schema);
  if (shape) return Object.entries(shape).flatMap(([key, child]) => schemaLeaves(child, [...path, key]));
  const unwrapped = unwrapSchema(schema);
  const def = defOf(unwrapped);
  switch (def.type) {
    case 'string':
      return [{ path, kind: 'string' }];
    case 'number':
    case 'int':
      return [{ path, kind: 'number' }];
    case 'boolean':
      return [{ path, kind: 'boolean' }];
    case 'enum':
      return [{ path, kind: 'enum', values: Object.values(def.entries ?? {}).map(String) }];
    case 'literal':
      return [{ path, kind: 'enum', values: (def.values ?? []).map(String) }];
    case 'array': {
      const element = def.element ? defOf(unwrapSchema(def.element)).type : '';
      return [{ path, kind: element === 'string' || element === 'enum' ? 'string[]' : 'other' }];
    }
    case 'union': {
      // e.g. `tls: boolean | {…}`: settable from the environment as its scalar form.
      const kinds = (def.options ?? []).map((option) => defOf(unwrapSchema(option)).type);
      if (kinds.includes('boolean')) return [{ path, kind: 'boolean' }];
      if (kinds.includes('string')) return [{ path, kind: 'string' }];
      if (kinds.includes('number')) return [{ path, kind: 'number' }];
      return [{ path, kind: 'other' }];
    }
    default:
      return [{ path, kind: 'other' }];
  }
}
