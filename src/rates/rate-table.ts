/**
 * Rate table: per-minute prices by E.164 prefix, longest prefix wins, and the cost of a call as a
 * carrier bills it.
 *
 * CSV columns (header line required, names case-insensitive, any order; `#` lines are comments):
 *   prefix            E.164 digits, `+` optional (`44`, `+447`, `1876`)            required
 *   description       free text                                                    optional
 *   price_per_minute  decimal, at most 6 decimal places                            required
 *   increment         billing increment `first/next` in seconds: 60/60, 30/6, 1/1  default 60/60
 *   connection_fee    decimal charged once per answered call                       default 0
 *   currency          ISO 4217 code (USD, EUR, GBP); one currency per table        default: the configured one
 * Errors name file, line and column.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { parseCsvTable } from './csv.js';
import type { CsvField } from './csv.js';
import { MICROS_PER_UNIT, formatMicros, mulDivCeil, parseMicros } from './money.js';

export interface Rate {
  /** E.164 prefix digits without `+`; empty for an assumed rate. */
  prefix: string;
  description: string;
  /** Price per minute in micro-units of `currency` (10⁻⁶). */
  pricePerMinuteMicros: number;
  /** Seconds charged as one block at the start of the call (30 in 30/6). */
  firstIncrement: number;
  /** Seconds per block after the first one (6 in 30/6). */
  nextIncrement: number;
  /** Charged once per answered call, micro-units. */
  connectionFeeMicros: number;
  currency: string;
  /** Where the rate was defined (absent for an assumed rate). */
  file?: string;
  line?: number;
}

export interface CallCost {
  /** Seconds the carrier charges after rounding up to the increments. */
  billedSeconds: number;
  /** Total in micro-units, connection fee included; rounded up to the next micro-unit. */
  micros: number;
  /** `micros` in currency units, for display and thresholds (not for further arithmetic). */
  amount: number;
  currency: string;
}

/** What to do when no prefix matches: refuse to price (policy may deny the call) or assume a (high) rate. */
export type UnknownPrefixPolicy = { action: 'deny' } | { action: 'assume'; rate: Rate };

export type RateQuote =
  | { kind: 'matched'; rate: Rate }
  | { kind: 'assumed'; rate: Rate; reason: string }
  | { kind: 'denied'; reason: string };

export interface RateTableOptions {
  /** Currency every row must use; default: whatever the rows use, as long as it is one currency. */
  currency?: string | undefined;
  /** Default `{ action: 'deny' }`. */
  unknownPrefix?: UnknownPrefixPolicy;
  /** Where the prices come from (shown with every price, so example values are never taken for real ones). */
  source?: RateSource;
}

/** The admin's own table, the shipped example table (not any carrier's prices), or none at all. */
export type RateSource = { kind: 'file'; file: string } | { kind: 'example'; file: string } | { kind: 'none' };

/** A digit of the prefix trie: the rate of the prefix ending here (and its quote, made once), if any. */
interface PrefixNode {
  rate?: Rate;
  quote?: RateQuote & { kind: 'matched' };
  next?: Map<number, PrefixNode>;
}

/** Longest-prefix rate lookup and carrier-style call costing. */
export class RateTable {
  private readonly byPrefix = new Map<string, Rate>();
  /** The prefixes digit by digit (see matchOf). */
  private readonly trie: PrefixNode = {};
  private readonly longestPrefix: number;
  readonly unknownPrefix: UnknownPrefixPolicy;
  readonly currency: string | undefined;
  readonly source: RateSource | undefined;

  constructor(rates: readonly Rate[], options: RateTableOptions = {}) {
    this.source = options.source;
    let longest = 0;
    for (const rate of rates) {
      this.byPrefix.set(rate.prefix, rate);
      longest = Math.max(longest, rate.prefix.length);
    }
    this.longestPrefix = longest;
    for (const rate of this.byPrefix.values()) this.addToTrie(rate);
    this.unknownPrefix = options.unknownPrefix ?? { action: 'deny' };
    this.currency = options.currency ?? rates[0]?.currency ?? (this.unknownPrefix.action === 'assume' ? this.unknownPrefix.rate.currency : undefined);
  }

  get size(): number {
    return this.byPrefix.size;
  }

  get rates(): Rate[] {
    return [...this.byPrefix.values()];
  }

  /** The rate of the longest prefix matching an E.164 number (`+4420…` or `4420…`), or undefined. */
  lookup(e164: string): Rate | undefined {
    return this.matchOf(e164)?.rate;
  }

  /** `lookup` plus the unknown-prefix policy: a matched rate, the assumed rate, or a denial. */
  quote(e164: string | undefined): RateQuote {
    const match = e164 ? this.matchOf(e164) : undefined;
    if (match?.quote) return match.quote;
    const reason = e164 ? `no rate for ${e164}` : 'no E.164 number to price';
    if (this.unknownPrefix.action === 'assume') return { kind: 'assumed', rate: this.unknownPrefix.rate, reason: `${reason}: assumed rate applied` };
    return { kind: 'denied', reason };
  }

