import { finding, type Check } from './types.js';

/** IAX2 users (type=user/friend) with no secret: the guest account. */
export const TG106: Check = {
  id: 'TG106',
  name: 'iax-user-without-secret',
  severity: 'high',
  title: 'IAX2 user without a secret (guest)',
  why: 'An IAX2 user with no secret (the sample [guest]) takes calls from anyone on the Internet into its context.',
  fix: 'Delete the guest user or give it `secret=` (long, random) — or `auth=rsa` with `inkeys=`; keep guests in a context that only answers your own numbers.',
  run(context) {
    return context.endpoints
      .filter((endpoint) => endpoint.tech === 'IAX2' && !endpoint.authenticated)
      .map((endpoint) => {
        const breakout = context.breakout(endpoint.context);
        return finding(TG106, endpoint.section.at, `IAX2 user "${endpoint.name}" has no secret: any caller lands in context "${endpoint.context}"${breakout ? `, which reaches a trunk (TG201): ${breakout}` : ' (no trunk Dial() reachable from there today)'}`, { severity: breakout ? 'high' : 'medium' });
      });
  },
};
