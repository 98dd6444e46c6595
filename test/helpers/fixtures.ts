import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const fixturesRoot = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** Absolute path of a file under test/fixtures/. */
export function fixturePath(...parts: string[]): string {
  return join(fixturesRoot, ...parts);
}
