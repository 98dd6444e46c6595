/**
 * `tollgate classify <number…>`: what Tollgate makes of dialled strings — E.164, country, type,
 * scope, risk, the reasons, and the price from the rate table. The numbering plan and the rate
 * table come from the same configuration code as `run`, `demo` and `replay` (file optional):
 *   home country  --country, else numbering.homeCountry ($TOLLGATE_HOME_COUNTRY), else US; its
 *                 international prefixes from libphonenumber (011 in NANP, 00 in most others)
 *   rate table    --rates <csv>, else rates.file ($TOLLGATE_RATES), else the shipped example table
 *                 (every price printed from it says "example rates")
 *   risk lists    --lists <dir>, else lists/ beside the configured policies, else the shipped ones
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { packagePath } from '../paths.js';
import { createClassifier, loadRiskLists } from '../numbers/index.js';
import type { Classification } from '../numbers/index.js';
import { riskListDir } from '../numbers/from-config.js';
import { EXAMPLE_RATES_FILE, callCost, formatMicros, rateTableFromConfig } from '../rates/index.js';
import type { Rate, RateQuote, RateTable } from '../rates/index.js';
import { configFromOptions } from './common.js';

/** The shipped example table: the default everywhere (see rates/config.ts). */
export const DEFAULT_RATES_FILE = EXAMPLE_RATES_FILE;
export const DEFAULT_LISTS_DIR = packagePath('policies', 'lists');

export interface ClassifyCommandOptions {
  config?: string;
  country?: string;
  outsideLine?: string;
  internal?: string;
  rates?: string;
  lists?: string;
  unknownPrefix?: string;
  assumedRate?: string;
  json?: boolean;
}

/** Price information printed with a classification. */
export interface PriceInfo {
  kind: RateQuote['kind'];
  prefix?: string;
  description?: string;
  pricePerMinute?: string;
  increment?: string;
  connectionFee?: string;
  currency?: string;
  /** Cost of a one-minute call, connection fee included. */
  oneMinute?: string;
  reason?: string;
  /** `example` when the price comes from the shipped example table (not any carrier's prices). */
  source?: 'file' | 'example' | 'none';
}

export function registerClassifyCommand(program: Command): void {
  program
    .command('classify')
    .description('classify dialled numbers: E.164, country, number type, scope, risk and price per minute')
    .argument('<number...>', 'dialled strings: digits, +E.164, tel:/sip: URIs or AMI dial strings such as PJSIP/0044…@carrier')
    .option('-c, --config <file>', 'configuration file (numbering plan, rates, policies) — the same one `tollgate run` uses')
    .option('--country <code>', 'home country of the PBX, ISO 3166 alpha-2 (default: numbering.homeCountry, $TOLLGATE_HOME_COUNTRY or US)')
    .option('--outside-line <codes>', 'outside-line access codes to strip, comma-separated (e.g. 9)')
    .option('--internal <patterns>', 'internal extension patterns, comma-separated (e.g. _1XXX,_2XX)')
    .option('--rates <csv>', 'rate table CSV (default: rates.file, $TOLLGATE_RATES, else the shipped example table); `none` for no table')
    .option('--lists <dir>', 'risk list directory (default: lists/ beside the configured policies, else the shipped policies/lists)')
    .option('--unknown-prefix <action>', 'when no rate prefix matches: assume or deny (default: rates.unknownPrefix, assume)')
    .option('--assumed-rate <price>', 'price per minute assumed for unknown prefixes (default: rates.assumedPricePerMinute, 2.00)')
    .option('--json', 'print one JSON object per line')
    .action((numbers: string[], options: ClassifyCommandOptions) => {
      for (const line of classifyForDisplay(numbers, options)) console.log(line);
    });
}

