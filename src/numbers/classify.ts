/**
 * The uncached classification of one dialled string: extraction, emergency and internal checks,
 * PBX prefix stripping, libphonenumber parsing, scope and risk. `createClassifier()` in index.ts
 * wraps this with an LRU cache.
 */
import { Metadata, parsePhoneNumberFromString, validatePhoneNumberLength, getCountryCallingCode } from 'libphonenumber-js/max';
import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import type { NumberingConfig } from './config.js';
import { createEmergencyMatcher, emergencyNumbersFor, matchEmergencyDigits } from './emergency.js';
import { extractDialledNumber } from './extract.js';
import { compileExtensionPattern } from './pattern.js';
import type { RiskLists } from './risk-lists.js';
import { maxRisk, riskRank } from './types.js';
import type { Classification, NumberType, RiskLevel, Scope } from './types.js';

/**
 * Territories billed and dialled as domestic from a home country although libphonenumber gives them
 * their own region code (they share the calling code). From a US PBX, Puerto Rico or Guam is a
 * domestic call; Jamaica or the Bahamas (+1 as well) are international.
 */
const HOME_TERRITORIES: Readonly<Record<string, readonly string[]>> = {
  US: ['PR', 'VI', 'GU', 'AS', 'MP'],
  // Vatican City numbers are Rome numbers (+39 06 698…); Svalbard, Åland, Christmas and Cocos
  // Islands and Western Sahara are numbered inside the home country's plan.
  IT: ['VA'],
  NO: ['SJ'],
  FI: ['AX'],
  AU: ['CX', 'CC'],
  MA: ['EH'],
};

/**
 * Territories with their own calling code that the home country dials as national numbers: from
 * mainland France, Guadeloupe is 0590 xx xx xx (E.164 +590 590 xx xx xx), Réunion 0262/0692, and so on
 * (ARCEP national numbering plan). libphonenumber reads such a number as an invalid French one.
 */
const NATIONALLY_DIALLED_TERRITORIES: Readonly<Record<string, readonly { prefix: string; callingCode: string }[]>> = {
  FR: [
    ...['0590', '0690', '0691'].map((prefix) => ({ prefix, callingCode: '590' })),
    ...['0594', '0694'].map((prefix) => ({ prefix, callingCode: '594' })),
    ...['0596', '0696', '0697'].map((prefix) => ({ prefix, callingCode: '596' })),
    ...['0262', '0263', '0692', '0693', '0269', '0639'].map((prefix) => ({ prefix, callingCode: '262' })),
  ],
};

/**
 * The international access code of most of the world. Where it is not the home country's own and
 * no national number can start with it (NANP: 011 and trunk prefix 1; Russia: 810 and 8), `00…`
 * is still read as an international call too: a user (or an intruder) dialling 0044… from a US PBX
 * means the United Kingdom, and a trunk may well route it.
 */
const COMMON_IDD = '00';

/** More digits than this is never a dialable number (15 for E.164 + IDD + PBX prefixes). */
const MAX_DIGITS = 24;

/** A feature code carrying this many digits may carry a phone number (`*72` + forward target). */
const EMBEDDED_NUMBER_DIGITS = 7;

interface Candidate {
  digits: string;
  /** PBX prefix stripped to get `digits` (outside-line or trunk prefix). */
  stripped?: { prefix: string; kind: 'outside-line code' | 'trunk prefix' };
}

interface Interpretation {
  candidate: Candidate;
  form: 'e164' | 'idd' | 'national';
  iddPrefix?: string;
  /** The IDD prefix is the common `00`, not one of the home country's own. */
  foreignIdd?: boolean;
  /** What was handed to libphonenumber (`+…` for the e164 and idd forms). */
  text: string;
  phone?: PhoneNumber;
  valid: boolean;
  /** libphonenumber's type for a valid number. */
  type?: NumberType;
  /** libphonenumber's length verdict when the number is not valid. */
  lengthProblem?: string;
}

