import { get, isFalse } from '../conf/index.js';
import { finding, type Check } from './types.js';

/** chan_sip `alwaysauthreject=no`: wrong user names get a different answer than wrong passwords. */
export const TG303: Check = {
  id: 'TG303',
  name: 'sip-alwaysauthreject-off',
  severity: 'medium',
  title: 'chan_sip tells scanners which user names exist (alwaysauthreject=no)',
  why: 'With alwaysauthreject=no, chan_sip answers unknown user names differently from wrong passwords, so scanners learn every valid extension and then brute-force only those.',
  fix: 'Set `alwaysauthreject=yes` in [general] of sip.conf (the default since Asterisk 1.8).',
  run(context) {
    const file = context.config.files.get('sip.conf');
    const general = file?.sections.find((section) => section.name.toLowerCase() === 'general');
    const value = general ? get(general, 'alwaysauthreject') : undefined;
    return value && isFalse(value.value) ? [finding(TG303, value.at, `alwaysauthreject=${value.value}`)] : [];
  },
};
