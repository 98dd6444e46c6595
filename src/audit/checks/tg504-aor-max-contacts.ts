import { get } from '../conf/index.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** AORs that let a second device register beside the phone, silently. */
export const TG504: Check = {
  id: 'TG504',
  name: 'aor-extra-contacts',
  severity: 'low',
  title: 'AOR accepts extra registrations beside the phone',
  why: 'With max_contacts above 1, a stolen password registers the thief\'s device next to the real phone (remove_existing only evicts the oldest once the limit is reached): nothing stops working, so nobody notices while calls are placed from it.',
  fix: 'Set `max_contacts=1` with `remove_existing=yes` on phone AORs: a second registration then replaces the phone\'s, and its owner notices.',
  run(context) {
    // one finding per max_contacts line (a template line covers every AOR that inherits it)
    const byLine = new Map<string, { at: AuditFinding['at']; value: string; aors: string[] }>();
    const sections = [
      ...(context.config.files.get('pjsip.conf')?.sections ?? []).filter((section) => get(section, 'type')?.value.toLowerCase() === 'aor').map((section) => ({ section, key: 'max_contacts' })),
      ...(context.config.files.get('pjsip_wizard.conf')?.sections ?? []).filter((section) => get(section, 'type')?.value.toLowerCase() === 'wizard').map((section) => ({ section, key: 'aor/max_contacts' })),
    ];
    for (const { section, key: option } of sections) {
      if (section.isTemplate) continue;
      const max = get(section, option);
      if (!max || !(Number(max.value) > 1)) continue;
      const key = `${max.at.file}:${max.at.amiCategory ?? ''}:${max.at.line}`;
      const entry = byLine.get(key) ?? { at: max.at, value: max.value, aors: [] };
      entry.aors.push(section.name);
      byLine.set(key, entry);
    }
    return [...byLine.values()].map((entry) => finding(TG504, entry.at, `max_contacts=${entry.value} for aor${entry.aors.length > 1 ? 's' : ''} ${entry.aors.map((name) => `"${name}"`).join(', ')}: up to ${entry.value} devices may register with one password`));
  },
};
