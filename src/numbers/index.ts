/**
 * Destination classification: dialled string → E.164, country, number type, scope and risk.
 *
 *   const classifier = createClassifier({ numbering: { homeCountry: 'GB', outsideLineCodes: ['9'] } });
 *   classifier.classify('PJSIP/00447624123456@carrier');   // IM mobile, international, medium risk
 *   classifier.isEmergency('9999');                          // true: never block, never hang up
 */
import { ConfigError } from '../errors.js';
import { NumberClassifier } from './classify.js';
import { numberingConfigSchema } from './config.js';
import type { NumberingConfig, NumberingConfigInput } from './config.js';
import { LruCache } from './lru.js';
import { RiskLists, loadRiskLists } from './risk-lists.js';
import type { Classification } from './types.js';

export type { Classification, NumberType, RiskLevel, Scope } from './types.js';
export { NUMBER_TYPES, RISK_LEVELS, SCOPES, maxRisk, riskRank } from './types.js';
export { numberingConfigSchema } from './config.js';
export type { NumberingConfig, NumberingConfigInput } from './config.js';
export { isEmergency, emergencyNumbersFor, EMERGENCY_NUMBERS_BY_COUNTRY, UNIVERSAL_EMERGENCY_NUMBERS } from './emergency.js';
export type { EmergencyOptions } from './emergency.js';
export { RiskLists, loadRiskLists, loadRiskListFile, parseRiskListYaml, parseRiskListCsv, defaultRiskListDir } from './risk-lists.js';
export type { RiskListEntry, RiskListMatch } from './risk-lists.js';
export { extractDialledNumber } from './extract.js';
export { defaultInternationalPrefixes } from './idd.js';
export { LruCache } from './lru.js';

export interface ClassifierOptions {
  /** The `numbering:` configuration section (defaults filled in by `numberingConfigSchema`). */
  numbering?: NumberingConfigInput;
  /** Loaded lists, or a directory to load every list file from. Default: the shipped `policies/lists`. */
  riskLists?: RiskLists | string;
  /** LRU cache entries; overrides `numbering.cacheSize`. */
  cacheSize?: number;
}

export interface Classifier {
  /** Classifies a dialled string (digits, `+E.164`, `tel:`/`sip:` URI, AMI dial string). Cached, never throws. Results are frozen. */
  classify(dialled: string): Classification;
  /** Same as `classify` without the cache (benchmarks, one-off use). */
  classifyUncached(dialled: string): Classification;
  /** The hard safety rule with this PBX's configuration: true means never block, never hang up. Never throws. */
  isEmergency(dialled: string): boolean;
  readonly config: NumberingConfig;
  readonly riskLists: RiskLists;
  /** Entries currently cached. */
  readonly cacheSize: number;
}

/**
 * Builds a classifier. Throws ConfigError for a bad `numbering` section or a bad list file (file and
 * line named); after that, `classify()` never throws.
 */
export function createClassifier(options: ClassifierOptions = {}): Classifier {
  const parsed = numberingConfigSchema.safeParse(options.numbering ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(issue.message, undefined, undefined, ['numbering', ...issue.path.map(String)].join('.'));
  }
  const config = parsed.data;
  const riskLists = options.riskLists instanceof RiskLists ? options.riskLists : loadRiskLists(options.riskLists);
  const engine = new NumberClassifier(config, riskLists);
  const cache = new LruCache<string, Classification>(options.cacheSize ?? config.cacheSize);

  return {
    config,
    riskLists,
    get cacheSize() {
      return cache.size;
    },
    classify(dialled: string): Classification {
      // Only strings are cache keys: String([]) === '' must not hit the entry for ''.
      if (typeof dialled !== 'string') return freeze(engine.classify(dialled));
      const hit = cache.get(dialled);
      if (hit) return hit;
      const result = freeze(engine.classify(dialled));
      cache.set(dialled, result);
      return result;
    },
    classifyUncached: (dialled: string) => freeze(engine.classify(dialled)),
    isEmergency: (dialled: string) => engine.emergencyNumberOf(dialled) !== undefined,
  };
}

/** Cached results are shared between callers: freeze them so no caller can change another's view. */
function freeze(classification: Classification): Classification {
  Object.freeze(classification.reasons);
  return Object.freeze(classification);
}
