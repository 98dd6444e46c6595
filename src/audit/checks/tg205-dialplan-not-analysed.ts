import { finding, type Check } from './types.js';

/** extensions.ael / extensions.lua: dialplans this audit cannot read. */
export const TG205: Check = {
  id: 'TG205',
  name: 'dialplan-not-analysed',
  severity: 'info',
  title: 'Dialplan not analysed (AEL or Lua)',
  why: 'Contexts written in AEL or Lua may route inbound calls to trunks too; this audit reads only extensions.conf, so a breakout there would go unreported.',
  fix: 'Review that file by hand for the same problems (inbound contexts reaching Dial() to a trunk, catch-all patterns, DISA), or delete it if pbx_ael/pbx_lua is not loaded (the package samples are often left in place).',
  run(context) {
    return context.config.unanalysed.map((file) => finding(TG205, { file: file.file, line: file.line }, `${file.file} holds a dialplan in ${file.file.endsWith('.lua') ? 'Lua (pbx_lua)' : 'AEL (pbx_ael)'}: not analysed`));
  },
};
