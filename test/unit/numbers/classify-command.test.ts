import { jest } from '@jest/globals';
import { Command } from 'commander';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LISTS_DIR, DEFAULT_RATES_FILE, classifyForDisplay, registerClassifyCommand } from '../../../src/commands/classify.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const ratesFixture = resolve(root, 'test/fixtures/rates/rates.csv');

describe('tollgate classify', () => {
  test('defaults point at the shipped example table and lists', () => {
    expect(DEFAULT_RATES_FILE).toBe(resolve(root, 'config/rates.example.csv'));
    expect(DEFAULT_LISTS_DIR).toBe(resolve(root, 'policies/lists'));
  });

  test('--json: one parseable object per number, with the price', () => {
    const lines = classifyForDisplay(['07624123456', '999', '*97'], { country: 'GB', json: true }, {});
    expect(lines).toHaveLength(3);
    const [isleOfMan, emergency, feature] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(isleOfMan).toMatchObject({
      price: { source: 'example' },
    });
    expect(isleOfMan).toMatchObject({
      e164: '+447624123456',
      country: 'IM',
      type: 'MOBILE',
      scope: 'international',
      risk: 'medium',
      price: { kind: 'matched', prefix: '447624', pricePerMinute: '0.65', increment: '60/60', currency: 'USD', oneMinute: '0.65' },
    });
    expect(emergency).toMatchObject({ scope: 'emergency', price: null });
    expect(feature).toMatchObject({ scope: 'special', valid: false, price: null });
  });

  test('home country from the environment, then US', () => {
    const fromEnv = JSON.parse(classifyForDisplay(['0612345678'], { json: true }, { TOLLGATE_HOME_COUNTRY: 'FR' })[0]!) as { country: string; scope: string };
    expect(fromEnv).toMatchObject({ country: 'FR', scope: 'national' });
    const fallback = JSON.parse(classifyForDisplay(['18765551234'], { json: true }, {})[0]!) as { country: string; scope: string };
    expect(fallback).toMatchObject({ country: 'JM', scope: 'international' });
  });

  test('rates from --rates, else TOLLGATE_RATES; unknown prefixes assumed or denied', () => {
    // The fixture table is in EUR: as for `tollgate run`, rates.currency must say so.
    const viaEnv = JSON.parse(classifyForDisplay(['+4930123456'], { json: true }, { TOLLGATE_RATES: ratesFixture, TOLLGATE_RATES_CURRENCY: 'EUR' })[0]!) as { price: Record<string, unknown> };
    expect(viaEnv.price).toMatchObject({ kind: 'assumed', pricePerMinute: '2.00', currency: 'EUR' });
    expect(() => classifyForDisplay(['+4930123456'], { rates: ratesFixture }, {})).toThrow(/currency EUR differs from USD \(rates\.currency\)/);
    const denied = JSON.parse(classifyForDisplay(['+4930123456'], { json: true, rates: ratesFixture, unknownPrefix: 'deny' }, { TOLLGATE_RATES_CURRENCY: 'EUR' })[0]!) as { price: Record<string, unknown> };
    expect(denied.price).toEqual({ kind: 'denied', reason: 'no rate for +4930123456' });
    expect(() => classifyForDisplay(['1'], { unknownPrefix: 'maybe' }, {})).toThrow(/--unknown-prefix must be assume or deny/);
  });

  test('human output: one block per number with facts, price and reasons', () => {
    const [block] = classifyForDisplay(['9011442079460000'], { country: 'US', outsideLine: '9' }, {});
    expect(block).toBe(
      [
        '9011442079460000',
        '  e164 +442079460000  country GB  type FIXED_LINE  scope international  valid yes  risk LOW',
        '  price 0.015 USD/min, billed 30/6 (example rates — prefix 44 United Kingdom fixed); 1 min call = 0.015 USD',
        '  - outside-line code 9 stripped',
        '  - international access code 011 stripped',
        '  - United Kingdom (GB)',
        '  - low: United Kingdom is on the low-risk list: Ofcom caps mobile termination rates (about 0.5p/min) [low-risk-countries]',
      ].join('\n'),
    );
  });

  test('registered on a commander program, prints through console.log', async () => {
    const program = new Command().exitOverride();
    registerClassifyCommand(program);
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await program.parseAsync(['node', 'tollgate', 'classify', '--country', 'GB', '--internal', '_2XX', '--json', '205', '09012345678'], { from: 'node' });
      const printed = log.mock.calls.map((call) => JSON.parse(String(call[0])) as { scope: string; risk: string });
      expect(printed.map((entry) => [entry.scope, entry.risk])).toEqual([
        ['internal', 'low'],
        ['national', 'critical'],
      ]);
    } finally {
      log.mockRestore();
    }
  });

  test('a bad --country is a configuration error', () => {
    expect(() => classifyForDisplay(['1'], { country: 'XX' }, {})).toThrow(/command line: --country: homeCountry must be an ISO 3166-1 alpha-2 country code/);
  });
});
