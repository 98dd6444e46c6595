/** Rate tables: price per minute by E.164 prefix and carrier-style call costs (integer micro-units). */
export { RateTable, callCost, parseIncrement, parseRateTable, loadRateTable, assumedRate, describeRateSource } from './rate-table.js';
export type { Rate, CallCost, RateQuote, RateTableOptions, UnknownPrefixPolicy, RateSource } from './rate-table.js';
export { ratesConfigSchema, rateTableFromConfig, unknownPrefixPolicy, EXAMPLE_RATES_FILE } from './config.js';
export type { RatesConfig, RatesConfigInput } from './config.js';
export { MICROS_PER_UNIT, formatMicros, parseMicros, mulDivCeil } from './money.js';
