/**
 * Data protection helpers. Phone numbers are personal data: when `privacy.maskNumbers` is on,
 * logs and mail show only the leading digits (enough to see the country and operator range).
 */

/** Masks the last digits of a number, keeping punctuation: `+442079460000` → `+44207******`. */
export function maskNumber(number: string): string {
  const digits = number.replace(/\D/g, '').length;
  if (digits <= 4) return number.replace(/\d/g, '*');
  // Keep at least the country code and area; hide at most the last six digits (the subscriber part).
  let toMask = Math.min(6, Math.ceil(digits / 2));
  let masked = '';
  for (let i = number.length - 1; i >= 0; i--) {
    const char = number[i]!;
    if (toMask > 0 && char >= '0' && char <= '9') {
      masked = '*' + masked;
      toMask--;
    } else {
      masked = char + masked;
    }
  }
  return masked;
}

/** Returns a function that masks numbers when `enabled`, and leaves them alone otherwise. */
export function numberMasker(enabled: boolean): (number: string | undefined) => string {
  return (number) => (number === undefined ? '' : enabled ? maskNumber(number) : number);
}
