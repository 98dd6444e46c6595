/**
 * Emergency numbers. HARD SAFETY RULE: a call to an emergency number is never blocked and never hung
 * up by any policy. This module is the one place that decides what an emergency call is; the policy
 * engine calls `isEmergency()` before anything else, and the classifier reports scope `emergency`
 * from the same function.
 *
 * The table lists the numbers each country's regulator designates for police, fire, ambulance and
 * rescue (compiled from the ITU-T Operational Bulletin annex "List of emergency numbers" and the
 * national regulators' numbering plans, as summarised in Wikipedia's "List of emergency telephone
 * numbers"). 112 and 911 count everywhere: 112 is the EU/GSM number and both are redirected to the
 * local emergency service by mobile networks worldwide; a false "emergency" costs nothing, a missed
 * one can cost a life.
 */
import { extractDialledNumber } from './extract.js';

/** Recognised as emergency numbers whatever the home country. */
export const UNIVERSAL_EMERGENCY_NUMBERS: readonly string[] = ['112', '911'];

/** Emergency (and national crisis-line) short numbers per ISO 3166-1 country. */
export const EMERGENCY_NUMBERS_BY_COUNTRY: Readonly<Record<string, readonly string[]>> = {
  // North America (NANP). 988: Suicide & Crisis Lifeline, designated by the FCC (US) and CRTC (CA).
  US: ['911', '988'],
  CA: ['911', '988'],
  PR: ['911'],
  MX: ['911'],
  JM: ['119', '110'],
  DO: ['911'],
  TT: ['999', '990'],
  BS: ['911', '919'],
  // Europe: 112 everywhere (EU Universal Service Directive / EECC), plus legacy national numbers.
  GB: ['999', '112'],
  IM: ['999', '112'],
  JE: ['999', '112'],
  GG: ['999', '112'],
  IE: ['999', '112'],
  DE: ['110', '112'],
  AT: ['112', '122', '133', '144', '140'],
  CH: ['112', '117', '118', '144', '1414'],
  FR: ['112', '15', '17', '18', '114', '196'],
  BE: ['112', '100', '101'],
  NL: ['112'],
  LU: ['112', '113'],
  IT: ['112', '113', '115', '118', '1530'],
  ES: ['112', '091', '092', '061', '062', '080', '085'],
  PT: ['112'],
  GR: ['112', '100', '166', '199'],
  SE: ['112'],
  NO: ['112', '110', '113'],
  DK: ['112'],
  FI: ['112'],
  IS: ['112'],
  PL: ['112', '997', '998', '999'],
  CZ: ['112', '150', '155', '158'],
  SK: ['112', '150', '155', '158'],
  HU: ['112', '104', '105', '107'],
  RO: ['112'],
  BG: ['112'],
  HR: ['112', '192', '193', '194'],
  RU: ['112', '101', '102', '103', '104', '01', '02', '03', '04'],
  UA: ['112', '101', '102', '103', '104'],
  TR: ['112', '155', '156', '110'],
  // Asia-Pacific.
  AU: ['000', '112', '106'],
  NZ: ['111'],
  JP: ['110', '119', '118'],
  KR: ['112', '119', '122'],
  CN: ['110', '119', '120', '122'],
  HK: ['999', '112'],
  TW: ['110', '119'],
  SG: ['999', '995'],
  MY: ['999', '112'],
  IN: ['112', '100', '101', '102', '108'],
  PH: ['911'],
  ID: ['112', '110', '113', '118', '119'],
  TH: ['191', '199', '1669'],
  VN: ['113', '114', '115'],
  // Middle East and Africa.
  IL: ['100', '101', '102'],
  AE: ['999', '998', '997'],
  SA: ['911', '999', '998', '997'],
  EG: ['122', '123', '180'],
  ZA: ['10111', '10177', '112'],
  NG: ['112', '199'],
  KE: ['999', '112'],
  // South America.
  BR: ['190', '192', '193'],
  AR: ['911', '100', '101', '107'],
  CO: ['123'],
  CL: ['131', '132', '133'],
  PE: ['105', '106', '116'],
};

export interface EmergencyOptions {
  /** ISO 3166-1 alpha-2 home country of the PBX; its table applies in addition to 112 and 911. */
  homeCountry?: string;
  /** Outside-line access codes that may precede the emergency number (`9` + `911`). */
  outsideLineCodes?: readonly string[];
  /** Carrier or per-call feature prefixes that may precede it too (`*67` + `911`). */
  trunkPrefixes?: readonly string[];
  /** Further numbers to treat as emergency numbers (site-specific: a security desk, a local PSAP). */
  emergencyNumbers?: readonly string[];
}

/** The emergency numbers in force for a home country, with the universal ones and any extras. */
export function emergencyNumbersFor(homeCountry: string | undefined, extra: readonly string[] = []): Set<string> {
  const numbers = new Set<string>(UNIVERSAL_EMERGENCY_NUMBERS);
  for (const number of EMERGENCY_NUMBERS_BY_COUNTRY[homeCountry?.toUpperCase() ?? ''] ?? []) numbers.add(number);
  for (const number of extra) numbers.add(number);
  return numbers;
}

/**
 * An emergency matcher bound to one configuration. Returns the emergency number the dialled string
 * reaches (`9911` with outside-line code 9 → `911`), or undefined. Never throws.
 */
export function createEmergencyMatcher(options: EmergencyOptions = {}): (dialled: unknown) => string | undefined {
  const numbers = emergencyNumbersFor(options.homeCountry, options.emergencyNumbers);
  const prefixes = [...(options.outsideLineCodes ?? []), ...(options.trunkPrefixes ?? [])].filter((code) => code.length > 0);
  return (dialled) => {
    try {
      const extracted = extractDialledNumber(dialled);
      if (!extracted.ok) return undefined;
      return matchEmergencyDigits(extracted.number, numbers, prefixes);
    } catch {
      return undefined;
    }
  };
}

/**
 * True when the dialled string (bare digits or an AMI dial string such as `PJSIP/911@carrier`) is
 * an emergency call for this PBX. THE single safety check: policies must never block or hang up a
 * call for which this returns true. Never throws.
 */
export function isEmergency(dialled: unknown, options: EmergencyOptions = {}): boolean {
  return createEmergencyMatcher(options)(dialled) !== undefined;
}

/** Exact match of the digits, or of the digits after one outside-line code or trunk prefix. */
export function matchEmergencyDigits(digits: string, numbers: ReadonlySet<string>, prefixes: readonly string[]): string | undefined {
  if (numbers.has(digits)) return digits;
  for (const code of prefixes) {
    if (digits.length > code.length && digits.startsWith(code)) {
      const rest = digits.slice(code.length);
      if (numbers.has(rest)) return rest;
    }
  }
  return undefined;
}
