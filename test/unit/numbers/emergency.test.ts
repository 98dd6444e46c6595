import { EMERGENCY_NUMBERS_BY_COUNTRY, RiskLists, createClassifier, emergencyNumbersFor, isEmergency } from '../../../src/numbers/index.js';

describe('isEmergency: the single safety check', () => {
  test.each([
    ['US', '911'],
    ['US', '988'],
    ['CA', '911'],
    ['GB', '999'],
    ['IE', '999'],
    ['DE', '110'],
    ['FR', '15'],
    ['FR', '17'],
    ['FR', '18'],
    ['IT', '113'],
    ['ES', '091'],
    ['CH', '144'],
    ['AU', '000'],
    ['NZ', '111'],
    ['JP', '110'],
    ['JP', '119'],
    ['KR', '119'],
    ['CN', '120'],
    ['IN', '108'],
    ['BR', '190'],
    ['MX', '911'],
    ['ZA', '10111'],
    ['IL', '101'],
    ['RU', '03'],
  ])('%s: %s is an emergency number', (homeCountry, number) => {
    expect(isEmergency(number, { homeCountry })).toBe(true);
  });

  test('112 and 911 count whatever the home country', () => {
    for (const homeCountry of ['US', 'GB', 'DE', 'JP', 'BR', 'ZA', 'AU']) {
      expect(isEmergency('112', { homeCountry })).toBe(true);
      expect(isEmergency('911', { homeCountry })).toBe(true);
    }
  });

  test("another country's emergency numbers are not emergency numbers at home", () => {
    expect(isEmergency('999', { homeCountry: 'US' })).toBe(false);
    expect(isEmergency('000', { homeCountry: 'GB' })).toBe(false);
    expect(isEmergency('110', { homeCountry: 'US' })).toBe(false);
  });

  test('an outside-line code in front still reaches the emergency service', () => {
    expect(isEmergency('9911', { homeCountry: 'US', outsideLineCodes: ['9'] })).toBe(true);
    expect(isEmergency('9999', { homeCountry: 'GB', outsideLineCodes: ['9'] })).toBe(true);
    expect(isEmergency('0112', { homeCountry: 'DE', outsideLineCodes: ['0'] })).toBe(true);
    // Without the configured code, 9911 is just a number.
    expect(isEmergency('9911', { homeCountry: 'US' })).toBe(false);
  });

  test('a carrier or per-call feature prefix in front does not hide it either', () => {
    expect(isEmergency('*67911', { homeCountry: 'US', trunkPrefixes: ['*67'] })).toBe(true);
    const classifier = createClassifier({ numbering: { homeCountry: 'US', trunkPrefixes: ['1010288'] }, riskLists: RiskLists.empty() });
    expect(classifier.classify('1010288911')).toMatchObject({ scope: 'emergency' });
    expect(classifier.classify('1010288911').reasons[0]).toMatch(/after trunk prefix 1010288/);
  });

  test('only exact numbers: longer numbers that start like one are not emergency calls', () => {
    expect(isEmergency('9112345678', { homeCountry: 'US' })).toBe(false);
    expect(isEmergency('91112', { homeCountry: 'US', outsideLineCodes: ['9'] })).toBe(false);
    expect(isEmergency('+44999', { homeCountry: 'GB' })).toBe(false);
  });

  test('dial strings and URIs are unwrapped', () => {
    const options = { homeCountry: 'US', outsideLineCodes: ['9'] };
    expect(isEmergency('PJSIP/911@carrier', options)).toBe(true);
    expect(isEmergency('SIP/trunk/9911', options)).toBe(true);
    expect(isEmergency('Local/911@from-internal', options)).toBe(true);
    expect(isEmergency('sip:911@sbc.example.net', options)).toBe(true);
    expect(isEmergency('tel:911', options)).toBe(true);
  });

  test('extra site numbers', () => {
    expect(isEmergency('2222', { homeCountry: 'US', emergencyNumbers: ['2222'] })).toBe(true);
    expect(emergencyNumbersFor('US', ['2222'])).toEqual(new Set(['112', '911', '988', '2222']));
  });

  test('never throws, whatever it is given', () => {
    for (const input of [undefined, null, 911, {}, '', '٩١١', 'x'.repeat(100_000)] as unknown[]) {
      expect(() => isEmergency(input)).not.toThrow();
      expect(isEmergency(input)).toBe(false);
    }
  });

  test('the per-country table has at least 10 countries and only digit strings', () => {
    expect(Object.keys(EMERGENCY_NUMBERS_BY_COUNTRY).length).toBeGreaterThanOrEqual(10);
    for (const numbers of Object.values(EMERGENCY_NUMBERS_BY_COUNTRY)) for (const number of numbers) expect(number).toMatch(/^[0-9]{2,6}$/);
  });

  test('the classifier reports scope emergency from the same rule, ahead of internal patterns', () => {
    const classifier = createClassifier({
      numbering: { homeCountry: 'DE', outsideLineCodes: ['0'], internalPatterns: ['_1XX'] },
      riskLists: RiskLists.empty(),
    });
    expect(classifier.classify('110')).toMatchObject({ scope: 'emergency', valid: true, risk: 'low' });
    expect(classifier.classify('0110').reasons[0]).toMatch(/emergency number 110 \(after outside-line code 0\)/);
    expect(classifier.classify('111')).toMatchObject({ scope: 'internal' });
    expect(classifier.isEmergency('0112')).toBe(true);
    expect(classifier.isEmergency('111')).toBe(false);
  });
});
