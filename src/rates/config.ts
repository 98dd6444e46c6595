/**
 * `rates:` section of the Tollgate configuration.
 *
 *   rates:
 *     file: /etc/tollgate/rates.csv     # default: the shipped EXAMPLE table (marked "example rates"
 *                                       # wherever a price is shown); `none`: no table, every
 *                                       # destination is "unknown" (see below)
 *     currency: EUR                     # every row of the table must use it
 *     unknownPrefix: assume             # or deny
 *     assumedPricePerMinute: "2.00"     # used by `assume`: deliberately high, so budgets trip early
 *     assumedIncrement: 60/60
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { packagePath } from '../paths.js';
import { assumedRate, loadRateTable, parseIncrement, RateTable } from './rate-table.js';
import type { RateTableOptions, UnknownPrefixPolicy } from './rate-table.js';
import { parseMicros } from './money.js';

const decimal = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((value) => String(value).trim())
    .refine((value) => parseMicros(value) !== undefined, { message: `${what} must be a non-negative decimal with at most 6 decimal places` });

export const ratesConfigSchema = z.object({
  /** Rate CSV (see src/rates/rate-table.ts for the columns); absent: the shipped example table; `none`: no table. */
  file: z.string().trim().min(1).optional(),
  /** ISO 4217 currency of the table and of every budget. */
  currency: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code such as USD')
    .default('USD'),
  /** No prefix matches: `deny` (the call cannot be priced; policy decides) or `assume` the rate below. */
  unknownPrefix: z.enum(['deny', 'assume']).default('assume'),
  assumedPricePerMinute: decimal('assumedPricePerMinute').default('2.00'),
  assumedIncrement: z
    .string()
    .trim()
    .refine((value) => parseIncrement(value) !== undefined, { message: 'assumedIncrement must be first/next seconds such as 60/60' })
    .default('60/60'),
  assumedConnectionFee: decimal('assumedConnectionFee').default('0'),
});

export type RatesConfig = z.output<typeof ratesConfigSchema>;
export type RatesConfigInput = z.input<typeof ratesConfigSchema>;

/** The unknown-prefix policy a `rates:` section describes. */
export function unknownPrefixPolicy(config: RatesConfig): UnknownPrefixPolicy {
  if (config.unknownPrefix === 'deny') return { action: 'deny' };
  return { action: 'assume', rate: assumedRate(config.assumedPricePerMinute, config.assumedIncrement, config.assumedConnectionFee, config.currency) };
}

/** The shipped example table: the default price list of every command, always labelled as example values. */
export const EXAMPLE_RATES_FILE = packagePath('config', 'rates.example.csv');
/** The example table's currency: with another configured currency there is no default table. */
const EXAMPLE_RATES_CURRENCY = 'USD';

/**
 * The rate table a `rates:` section describes — the one place every command (run, demo, replay,
 * classify) gets its prices: the configured file; without one, the shipped example table (its
 * source says so, so output can label the prices as examples); with `file: none`, or a currency
 * the example table is not in, no table. Throws ConfigError on file errors.
 */
export function rateTableFromConfig(config: RatesConfig): RateTable {
  const options: RateTableOptions = { currency: config.currency, unknownPrefix: unknownPrefixPolicy(config) };
  if (config.file && config.file !== 'none') {
    // The example table named explicitly is still example values: say so.
    return resolve(config.file) === EXAMPLE_RATES_FILE ? loadRateTable(EXAMPLE_RATES_FILE, { ...options, source: { kind: 'example', file: EXAMPLE_RATES_FILE } }) : loadRateTable(config.file, options);
  }
  if (!config.file && config.currency === EXAMPLE_RATES_CURRENCY) return loadRateTable(EXAMPLE_RATES_FILE, { ...options, source: { kind: 'example', file: EXAMPLE_RATES_FILE } });
  return new RateTable([], { ...options, source: { kind: 'none' } });
}
