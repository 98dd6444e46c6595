import { get } from '../conf/index.js';
import { finding, type Check } from './types.js';

/** PJSIP endpoints with no inbound `auth` and no `identify`: taken for whoever names them. */
export const TG101: Check = {
  id: 'TG101',
  name: 'endpoint-without-auth',
  severity: 'high',
  title: 'PJSIP endpoint accepts calls without a password',
  why: 'With no `auth` and no `identify`, PJSIP takes any request whose From user names the endpoint for that endpoint (identification by user name): a scanner that guesses the name calls from its context without a password.',
  fix: 'Give the endpoint an inbound `auth=` (type=auth, long random password); for a provider trunk add a type=identify section with `match=` its addresses and put `ip` first in `endpoint_identifier_order`.',
  run(context) {
    const pjsip = context.config.files.get('pjsip.conf');
    const global = pjsip?.sections.find((section) => !section.isTemplate && get(section, 'type')?.value.toLowerCase() === 'global');
    const order = global ? get(global, 'endpoint_identifier_order')?.value : undefined;
    if (order !== undefined && !/\b(username|auth_username)\b/i.test(order)) return []; // no identification by name
    return context.endpoints
      .filter((endpoint) => endpoint.tech === 'PJSIP' && !endpoint.authenticated && endpoint.identifies.length === 0 && endpoint.name.toLowerCase() !== 'anonymous')
      .map((endpoint) => {
        const breakout = context.breakout(endpoint.context);
        return finding(
          TG101,
          endpoint.section.at,
          `endpoint "${endpoint.name}" has no inbound auth and no identify: anyone naming it lands in context "${endpoint.context}"${breakout ? `, which reaches a trunk (TG201): ${breakout}` : ' (no trunk Dial() reachable from there today)'}`,
          { severity: breakout ? 'high' : 'medium' },
        );
      });
  },
};
