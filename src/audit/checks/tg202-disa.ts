import { finding, type AuditFinding, type Check } from './types.js';

/** DISA without a password, or with a short numeric one. */
export const TG202: Check = {
  id: 'TG202',
  name: 'disa-weak-password',
  severity: 'critical',
  title: 'DISA without a (strong) passcode',
  why: 'DISA gives the caller a dial tone in another context: whoever reaches it dials out on your trunks. With no-password — or a short numeric code tried by war-dialers — that is anyone who finds the number.',
  fix: 'Remove DISA, or give it a passcode file with long per-user codes (DISA(/etc/asterisk/disa.codes,…)) and a context that reaches only the destinations needed, behind Tollgate\'s lock check.',
  run(context) {
    const out: AuditFinding[] = [];
    for (const priority of context.dialplan.priorities()) {
      if (!/^disa$/i.test(priority.app)) continue;
      const code = (priority.args[0] ?? '').trim();
      const target = priority.args[1]?.split('@')[0] || 'disa';
      if (code === '' || /^no-?password$/i.test(code)) {
        out.push(finding(TG202, priority.at, `DISA(${priority.argText}) in [${priority.context}] ${priority.exten}: no passcode, callers get a dial tone in "${target}"`));
      } else if (/^\d+$/.test(code) && code.length < 8) {
        out.push(finding(TG202, priority.at, `DISA in [${priority.context}] ${priority.exten}: the passcode is ${code.length} digits, callers who guess it get a dial tone in "${target}"`, { severity: 'high' }));
      }
    }
    return out;
  },
};
