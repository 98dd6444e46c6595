import { getAll } from '../conf/index.js';
import { amiUsers } from './ami-users.js';
import { finding, type AuditFinding, type Check } from './types.js';

const DANGEROUS: Record<string, string> = {
  all: 'every action, including Originate and Command',
  originate: 'Originate: calls to any number',
  command: 'Command: any CLI command, including `channel originate`',
  system: 'system actions (module load/unload, restart, DBPut/DBDel)',
};

/** AMI `write` classes that place calls or run anything. */
export const TG404: Check = {
  id: 'TG404',
  name: 'ami-write-rights',
  severity: 'high',
  title: 'AMI user with write rights beyond need',
  why: 'write=originate, command or all lets anyone holding the AMI secret place calls to any destination (Originate, `channel originate`), so the AMI secret becomes as valuable as a trunk password; write=system can load and unload modules and restart Asterisk.',
  fix: 'Give each AMI user only the write classes its program uses (Tollgate: write=call,reporting,system); drop all, originate and command unless a program really originates calls, and then restrict that user to 127.0.0.1.',
  run(context) {
    const out: AuditFinding[] = [];
    for (const user of amiUsers(context.config)) {
      for (const write of getAll(user, 'write')) {
        const classes = write.value.split(',').map((item) => item.trim().toLowerCase());
        const high = classes.filter((item) => item === 'all' || item === 'originate' || item === 'command');
        if (high.length > 0) {
          out.push(finding(TG404, write.at, `AMI user "${user.name}": write=${write.value} grants ${high.map((item) => DANGEROUS[item]).join('; ')}`));
        } else if (classes.includes('system')) {
          out.push(finding(TG404, write.at, `AMI user "${user.name}": write includes system (${DANGEROUS.system}); keep it only if a program needs it (Tollgate does, for its AstDB locks)`, { severity: 'low', fix: 'Keep `system` only for a program that needs it (Tollgate: DBPut/DBDel for its AstDB locks) and restrict that user with deny=0.0.0.0/0.0.0.0 + permit=127.0.0.1/255.255.255.255.' }));
        }
      }
    }
    return out;
  },
};
