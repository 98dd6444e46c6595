import { RiskLists, createClassifier, extractDialledNumber } from '../../../src/numbers/index.js';

const classifier = createClassifier({ numbering: { homeCountry: 'GB' }, riskLists: RiskLists.empty() });

describe('bad dialled input: valid=false with a reason, never a throw', () => {
  const cases: [string, string, RegExp][] = [
    ['empty', '', /empty/],
    ['blanks', ' \t ', /empty/],
    ['letters', 'callme', /letters/],
    ['letters mixed with digits', '0800FLOWERS', /letters/],
    ['SIP URI with a name', 'sip:alice@example.com', /user part "alice".*letters/],
    ['SIP URI without user part', 'sips:pbx.example.com', /no user part/],
    ['SIP URI with empty user', 'sip:@example.com', /empty user part/],
    ['feature code', '*97', /feature code/],
    ['feature code with hash', '#21#', /feature code/],
    ['40 digits', '4'.repeat(40), /too long: 40 digits/],
    ['E.164 with 16 digits', '+4420794600001234', /too long/],
    ['too short', '+4420', /too short/],
    ['Arabic-Indic digits', '٠٠٤٤٢٠٧٩٤٦٠٠٠٠', /non-ASCII digit '٠' \(U\+0660\)/],
    ['Extended Arabic-Indic digits', '۰۰۴۴۲۰۷۹۴۶۰۰۰۰', /non-ASCII digit/],
    ['full-width digits', '００４４２０７９４６００００', /non-ASCII digit '０' \(U\+FF10\)/],
    ['full-width plus', '＋442079460000', /full-width plus/],
    ['Devanagari digits', '०२०७९४६००००', /non-ASCII digit/],
    ['plus in the middle', '0044+2079460000', /'\+' that is not at the start/],
    ['control character', '02079\u000060000', /unexpected character/],
    ['emoji', '020794600📞', /unexpected character/],
    ['dial string without number', 'PJSIP/carrier', /names endpoint "carrier" but no number/],
    ['Local channel to the s extension', 'Local/s@default', /letters/],
    ['tel URI without number', 'tel:', /no digits/],
    ['only a plus', '+', /no digits/],
    ['only separators', '--- ( ) ...', /no digits/],
    ['huge input', '1'.repeat(10_000), /too long \(10000 characters\)/],
  ];

  test.each(cases)('%s', (_name, input, reason) => {
    let result: ReturnType<typeof classifier.classify> | undefined;
    expect(() => {
      result = classifier.classify(input);
    }).not.toThrow();
    expect(result!.valid).toBe(false);
    expect(result!.reasons.join(' | ')).toMatch(reason);
    expect(result!.input).toBe(input);
  });

  test.each([[null], [undefined], [42], [{}], [[]], [Symbol.for('x')]] as [unknown][])('non-string input %p does not throw', (input) => {
    const result = classifier.classify(input as string);
    expect(result.valid).toBe(false);
    expect(result.reasons[0]).toMatch(/not a string/);
  });

  test('random garbage never throws and always gives a reason', () => {
    // A fixed-seed generator keeps failures reproducible.
    let seed = 20240611;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = '0123456789+*#@/:;.,-() abcsipPJSIP<>"٠０\u0000%';
    for (let round = 0; round < 2000; round++) {
      const length = Math.floor(random() * 40);
      let input = '';
      for (let index = 0; index < length; index++) input += alphabet[Math.floor(random() * alphabet.length)];
      const result = classifier.classify(input);
      expect(result.reasons.length).toBeGreaterThan(0);
      if (!result.valid) expect(['low', 'medium', 'high', 'critical']).toContain(result.risk);
    }
  });

  test('percent-encoded SIP user parts are decoded; broken encodings are kept and rejected', () => {
    expect(extractDialledNumber('sip:%2B442079460000@carrier')).toEqual({ ok: true, number: '+442079460000', via: 'sip' });
    const broken = classifier.classify('sip:%E0%A4%A@carrier');
    expect(broken.valid).toBe(false);
  });
});