  /**
   * The trie node of the longest prefix with a rate: the number's digits are walked once, with no
   * substring per prefix length (every call is priced).
   */
  private matchOf(e164: string): PrefixNode | undefined {
    const start = e164.startsWith('+') ? 1 : 0;
    const end = Math.min(e164.length, start + this.longestPrefix);
    let node: PrefixNode | undefined = this.trie;
    let match: PrefixNode | undefined;
    for (let index = start; index < end; index++) {
      node = node.next?.get(e164.charCodeAt(index));
      if (node === undefined) break;
      if (node.rate !== undefined) match = node;
    }
    return match;
  }

  private addToTrie(rate: Rate): void {
    let node = this.trie;
    for (let index = 0; index < rate.prefix.length; index++) {
      const code = rate.prefix.charCodeAt(index);
      node.next ??= new Map();
      let child = node.next.get(code);
      if (child === undefined) {
        child = {};
        node.next.set(code, child);
      }
      node = child;
    }
    // An empty prefix never matched (no prefix length 0 was looked up): it stays off the trie's root.
    if (node === this.trie) return;
    node.rate = rate;
    node.quote = { kind: 'matched', rate };
  }

  /** Cost of a call lasting `billableSeconds` (answered time) at `rate`. See `callCost`. */
  cost(rate: Rate, billableSeconds: number): CallCost {
    return callCost(rate, billableSeconds);
  }
}

/**
 * Cost as carriers bill it. With increment `first/next`, a call of s > 0 seconds is billed
 * `first` seconds if s ≤ first, else `first + ⌈(s − first) / next⌉ × next` seconds (30/6: 31 s → 36 s).
 * Fractional seconds round up first. The price is `billed × price_per_minute / 60`, rounded up to the
 * next micro-unit, plus the connection fee. A call with no billable seconds (unanswered) costs 0.
 */
export function callCost(rate: Rate, billableSeconds: number): CallCost {
  const seconds = Number.isFinite(billableSeconds) && billableSeconds > 0 ? Math.ceil(billableSeconds) : 0;
  if (seconds === 0) return { billedSeconds: 0, micros: 0, amount: 0, currency: rate.currency };
  const billedSeconds =
    seconds <= rate.firstIncrement ? rate.firstIncrement : rate.firstIncrement + Math.ceil((seconds - rate.firstIncrement) / rate.nextIncrement) * rate.nextIncrement;
  const micros = mulDivCeil(billedSeconds, rate.pricePerMinuteMicros, 60) + rate.connectionFeeMicros;
  return { billedSeconds, micros, amount: micros / MICROS_PER_UNIT, currency: rate.currency };
}

/** `60/60`, `30/6`, `1/1`, or a single number `n` meaning `n/n`. */
export function parseIncrement(text: string): { first: number; next: number } | undefined {
  const match = /^\s*(\d{1,5})\s*(?:\/\s*(\d{1,5})\s*)?$/.exec(text);
  if (!match) return undefined;
  const first = Number(match[1]);
  const next = match[2] === undefined ? first : Number(match[2]);
  if (next < 1) return undefined;
  return { first, next };
}

/** Words for where a table's prices come from, e.g. `example rates (…/rates.example.csv)`: printed beside prices. */
export function describeRateSource(source: RateSource | undefined): string {
  if (!source) return 'rate table';
  if (source.kind === 'example') return `example rates (${source.file}: not any carrier's prices — set rates.file to your own table)`;
  if (source.kind === 'none') return 'no rate table (rates.file: none)';
  return `rates from ${source.file}`;
}

/** Builds a synthetic rate (the unknown-prefix assumption) from config-style values. Throws ConfigError on bad values. */
export function assumedRate(pricePerMinute: string, increment: string, connectionFee: string, currency: string): Rate {
  const price = parseMicros(pricePerMinute);
  if (price === undefined) throw new ConfigError(`assumed price per minute "${pricePerMinute}" is not a decimal with at most 6 decimal places`, undefined, undefined, 'rates.assumedPricePerMinute');
  const parsedIncrement = parseIncrement(increment);
  if (!parsedIncrement) throw new ConfigError(`assumed increment "${increment}" is not first/next seconds (e.g. 60/60)`, undefined, undefined, 'rates.assumedIncrement');
  const fee = parseMicros(connectionFee);
  if (fee === undefined) throw new ConfigError(`assumed connection fee "${connectionFee}" is not a decimal`, undefined, undefined, 'rates.assumedConnectionFee');
  return {
    prefix: '',
    description: `assumed rate for unknown destinations (${formatMicros(price)} ${currency}/min)`,
    pricePerMinuteMicros: price,
    firstIncrement: parsedIncrement.first,
    nextIncrement: parsedIncrement.next,
    connectionFeeMicros: fee,
    currency,
  };
}

