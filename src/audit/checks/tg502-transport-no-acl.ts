import { get } from '../conf/index.js';
import { isAnyAddress } from '../net.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** PJSIP transports on every interface with no PJSIP ACL at all. */
export const TG502: Check = {
  id: 'TG502',
  name: 'transport-without-acl',
  severity: 'medium',
  title: 'PJSIP transport on all interfaces with no ACL',
  why: 'SIP on every interface with no address restriction lets every scanner on the Internet try user names and passwords; an ACL (or firewall) that admits only your phones\' and provider\'s networks stops them before authentication.',
  fix: 'Bind the transport to the address that needs it, and add a `type=acl` section in pjsip.conf (`deny=0.0.0.0/0.0.0.0`, `permit=` your LAN/VPN and the provider) — or an equivalent host firewall, which this audit cannot see.',
  run(context) {
    const file = context.config.files.get('pjsip.conf');
    if (!file) return [];
    const hasAcl = file.sections.some((section) => !section.isTemplate && get(section, 'type')?.value.toLowerCase() === 'acl');
    if (hasAcl) return [];
    const out: AuditFinding[] = [];
    for (const section of file.sections) {
      if (section.isTemplate || get(section, 'type')?.value.toLowerCase() !== 'transport') continue;
      const bind = get(section, 'bind');
      if (!bind || !isAnyAddress(bind.value)) continue;
      out.push(finding(TG502, bind.at, `transport "${section.name}" binds ${bind.value} and pjsip.conf has no type=acl section`));
    }
    return out;
  },
};
