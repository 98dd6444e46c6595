import { get } from '../conf/index.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** chan_sip `insecure=invite` / `port`: INVITEs without authentication, or from any port. */
export const TG105: Check = {
  id: 'TG105',
  name: 'sip-insecure',
  severity: 'high',
  title: 'chan_sip peer with insecure=invite/port',
  why: 'insecure=invite accepts INVITEs from the peer\'s host without a password; insecure=port matches any source port. A forged or relayed request from that address (or from a host sharing it) calls from the peer\'s context.',
  fix: "Remove `insecure=` and authenticate the provider; if it cannot authenticate, pin `host=` to its address, `deny=0.0.0.0/0.0.0.0` + `permit=` its address, and keep its context inbound-only.",
  run(context) {
    const out: AuditFinding[] = [];
    for (const endpoint of context.endpoints) {
      if (endpoint.tech !== 'SIP') continue;
      const insecure = get(endpoint.section, 'insecure');
      if (!insecure || !/invite|port|very|yes/i.test(insecure.value)) continue;
      const invite = /invite|very|yes/i.test(insecure.value);
      const breakout = invite ? context.breakout(endpoint.context) : undefined;
      out.push(finding(TG105, insecure.at, `peer "${endpoint.name}": insecure=${insecure.value}${invite ? ` — INVITEs from its host land in "${endpoint.context}" without a password${breakout ? `, which reaches a trunk (TG201): ${breakout}` : ''}` : ' — requests from any source port of its host are taken for it'}`, { severity: invite ? 'high' : 'medium' }));
    }
    return out;
  },
};
