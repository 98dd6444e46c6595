/**
 * modules.conf decides which files matter: a chan_sip or IAX2 sample left in /etc/asterisk by the
 * package is inert when its module is not loaded (`autoload=no` without `load =>`, or `noload =>`).
 */
import { get, type ConfFile, type ConfLocation } from './types.js';

/** The module that reads each audited file; files not listed are read by the core. */
export const MODULE_OF: Record<string, string> = {
  'pjsip.conf': 'res_pjsip.so',
  'pjsip_wizard.conf': 'res_pjsip_config_wizard.so',
  'sip.conf': 'chan_sip.so',
  'iax.conf': 'chan_iax2.so',
  'extensions.conf': 'pbx_config.so',
  'extensions.ael': 'pbx_ael.so',
  'extensions.lua': 'pbx_lua.so',
  'ari.conf': 'res_ari.so',
};

export interface ModuleState {
  loaded: boolean;
  /** Why, with the modules.conf line that decides it. */
  reason: string;
  at?: ConfLocation;
}

const bare = (name: string): string => name.trim().toLowerCase().replace(/\.so$/, '');

/** Whether modules.conf loads `module`; without modules.conf Asterisk autoloads everything. */
export function moduleState(modules: ConfFile | undefined, module: string): ModuleState {
  const section = modules?.sections.find((candidate) => candidate.name.toLowerCase() === 'modules');
  if (!section) return { loaded: true, reason: 'no [modules] in modules.conf: everything is autoloaded' };
  const wanted = bare(module);
  const lines = section.values.filter((value) => bare(value.value) === wanted);
  const noload = lines.find((value) => value.key.toLowerCase() === 'noload');
  if (noload) return { loaded: false, reason: `noload => ${noload.value}`, at: noload.at };
  const load = lines.find((value) => /^(load|require|preload|preload-require)$/i.test(value.key));
  if (load) return { loaded: true, reason: `${load.key} => ${load.value}`, at: load.at };
  const autoload = get(section, 'autoload');
  if (autoload && /^(no|false|n|f|0|off)$/i.test(autoload.value.trim())) return { loaded: false, reason: `autoload=${autoload.value} and no load => ${module}`, at: autoload.at };
  return { loaded: true, reason: 'autoloaded' };
}
