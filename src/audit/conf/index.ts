/** Reads the configuration files the audit looks at, from a directory or over AMI. */
import fs from 'node:fs';
import path from 'node:path';
import { readConfFile } from './parse.js';
import type { ConfFile } from './types.js';

export * from './types.js';
export { readConfFile, parseConfText, expandInclude } from './parse.js';
export { confFromGetConfig, readConfOverAmi, type GetConfigClient } from './ami.js';

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
  return { origin: etcDir, source: 'files', files, unanalysed };
}
