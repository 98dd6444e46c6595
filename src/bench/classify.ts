/**
 * Destination classification and rate lookup throughput. The policy engine classifies every dial
 * event, so the cached path is the one that matters; the uncached figure is libphonenumber's cost.
 */
import { createClassifier } from '../numbers/index.js';
import { DEFAULT_RATES_FILE } from '../commands/classify.js';
import { RateTable, assumedRate, loadRateTable } from '../rates/index.js';
import { opsPerSecond, printSection } from './report.js';

/** A deterministic mix of what a US PBX sees: national, NANP Caribbean, international, dial strings; all distinct. */
function sampleNumbers(count: number): string[] {
  const templates = [
    (suffix: string) => `21255${suffix}`,
    (suffix: string) => `187655${suffix}`,
    (suffix: string) => `90114420794${suffix}`,
    (suffix: string) => `PJSIP/011336123${suffix}@carrier`,
    (suffix: string) => `+49301234${suffix}`,
    (suffix: string) => `01153${suffix}`,
    (suffix: string) => `SIP/trunk/0118816${suffix.padStart(9, '0')}`,
    (suffix: string) => `sip:+612123${suffix}@sbc.example.net`,
  ];
  const numbers: string[] = [];
  for (let index = 0; index < count; index++) numbers.push(templates[index % templates.length]!(String(index).padStart(5, '0')));
  return numbers;
}

export async function benchClassify(): Promise<void> {
  const distinct = sampleNumbers(20_000);
  const repeated = sampleNumbers(1_000);

  const uncachedClassifier = createClassifier({ numbering: { homeCountry: 'US', outsideLineCodes: ['9'], internalPatterns: ['_1XXX'] } });
  let cursor = 0;
  const uncached = opsPerSecond(() => {
    uncachedClassifier.classifyUncached(distinct[cursor++ % distinct.length]!);
  });

  const cachedClassifier = createClassifier({ numbering: { homeCountry: 'US', outsideLineCodes: ['9'], internalPatterns: ['_1XXX'] }, cacheSize: 10_000 });
  for (const number of repeated) cachedClassifier.classify(number);
  cursor = 0;
  const cached = opsPerSecond(() => {
    cachedClassifier.classify(repeated[cursor++ % repeated.length]!);
  });

  // 20 000 distinct numbers through a 10 000-entry cache: mostly misses plus eviction work.
  const churnClassifier = createClassifier({ numbering: { homeCountry: 'US' }, cacheSize: 10_000 });
  cursor = 0;
  const churn = opsPerSecond(() => {
    churnClassifier.classify(distinct[cursor++ % distinct.length]!);
  });

  const table = loadRateTable(DEFAULT_RATES_FILE);
  const priced = table.currency ?? 'USD';
  const withAssumption = new RateTable(table.rates, {
    currency: priced,
    unknownPrefix: { action: 'assume', rate: assumedRate('2.00', '60/60', '0', priced) },
  });
  const e164s = distinct.map((number) => uncachedClassifier.classify(number).e164).filter((e164): e164 is string => e164 !== undefined);
  cursor = 0;
  const lookups = opsPerSecond(() => {
    withAssumption.lookup(e164s[cursor++ % e164s.length]!);
  });
  const sampleRate = withAssumption.quote('+447624123456');
  const rate = sampleRate.kind === 'denied' ? undefined : sampleRate.rate;
  let seconds = 1;
  const costs = rate
    ? opsPerSecond(() => {
        withAssumption.cost(rate, seconds++ % 7200);
      })
    : { ops: Number.NaN };

  printSection('destination classification', [
    { name: 'classify, uncached (libphonenumber max)', value: uncached.ops, unit: 'numbers/s' },
    { name: 'classify, LRU cache, 1 000 repeated numbers', value: cached.ops, unit: 'numbers/s' },
    { name: 'classify, 20 000 distinct through a 10 000 LRU', value: churn.ops, unit: 'numbers/s' },
    { name: 'rate lookup (longest prefix)', value: lookups.ops, unit: 'lookups/s' },
    { name: 'call cost (integer micro-units)', value: costs.ops, unit: 'costs/s' },
    { name: 'rate table size', value: String(table.size), unit: 'prefixes' },
  ]);
}
