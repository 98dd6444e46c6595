/** Shared printing for `npm run bench`: every section prints aligned `name  value unit` rows. */
export interface BenchRow {
  name: string;
  value: number | string;
  unit?: string;
}

export function printSection(title: string, rows: BenchRow[]): void {
  const width = Math.max(...rows.map((row) => row.name.length));
  console.log(`\n## ${title}`);
  for (const row of rows) {
    const value = typeof row.value === 'number' ? formatNumber(row.value) : row.value;
    console.log(`  ${row.name.padEnd(width)}  ${value}${row.unit ? ` ${row.unit}` : ''}`);
  }
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** Runs `fn` repeatedly for at least `minMs` and returns iterations per second. */
export function opsPerSecond(fn: () => void, minMs = 1000): { ops: number; iterations: number; ms: number } {
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    fn();
    iterations++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { ops: (iterations * 1000) / elapsed, iterations, ms: elapsed };
}

/** Percentile (0–100) of an unsorted sample, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function memoryRows(): BenchRow[] {
  const usage = process.memoryUsage();
  return [
    { name: 'rss', value: usage.rss / 1048576, unit: 'MiB' },
    { name: 'heap used', value: usage.heapUsed / 1048576, unit: 'MiB' },
  ];
}
