import { get, getAll } from '../conf/index.js';
import { isLoopback, prefixLength } from '../net.js';
import { amiUsers } from './ami-users.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** AMI users reachable from more addresses than they need. */
export const TG402: Check = {
  id: 'TG402',
  name: 'ami-user-permit-too-wide',
  severity: 'high',
  title: 'AMI user accepted from too many addresses',
  why: 'Without `deny`, an AMI user\'s `permit` restricts nothing; a wide permit lets every host in that range try the secret. A logged-in AMI user with write rights can place calls.',
  fix: 'Per AMI user: `deny=0.0.0.0/0.0.0.0` first, then `permit=` only the hosts that connect (e.g. `permit=127.0.0.1/255.255.255.255`), or a named `acl=`.',
  run(context) {
    const out: AuditFinding[] = [];
    // AMI bound to loopback: the ACL matters less until someone changes bindaddr
    const general = context.config.files.get('manager.conf')?.sections.find((section) => section.name.toLowerCase() === 'general');
    const bind = general ? get(general, 'bindaddr') : undefined;
    const local = bind !== undefined && isLoopback(bind.value);
    const grade = (severity: 'high' | 'medium'): { severity: 'high' | 'medium' | 'low' } => ({ severity: local ? 'low' : severity });
    const note = local ? ` (AMI listens on ${bind!.value} only, so today only hosts there can try)` : '';
    for (const user of amiUsers(context.config)) {
      if (get(user, 'acl')) continue;
      const denies = getAll(user, 'deny');
      const permits = getAll(user, 'permit');
      if (denies.length === 0) {
        out.push(finding(TG402, permits[0]?.at ?? user.at, `AMI user "${user.name}" has no deny=: it is accepted from every address${permits.length > 0 ? ' (permit= alone restricts nothing)' : ''}${note}`, grade('high')));
        continue;
      }
      for (const permit of permits) {
        const bits = prefixLength(permit.value);
        if (bits === undefined) continue;
        const v6 = permit.value.includes(':');
        if (bits === 0) out.push(finding(TG402, permit.at, `AMI user "${user.name}": permit=${permit.value} is every address${note}`, grade('high')));
        else if (bits < (v6 ? 64 : 24)) out.push(finding(TG402, permit.at, `AMI user "${user.name}": permit=${permit.value} admits a whole /${bits} network${note}`, grade('medium')));
      }
    }
    return out;
  },
};
