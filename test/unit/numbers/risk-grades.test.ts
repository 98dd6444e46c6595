/**
 * The four risk grades (critical, high, medium, low) and how list entries combine with the
 * international baseline. Custom lists make each rule visible on its own; the last block checks the
 * shipped lists against the grades the product promises.
 */
import { RiskLists, createClassifier, loadRiskLists, parseRiskListYaml } from '../../../src/numbers/index.js';
import type { Classification, NumberingConfigInput } from '../../../src/numbers/index.js';

function lists(...files: string[]): RiskLists {
  return new RiskLists(files.flatMap((text, index) => parseRiskListYaml(text, `list-${index}.yaml`)));
}

const lowGermany = 'name: low\nentries:\n  - country: DE\n    risk: low\n    reason: Germany is on the low-risk list\n';
const us: NumberingConfigInput = { homeCountry: 'US' };

function classify(numbering: NumberingConfigInput, riskLists: RiskLists, dialled: string): Classification {
  return createClassifier({ numbering, riskLists }).classify(dialled);
}

function riskReasons(result: Classification): string[] {
  return result.reasons.filter((reason) => /^(low|medium|high|critical): /.test(reason));
}

describe('the international baseline and country entries', () => {
  test('an international destination no list names is medium', () => {
    const result = classify(us, RiskLists.empty(), '0114930123456');
    expect(result).toMatchObject({ country: 'DE', scope: 'international', risk: 'medium' });
    expect(riskReasons(result)).toEqual(['medium: international destination']);
  });

  test('a country entry at low replaces the baseline', () => {
    const result = classify(us, lists(lowGermany), '0114930123456');
    expect(result.risk).toBe('low');
    expect(riskReasons(result)).toEqual(['low: Germany is on the low-risk list [low]']);
  });

  test('a country on the low list and on a high list is high', () => {
    const high = 'name: irsf\nentries:\n  - country: DE\n    risk: high\n    reason: Germany is reported for IRSF\n';
    const result = classify(us, lists(lowGermany, high), '0114930123456');
    expect(result.risk).toBe('high');
    expect(riskReasons(result)).toEqual(['high: Germany is reported for IRSF [irsf]', 'low: Germany is on the low-risk list [low]']);
  });

  test('a prefix entry still raises a low-risk country', () => {
    const prefix = 'name: ranges\nentries:\n  - prefix: "+4930"\n    risk: high\n    reason: Berlin ranges resold as IPRN\n';
    expect(classify(us, lists(lowGermany, prefix), '0114930123456').risk).toBe('high');
    expect(classify(us, lists(lowGermany, prefix), '0114989123456').risk).toBe('low');
  });

  test('a low prefix entry does not remove the baseline (prefix entries only raise)', () => {
    const prefix = 'name: ranges\nentries:\n  - prefix: "+4930"\n    risk: low\n    reason: Berlin office\n';
    expect(classify(us, lists(prefix), '0114930123456').risk).toBe('medium');
  });

  test('a country entry at medium gives medium, like the baseline it replaces', () => {
    const medium = 'entries:\n  - country: DE\n    risk: medium\n    reason: no business there\n';
    const result = classify(us, lists(medium), '0114930123456');
    expect(result.risk).toBe('medium');
    expect(result.reasons).not.toContain('medium: international destination');
  });

  test('the number type and invalidity still raise a low-risk country', () => {
    const premium = classify(us, lists(lowGermany), '011499003123456');
    expect(premium).toMatchObject({ type: 'PREMIUM_RATE', risk: 'critical' });
    const tooShort = classify(us, lists(lowGermany), '0114930');
    expect(tooShort).toMatchObject({ valid: false, scope: 'international', risk: 'critical' });
    expect(tooShort.reasons).toContain('critical: not a valid number for DE (international): a classic IRSF pattern (premium ranges dialled a digit short or long, unassigned ranges)');
  });

  test('national destinations: a low entry for the home country adds nothing, misdialled numbers stay high', () => {
    const de: NumberingConfigInput = { homeCountry: 'DE' };
    const berlin = classify(de, lists(lowGermany), '030123456');
    expect(berlin).toMatchObject({ scope: 'national', risk: 'low' });
    expect(riskReasons(berlin)).toEqual([]);
    const misdialled = classify(de, lists(lowGermany), '0301');
    expect(misdialled).toMatchObject({ scope: 'national', valid: false, risk: 'high' });
    expect(riskReasons(misdialled)).toEqual(['high: invalid numbers are never treated as safe']);
  });
});

describe('grades from the number itself (no lists)', () => {
  const none = RiskLists.empty();

  test.each([
    ['GB premium rate from a US PBX', '011449098790123', 'critical'],
    ['GB premium range one digit short', '01144909879012', 'critical'],
    ['Spanish shared cost from a US PBX', '01134902123456', 'critical'],
    ['international shared cost +808', '01180812345678', 'critical'],
    ['unassigned country code +999', '011999123', 'critical'],
    ['US premium 900 at home', '19005551234', 'critical'],
    ['US personal number 500 at home', '15005551234', 'high'],
    ['+882 without lists: non-geographic', '011882161234567', 'high'],
    ['+800 freephone without lists', '01180012345678', 'medium'],
    ['US number one digit short at home', '212555123', 'high'],
    ['US number at home', '2125551234', 'low'],
    ['emergency', '911', 'low'],
  ])('%s', (_name, dialled, risk) => {
    expect(classify(us, none, dialled).risk).toBe(risk);
  });

  test('shared cost at home is critical too', () => {
    expect(classify({ homeCountry: 'ES' }, none, '902123456')).toMatchObject({ type: 'SHARED_COST', scope: 'national', risk: 'critical' });
    expect(classify({ homeCountry: 'ES' }, none, '902123456').reasons).toContain('critical: shared-cost number (the number holder shares the call revenue)');
  });
});

