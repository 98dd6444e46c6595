import { get, isTrue } from '../conf/index.js';
import { finding, type AuditFinding, type Check } from './types.js';

export const TG503: Check = {
  id: 'TG503',
  name: 'unauthenticated-options',
  severity: 'low',
  title: 'PJSIP answers OPTIONS without authentication',
  why: 'allow_unauthenticated_options=yes answers OPTIONS to endpoints without a challenge, which helps scanners confirm endpoint names before they guess passwords.',
  fix: 'Remove `allow_unauthenticated_options` from the endpoint (or set it to no); qualify from the PBX side instead.',
  run(context) {
    const file = context.config.files.get('pjsip.conf');
    if (!file) return [];
    const out: AuditFinding[] = [];
    for (const section of file.sections) {
      if (section.isTemplate) continue;
      const value = get(section, 'allow_unauthenticated_options');
      if (value && isTrue(value.value)) out.push(finding(TG503, value.at, `[${section.name}] allow_unauthenticated_options=${value.value}`));
    }
    return out;
  },
};