/** Tie-break between equally risky valid readings: an explicit international form says more. */
const FORM_PREFERENCE: Readonly<Record<Interpretation['form'], number>> = { e164: 2, idd: 2, national: 1 };

/** A classification while it is being built. */
type Draft = { -readonly [K in keyof Classification]: Classification[K] } & { reasons: string[] };

const regionNames = createRegionNames();

export class NumberClassifier {
  private readonly emergencyNumbers: Set<string>;
  private readonly emergencyPrefixes: readonly string[];
  private readonly emergencyMatcher: (dialled: unknown) => string | undefined;
  private readonly internalPatterns: { pattern: string; regex: RegExp }[];
  private readonly strippablePrefixes: { prefix: string; kind: 'outside-line code' | 'trunk prefix' }[];
  private readonly homeCountry: CountryCode;
  private readonly homeCallingCode: string;
  private readonly nationalCountries: ReadonlySet<string>;
  private readonly territoryDialling: readonly { prefix: string; callingCode: string }[];
  /** `00` when it is no IDD of the home country and no national number starts with it. */
  private readonly foreignIdd: string | undefined;

  constructor(
    readonly config: NumberingConfig,
    readonly riskLists: RiskLists,
  ) {
    this.homeCountry = config.homeCountry as CountryCode;
    this.homeCallingCode = getCountryCallingCode(this.homeCountry);
    this.nationalCountries = new Set([config.homeCountry, ...(HOME_TERRITORIES[config.homeCountry] ?? [])]);
    this.territoryDialling = NATIONALLY_DIALLED_TERRITORIES[config.homeCountry] ?? [];
    this.foreignIdd = config.internationalPrefixes.some((prefix) => prefix.startsWith(COMMON_IDD)) || nationalPrefixOf(this.homeCountry).startsWith('0') ? undefined : COMMON_IDD;
    this.emergencyNumbers = emergencyNumbersFor(config.homeCountry, config.emergencyNumbers);
    this.emergencyPrefixes = [...config.outsideLineCodes, ...config.trunkPrefixes];
    this.emergencyMatcher = createEmergencyMatcher(config);
    this.internalPatterns = config.internalPatterns.flatMap((pattern) => {
      const compiled = compileExtensionPattern(pattern);
      return compiled.ok ? [{ pattern, regex: compiled.regex }] : [];
    });
    this.strippablePrefixes = [
      ...config.outsideLineCodes.map((prefix) => ({ prefix, kind: 'outside-line code' as const })),
      ...config.trunkPrefixes.map((prefix) => ({ prefix, kind: 'trunk prefix' as const })),
    ].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The emergency number a dialled string reaches, if any (see emergency.ts). Never throws. */
  emergencyNumberOf(dialled: unknown): string | undefined {
    return this.emergencyMatcher(dialled);
  }

  /** Classifies one dialled string. Never throws. */
  classify(input: string): Classification {
    try {
      return this.classifyUnsafe(input);
    } catch (error) {
      // Defensive: a library surprise must not take the agent down, nor turn an emergency call into a blocked one.
      const emergency = this.emergencyNumberOf(input);
      const reason = `classification failed: ${error instanceof Error ? error.message : String(error)}`;
      if (emergency) return { input: String(input), dialled: emergency, type: 'UNKNOWN', valid: true, scope: 'emergency', risk: 'low', reasons: [`emergency number ${emergency}: never blocked`, reason] };
      return { input: String(input), type: 'UNKNOWN', valid: false, scope: 'special', risk: 'high', reasons: [reason] };
    }
  }

  private classifyUnsafe(input: string): Classification {
    const inputText = typeof input === 'string' ? input : String(input);
    const extracted = extractDialledNumber(input);
    if (!extracted.ok) {
      return { input: inputText, type: 'UNKNOWN', valid: false, scope: 'special', risk: 'high', reasons: [`not a dialable number: ${extracted.problem}`] };
    }
    const dialled = extracted.number;
    const base = { input: inputText, dialled };

    // 1. Emergency first: nothing below may turn an emergency call into anything else.
    const emergency = matchEmergencyDigits(dialled, this.emergencyNumbers, this.emergencyPrefixes);
    if (emergency !== undefined) {
      const prefix = dialled.slice(0, dialled.length - emergency.length);
      const via = prefix === '' ? '' : ` (after ${this.config.outsideLineCodes.includes(prefix) ? 'outside-line code' : 'trunk prefix'} ${prefix})`;
      return { ...base, type: 'UNKNOWN', valid: true, scope: 'emergency', risk: 'low', reasons: [`emergency number ${emergency}${via}: never blocked or hung up`] };
    }

    // 2. Internal extensions.
    const internal = this.internalPatterns.find(({ regex }) => regex.test(dialled));
    if (internal) {
      return { ...base, type: 'UNKNOWN', valid: true, scope: 'internal', risk: 'low', reasons: [`internal extension (matches ${internal.pattern})`] };
    }
    if (extracted.via === 'device' && dialled.length <= 6) {
      return { ...base, type: 'UNKNOWN', valid: true, scope: 'internal', risk: 'low', reasons: [`device dial to endpoint ${dialled} (no number dialled)`] };
    }

    // 3. PBX prefixes: the number may or may not carry them, so both readings are candidates.
    const candidates: Candidate[] = [];
    for (const strippable of this.strippablePrefixes) {
      if (dialled.length > strippable.prefix.length && dialled.startsWith(strippable.prefix)) {
        candidates.push({ digits: dialled.slice(strippable.prefix.length), stripped: strippable });
      }
    }
    candidates.push({ digits: dialled });

    // 4. Feature codes (`*97`, `#31#`) unless a trunk prefix with `*`/`#` explains the symbols.
    const numeric = candidates.filter((candidate) => /^\+?[0-9]+$/.test(candidate.digits));
    if (numeric.length === 0) {
      const digitCount = dialled.replace(/[^0-9]/g, '').length;
      const carriesNumber = digitCount >= EMBEDDED_NUMBER_DIGITS;
      return {
        ...base,
        type: 'UNKNOWN',
        valid: false,
        scope: 'special',
        risk: carriesNumber ? 'medium' : 'low',
        reasons: [
          `feature code "${dialled}", not a phone number`,
          ...(carriesNumber ? [`it carries ${digitCount} digits: it may set a forwarding or callback target`] : []),
        ],
      };
    }

    const digitCount = dialled.replace(/[^0-9]/g, '').length;
    if (digitCount > MAX_DIGITS) {
      return {
        ...base,
        type: 'UNKNOWN',
        valid: false,
        scope: dialled.startsWith('+') || this.iddPrefixOf(dialled) ? 'international' : 'national',
        risk: 'high',
        reasons: [`too long: ${digitCount} digits, no number has more than 15 (E.164)`],
      };
    }

    // 5. Interpret every candidate; prefer valid readings. Among several valid ones the riskiest wins
    // (a false alarm is cheaper than a missed fraud), then the explicit international form (00…, +…)
    // over a national reading, then the stripped reading (the PBX's dialling habit).
    const interpretations: Interpretation[] = [];
    for (const candidate of numeric) {
      // The foreign `00` reading goes first: when no reading is valid, the first possible one is reported.
      if (this.foreignIdd !== undefined && candidate.digits.startsWith(this.foreignIdd) && candidate.digits.length > this.foreignIdd.length && this.iddPrefixOf(candidate.digits) === undefined) {
        interpretations.push(this.interpret(candidate, this.foreignIdd));
      }
      interpretations.push(this.interpret(candidate));
    }
    const validOnes = interpretations.filter((reading) => reading.valid);
    let chosen: Draft;
    if (validOnes.length > 0) {
      const classified = validOnes.map((reading) => ({ reading, result: this.build(base, reading) }));
      const best = classified.reduce((winner, next) => {
        const byRisk = riskRank(next.result.risk) - riskRank(winner.result.risk);
        if (byRisk !== 0) return byRisk > 0 ? next : winner;
        return FORM_PREFERENCE[next.reading.form] > FORM_PREFERENCE[winner.reading.form] ? next : winner;
      });
      chosen = best.result;
      const others = classified.filter((other) => other !== best && other.result.e164 !== chosen.e164);
      for (const other of others) {
        chosen.reasons.push(`ambiguous: also a valid number as ${other.result.e164} (${other.result.risk} risk); the riskier or more explicit reading is reported`);
      }
    } else {
      const best =
        interpretations.find((reading) => reading.phone?.isPossible()) ?? interpretations.find((reading) => reading.phone) ?? interpretations[0]!;
      chosen = this.build(base, best);
    }
    return canonical(chosen);
  }

  private iddPrefixOf(digits: string): string | undefined {
    return this.config.internationalPrefixes.find((prefix) => digits.length > prefix.length && digits.startsWith(prefix));
  }

  private interpret(candidate: Candidate, foreignIdd?: string): Interpretation {
    const { digits } = candidate;
    let form: Interpretation['form'];
    let text: string;
    let iddPrefix: string | undefined;
    if (foreignIdd !== undefined) {
      form = 'idd';
      iddPrefix = foreignIdd;
      text = `+${digits.slice(foreignIdd.length)}`;
    } else if (digits.startsWith('+')) {
      form = 'e164';
      text = digits;
    } else if ((iddPrefix = this.iddPrefixOf(digits)) !== undefined) {
      form = 'idd';
      text = `+${digits.slice(iddPrefix.length)}`;
    } else {
      form = 'national';
      text = digits;
      const territory = this.territoryDialling.find(({ prefix }) => digits.startsWith(prefix));
      // The trunk prefix 0 goes, the rest follows the territory's calling code.
      if (territory) text = `+${territory.callingCode}${digits.slice(1)}`;
    }
    const options = form === 'national' && !text.startsWith('+') ? { defaultCountry: this.homeCountry, extract: false } : { extract: false };
    const phone = parsePhoneNumberFromString(text, options);
    // With the max metadata isValid() is getType() !== undefined: one type lookup answers both,
    // isValid() only runs for the rare entity without type patterns.
    const type = phone?.getType() as NumberType | undefined;
    const valid = type !== undefined || (phone?.isValid() ?? false);
    const reading: Interpretation = { candidate, form, text, valid };
    if (foreignIdd !== undefined) reading.foreignIdd = true;
    if (type !== undefined) reading.type = type;
    if (iddPrefix !== undefined) reading.iddPrefix = iddPrefix;
    if (phone) reading.phone = phone;
    if (!valid) {
      const problem = text.startsWith('+') ? validatePhoneNumberLength(text) : validatePhoneNumberLength(text, this.homeCountry);
      if (problem) reading.lengthProblem = problem;
    }
    return reading;
  }

  private build(base: { input: string; dialled: string }, reading: Interpretation): Draft {
    const reasons: string[] = [];
    const { candidate, phone } = reading;
    if (candidate.stripped) reasons.push(`${candidate.stripped.kind} ${candidate.stripped.prefix} stripped`);
    if (reading.foreignIdd) reasons.push(`${reading.iddPrefix} read as an international access code (not ${this.homeCountry}'s own, ${this.config.internationalPrefixes.join('/')}; no ${this.homeCountry} number starts with it)`);
    else if (reading.form === 'idd') reasons.push(`international access code ${reading.iddPrefix} stripped`);
    else if (reading.form === 'national') {
      const territoryCode = reading.text.startsWith('+') ? ` (a territory with its own calling code, +${reading.phone?.countryCallingCode ?? '?'})` : '';
      reasons.push(`dialled in national format for ${this.homeCountry}${territoryCode}`);
    }

    // An explicit literal, not a spread: this runs on every uncached classification.
    const result: Draft = { input: base.input, dialled: base.dialled, type: 'UNKNOWN', valid: reading.valid, scope: 'international', risk: 'low', reasons };
    if (!phone) {
      result.scope = reading.form === 'national' ? 'national' : 'international';
      reasons.push(`not a valid number: ${describeLengthProblem(reading.lengthProblem, reading.form === 'national' ? this.homeCountry : undefined)}`);
      // Unparseable international digits (+991…, +999…) may still fall in a listed range.
      this.assessRisk(result, false, reading.form === 'national' ? undefined : reading.text, undefined);
      return result;
    }

    result.e164 = phone.number;
    result.callingCode = phone.countryCallingCode;
    if (phone.country) result.country = phone.country;
    const nonGeographic = phone.isNonGeographic();
    if (reading.valid) result.type = reading.type ?? 'UNKNOWN';

    result.scope = this.scopeOf(phone, nonGeographic);
    reasons.push(this.describeDestination(phone, nonGeographic, result.scope));
    let where: string | undefined;
    if (!reading.valid) {
      where = phone.country ?? possibleRegions(phone);
      reasons.push(`not a valid number for ${where}: ${describeLengthProblem(reading.lengthProblem, undefined)}`);
    }
    this.assessRisk(result, nonGeographic, result.e164, where);
    return result;
  }

  private scopeOf(phone: PhoneNumber, nonGeographic: boolean): Scope {
    if (phone.country) return this.nationalCountries.has(phone.country) ? 'national' : 'international';
    if (nonGeographic || phone.countryCallingCode !== this.homeCallingCode) return 'international';
    // Same calling code, region unknown (invalid number): national only if the home country could hold it.
    const possible = phone.getPossibleCountries();
    return possible.length === 0 || possible.includes(this.homeCountry) ? 'national' : 'international';
  }

  private describeDestination(phone: PhoneNumber, nonGeographic: boolean, scope: Scope): string {
    if (nonGeographic) return `+${phone.countryCallingCode} is a non-geographic range (global service or network, not a country)`;
    if (!phone.country) return `region of +${phone.countryCallingCode} number not determined`;
    const name = regionName(phone.country);
    if (scope === 'international' && phone.countryCallingCode === this.homeCallingCode) {
      return `${name} (${phone.country}) shares +${phone.countryCallingCode} with ${this.homeCountry} but is another country: international`;
    }
    if (scope === 'national' && phone.country !== this.homeCountry) return `${name} (${phone.country}) is billed as domestic from ${this.homeCountry}`;
    return `${name} (${phone.country})`;
  }

  /**
   * The risk grade (see risk-lists.ts for the list semantics):
   * - critical: premium-rate and shared-cost numbers; international numbers that are not valid for
   *   their country (a premium range dialled a digit short or long, an unassigned range: classic
   *   IRSF); list entries marked critical (non-geographic networks, IRSF ranges);
   * - high: personal numbers, valid numbers of unknown type, invalid national numbers,
   *   non-geographic ranges (unless a list says more, or freephone +800), list entries marked high;
   * - medium: the baseline of an international destination whose country no list names;
   * - low: national destinations, and international ones whose country a list names `low` and
   *   nothing else raises.
   * The highest level wins; every step leaves a reason.
   */
  private assessRisk(result: Draft, nonGeographic: boolean, e164Digits: string | undefined, invalidFor: string | undefined): void {
    let risk: RiskLevel = 'low';
    const raise = (level: RiskLevel, reason: string): void => {
      risk = maxRisk(risk, level);
      result.reasons.push(`${level}: ${reason}`);
    };
    const international = result.scope === 'international';
    if (!result.valid) {
      if (international) {
        const target = invalidFor === undefined ? 'not a valid international number' : `not a valid number for ${invalidFor} (international)`;
        raise('critical', `${target}: a classic IRSF pattern (premium ranges dialled a digit short or long, unassigned ranges)`);
      } else raise('high', 'invalid numbers are never treated as safe');
    }
    switch (result.type) {
      case 'PREMIUM_RATE':
        raise('critical', 'premium-rate number');
        break;
      case 'SHARED_COST':
        raise('critical', 'shared-cost number (the number holder shares the call revenue)');
        break;
      case 'PERSONAL_NUMBER':
        raise('high', 'personal number (forwards anywhere, often premium priced)');
        break;
      case 'VOIP':
      case 'UAN':
      case 'PAGER':
      case 'VOICEMAIL':
        raise('medium', `number type ${result.type}`);
        break;
      case 'UNKNOWN':
        if (result.valid) raise('high', 'number type unknown');
        break;
      default:
        break;
    }
    // Freephone +800 (UIFN) is left to the lists; every other global range is at least high.
    if (nonGeographic && result.type !== 'TOLL_FREE') raise('high', 'non-geographic international range (satellite, global networks, IPRS)');
    const entries = this.riskLists.match(e164Digits, result.country);
    // The international baseline applies only when no list entry names the country with a level:
    // a country entry (low included) replaces it, anything else (prefix, type, validity) adds to it.
    let countryNamed = false;
    if (international) {
      for (const entry of entries) {
        if (entry.match.kind === 'country') {
          countryNamed = true;
          break;
        }
      }
      if (!countryNamed) raise('medium', 'international destination');
    }
    for (const entry of entries) {
      // A `low` entry changes nothing at home (national calls start low); it would only clutter the reasons.
      if (entry.risk === 'low' && !international) continue;
      raise(entry.risk, `${entry.reason} [${entry.list}]`);
    }
    result.risk = risk;
  }
}

/** The same field order for every result, so JSON lines read alike. */
function canonical(draft: Draft): Draft {
  const { input, dialled, e164, callingCode, country, type, valid, scope, risk, reasons } = draft;
  return {
    input,
    ...(dialled !== undefined ? { dialled } : {}),
    ...(e164 !== undefined ? { e164 } : {}),
    ...(callingCode !== undefined ? { callingCode } : {}),
    ...(country !== undefined ? { country } : {}),
    type,
    valid,
    scope,
    risk,
    reasons,
  };
}

/** The home country's national (trunk) prefix, `''` when it has none. */
function nationalPrefixOf(country: CountryCode): string {
  const metadata = new Metadata();
  metadata.selectNumberingPlan(country);
  // Present at run time, missing from the typings (like idd.ts's use of the compressed metadata).
  const plan = metadata.numberingPlan as { nationalPrefix?: () => unknown } | undefined;
  const prefix = plan?.nationalPrefix?.();
  return typeof prefix === 'string' ? prefix : '';
}

/** The regions an invalid number's calling code may belong to (`GB/GG`), or `+44` when none. */
function possibleRegions(phone: PhoneNumber): string {
  const regions = phone.getPossibleCountries();
  return regions.length > 0 ? regions.join('/') : `+${phone.countryCallingCode}`;
}

function describeLengthProblem(problem: string | undefined, country: string | undefined): string {
  const suffix = country ? ` for ${country}` : '';
  switch (problem) {
    case 'TOO_SHORT':
      return `too short${suffix}`;
    case 'TOO_LONG':
      return `too long${suffix}`;
    case 'INVALID_LENGTH':
      return `wrong length${suffix}`;
    case 'INVALID_COUNTRY':
      return 'unknown country calling code';
    case 'NOT_A_NUMBER':
      return 'not a number';
    default:
      return `not an assigned number range${suffix}`;
  }
}

function createRegionNames(): Intl.DisplayNames | undefined {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' });
  } catch {
    return undefined;
  }
}

const regionNameCache = new Map<string, string>();

function regionName(code: string): string {
  let name = regionNameCache.get(code);
  if (name === undefined) {
    try {
      name = regionNames?.of(code) ?? code;
    } catch {
      name = code;
    }
    regionNameCache.set(code, name);
  }
  return name;
}