/** Does the work of the command and returns the lines it prints (one per number with --json). */
export function classifyForDisplay(numbers: readonly string[], options: ClassifyCommandOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  if (options.unknownPrefix !== undefined && options.unknownPrefix !== 'assume' && options.unknownPrefix !== 'deny') throw new ConfigError(`--unknown-prefix must be assume or deny, not "${options.unknownPrefix}"`);
  const { config } = configFromOptions(
    options,
    {
      TOLLGATE_NUMBERING_OUTSIDE_LINE_CODES: options.outsideLine,
      TOLLGATE_NUMBERING_INTERNAL_PATTERNS: options.internal,
      // Paths on the command line are relative to where the command runs, not to the config file.
      TOLLGATE_RATES_FILE: options.rates === undefined || options.rates === 'none' ? options.rates : resolve(options.rates),
      TOLLGATE_RATES_UNKNOWN_PREFIX: options.unknownPrefix,
      TOLLGATE_RATES_ASSUMED_PRICE_PER_MINUTE: options.assumedRate,
    },
    env,
  );
  const classifier = createClassifier({ numbering: config.numbering, riskLists: loadRiskLists(options.lists ? resolve(options.lists) : riskListDir(config)) });
  const rates = rateTableFromConfig(config.rates);
  return numbers.map((number) => {
    const classification = classifier.classify(number);
    const price = priceOf(classification, rates);
    return options.json ? JSON.stringify({ ...classification, price: price ?? null }) : formatHuman(classification, price);
  });
}

/** The price of a classified number; undefined when it is not a public number (internal, emergency, feature code). */
export function priceOf(classification: Classification, rates: RateTable): PriceInfo | undefined {
  if (classification.scope === 'internal' || classification.scope === 'emergency' || classification.scope === 'special') return undefined;
  const quote = rates.quote(classification.e164);
  if (quote.kind === 'denied') return { kind: 'denied', reason: quote.reason };
  const info = describeRate(quote.rate);
  const priced: PriceInfo = { kind: quote.kind, ...info };
  if (quote.kind === 'assumed') priced.reason = quote.reason;
  if (quote.kind === 'matched' && rates.source) priced.source = rates.source.kind;
  return priced;
}

function describeRate(rate: Rate): Omit<PriceInfo, 'kind'> {
  const info: Omit<PriceInfo, 'kind'> = {
    description: rate.description,
    pricePerMinute: formatMicros(rate.pricePerMinuteMicros),
    increment: `${rate.firstIncrement}/${rate.nextIncrement}`,
    connectionFee: formatMicros(rate.connectionFeeMicros),
    currency: rate.currency,
    oneMinute: formatMicros(callCost(rate, 60).micros),
  };
  if (rate.prefix) info.prefix = rate.prefix;
  return info;
}

function formatHuman(classification: Classification, price: PriceInfo | undefined): string {
  const lines = [classification.input];
  const facts = [
    classification.e164 ? `e164 ${classification.e164}` : undefined,
    classification.country ? `country ${classification.country}` : classification.callingCode ? `calling code +${classification.callingCode}` : undefined,
    `type ${classification.type}`,
    `scope ${classification.scope}`,
    `valid ${classification.valid ? 'yes' : 'no'}`,
    `risk ${classification.risk.toUpperCase()}`,
  ].filter((fact): fact is string => fact !== undefined);
  lines.push(`  ${facts.join('  ')}`);
  if (price) lines.push(`  price ${formatPrice(price)}`);
  else if (classification.scope === 'emergency') lines.push('  price -- (emergency call: never blocked)');
  for (const reason of classification.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}

function formatPrice(price: PriceInfo): string {
  if (price.kind === 'denied') return `none: ${price.reason} (unknown prefix: deny)`;
  const source = price.kind === 'matched' ? `${price.source === 'example' ? 'example rates — ' : ''}prefix ${price.prefix} ${price.description}` : 'assumed rate for unknown prefixes';
  const fee = price.connectionFee && price.connectionFee !== '0.00' ? ` + ${price.connectionFee} per call` : '';
  return `${price.pricePerMinute} ${price.currency}/min${fee}, billed ${price.increment} (${source}); 1 min call = ${price.oneMinute} ${price.currency}`;
}
