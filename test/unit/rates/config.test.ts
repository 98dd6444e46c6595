import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXAMPLE_RATES_FILE, describeRateSource, rateTableFromConfig, ratesConfigSchema, unknownPrefixPolicy } from '../../../src/rates/index.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/rates');

describe('ratesConfigSchema', () => {
  test('defaults: USD, assume 2.00/min on 60/60 for unknown prefixes, no file', () => {
    expect(ratesConfigSchema.parse({})).toEqual({
      currency: 'USD',
      unknownPrefix: 'assume',
      assumedPricePerMinute: '2.00',
      assumedIncrement: '60/60',
      assumedConnectionFee: '0',
    });
  });

  test('accepts numbers for money and normalises the currency', () => {
    expect(ratesConfigSchema.parse({ assumedPricePerMinute: 1.5, currency: 'eur' })).toMatchObject({ assumedPricePerMinute: '1.5', currency: 'EUR' });
  });

  test.each([
    [{ unknownPrefix: 'block' }],
    [{ assumedPricePerMinute: '-1' }],
    [{ assumedIncrement: '60/0' }],
    [{ currency: 'EURO' }],
    [{ file: '' }],
  ])('rejects %p', (input) => {
    expect(ratesConfigSchema.safeParse(input).success).toBe(false);
  });

  test('unknownPrefixPolicy builds the assumed rate or a denial', () => {
    expect(unknownPrefixPolicy(ratesConfigSchema.parse({ unknownPrefix: 'deny' }))).toEqual({ action: 'deny' });
    const assume = unknownPrefixPolicy(ratesConfigSchema.parse({ assumedPricePerMinute: '3.5', assumedIncrement: '30/6', assumedConnectionFee: '0.1' }));
    expect(assume).toMatchObject({ action: 'assume', rate: { pricePerMinuteMicros: 3_500_000, firstIncrement: 30, nextIncrement: 6, connectionFeeMicros: 100_000, currency: 'USD' } });
  });

  test('rateTableFromConfig loads the file with the configured currency and policy', () => {
    const table = rateTableFromConfig(ratesConfigSchema.parse({ file: resolve(fixtures, 'rates.csv'), currency: 'EUR', unknownPrefix: 'deny' }));
    expect(table.lookup('+447624123456')?.prefix).toBe('447624');
    expect(table.quote('+4930123456').kind).toBe('denied');
    expect(() => rateTableFromConfig(ratesConfigSchema.parse({ file: resolve(fixtures, 'rates.csv') }))).toThrow(/currency EUR differs from USD/);
  });

  test('without a file: the shipped example table, labelled as example values; `none` or another currency: no table', () => {
    const example = rateTableFromConfig(ratesConfigSchema.parse({}));
    expect(example.source).toEqual({ kind: 'example', file: EXAMPLE_RATES_FILE });
    expect(example.quote('+449098790123')).toMatchObject({ kind: 'matched', rate: { prefix: '449', pricePerMinuteMicros: 3_000_000 } });
    expect(describeRateSource(example.source)).toMatch(/^example rates \(.*rates\.example\.csv: not any carrier's prices/);
    // Named explicitly, the example table is still example values.
    expect(rateTableFromConfig(ratesConfigSchema.parse({ file: EXAMPLE_RATES_FILE })).source?.kind).toBe('example');
    for (const settings of [{ file: 'none' }, { currency: 'EUR' }]) {
      const none = rateTableFromConfig(ratesConfigSchema.parse(settings));
      expect(none.size).toBe(0);
      expect(none.source).toEqual({ kind: 'none' });
      expect(none.quote('+442079460000')).toMatchObject({ kind: 'assumed', rate: { pricePerMinuteMicros: 2_000_000 } });
    }
  });
});
