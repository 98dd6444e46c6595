/** The version of this Tollgate, read once from the package's own package.json (source tree or installed package). */
import { readFileSync } from 'node:fs';
import { packagePath } from './paths.js';

export const VERSION: string = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
