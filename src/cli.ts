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
import { registerInitCommand } from './commands/init.js';
import { registerTestMailCommand } from './commands/test-mail.js';
import { VERSION } from './version.js';

const program = new Command()
  .name('tollgate')
  .description('Real-time toll-fraud guard for Asterisk PBXs')
  .version(VERSION, '-V, --version', 'print the version')
  .showHelpAfterError();

const commands: ((program: Command) => void)[] = [registerRunCommand, registerDemoCommand, registerInitCommand, registerCheckCommand, registerTestMailCommand, registerReplayCommand, registerClassifyCommand, registerLockCommands, registerAddressCommands, registerProfileCommand, registerDeriveCommand, registerCorpusCommand, registerAuditCommand];
for (const register of commands) register(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(error instanceof Error ? `tollgate: ${error.message}` : error);
  process.exitCode = 1;
});
