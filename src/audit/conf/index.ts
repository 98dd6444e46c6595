/** Reads the configuration files the audit looks at, from a directory or over AMI. */
import fs from 'node:fs';
import path from 'node:path';
import { MODULE_OF, moduleState } from './modules.js';
import { readConfFile } from './parse.js';
import { formatLocation, type ConfFile } from './types.js';

export * from './types.js';
export { readConfFile, parseConfText, expandInclude } from './parse.js';
export { confFromGetConfig, readConfOverAmi, type GetConfigClient } from './ami.js';
export { MODULE_OF, moduleState, type ModuleState } from './modules.js';

/** The files `tollgate audit` reads, in report order. */
export const AUDITED_FILES = ['pjsip.conf', 'pjsip_wizard.conf', 'sip.conf', 'iax.conf', 'extensions.conf', 'manager.conf', 'http.conf', 'ari.conf'] as const;
/** Dialplans in other languages: noticed, not analysed. */
export const UNANALYSED_DIALPLANS = ['extensions.ael', 'extensions.lua'] as const;

export interface AsteriskConfig {
  /** The --etc directory, or `ami:` for the running configuration. */
  origin: string;
  source: 'files' | 'ami';
  files: Map<string, ConfFile>;
  /** AEL/Lua dialplan files present with content (path, first line with content). */
  unanalysed: { file: string; line: number }[];
  /** Files present but not audited because modules.conf does not load their module. */
  inactive?: { file: string; reason: string }[];
}

/**
 * Drops the files whose module modules.conf does not load (package samples left in place),
 * saying why. `modules` is modules.conf as read (undefined: everything is autoloaded).
 */
export function dropInactive(config: AsteriskConfig, modules: ConfFile | undefined): AsteriskConfig {
  const inactive: { file: string; reason: string }[] = [];
  for (const [name, file] of [...config.files]) {
    const module = MODULE_OF[name];
    if (!module) continue;
    const state = moduleState(modules, module);
    if (state.loaded) continue;
    config.files.delete(name);
    inactive.push({ file: file.path, reason: `${module} is not loaded (${state.reason}${state.at ? `, ${formatLocation(state.at)}` : ''})` });
  }
  config.unanalysed = config.unanalysed.filter((entry) => {
    const name = entry.file.split('/').pop()!;
    const state = moduleState(modules, MODULE_OF[name]!);
    if (!state.loaded) inactive.push({ file: entry.file, reason: `${MODULE_OF[name]} is not loaded (${state.reason}${state.at ? `, ${formatLocation(state.at)}` : ''})` });
    return state.loaded;
  });
  config.inactive = inactive;
  return config;
}

export class EtcError extends Error {}

/** Reads every audited file present in `etcDir`. Throws EtcError when the directory cannot be read. */
export function loadEtc(etcDir: string): AsteriskConfig {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(etcDir);
  } catch (error) {
    throw new EtcError(`cannot read ${etcDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (!stat.isDirectory()) throw new EtcError(`${etcDir} is not a directory`);
  try {
    fs.readdirSync(etcDir);
  } catch (error) {
    throw new EtcError(`cannot list ${etcDir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const files = new Map<string, ConfFile>();
  for (const name of AUDITED_FILES) {
    const file = readConfFile(etcDir, name);
    if (file) files.set(name, file);
  }
  const unanalysed: { file: string; line: number }[] = [];
  for (const name of UNANALYSED_DIALPLANS) {
    const full = path.join(etcDir, name);
    if (!fs.existsSync(full)) continue;
    const lines = fs.readFileSync(full, 'utf8').split(/\r?\n/);
    const comment = name.endsWith('.lua') ? /^\s*(--|$)/ : /^\s*(\/\/|$)/;
    const index = lines.findIndex((line) => !comment.test(line));
    if (index >= 0) unanalysed.push({ file: full, line: index + 1 });
  }
  if (files.size === 0 && unanalysed.length === 0) throw new EtcError(`${etcDir} holds none of ${AUDITED_FILES.join(', ')}: is it Asterisk's configuration directory?`);
  const modules = readConfFile(etcDir, 'modules.conf');
  const config = dropInactive({ origin: etcDir, source: 'files', files, unanalysed }, modules);
  if (modules) config.files.set('modules.conf', modules); // read for what it loads; no check looks into it
  return config;
}
