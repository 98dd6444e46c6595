import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../src/errors.js';
import {
  RateTable,
  assumedRate,
  callCost,
  formatMicros,
  loadRateTable,
  mulDivCeil,
  parseIncrement,
  parseMicros,
  parseRateTable,
} from '../../../src/rates/index.js';
import type { Rate } from '../../../src/rates/index.js';

const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../fixtures/rates');
const exampleTable = resolve(dirname(fileURLToPath(import.meta.url)), '../../../config/rates.example.csv');

function rate(pricePerMinute: string, increment: string, connectionFee = '0'): Rate {
  return assumedRate(pricePerMinute, increment, connectionFee, 'USD');
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('longest-prefix lookup', () => {
  const table = loadRateTable(resolve(fixtures, 'rates.csv'));

  test.each([
    ['+442079460000', '44'],
    ['+447400123456', '447'],
    ['+447624123456', '447624'],
    ['447624123456', '447624'],
    ['+18765551234', '1876'],
    ['+12125551234', '1'],
    ['+882161234567', '882'],
  ])('%s → prefix %s', (e164, prefix) => {
    expect(table.lookup(e164)?.prefix).toBe(prefix);
  });

  test('no match → undefined', () => {
    expect(table.lookup('+4930123456')).toBeUndefined();
    expect(table.lookup('')).toBeUndefined();
  });

  test('parsed fields: spaces in prefixes, quoted cells, default increment and fee, line numbers', () => {
    const jamaica = table.lookup('+18765551234')!;
    expect(jamaica).toMatchObject({ prefix: '1876', pricePerMinuteMicros: 250_000, connectionFeeMicros: 150_000, firstIncrement: 60, nextIncrement: 60, currency: 'EUR', line: 6 });
    expect(table.lookup('+12125551234')).toMatchObject({ connectionFeeMicros: 0, firstIncrement: 6, nextIncrement: 6 });
    expect(table.lookup('+882161234567')?.pricePerMinuteMicros).toBe(3_333_333);
    expect(table.size).toBe(7);
    expect(table.currency).toBe('EUR');
  });

  test('columns by name, in any order, with optional ones left out', () => {
    const reordered = loadRateTable(resolve(fixtures, 'reordered-columns.csv'));
    expect(reordered.lookup('+442079460000')).toMatchObject({ prefix: '4420', description: 'London', pricePerMinuteMicros: 5_000, firstIncrement: 60, nextIncrement: 60, currency: 'GBP' });
  });

  test('the shipped example table loads and says it is an example', () => {
    const example = loadRateTable(exampleTable);
    expect(example.size).toBeGreaterThan(30);
    expect(example.lookup('+447624123456')?.description).toMatch(/Isle of Man/);
    expect(example.lookup('+18765551234')?.prefix).toBe('1876');
  });
});

describe('call cost as carriers bill it', () => {
  test.each([
    // 60/60: every started minute.
    ['60/60', 1, 60],
    ['60/60', 60, 60],
    ['60/60', 61, 120],
    ['60/60', 119, 120],
    ['60/60', 121, 180],
    // 30/6: a 30 s block, then 6 s steps.
    ['30/6', 1, 30],
    ['30/6', 30, 30],
    ['30/6', 31, 36],
    ['30/6', 36, 36],
    ['30/6', 37, 42],
    ['30/6', 95, 96],
    // 1/1: per second.
    ['1/1', 1, 1],
    ['1/1', 61, 61],
    ['1/1', 3600, 3600],
    // fractional seconds round up before the increments.
    ['1/1', 60.2, 61],
    ['60/60', 60.001, 120],
  ])('%s, %p s → %p s billed', (increment, seconds, billed) => {
    expect(callCost(rate('1.20', increment), seconds).billedSeconds).toBe(billed);
  });

  test('price per billed second, in exact micro-units', () => {
    // 0.012/min × 61 s on 60/60 = 2 min = 0.024
    expect(callCost(rate('0.012', '60/60'), 61)).toEqual({ billedSeconds: 120, micros: 24_000, amount: 0.024, currency: 'USD' });
    // 0.06/min × 31 s on 30/6 → 36 s = 0.036
    expect(callCost(rate('0.06', '30/6'), 31).micros).toBe(36_000);
    // 0.60/min × 61 s per second = 0.61
    expect(callCost(rate('0.60', '1/1'), 61).micros).toBe(610_000);
  });

  test('a fraction of a micro-unit is rounded up, never down', () => {
    // 0.01/min for 1 s = 166.666… µ → 167 µ
    expect(callCost(rate('0.01', '1/1'), 1).micros).toBe(167);
    // 3.333333/min for 60 s = exactly 3 333 333 µ; for 1 s = 55 555.55 → 55 556
    expect(callCost(rate('3.333333', '60/60'), 60).micros).toBe(3_333_333);
    expect(callCost(rate('3.333333', '1/1'), 1).micros).toBe(55_556);
  });

  test('no float drift over many calls', () => {
    const perCall = callCost(rate('0.1', '60/60'), 60).micros;
    let total = 0;
    for (let call = 0; call < 1000; call++) total += perCall;
    expect(total).toBe(100_000_000);
    expect(formatMicros(total)).toBe('100.00');
  });

  test('connection fee once per answered call', () => {
    const withFee = rate('0.25', '60/60', '0.15');
    expect(callCost(withFee, 1).micros).toBe(250_000 + 150_000);
    expect(callCost(withFee, 125).micros).toBe(3 * 250_000 + 150_000);
    expect(callCost(withFee, 125).amount).toBe(0.9);
  });

  test('unanswered or zero-length calls cost nothing, not even the fee', () => {
    const withFee = rate('0.25', '60/60', '0.15');
    for (const seconds of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(callCost(withFee, seconds)).toEqual({ billedSeconds: 0, micros: 0, amount: 0, currency: 'USD' });
    }
  });

  test('RateTable.cost is the same computation', () => {
    const table = loadRateTable(resolve(fixtures, 'rates.csv'));
    const jamaica = table.lookup('+18765551234')!;
    expect(table.cost(jamaica, 90)).toEqual({ billedSeconds: 120, micros: 650_000, amount: 0.65, currency: 'EUR' });
  });

  test('huge products stay exact (BigInt path)', () => {
    expect(mulDivCeil(9_000_000_000, 1_000_000_000, 60)).toBe(150_000_000_000_000_000);
    expect(mulDivCeil(7, 1, 60)).toBe(1);
    expect(mulDivCeil(120, 1, 60)).toBe(2);
  });
});

describe('unknown prefixes', () => {
  const rates = [{ ...rate('0.01', '60/60'), prefix: '44', description: 'UK' }];

  test('deny: no price, the caller decides', () => {
    const table = new RateTable(rates, { unknownPrefix: { action: 'deny' } });
    expect(table.quote('+4930123456')).toEqual({ kind: 'denied', reason: 'no rate for +4930123456' });
    expect(table.quote(undefined)).toEqual({ kind: 'denied', reason: 'no E.164 number to price' });
    expect(table.quote('+442079460000')).toMatchObject({ kind: 'matched', rate: { prefix: '44' } });
  });

  test('deny is the default', () => {
    expect(new RateTable(rates).quote('+4930123456').kind).toBe('denied');
  });

  test('assume: a configured (high) rate', () => {
    const assumed = rate('2.00', '60/60');
    const table = new RateTable(rates, { unknownPrefix: { action: 'assume', rate: assumed } });
    const quote = table.quote('+4930123456');
    expect(quote).toMatchObject({ kind: 'assumed', reason: 'no rate for +4930123456: assumed rate applied' });
    if (quote.kind !== 'assumed') throw new Error('unreachable');
    expect(table.cost(quote.rate, 61).micros).toBe(4_000_000);
    // lookup() itself still says "no match"
    expect(table.lookup('+4930123456')).toBeUndefined();
  });

  test('the assumed rate must be in the table currency', () => {
    const error = thrown(() =>
      parseRateTable('prefix,price_per_minute,currency\n44,0.01,EUR\n', 't.csv', { unknownPrefix: { action: 'assume', rate: rate('2', '60/60') } }),
    );
    expect(error.message).toMatch(/assumed rate is in USD but the table is in EUR/);
  });
});

describe('CSV errors name file, line and column', () => {
  test.each([
    ['bad-price.csv', /bad-price\.csv:4: column 3 \(price_per_minute\): bad price per minute "0\.0l5"/],
    ['bad-increment.csv', /bad-increment\.csv:2: column 4 \(increment\): bad billing increment "60\/0"/],
    ['mixed-currency.csv', /mixed-currency\.csv:3: column 6 \(currency\): currency EUR differs from USD/],
    ['duplicate-prefix.csv', /duplicate-prefix\.csv:4: column 1 \(prefix\): duplicate prefix 44 \(first defined on line 2\)/],
  ])('%s', (file, message) => {
    const error = thrown(() => loadRateTable(resolve(fixtures, file)));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
  });

  test.each([
    ['prefix,price_per_minute,currency\n44x,0.01,USD\n', /t\.csv:2: column 1 \(prefix\): bad prefix "44x"/],
    ['prefix,price_per_minute,currency\n44,-0.01,USD\n', /t\.csv:2: column 2 \(price_per_minute\): bad price/],
    ['prefix,price_per_minute,currency\n44,0.0000001,USD\n', /at most 6 decimal places/],
    ['prefix,price_per_minute,connection_fee,currency\n44,0.01,abc,USD\n', /t\.csv:2: column 3 \(connection_fee\): bad connection fee "abc"/],
    ['prefix,price_per_minute,currency\n44,0.01,dollars\n', /t\.csv:2: column 3 \(currency\): bad currency "DOLLARS"/],
    ['prefix,price_per_minute,currency\n44,0.01,USD,extra\n', /t\.csv:2: column 4: 4 fields but the header has 3/],
    ['prefix,cost,currency\n', /t\.csv:1: column 2: unknown column "cost"/],
    ['prefix,currency\n', /t\.csv:1: missing required column "price_per_minute"/],
    ['prefix,price_per_minute\n44,0.01\n', /no currency column and no configured currency/],
    ['# only a comment\n', /t\.csv: no header line/],
    ['prefix,price_per_minute,currency\n"44,0.01,USD\n', /t\.csv:2: column 1: unterminated quoted field/],
  ])('%#: %p', (text, message) => {
    expect(() => parseRateTable(text, 't.csv')).toThrow(message);
  });

  test('a configured currency fills a missing column and is enforced', () => {
    expect(parseRateTable('prefix,price_per_minute\n44,0.01\n', 't.csv', { currency: 'GBP' }).lookup('44')?.currency).toBe('GBP');
    expect(() => parseRateTable('prefix,price_per_minute,currency\n44,0.01,USD\n', 't.csv', { currency: 'GBP' })).toThrow(/t\.csv:2: column 3 \(currency\): currency USD differs from GBP \(rates\.currency\)/);
  });

  test('a missing file is a ConfigError naming it', () => {
    expect(() => loadRateTable('/nonexistent/rates.csv')).toThrow(/^\/nonexistent\/rates\.csv: cannot read rate table/);
  });
});

describe('money parsing', () => {
  test.each([
    ['0.0123', 12_300],
    ['12', 12_000_000],
    ['.5', 500_000],
    ['1.', 1_000_000],
    ['0.000001', 1],
    ['1.2300000', 1_230_000],
    [' 3.5 ', 3_500_000],
  ])('%p → %p µ', (text, micros) => {
    expect(parseMicros(text)).toBe(micros);
  });

  test.each(['', '.', '-1', '1e3', '0.0000001', '1,5', 'abc', '99999999999999'])('%p is refused', (text) => {
    expect(parseMicros(text)).toBeUndefined();
  });

  test('formatting is exact', () => {
    expect(formatMicros(12_300)).toBe('0.0123');
    expect(formatMicros(1_000_000)).toBe('1.00');
    expect(formatMicros(0)).toBe('0.00');
    expect(formatMicros(55_556, 0)).toBe('0.055556');
  });

  test.each([
    ['60/60', { first: 60, next: 60 }],
    ['30/6', { first: 30, next: 6 }],
    ['1/1', { first: 1, next: 1 }],
    ['60', { first: 60, next: 60 }],
    [' 0 / 60 ', { first: 0, next: 60 }],
  ])('increment %p', (text, expected) => {
    expect(parseIncrement(text)).toEqual(expected);
  });

  test.each(['60/0', '/60', '60/', 'a/b', '1.5/1', ''])('increment %p is refused', (text) => {
    expect(parseIncrement(text)).toBeUndefined();
  });
});
