import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIssue } from '../../../src/config/yaml-source.js';
import { loadPoliciesOrThrow, loadPolicyDir, parsePolicy } from '../../../src/policy/loader.js';
import { packagePath } from '../../../src/paths.js';
import { fixturePath } from '../../helpers/fixtures.js';

const brokenDir = fixturePath('broken-policies');
const broken = readdirSync(brokenDir).filter((name) => name.endsWith('.yaml'));

describe('broken policy files: every error names the file, the line and the key', () => {
  test('there are at least 15 of them', () => {
    expect(broken.length).toBeGreaterThanOrEqual(15);
  });

  test.each(broken)('%s', (name) => {
    const file = join(brokenDir, name);
    const text = readFileSync(file, 'utf8');
    // `# expect: -: key: message` — a key the whole file lacks has no line of its own (not the id: line).
    const expectation = /^# expect: (\d+|-): ([^:]*): (.+)$/m.exec(text);
    expect(expectation).not.toBeNull();
    const [, line, key, message] = expectation!;
    const { policy, issues } = parsePolicy(text, file);
    expect(policy).toBeUndefined();
    expect(issues.length).toBeGreaterThanOrEqual(1);
    const issue = issues[0]!;
    expect({ line: issue.line, key: issue.key ?? '' }).toEqual({ line: line === '-' ? undefined : Number(line), key });
    expect(issue.message).toContain(message);
    expect(formatIssue(issue)).toBe(`${file}${line === '-' ? '' : `:${line}`}: ${key ? `${key}: ` : ''}${issue.message}`);
  });
});

describe('policy directory', () => {
  function dirWith(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-policies-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }
  const premium = (id: string) => `id: ${id}\nkind: destination\ndescription: premium\nmatch: { destination: { types: [PREMIUM_RATE] } }\n`;

  test('the shipped set is valid', () => {
    const set = loadPolicyDir(packagePath('policies'));
    expect(set.issues.map(formatIssue)).toEqual([]);
    expect(set.policies.length).toBeGreaterThanOrEqual(2);
  });

  test('every problem of every file is reported at once', () => {
    const dir = dirWith({
      'a.yaml': premium('same-id'),
      'b.yaml': premium('same-id'),
      'c.yaml': 'id: c\nkind: nope\ndescription: x\n',
      'd.yaml': 'id: d\nkind: destination\ndescription: x\nmode: loud\nmatch: { destination: { types: [PREMIUM_RATE] } }\n',
      'notes.txt': 'not a policy',
    });
    const set = loadPolicyDir(dir);
    expect(set.issues.map((issue) => `${issue.file.replace(/.*\//, '')}:${issue.line}: ${issue.key}`)).toEqual(['b.yaml:1: id', 'c.yaml:2: kind', 'd.yaml:4: mode']);
    expect(set.issues[0]!.message).toBe(`"same-id" is already the id of ${join(dir, 'a.yaml')}: every policy needs its own id`);
    expect(set.policies.map((policy) => policy.definition.id)).toEqual(['same-id']);
    expect(() => loadPoliciesOrThrow(dir)).toThrow(/invalid policies in .* \(3 problems\)/);
  });

  test('an empty or missing directory is an error: the agent would protect nothing', () => {
    expect(loadPolicyDir(dirWith({})).issues[0]!.message).toMatch(/no policy files/);
    expect(loadPolicyDir('/nonexistent/policies').issues[0]!.message).toMatch(/policy directory not found/);
  });

  test('defaults are filled in: enforce, high, enabled, no exceptions, alert', () => {
    const { policy } = parsePolicy(premium('defaults'), 'defaults.yaml');
    expect(policy!.definition).toMatchObject({ id: 'defaults', mode: 'enforce', severity: 'high', enabled: true, exceptions: [], actions: ['alert'] });
  });
});
