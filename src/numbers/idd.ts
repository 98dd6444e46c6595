/**
 * International access codes ("IDD prefixes": 011 in NANP, 00 in most of the world, 810 in Russia,
 * 0011 in Australia, 010 in Japan) derived from libphonenumber's metadata for a home country.
 */
import { Metadata, isSupportedCountry } from 'libphonenumber-js/max';

/** Above this many alternatives a pattern is not expanded (e.g. China's carrier-selection IDDs). */
const MAX_EXPANSION = 64;

/**
 * The literal international access codes of a country. libphonenumber stores them as a pattern
 * (Brazil: `00(?:1[245]|2[1-35]|…)` – one per carrier); small patterns are expanded to every
 * code, large ones fall back to the preferred code. Longest first, so stripping takes the longest.
 */
export function defaultInternationalPrefixes(country: string): string[] {
  if (!isSupportedCountry(country)) return ['00'];
  const metadata = new Metadata();
  metadata.selectNumberingPlan(country);
  const plan = metadata.numberingPlan;
  if (!plan) return ['00'];
  const codes = new Set<string>();
  // `8~10`: `~` means "wait for the second dial tone"; PBXs send the digits without a pause.
  // The compressed metadata stores absent values as 0, whatever the typings say.
  const preferredRaw: unknown = plan.defaultIDDPrefix();
  const preferred = typeof preferredRaw === 'string' ? preferredRaw.replace(/~/g, '') : undefined;
  if (preferred && /^\d+$/.test(preferred)) codes.add(preferred);
  const patternRaw: unknown = plan.IDDPrefix();
  const expanded = typeof patternRaw === 'string' ? expandDigitPattern(patternRaw) : undefined;
  if (expanded) for (const code of expanded) codes.add(code);
  if (codes.size === 0) codes.add('00');
  return [...codes].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/**
 * Expands the small regular-expression subset libphonenumber uses for IDD prefixes — digits, `\d`,
 * `[0-9]` sets, `(?:…)`, `|` and `?` — into every string it matches. Returns undefined for anything
 * else or when there would be more than `limit` strings.
 */
export function expandDigitPattern(pattern: string, limit = MAX_EXPANSION): string[] | undefined {
  let position = 0;
  const tooMany = (list: string[]): boolean => list.length > limit;

  function alternation(): string[] | undefined {
    const all: string[] = [];
    for (;;) {
      const branch = sequence();
      if (!branch) return undefined;
      all.push(...branch);
      if (tooMany(all)) return undefined;
      if (pattern[position] !== '|') return all;
      position++;
    }
  }

  function sequence(): string[] | undefined {
    let results = [''];
    while (position < pattern.length && pattern[position] !== '|' && pattern[position] !== ')') {
      let options = atom();
      if (!options) return undefined;
      if (pattern[position] === '?') {
        position++;
        options = ['', ...options];
      }
      const next: string[] = [];
      for (const prefix of results) for (const option of options) next.push(prefix + option);
      if (tooMany(next)) return undefined;
      results = next;
    }
    return results;
  }

  function atom(): string[] | undefined {
    const char = pattern[position];
    if (char === undefined) return undefined;
    if (/\d/.test(char)) {
      position++;
      return [char];
    }
    if (pattern.startsWith('\\d', position)) {
      position += 2;
      return ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    }
    if (char === '[') {
      const close = pattern.indexOf(']', position);
      if (close < 0) return undefined;
      const set = pattern.slice(position + 1, close);
      position = close + 1;
      const digits: string[] = [];
      for (let index = 0; index < set.length; index++) {
        const from = set[index]!;
        if (!/\d/.test(from)) return undefined;
        if (set[index + 1] === '-' && set[index + 2] !== undefined) {
          const to = set[index + 2]!;
          if (!/\d/.test(to)) return undefined;
          for (let digit = Number(from); digit <= Number(to); digit++) digits.push(String(digit));
          index += 2;
        } else digits.push(from);
      }
      return digits;
    }
    if (pattern.startsWith('(?:', position)) {
      position += 3;
      const inner = alternation();
      if (!inner || pattern[position] !== ')') return undefined;
      position++;
      return inner;
    }
    return undefined;
  }

  const result = alternation();
  if (!result || position !== pattern.length) return undefined;
  return [...new Set(result)];
}
