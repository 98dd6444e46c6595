import { get } from '../conf/index.js';
import { maskSecret, secretWeaknesses } from '../secrets.js';
import { amiUsers } from './ami-users.js';
import { finding, type AuditFinding, type Check } from './types.js';

export const TG403: Check = {
  id: 'TG403',
  name: 'ami-weak-secret',
  severity: 'high',
  title: 'Guessable AMI secret',
  why: 'AMI logins are brute-forced like SIP passwords; an AMI user that may originate (or run commands) places calls to any number once its secret is guessed.',
  fix: 'Give every AMI user a random secret of at least 16 characters (e.g. `openssl rand -base64 18`) and hand it to programs through a file, not a command line.',
  run(context) {
    const out: AuditFinding[] = [];
    for (const user of amiUsers(context.config)) {
      const secret = get(user, 'secret');
      if (!secret) continue;
      const reasons = secretWeaknesses(secret.value, [user.name]);
      if (reasons.length > 0) out.push(finding(TG403, secret.at, `AMI user "${user.name}": secret ${maskSecret(secret.value)} is weak: ${reasons.join('; ')}`));
    }
    return out;
  },
};
