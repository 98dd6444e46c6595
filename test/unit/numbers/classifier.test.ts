import { RiskLists, createClassifier, loadRiskLists } from '../../../src/numbers/index.js';

describe('createClassifier façade', () => {
  test('repeated numbers come from the cache: same frozen object', () => {
    const classifier = createClassifier({ numbering: { homeCountry: 'GB' }, riskLists: RiskLists.empty() });
    const first = classifier.classify('02079460000');
    expect(classifier.classify('02079460000')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.reasons)).toBe(true);
    expect(classifier.classifyUncached('02079460000')).not.toBe(first);
    expect(classifier.classifyUncached('02079460000')).toEqual(first);
  });

  test('the cache is bounded by cacheSize', () => {
    const classifier = createClassifier({ numbering: { homeCountry: 'US' }, riskLists: RiskLists.empty(), cacheSize: 50 });
    for (let index = 0; index < 500; index++) classifier.classify(`212555${String(index).padStart(4, '0')}`);
    expect(classifier.cacheSize).toBe(50);
    const viaConfig = createClassifier({ numbering: { homeCountry: 'US', cacheSize: 7 }, riskLists: RiskLists.empty() });
    for (let index = 0; index < 20; index++) viaConfig.classify(`212555${String(index).padStart(4, '0')}`);
    expect(viaConfig.cacheSize).toBe(7);
  });

  test('loads the shipped lists by default', () => {
    const classifier = createClassifier({ numbering: { homeCountry: 'US' } });
    expect(classifier.riskLists.size).toBe(loadRiskLists().size);
    expect(classifier.classify('011882161234567').reasons.some((reason) => reason.includes('[international-networks]'))).toBe(true);
  });

  test('JSON fields come in one order', () => {
    const classifier = createClassifier({ numbering: { homeCountry: 'US' }, riskLists: RiskLists.empty() });
    expect(Object.keys(classifier.classify('+442079460000'))).toEqual(['input', 'dialled', 'e164', 'callingCode', 'country', 'type', 'valid', 'scope', 'risk', 'reasons']);
  });

  test('an ambiguous number (outside-line code or not) reports the riskier reading and says so', () => {
    // Only one reading valid: 9 + 0044 7624… is the IM mobile; 90044… unstripped is no number.
    const gb = createClassifier({ numbering: { homeCountry: 'GB', outsideLineCodes: ['9'] }, riskLists: RiskLists.empty() });
    expect(gb.classify('900447624123456')).toMatchObject({ e164: '+447624123456', country: 'IM' });
    // A German PBX with outside line 0, where both readings are valid numbers.
    const de = createClassifier({ numbering: { homeCountry: 'DE', outsideLineCodes: ['0'] }, riskLists: RiskLists.empty() });
    const result = de.classify('00441234567890');
    // 0 + 0441 234567890 (Oldenburg, national) against 0044 1234 567890 (UK, international): the UK reading is riskier.
    expect(result).toMatchObject({ e164: '+441234567890', country: 'GB', scope: 'international' });
    expect(result.reasons.some((reason) => /ambiguous: also a valid number as \+49441234567890/.test(reason))).toBe(true);
  });

  test('per-call feature prefixes configured as trunk prefixes are stripped, otherwise the string is a feature code', () => {
    const plain = createClassifier({ numbering: { homeCountry: 'US' } });
    expect(plain.classify('*6701153512345678')).toMatchObject({ scope: 'special', risk: 'medium', valid: false });
    const withPrefix = createClassifier({ numbering: { homeCountry: 'US', trunkPrefixes: ['*67'] } });
    expect(withPrefix.classify('*670115372345678')).toMatchObject({ e164: '+5372345678', country: 'CU', scope: 'international', risk: 'high' });
    expect(withPrefix.classify('*670115372345678').reasons[0]).toBe('trunk prefix *67 stripped');
    const uk = createClassifier({ numbering: { homeCountry: 'GB', trunkPrefixes: ['141'] } });
    expect(uk.classify('14107624123456')).toMatchObject({ country: 'IM', scope: 'international' });
  });

  test('reasons explain stripping, the destination and the risk', () => {
    const classifier = createClassifier({ numbering: { homeCountry: 'US', outsideLineCodes: ['9'] } });
    expect(classifier.classify('9011535551234').reasons).toEqual([
      'outside-line code 9 stripped',
      'international access code 011 stripped',
      'Cuba (CU)',
      'not a valid number for CU: not an assigned number range',
      'critical: not a valid number for CU (international): a classic IRSF pattern (premium ranges dialled a digit short or long, unassigned ranges)',
      'high: Cuba (+53), named at the top of IRSF destination lists year after year [irsf-destinations]',
    ]);
    // A valid Cuban number: the high-risk country list replaces the international baseline.
    expect(classifier.classify('90115372345678').reasons.slice(2)).toEqual(['Cuba (CU)', 'high: Cuba (+53), named at the top of IRSF destination lists year after year [irsf-destinations]']);
  });
});
