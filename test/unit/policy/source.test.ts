import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../../src/config/yaml-source.js';
import { MemoryLogger } from '../../../src/log.js';
import type { LoadedPolicy } from '../../../src/policy/engine.js';
import { PolicySource } from '../../../src/policy/source.js';
import { until } from '../../helpers/wait.js';

const policy = (id: string, extra = '') => `id: ${id}\nkind: destination\ndescription: premium\nmatch: { destination: { types: [PREMIUM_RATE] } }\n${extra}`;

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-source-'));
  writeFileSync(join(dir, 'premium.yaml'), policy('premium'));
  const reloaded: LoadedPolicy[][] = [];
  const logger = new MemoryLogger();
  const source = new PolicySource({ dir, logger, debounceMs: 20, onReload: (set) => reloaded.push(set) });
  return { dir, source, reloaded, logger };
}

describe('policy source', () => {
  test('an invalid set refuses to load at start-up, with every problem listed', () => {
    const { dir, source } = setup();
    writeFileSync(join(dir, 'bad.yaml'), policy('bad', 'mode: loud\n'));
    writeFileSync(join(dir, 'worse.yaml'), 'id: worse\nkind: nope\ndescription: x\n');
    expect(() => source.load()).toThrow(ValidationError);
    try {
      source.load();
    } catch (error) {
      expect((error as ValidationError).issues.map((issue) => `${issue.file.replace(/.*\//, '')}:${issue.line}: ${issue.key}`)).toEqual(['bad.yaml:5: mode', 'worse.yaml:2: kind']);
    }
  });

  test('a reload with a typo keeps the last good set in force and says why', () => {
    const { dir, source, reloaded, logger } = setup();
    expect(source.load().map((loaded) => loaded.definition.id)).toEqual(['premium']);
    writeFileSync(join(dir, 'premium.yaml'), policy('premium', 'actons: [hangup]\n'));
    expect(source.reload('SIGHUP')).toBe(false);
    expect(source.policies.map((loaded) => loaded.definition.id)).toEqual(['premium']);
    expect(reloaded).toEqual([]);
    const entry = logger.entries.find((candidate) => candidate.level === 'error')!;
    expect(entry.msg).toBe('policy reload rejected (1 problem); the last good set stays in force');
    expect(JSON.stringify(entry.obj)).toContain('premium.yaml:5: actons: unknown key — did you mean \\"actions\\"?');

    writeFileSync(join(dir, 'premium.yaml'), policy('premium', 'actions: [alert, hangup]\n'));
    writeFileSync(join(dir, 'second.yaml'), policy('second'));
    expect(source.reload('SIGHUP')).toBe(true);
    expect(reloaded.at(-1)!.map((loaded) => loaded.definition.id)).toEqual(['premium', 'second']);
    expect(source.stats).toEqual({ reloads: 1, rejectedReloads: 1 });
  });

  test('a file change triggers a reload', async () => {
    const { dir, source, reloaded } = setup();
    source.load();
    source.watch();
    try {
      writeFileSync(join(dir, 'third.yaml'), policy('third'));
      await until(() => reloaded.length > 0 && reloaded.at(-1)!.length === 2, 'a reload after the file change');
      expect(reloaded.at(-1)!.map((loaded) => loaded.definition.id)).toEqual(['premium', 'third']);
    } finally {
      source.close();
    }
  });
});
