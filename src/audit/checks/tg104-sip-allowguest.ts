import { sipGuest } from '../model.js';
import { finding, type Check } from './types.js';

/** chan_sip `allowguest=yes` (its default) admits unauthenticated calls into [general] context. */
export const TG104: Check = {
  id: 'TG104',
  name: 'sip-allowguest',
  severity: 'high',
  title: 'chan_sip accepts guest calls (allowguest)',
  why: 'With allowguest=yes — chan_sip\'s default — calls from unknown sources are accepted without a password into the [general] context; if that context reaches a trunk, anyone can place calls on your bill.',
  fix: 'Set `allowguest=no` in [general] of sip.conf (and `context=` there to a context with nothing but a Hangup()).',
  run(context) {
    const guest = sipGuest(context.config);
    if (!guest) return [];
    const breakout = context.breakout(guest.context);
    return [finding(TG104, guest.at, `${guest.explicit ? 'allowguest=yes' : 'allowguest is not set (chan_sip default: yes)'}: unauthenticated calls land in context "${guest.context}"${breakout ? `, which reaches a trunk (TG201): ${breakout}` : ''}`, { severity: breakout ? 'high' : 'medium' })];
  },
};
