/**
 * Money without float drift: every amount is an integer number of micro-units (1 µ = 10⁻⁶ of the
 * currency unit, so 0.0123 USD = 12 300 µUSD). Decimal strings are parsed digit by digit, never
 * through a float; sums and products stay integers (well inside Number.MAX_SAFE_INTEGER for any
 * realistic call; BigInt takes over above it). Conversions to a float `amount` are for display only.
 */
export const MICROS_PER_UNIT = 1_000_000;
const FRACTION_DIGITS = 6;

/** Parses a non-negative decimal (`0.0123`, `12`, `.5`) into micro-units; undefined if malformed or finer than 10⁻⁶. */
export function parseMicros(text: string): number | undefined {
  const match = /^(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return undefined;
  const whole = match[1] ?? '';
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (whole === '' && (match[2] === undefined || match[2] === '')) return undefined;
  if (fraction.length > FRACTION_DIGITS) return undefined;
  const micros = Number(whole || '0') * MICROS_PER_UNIT + Number(fraction.padEnd(FRACTION_DIGITS, '0'));
  return Number.isSafeInteger(micros) ? micros : undefined;
}

/** `12300` → `"0.0123"`: exact, trailing zeros trimmed to at least `minDecimals`. */
export function formatMicros(micros: number, minDecimals = 2): string {
  const negative = micros < 0;
  const absolute = Math.abs(micros);
  const whole = Math.floor(absolute / MICROS_PER_UNIT);
  let fraction = String(absolute % MICROS_PER_UNIT).padStart(FRACTION_DIGITS, '0').replace(/0+$/, '');
  if (fraction.length < minDecimals) fraction = fraction.padEnd(minDecimals, '0');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** ⌈a × b / divisor⌉ on non-negative integers, exact even when a × b exceeds 2⁵³. */
export function mulDivCeil(a: number, b: number, divisor: number): number {
  const product = a * b;
  if (Number.isSafeInteger(product)) {
    // Float division may be off by one near 2⁵³; the remainder, computed exactly, corrects it.
    let quotient = Math.floor(product / divisor);
    let remainder = product - quotient * divisor;
    while (remainder < 0) {
      quotient--;
      remainder += divisor;
    }
    while (remainder >= divisor) {
      quotient++;
      remainder -= divisor;
    }
    return remainder === 0 ? quotient : quotient + 1;
  }
  const big = BigInt(a) * BigInt(b);
  const bigDivisor = BigInt(divisor);
  const quotient = big / bigDivisor + (big % bigDivisor === 0n ? 0n : 1n);
  return Number(quotient);
}
