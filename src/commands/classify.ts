/**
 * `tollgate classify <number…>`: what Tollgate makes of dialled strings — E.164, country, type,
 * scope, risk, the reasons, and the price from the rate table. Works with no configuration file:
 *   home country  --country, else $TOLLGATE_HOME_COUNTRY, else US
 *   rate table    --rates <csv>, else $TOLLGATE_RATES, else the shipped config/rates.example.csv
 *   risk lists    --lists <dir>, else the shipped policies/lists
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { packagePath } from '../paths.js';
import { createClassifier, loadRiskLists } from '../numbers/index.js';
import type { Classification } from '../numbers/index.js';
import { RateTable, assumedRate, callCost, formatMicros, loadRateTable } from '../rates/index.js';
import type { Rate, RateQuote } from '../rates/index.js';

/** Package root: this file is src/commands/classify.ts or dist/commands/classify.js. */
export const DEFAULT_RATES_FILE = packagePath('config', 'rates.example.csv');
export const DEFAULT_LISTS_DIR = packagePath('policies', 'lists');

export interface ClassifyCommandOptions {
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
}

export function registerClassifyCommand(program: Command): void {
  program
    .command('classify')
    .description('classify dialled numbers: E.164, country, number type, scope, risk and price per minute')
    .argument('<number...>', 'dialled strings: digits, +E.164, tel:/sip: URIs or AMI dial strings such as PJSIP/0044…@carrier')
    .option('--country <code>', 'home country of the PBX, ISO 3166 alpha-2 (default: $TOLLGATE_HOME_COUNTRY or US)')
    .option('--outside-line <codes>', 'outside-line access codes to strip, comma-separated (e.g. 9)')
    .option('--internal <patterns>', 'internal extension patterns, comma-separated (e.g. _1XXX,_2XX)')
    .option('--rates <csv>', 'rate table CSV (default: $TOLLGATE_RATES or the shipped example table)')
    .option('--lists <dir>', 'risk list directory (default: the shipped policies/lists)')
    .option('--unknown-prefix <action>', 'when no rate prefix matches: assume or deny', 'assume')
    .option('--assumed-rate <price>', 'price per minute assumed for unknown prefixes', '2.00')
    .option('--json', 'print one JSON object per line')
    .action((numbers: string[], options: ClassifyCommandOptions) => {
      for (const line of classifyForDisplay(numbers, options)) console.log(line);
    });
}

/** Does the work of the command and returns the lines it prints (one per number with --json). */
export function classifyForDisplay(numbers: readonly string[], options: ClassifyCommandOptions, env: NodeJS.ProcessEnv = process.env): string[] {
  const homeCountry = options.country ?? env.TOLLGATE_HOME_COUNTRY ?? 'US';
  const classifier = createClassifier({
    numbering: {
      homeCountry,
      outsideLineCodes: splitList(options.outsideLine),
      internalPatterns: splitList(options.internal),
    },
    riskLists: loadRiskLists(options.lists ?? DEFAULT_LISTS_DIR),
  });
  const rates = openRateTable(options.rates ?? env.TOLLGATE_RATES ?? DEFAULT_RATES_FILE, options);
  return numbers.map((number) => {
    const classification = classifier.classify(number);
    const price = priceOf(classification, rates);
    return options.json ? JSON.stringify({ ...classification, price: price ?? null }) : formatHuman(classification, price);
  });
}

function openRateTable(file: string, options: ClassifyCommandOptions): RateTable {
  const action = options.unknownPrefix ?? 'assume';
  if (action !== 'assume' && action !== 'deny') throw new ConfigError(`--unknown-prefix must be assume or deny, not "${action}"`);
  const table = loadRateTable(file);
  if (action === 'deny') return new RateTable(table.rates, { currency: table.currency, unknownPrefix: { action: 'deny' } });
  const currency = table.currency ?? 'USD';
  return new RateTable(table.rates, { currency, unknownPrefix: { action: 'assume', rate: assumedRate(options.assumedRate ?? '2.00', '60/60', '0', currency) } });
}

/** The price of a classified number; undefined when it is not a public number (internal, emergency, feature code). */
export function priceOf(classification: Classification, rates: RateTable): PriceInfo | undefined {
  if (classification.scope === 'internal' || classification.scope === 'emergency' || classification.scope === 'special') return undefined;
  const quote = rates.quote(classification.e164);
  if (quote.kind === 'denied') return { kind: 'denied', reason: quote.reason };
  const info = describeRate(quote.rate);
  const priced: PriceInfo = { kind: quote.kind, ...info };
  if (quote.kind === 'assumed') priced.reason = quote.reason;
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
  const source = price.kind === 'matched' ? `prefix ${price.prefix} ${price.description}` : 'assumed rate for unknown prefixes';
  const fee = price.connectionFee && price.connectionFee !== '0.00' ? ` + ${price.connectionFee} per call` : '';
  return `${price.pricePerMinute} ${price.currency}/min${fee}, billed ${price.increment} (${source}); 1 min call = ${price.oneMinute} ${price.currency}`;
}

function splitList(text: string | undefined): string[] {
  return text ? text.split(',').map((item) => item.trim()).filter((item) => item.length > 0) : [];
}
