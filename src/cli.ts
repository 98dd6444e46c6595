#!/usr/bin/env node
/** `tollgate` command line: one file per command under src/commands/, registered here. */
import { Command } from 'commander';
import { registerClassifyCommand } from './commands/classify.js';

const program = new Command()
  .name('tollgate')
  .description('Real-time toll-fraud guard for Asterisk PBXs')
  .showHelpAfterError();

const commands: ((program: Command) => void)[] = [registerClassifyCommand];
for (const register of commands) register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? `tollgate: ${error.message}` : error);
  process.exitCode = 1;
});
