#!/usr/bin/env node
/** `tollgate` command line: one file per command under src/commands/, registered here. */
import { Command } from 'commander';
import { registerAddressCommands } from './commands/addresses.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerCheckCommand } from './commands/check.js';
import { registerClassifyCommand } from './commands/classify.js';
import { registerCorpusCommand } from './commands/corpus.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDeriveCommand } from './commands/derive.js';
import { registerLockCommands } from './commands/locks.js';
import { registerProfileCommand } from './commands/profile.js';
import { registerReplayCommand } from './commands/replay.js';
import { registerRunCommand } from './commands/run.js';

const program = new Command()
  .name('tollgate')
  .description('Real-time toll-fraud guard for Asterisk PBXs')
  .showHelpAfterError();

const commands: ((program: Command) => void)[] = [registerRunCommand, registerDemoCommand, registerReplayCommand, registerCheckCommand, registerLockCommands, registerAddressCommands, registerProfileCommand, registerClassifyCommand, registerDeriveCommand, registerCorpusCommand, registerAuditCommand];
for (const register of commands) register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? `tollgate: ${error.message}` : error);
  process.exitCode = 1;
});
