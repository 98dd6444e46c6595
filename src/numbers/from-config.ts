/** The classifier the agent configuration describes: its numbering plan and its risk lists. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TollgateConfig } from '../config/schema.js';
import { packagePath } from '../paths.js';
import { createClassifier, type Classifier } from './index.js';
import { loadRiskLists } from './risk-lists.js';

/** The classifier for a configuration: its numbering plan and the risk lists next to its policies. */
export function classifierFor(config: TollgateConfig): Classifier {
  return createClassifier({ numbering: config.numbering, riskLists: loadRiskLists(riskListDir(config)) });
}

/** `lists/` under the configured policy directory when it has one, else the shipped lists. */
export function riskListDir(config: TollgateConfig): string {
  const own = join(config.policies.dir, 'lists');
  return existsSync(own) ? own : packagePath('policies', 'lists');
}
