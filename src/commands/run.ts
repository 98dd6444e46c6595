/**
 * `tollgate run`: the agent. Connects to Asterisk, keeps the live call table and logs what
 * happens; stops cleanly on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { createLogger } from '../log.js';
import { createAgent } from '../main.js';
import { configFromOptions } from './common.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the agent against Asterisk (settings from --config and/or TOLLGATE_* environment variables)')
    .option('-c, --config <file>', 'configuration file (YAML); without it, environment variables and defaults are used')
    .option('--dry-run', 'simulate: report what would be done, hang up nothing')
    .action(async (options: { config?: string; dryRun?: boolean }) => {
      const { config, file, fromEnvironment } = configFromOptions(options);
      if (options.dryRun) config.mode = 'simulate';
      const logger = createLogger(config.log.level);
      logger.info({ config: file ?? '(none)', environment: fromEnvironment }, 'configuration loaded');
      const agent = createAgent({ config, logger });
      await agent.start();
      // SIGHUP reloads the policies (the last good set stays if the new one is invalid).
      const reload = (): void => void agent.policies.reload('SIGHUP');
      process.on('SIGHUP', reload);
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'stopping');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.off('SIGHUP', reload);
          agent.stop().then(resolve, resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
