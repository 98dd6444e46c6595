import { get, sectionsNamed } from '../conf/index.js';
import { finding, type AuditFinding, type Check } from './types.js';

const GROUP_LIMIT = /GROUP_COUNT\s*\(/i;

/** Phones with no cap on simultaneous calls. */
export const TG501: Check = {
  id: 'TG501',
  name: 'no-call-limit',
  severity: 'low',
  title: 'No limit on simultaneous calls per endpoint',
  why: 'A hijacked phone is used for dozens of parallel calls to premium numbers; a per-endpoint cap bounds the damage per minute until Tollgate (or you) stops it.',
  fix: 'PJSIP: set `device_state_busy_at=` (e.g. 2) on the endpoint (or its template) and enforce a cap in the outbound route: `Set(GROUP(outbound)=${CHANNEL(endpoint)})` then `GotoIf($[${GROUP_COUNT(${CHANNEL(endpoint)}@outbound)} > 2]?busy)`; chan_sip: `call-limit=2`.',
  run(context) {
    const out: AuditFinding[] = [];
    const sipGeneral = sectionsNamed(context.config.files.get('sip.conf'), 'general')[0];
    for (const endpoint of context.endpoints) {
      if (!endpoint.authenticated || endpoint.trunk || endpoint.tech === 'IAX2') continue;
      const limit = endpoint.tech === 'PJSIP' ? (get(endpoint.section, 'device_state_busy_at') ?? get(endpoint.section, 'endpoint/device_state_busy_at')) : (get(endpoint.section, 'call-limit') ?? (sipGeneral ? get(sipGeneral, 'call-limit') : undefined));
      if (limit && Number(limit.value) > 0) continue;
      const reach = context.reach(endpoint.context);
      const grouped = reach.extensions.some(({ context: ctx, exten }) => (ctx.extensions.get(exten) ?? []).some((priority) => GROUP_LIMIT.test(priority.raw)));
      if (grouped) continue;
      out.push(finding(TG501, endpoint.section.at, `${endpoint.tech} ${endpoint.name}: no ${endpoint.tech === 'PJSIP' ? 'device_state_busy_at' : 'call-limit'} and no GROUP_COUNT() limit in the dialplan its context "${endpoint.context}" reaches`));
    }
    return out;
  },
};
