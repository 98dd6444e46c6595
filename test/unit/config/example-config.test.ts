/**
 * The shipped tollgate.example.yaml names every setting of the schema with a comment, loads as it
 * is, and passes `tollgate check`; `tollgate init` writes it and the shipped policies into a
 * directory and refuses to overwrite them without --force.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, isMap, isPair, isScalar, type Node } from 'yaml';
import { checkForDisplay } from '../../../src/commands/check.js';
import { EXAMPLE_CONFIG_FILE, initDirectory } from '../../../src/commands/init.js';
import { loadConfig } from '../../../src/config/load.js';
import { schemaLeaves } from '../../../src/config/schema-walk.js';
import { configSchema } from '../../../src/config/schema.js';
import { packagePath } from '../../../src/paths.js';

const text = readFileSync(EXAMPLE_CONFIG_FILE, 'utf8');

/** `section.key` of every setting written in the file, and of those only shown commented out (`# key: value`). */
function writtenKeys(): Set<string> {
  const keys = new Set<string>();
  const doc = parseDocument(text);
  const walk = (node: unknown, path: string[]): void => {
    if (!isMap(node)) return;
    for (const item of node.items) {
      if (!isPair(item) || !isScalar(item.key)) continue;
      const key = [...path, String(item.key.value)];
      keys.add(key.join('.'));
      walk(item.value as Node, key);
    }
  };
  walk(doc.contents, []);
  // Optional settings without a default are shown commented out, under their section.
  let section = '';
  for (const line of text.split('\n')) {
    const top = /^([a-z][A-Za-z]*):/.exec(line);
    if (top) section = top[1]!;
    const commented = /^(\s*)# ([a-z][A-Za-z]*): \S/.exec(line);
    if (commented) keys.add(commented[1]!.length === 0 ? commented[2]! : `${section}.${commented[2]}`);
  }
  return keys;
}

describe('tollgate.example.yaml', () => {
  test('names every setting of the configuration schema', () => {
    const written = writtenKeys();
    const missing = schemaLeaves(configSchema)
      .map((leaf) => leaf.path.join('.'))
      .filter((path) => !written.has(path));
    expect(missing).toEqual([]);
  });

  test('every section and every setting is explained: a comment next to it or at most three lines above', () => {
    const lines = text.split('\n');
    const uncommented = lines
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => /^\s*[a-z][A-Za-z]*:/.test(line))
      .filter(({ index }) => !lines.slice(Math.max(0, index - 3), index + 2).some((near) => /^\s*#/.test(near)))
      .map(({ line }) => line.trim());
    expect(uncommented).toEqual([]);
  });

  test('loads as it is: the defaults, with the shipped policies beside it', () => {
    const { config } = loadConfig({ file: EXAMPLE_CONFIG_FILE, env: {} });
    expect(config.mode).toBe('enforce');
    expect(config.numbering.internationalPrefixes).toEqual(['011']);
    expect(config.policies.dir).toBe(packagePath('policies'));
    expect(config.rates.file).toBeUndefined();
  });

  test('tollgate check --config tollgate.example.yaml: valid, example rates said so', () => {
    const { ok, lines } = checkForDisplay(undefined, { config: EXAMPLE_CONFIG_FILE });
    expect(ok).toBe(true);
    expect(lines[0]).toMatch(/^.*tollgate\.example\.yaml: configuration valid — mode enforce, home country US \(international prefixes 011\), prices: example rates \(/);
    expect(lines[1]).toMatch(/policies: \d+ policies, all valid$/);
  });
});

describe('tollgate init', () => {
  test('writes tollgate.yaml and the shipped policies; the result passes check; a second run refuses, --force overwrites', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tollgate-init-')), 'etc', 'tollgate');
    const lines = initDirectory(dir);
    expect(lines[0]).toBe(`wrote ${join(dir, 'tollgate.yaml')} (every setting, commented)`);
    expect(readFileSync(join(dir, 'tollgate.yaml'), 'utf8')).toBe(text);
    expect(readdirSync(join(dir, 'policies')).sort()).toEqual(readdirSync(packagePath('policies')).sort());
    expect(existsSync(join(dir, 'policies', 'lists'))).toBe(true);
    const checked = checkForDisplay(undefined, { config: join(dir, 'tollgate.yaml') });
    expect(checked.ok).toBe(true);
    expect(checked.lines[1]).toBe(`${join(dir, 'policies')}: ${readdirSync(packagePath('policies')).filter((name) => name.endsWith('.yaml')).length} policies, all valid`);

    writeFileSync(join(dir, 'tollgate.yaml'), 'mode: simulate\n');
    expect(() => initDirectory(dir)).toThrow(`${join(dir, 'tollgate.yaml')} and ${join(dir, 'policies')} already exist: nothing written (--force overwrites them)`);
    expect(readFileSync(join(dir, 'tollgate.yaml'), 'utf8')).toBe('mode: simulate\n');
    initDirectory(dir, { force: true });
    expect(readFileSync(join(dir, 'tollgate.yaml'), 'utf8')).toBe(text);
  });
});

describe('tollgate check: the configuration too', () => {
  test('an invalid configuration is refused with its file:line problems', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tollgate-check-')), 'tollgate.yaml');
    writeFileSync(file, ['mode: simulated', 'alerts:', '  digestAt: "7am"', ''].join('\n'));
    expect(() => checkForDisplay(undefined, { config: file })).toThrow(/tollgate\.yaml:1: mode: "simulated" is not allowed — did you mean "simulate"\? \(one of: enforce, simulate\)[\s\S]*tollgate\.yaml:3: alerts\.digestAt: expected HH:MM/);
  });
});
