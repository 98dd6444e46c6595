import { isAnyAddress, prefixLength } from '../net.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** identify `match=` covering every address, on an endpoint without inbound auth. */
export const TG103: Check = {
  id: 'TG103',
  name: 'identify-matches-any-address',
  severity: 'high',
  title: 'PJSIP identify matches every address',
  why: 'An identify with match=0.0.0.0/0 (or ::/0) makes every request from anywhere this endpoint; without inbound auth, the whole Internet calls from its context.',
  fix: "Set `match=` to the provider's signalling addresses only (one per line, exact hosts or their published ranges).",
  run(context) {
    const out: AuditFinding[] = [];
    for (const endpoint of context.endpoints) {
      if (endpoint.tech !== 'PJSIP' || endpoint.authenticated) continue;
      for (const match of endpoint.identifies) {
        if (match.key.toLowerCase() !== 'match' && match.key.toLowerCase() !== 'remote_hosts') continue;
        const wide = match.value.split(',').map((item) => item.trim()).find((item) => isAnyAddress(item.split('/')[0]!) && (prefixLength(item) ?? 0) === 0);
        if (!wide) continue;
        const breakout = context.breakout(endpoint.context);
        out.push(finding(TG103, match.at, `identify for endpoint "${endpoint.name}" matches ${wide} and the endpoint has no inbound auth: any caller lands in "${endpoint.context}"${breakout ? `, which reaches a trunk (TG201): ${breakout}` : ''}`));
      }
    }
    return out;
  },
};
