import { get, isTrue } from '../conf/index.js';
import { isAnyAddress } from '../net.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** AMI listening on every interface. */
export const TG401: Check = {
  id: 'TG401',
  name: 'ami-on-all-interfaces',
  severity: 'high',
  title: 'AMI listens on all interfaces',
  why: 'The Manager interface can originate calls and run CLI commands; reachable from the network, it is one guessed secret away from calls to any number (Originate) — and it is scanned for on port 5038.',
  fix: 'Set `bindaddr=127.0.0.1` in [general] of manager.conf (or a management-only address), and reach it from elsewhere through an SSH tunnel or TLS with a firewall rule.',
  run(context) {
    const file = context.config.files.get('manager.conf');
    const general = file?.sections.find((section) => section.name.toLowerCase() === 'general');
    if (!general || !isTrue(get(general, 'enabled')?.value)) return [];
    const out: AuditFinding[] = [];
    const bind = get(general, 'bindaddr');
    if (!bind || isAnyAddress(bind.value)) out.push(finding(TG401, bind?.at ?? general.at, bind ? `AMI bindaddr=${bind.value}: every interface` : 'AMI is enabled with no bindaddr: it listens on 0.0.0.0 (every interface)'));
    const tlsBind = get(general, 'tlsbindaddr');
    if (isTrue(get(general, 'tlsenable')?.value) && tlsBind && isAnyAddress(tlsBind.value)) {
      out.push(finding(TG401, tlsBind.at, `AMI over TLS on every interface (tlsbindaddr=${tlsBind.value}): encrypted, but every host may still try the secrets`, { severity: 'medium' }));
    }
    return out;
  },
};
