import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../src/errors.js';
import {
  RiskLists,
  createClassifier,
  defaultRiskListDir,
  loadRiskLists,
  parseRiskListCsv,
  parseRiskListYaml,
} from '../../../src/numbers/index.js';

const temporaryDirs: string[] = [];
function listDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-lists-'));
  temporaryDirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('shipped risk lists', () => {
  const lists = loadRiskLists();

  test('load from policies/lists, with a source for every entry and a format comment in every file', () => {
    expect(lists.size).toBeGreaterThan(50);
    const withoutSource = lists.entries.filter((entry) => !entry.source).map((entry) => `${entry.file}:${entry.line}`);
    expect(withoutSource).toEqual([]);
    for (const name of listFiles(defaultRiskListDir())) {
      const head = readFileSync(join(defaultRiskListDir(), name), 'utf8').split('\n').slice(0, 40).join('\n');
      expect(head).toMatch(/^# /);
      expect(head).toMatch(/[Ff]ormat/);
    }
  });

  test('match by prefix and by country, highest risk first', () => {
    const jamaica = lists.match('+18765551234', 'JM');
    expect(jamaica.map((entry) => entry.risk)).toContain('high');
    expect(lists.match('+979123456789', undefined)[0]?.risk).toBe('critical');
    expect(lists.match('4917612345678', 'DE')).toEqual([expect.objectContaining({ risk: 'low', list: 'low-risk-countries', match: { kind: 'country', country: 'DE' } })]);
    expect(lists.match('+5511987654321', 'BR')).toEqual([]);
    const latviaPremium = lists.match('+37190012345', 'LV');
    expect(latviaPremium.map((entry) => entry.risk)).toEqual(['critical', 'high']);
  });
});

describe('user list files', () => {
  test('every .yaml/.yml/.csv file in the directory is read; .md and dot-files are skipped', () => {
    const dir = listDir({
      'a.yaml': 'entries:\n  - prefix: "+4420 7946"\n    risk: critical\n    reason: our own blocklist\n',
      'b.yml': '- country: NZ\n  risk: medium\n  reason: no customers there\n',
      'c.csv': '# our carrier advisory\nmatch,risk,reason,source\n+3725,high,"Estonia, mobile range",carrier advisory 2024-05\nBE,medium,no business there,\n',
      'README.md': '# notes',
      '.hidden.yaml': 'not: [valid',
    });
    const lists = loadRiskLists(dir);
    expect(lists.size).toBe(4);
    expect(lists.match('+442079460000', 'GB')).toEqual([
      expect.objectContaining({ risk: 'critical', reason: 'our own blocklist', list: 'a', line: 2, match: { kind: 'prefix', digits: '4420' + '7946' } }),
    ]);
    expect(lists.match('+3725123456', 'EE')[0]).toMatchObject({ risk: 'high', reason: 'Estonia, mobile range', source: 'carrier advisory 2024-05', line: 3 });
    expect(lists.match(undefined, 'BE')[0]).toMatchObject({ risk: 'medium', list: 'c' });
    expect(lists.match(undefined, 'BE')[0]?.source).toBeUndefined();
  });

  test('a user list raises the classification risk, with its reason', () => {
    const dir = listDir({ 'mine.yaml': 'name: head-office\nsource: internal audit\nentries:\n  - country: NZ\n    risk: critical\n    reason: never call New Zealand\n' });
    const classifier = createClassifier({ numbering: { homeCountry: 'AU' }, riskLists: dir });
    const result = classifier.classify('0011 64 21 234 567');
    expect(result).toMatchObject({ country: 'NZ', risk: 'critical' });
    expect(result.reasons).toContain('critical: never call New Zealand [head-office]');
  });

  test('lists copied next to the shipped ones are merged', () => {
    const dir = listDir({ 'zz-extra.yaml': 'entries:\n  - prefix: "+4930"\n    risk: high\n    reason: Berlin branch closed\n' });
    for (const name of listFiles(defaultRiskListDir())) copyFileSync(join(defaultRiskListDir(), name), join(dir, name));
    const merged = loadRiskLists(dir);
    expect(merged.size).toBe(loadRiskLists().size + 1);
  });
});

describe('list file errors name file, line and the bad entry', () => {
  test.each([
    ['unquoted prefix (YAML reads a number)', 'entries:\n  - prefix: +882\n    risk: high\n    reason: x\n', 2, /quoted string such as "\+882".*entry \{"prefix":882/],
    ['bad risk level', 'entries:\n  - country: CU\n    risk: high\n    reason: ok\n  - country: SO\n    risk: severe\n    reason: y\n', 5, /bad risk "severe".*\{"country":"SO"/],
    ['unknown country', 'entries:\n  - country: XX\n    risk: high\n    reason: z\n', 2, /unknown country "XX"/],
    ['both prefix and country', 'entries:\n  - country: CU\n    prefix: "+53"\n    risk: high\n    reason: z\n', 2, /either `prefix` or `country`/],
    ['missing reason', 'entries:\n  - prefix: "+53"\n    risk: high\n', 2, /missing `reason`/],
    ['typo in a key', 'entries:\n  - prefix: "+53"\n    rsik: high\n    reason: z\n', 3, /unknown key `rsik`/],
    ['bad prefix digits', 'entries:\n  - prefix: "+53a"\n    risk: high\n    reason: z\n', 2, /bad prefix "\+53a"/],
    ['entries not a list', 'entries: 5\n', 1, /`entries` must be a list/],
    ['unknown top-level key', 'name: x\nlist:\n  - a\n', 2, /unknown key `list`/],
    ['YAML syntax error', 'entries:\n  - prefix: "+53\n    risk: high\n', 4, /YAML syntax error: Missing closing "quote/],
    ['YAML indentation error', 'entries:\n  - prefix: "+53"\n   risk: high\n', 3, /YAML syntax error/],
  ])('%s', (_name, text, line, message) => {
    const error = thrown(() => parseRiskListYaml(text, 'lists/mine.yaml'));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(new RegExp(`^lists/mine\\.yaml:${line}: `));
    expect(error.message).toMatch(message);
  });

  test('CSV errors', () => {
    expect(thrown(() => parseRiskListCsv('match,risk\n+53,high\n', 'l.csv')).message).toMatch(/^l\.csv:1: header must name the columns match, risk, reason/);
    const bad = thrown(() => parseRiskListCsv('# c\nmatch,risk,reason\n+53,high,ok\n+5x,high,bad\n', 'l.csv'));
    expect(bad.message).toMatch(/^l\.csv:4: bad prefix "\+5x".*entry \+5x,high,bad/);
    expect(thrown(() => parseRiskListCsv('match,risk,reason\nCU,high,"unterminated\n', 'l.csv')).message).toMatch(/^l\.csv:2: column 3: unterminated quoted field/);
  });

  test('a misnamed file in the list directory is an error, not silently ignored', () => {
    const dir = listDir({ 'blocklist.txt': '+53' });
    expect(thrown(() => loadRiskLists(dir)).message).toMatch(/blocklist\.txt: not a risk list/);
  });

  test('errors from a directory name the file', () => {
    const dir = listDir({ 'ok.yaml': 'entries: []\n', 'broken.yaml': 'entries:\n  - country: CU\n    risk: high\n' });
    expect(thrown(() => loadRiskLists(dir)).message).toMatch(new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/broken\\.yaml:2: missing \`reason\``));
  });

  test('a missing directory is a ConfigError', () => {
    expect(() => loadRiskLists('/nonexistent/tollgate/lists')).toThrow(ConfigError);
  });

  test('an empty list set matches nothing', () => {
    expect(RiskLists.empty().match('+53123', 'CU')).toEqual([]);
  });
});

/** The list files of a directory (user-agents/ beside them is another kind of list). */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
}