describe('00 from a country whose own access code is different', () => {
  test('a US PBX reads 00 + country code as international (no NANP number starts with 0)', () => {
    const result = classify(us, RiskLists.empty(), '0044909879012');
    expect(result).toMatchObject({ e164: '+44909879012', scope: 'international', valid: false, risk: 'critical' });
    expect(result.reasons[0]).toBe("00 read as an international access code (not US's own, 011; no US number starts with it)");
    expect(result.reasons).toContain('critical: not a valid number for GB/GG (international): a classic IRSF pattern (premium ranges dialled a digit short or long, unassigned ranges)');
    expect(classify(us, RiskLists.empty(), '00449098790123')).toMatchObject({ e164: '+449098790123', country: 'GB', type: 'PREMIUM_RATE', risk: 'critical' });
  });

  test('behind an outside-line code too, and the home country own code still wins', () => {
    const withNine: NumberingConfigInput = { homeCountry: 'US', outsideLineCodes: ['9'] };
    expect(classify(withNine, RiskLists.empty(), '900442079460000')).toMatchObject({ e164: '+442079460000', scope: 'international' });
    expect(classify(withNine, RiskLists.empty(), '9011442079460000').reasons).toContain('international access code 011 stripped');
  });

  test('not where national numbers start with 0 (Japan: 00xx are carrier codes)', () => {
    const result = classify({ homeCountry: 'JP' }, RiskLists.empty(), '0044909879012');
    expect(result.reasons.some((reason) => reason.startsWith('00 read as'))).toBe(false);
  });

  test('not when the PBX configures 00 itself', () => {
    const result = classify({ homeCountry: 'US', internationalPrefixes: ['011', '00'] }, RiskLists.empty(), '00442079460000');
    expect(result.reasons[0]).toBe('international access code 00 stripped');
  });
});

describe('the shipped lists give the promised grades', () => {
  const shipped = loadRiskLists();
  const fromUs = createClassifier({ numbering: us, riskLists: shipped });
  const fromGb = createClassifier({ numbering: { homeCountry: 'GB' }, riskLists: shipped });

  test.each([
    ['+882 International Networks', '011882161234567', 'critical'],
    ['+881 satellite', '011881612345678', 'critical'],
    ['+870 Inmarsat', '011870773123456', 'critical'],
    ['+883 International Networks', '011883510012345', 'critical'],
    ['+979 premium', '011979123456789', 'critical'],
    ['+800 freephone', '01180012345678', 'medium'],
    ['Germany mobile', '0114915112345678', 'low'],
    ['United Kingdom fixed', '011442079460000', 'low'],
    ['Canada', '14165551234', 'low'],
    ['Brazil mobile', '0115511987654321', 'medium'],
    ['Switzerland (not on the low list)', '01141441234567', 'medium'],
    ['Cuba', '0115372345678', 'high'],
    ['Jamaica (NANP one-ring area code)', '18765551234', 'high'],
    ['Isle of Man (crown dependency)', '011447624123456', 'medium'],
  ])('from a US PBX: %s', (_name, dialled, risk) => {
    expect(fromUs.classify(dialled).risk).toBe(risk);
  });

  test('Latvia, an EU member reported for IRSF year after year, is high', () => {
    expect(fromGb.classify('0037128123456')).toMatchObject({ country: 'LV', risk: 'high' });
  });

  test('every country on the low list is low from abroad unless another list names it', () => {
    const lowCountries = shipped.entries.filter((entry) => entry.list === 'low-risk-countries');
    expect(lowCountries.length).toBeGreaterThanOrEqual(30);
    for (const entry of lowCountries) {
      expect(entry.risk).toBe('low');
      expect(entry.match.kind).toBe('country');
      expect(entry.source).toBeTruthy();
      const country = entry.match.kind === 'country' ? entry.match.country : '';
      // No shipped list names a low-risk country higher: the lists agree with each other.
      expect(shipped.match(undefined, country).map((other) => other.risk)).toEqual(['low']);
    }
  });

  test('every high-risk country is high, never medium', () => {
    const irsf = shipped.entries.filter((entry) => entry.list === 'irsf-destinations');
    expect(irsf.length).toBeGreaterThan(40);
    for (const entry of irsf) expect(entry.risk).toBe('high');
    for (const country of ['CU', 'LV', 'SO', 'SL', 'GN', 'ST', 'GM', 'LR', 'AZ', 'MC']) {
      expect(irsf.some((entry) => entry.match.kind === 'country' && entry.match.country === country)).toBe(true);
    }
  });

  test('non-geographic networks are critical in the shipped list, except +800 freephone', () => {
    const networks = shipped.entries.filter((entry) => entry.list === 'international-networks');
    for (const entry of networks) {
      const digits = entry.match.kind === 'prefix' ? entry.match.digits : '';
      expect([digits, entry.risk]).toEqual([digits, digits === '800' ? 'medium' : 'critical']);
    }
  });

  test('reasons name each step', () => {
    expect(fromUs.classify('011442079460000').reasons).toContain(
      'low: United Kingdom is on the low-risk list: Ofcom caps mobile termination rates (about 0.5p/min) [low-risk-countries]',
    );
    expect(fromUs.classify('0115511987654321').reasons).toContain('medium: international destination');
  });
});