const COLUMN_ALIASES: Record<string, string> = {
  prefix: 'prefix',
  description: 'description',
  destination: 'description',
  price_per_minute: 'price_per_minute',
  price: 'price_per_minute',
  rate: 'price_per_minute',
  per_minute: 'price_per_minute',
  increment: 'increment',
  billing_increment: 'increment',
  billing: 'increment',
  connection_fee: 'connection_fee',
  setup_fee: 'connection_fee',
  connection: 'connection_fee',
  currency: 'currency',
};

/** Parses rate CSV text. Throws ConfigError naming file, line and column. */
export function parseRateTable(text: string, file: string, options: RateTableOptions = {}): RateTable {
  const table = parseCsvTable(text, file);
  const columns = new Map<string, number>();
  table.header.forEach((name, index) => {
    const canonical = COLUMN_ALIASES[name.replace(/[\s-]+/g, '_')];
    if (!canonical) {
      throw new ConfigError(
        `unknown column "${name}" (expected prefix, description, price_per_minute, increment, connection_fee, currency)`,
        file,
        table.headerLine,
        `column ${index + 1}`,
      );
    }
    if (columns.has(canonical)) throw new ConfigError(`column "${canonical}" appears twice`, file, table.headerLine, `column ${index + 1}`);
    columns.set(canonical, index);
  });
  for (const required of ['prefix', 'price_per_minute']) {
    if (!columns.has(required)) throw new ConfigError(`missing required column "${required}"`, file, table.headerLine);
  }
  if (!columns.has('currency') && !options.currency) {
    throw new ConfigError('no currency column and no configured currency (set rates.currency or add a currency column)', file, table.headerLine);
  }

  const rates: Rate[] = [];
  const seen = new Map<string, number>();
  let tableCurrency = options.currency;
  for (const record of table.records) {
    const cell = (name: string): CsvField | undefined => {
      const index = columns.get(name);
      return index === undefined ? undefined : record.fields[index];
    };
    const fail = (name: string, message: string): never => {
      const index = columns.get(name);
      throw new ConfigError(message, file, record.line, `column ${index === undefined ? '?' : index + 1} (${name})`);
    };
    if (record.fields.length > table.header.length) {
      throw new ConfigError(`${record.fields.length} fields but the header has ${table.header.length}`, file, record.line, `column ${table.header.length + 1}`);
    }

    const prefixText = cell('prefix')?.value ?? '';
    const prefix = prefixText.replace(/[\s-]/g, '').replace(/^\+/, '');
    if (!/^[0-9]{1,15}$/.test(prefix)) fail('prefix', `bad prefix "${prefixText}": expected E.164 digits (optionally with +)`);
    const previous = seen.get(prefix);
    if (previous !== undefined) fail('prefix', `duplicate prefix ${prefix} (first defined on line ${previous})`);
    seen.set(prefix, record.line);

    const priceText = cell('price_per_minute')?.value ?? '';
    const price = parseMicros(priceText);
    if (price === undefined) fail('price_per_minute', `bad price per minute "${priceText}": expected a non-negative decimal with at most 6 decimal places`);

    const incrementText = cell('increment')?.value || '60/60';
    const increment = parseIncrement(incrementText);
    if (!increment) fail('increment', `bad billing increment "${incrementText}": expected first/next seconds such as 60/60, 30/6 or 1/1`);

    const feeText = cell('connection_fee')?.value || '0';
    const fee = parseMicros(feeText);
    if (fee === undefined) fail('connection_fee', `bad connection fee "${feeText}": expected a non-negative decimal with at most 6 decimal places`);

    const currencyText = (cell('currency')?.value || tableCurrency || '').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currencyText)) fail('currency', `bad currency "${currencyText}": expected an ISO 4217 code such as USD`);
    if (tableCurrency && currencyText !== tableCurrency) {
      fail('currency', `currency ${currencyText} differs from ${tableCurrency}${options.currency ? ' (rates.currency)' : ' (earlier rows)'}: one table, one currency`);
    }
    tableCurrency = currencyText;

    rates.push({
      prefix,
      description: cell('description')?.value ?? '',
      pricePerMinuteMicros: price!,
      firstIncrement: increment!.first,
      nextIncrement: increment!.next,
      connectionFeeMicros: fee!,
      currency: currencyText,
      file,
      line: record.line,
    });
  }
  const unknownPrefix = options.unknownPrefix;
  if (unknownPrefix?.action === 'assume' && tableCurrency && unknownPrefix.rate.currency !== tableCurrency) {
    throw new ConfigError(`the assumed rate is in ${unknownPrefix.rate.currency} but the table is in ${tableCurrency}`, file);
  }
  const tableOptions: RateTableOptions = { currency: tableCurrency };
  if (unknownPrefix) tableOptions.unknownPrefix = unknownPrefix;
  tableOptions.source = options.source ?? { kind: 'file', file };
  return new RateTable(rates, tableOptions);
}

/** Reads and parses a rate CSV file. */
export function loadRateTable(file: string, options: RateTableOptions = {}): RateTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read rate table: ${(error as Error).message}`, file);
  }
  return parseRateTable(text, file, options);
}
