import { get } from '../conf/index.js';
import { maskSecret, secretWeaknesses } from '../secrets.js';
import { finding, type AuditFinding, type Check } from './types.js';

export const TG412: Check = {
  id: 'TG412',
  name: 'ari-weak-password',
  severity: 'high',
  title: 'Guessable ARI password',
  why: 'An ARI user can originate channels and control calls; a guessed ARI password places calls to any number.',
  fix: 'Use a random password of at least 16 characters, stored with `password_format=crypt` (`mkpasswd -m sha-512`), and bind HTTP to 127.0.0.1.',
  run(context) {
    const file = context.config.files.get('ari.conf');
    if (!file) return [];
    const out: AuditFinding[] = [];
    for (const user of file.sections) {
      if (user.isTemplate || get(user, 'type')?.value.toLowerCase() !== 'user') continue;
      const password = get(user, 'password');
      if (!password || get(user, 'password_format')?.value.toLowerCase() === 'crypt') continue;
      const reasons = secretWeaknesses(password.value, [user.name]);
      if (reasons.length > 0) out.push(finding(TG412, password.at, `ARI user "${user.name}": password ${maskSecret(password.value)} is weak: ${reasons.join('; ')}`));
    }
    return out;
  },
};
