import { compileExtensionPattern } from '../../../src/numbers/pattern.js';
import { defaultInternationalPrefixes, expandDigitPattern } from '../../../src/numbers/idd.js';
import { numberingConfigSchema } from '../../../src/numbers/config.js';
import { ConfigError } from '../../../src/errors.js';
import { createClassifier, RiskLists } from '../../../src/numbers/index.js';

function matches(pattern: string, extension: string): boolean {
  const compiled = compileExtensionPattern(pattern);
  if (!compiled.ok) throw new Error(compiled.error);
  return compiled.regex.test(extension);
}

describe('Asterisk extension patterns', () => {
  test.each([
    ['_1XXX', '1234', true],
    ['_1XXX', '123', false],
    ['_1XXX', '12345', false],
    ['1XXX', '1999', true],
    ['_NXXNXXXXXX', '2125551234', true],
    ['_NXXNXXXXXX', '1125551234', false],
    ['_ZXX', '100', true],
    ['_ZXX', '099', false],
    ['_5[0-4]XX', '5312', true],
    ['_5[0-4]XX', '5512', false],
    ['_5[135]X', '533', true],
    ['_9011.', '9011441234', true],
    ['_9011.', '9011', false],
    ['_9011!', '9011', true],
    ['_*7X', '*72', true],
    ['_#X', '#5', true],
    ['_x', '7', true],
  ])('%s against %s → %s', (pattern, extension, expected) => {
    expect(matches(pattern, extension)).toBe(expected);
  });

  test.each([
    ['_', /empty/],
    ['_1X.X', /'\.' must be the last/],
    ['_1[2-', /unclosed/],
    ['_1[9-2]', /reversed range/],
    ['_1[a]', /bad character set/],
    ['_1Q', /unsupported character 'Q'/],
  ])('%s is rejected', (pattern, error) => {
    const compiled = compileExtensionPattern(pattern);
    expect(compiled.ok).toBe(false);
    if (!compiled.ok) expect(compiled.error).toMatch(error);
  });
});

describe('international access codes from libphonenumber metadata', () => {
  test.each([
    ['US', '011'],
    ['CA', '011'],
    ['GB', '00'],
    ['RU', '810'],
    ['AU', '0011'],
    ['JP', '010'],
    ['DE', '00'],
  ])('%s dials %s', (country, prefix) => {
    expect(defaultInternationalPrefixes(country)).toContain(prefix);
  });

  test('carrier-selection IDDs are expanded (Brazil, Korea) and sorted longest first', () => {
    expect(defaultInternationalPrefixes('BR')).toEqual(expect.arrayContaining(['0012', '0014', '0015', '0021', '0041']));
    expect(defaultInternationalPrefixes('KR')).toEqual(expect.arrayContaining(['001', '002', '00700']));
    const lengths = defaultInternationalPrefixes('KR').map((prefix) => prefix.length);
    expect(lengths).toEqual([...lengths].sort((a, b) => b - a));
  });

  test('pattern expansion handles the metadata subset and refuses the rest', () => {
    expect(expandDigitPattern('0(?:0|1[2-4])')).toEqual(['00', '012', '013', '014']);
    expect(expandDigitPattern('00[89]?')).toEqual(['00', '008', '009']);
    expect(expandDigitPattern('00|1\\d\\d\\d00')).toBeUndefined(); // 1001 alternatives > limit
    expect(expandDigitPattern('0+')).toBeUndefined();
  });
});

describe('numberingConfigSchema', () => {
  test('defaults: US, no PBX prefixes, IDD derived from the home country, cache 10 000', () => {
    expect(numberingConfigSchema.parse({})).toEqual({
      homeCountry: 'US',
      outsideLineCodes: [],
      internationalPrefixes: ['011'],
      internalPatterns: [],
      emergencyNumbers: [],
      trunkPrefixes: [],
      cacheSize: 10_000,
    });
  });

  test('derives the IDD of the configured country; the admin\'s prefixes are added to it, never replace it', () => {
    expect(numberingConfigSchema.parse({ homeCountry: 'gb' })).toMatchObject({ homeCountry: 'GB', internationalPrefixes: ['00'] });
    expect(numberingConfigSchema.parse({ homeCountry: 'RU' }).internationalPrefixes).toEqual(['810']);
    expect(numberingConfigSchema.parse({ homeCountry: 'US', internationalPrefixes: ['00', '011'] }).internationalPrefixes).toEqual(['011', '00']);
    expect(numberingConfigSchema.parse({ homeCountry: 'US', internationalPrefixes: ['00'] }).internationalPrefixes).toEqual(['011', '00']);
    expect(numberingConfigSchema.parse({ homeCountry: 'GB', internationalPrefixes: ['011'] }).internationalPrefixes).toEqual(['011', '00']);
  });

  test.each([
    [{ homeCountry: 'XX' }, /homeCountry/],
    [{ outsideLineCodes: ['9a'] }, /outside-line code/],
    [{ internalPatterns: ['_1X.X'] }, /bad extension pattern/],
    [{ emergencyNumbers: [''] }, /emergency number/],
    [{ cacheSize: 0 }, /too small|>0|positive/i],
  ])('rejects %p', (input, message) => {
    const result = numberingConfigSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join(' ')).toMatch(message);
  });

  test('createClassifier turns a bad section into a ConfigError naming the key', () => {
    expect(() => createClassifier({ numbering: { homeCountry: 'ZZ' }, riskLists: RiskLists.empty() })).toThrow(ConfigError);
    expect(() => createClassifier({ numbering: { internalPatterns: ['_1Q'] }, riskLists: RiskLists.empty() })).toThrow(/numbering\.internalPatterns\.0/);
  });
});
