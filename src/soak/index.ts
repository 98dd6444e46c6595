/**
 * `npm run soak`: a few minutes of calls, a scanner flood and injected faults against the agent as
 * a child process, then a fuzz stage; prints the table and exits non-zero when a zero row does not
 * hold. SOAK_MINUTES (default 3) sets the length of the load phase; SOAK_FUZZ_FRAMES the fuzz.
 */
import { cpus } from 'node:os';
import { failedChecks, formatReport, runSoak } from './run.js';

async function main(): Promise<void> {
  const minutes = Number(process.env.SOAK_MINUTES ?? 3);
  if (!(minutes > 0)) throw new Error(`SOAK_MINUTES must be a positive number of minutes, got "${process.env.SOAK_MINUTES}"`);
  const fuzzFrames = Number(process.env.SOAK_FUZZ_FRAMES ?? 100_000);
  console.log(`Tollgate soak — node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores; ${minutes} min of load, ${fuzzFrames} fuzz frames`);
  const started = Date.now();
  const report = await runSoak({ durationMs: minutes * 60_000, fuzzFrames, log: (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`) });
  console.log('');
  console.log(formatReport(report));
  const failed = failedChecks(report);
  console.log('');
  console.log(failed.length === 0 ? 'soak passed: every zero row holds' : `soak FAILED: ${failed.join('; ')}`);
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
