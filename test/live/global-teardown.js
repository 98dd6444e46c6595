// Stops Asterisk and the carrier; TOLLGATE_LIVE_KEEP=1 leaves them running to look around
// (scripts/live-env.sh rx 'core show channels', logs in $TOLLGATE_LIVE_RUN/log).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function globalTeardown() {
  if (process.env.TOLLGATE_LIVE_KEEP === '1') return;
  execFileSync(join(root, 'scripts', 'live-env.sh'), ['stop'], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env, timeout: 60_000 });
}
