/**
 * `npm run bench`: prints throughput, latency and memory figures. Not a test: nothing here fails
 * on a slow machine; the figures are for people to read and compare.
 */
import { benchClassify } from './classify.js';
import { benchCodec } from './codec.js';
import { benchEngine } from './engine.js';
import { benchFlood } from './flood.js';
import { benchGate } from './gate.js';
import { memoryRows, printSection } from './report.js';

interface BenchSection {
  title: string;
  run: () => Promise<void>;
}

const sections: BenchSection[] = [
  { title: 'AMI codec', run: benchCodec },
  { title: 'destination classification', run: benchClassify },
  { title: 'policy engine', run: benchEngine },
  { title: 'pre-dial gate', run: benchGate },
  { title: 'agent flood', run: benchFlood },
];

async function main(): Promise<void> {
  const only = process.argv[2];
  // A part run in a child process of the bench (agent flood) prints only its own section.
  const child = process.env.BENCH_QUIET === '1';
  if (!child) console.log(`Tollgate benchmarks — node ${process.version}, ${process.platform}/${process.arch}`);
  for (const section of sections) {
    if (only && !section.title.toLowerCase().includes(only.toLowerCase())) continue;
    await section.run();
  }
  if (!child) printSection('process memory at the end', memoryRows());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
