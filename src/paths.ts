/** Files shipped with the package (policies, lists, example config, demo transcripts), found from here. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: one level above src/ (tests) or dist/ (installed). */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function packagePath(...parts: string[]): string {
  return resolve(PACKAGE_ROOT, ...parts);
}
