// Live tier: start Asterisk (project configuration, fresh state) and the sipp carrier once for every
// test file. scripts/live-env.sh does the work; it is idempotent and quick once its cache is built.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export default function globalSetup() {
  if (!existsSync(join(root, 'dist', 'cli.js'))) {
    throw new Error('dist/cli.js is missing: run `npm run build` before `npm run test:live` (the live tests run the built agent, as an admin would)');
  }
  process.env.TOLLGATE_LIVE_RUN ??= '/tmp/tollgate-live';
  execFileSync(join(root, 'scripts', 'live-env.sh'), ['start'], { stdio: ['ignore', 'inherit', 'inherit'], env: process.env, timeout: 20 * 60_000 });
}
