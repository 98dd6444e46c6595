import { maskSecret, secretWeaknesses } from '../secrets.js';
import { finding, type AuditFinding, type Check } from './types.js';

/** PJSIP/chan_sip/IAX2 passwords that a scanner guesses. */
export const TG301: Check = {
  id: 'TG301',
  name: 'weak-sip-secret',
  severity: 'high',
  title: 'Guessable SIP/IAX2 password',
  why: 'Scanners (SIPVicious, sipp word lists) try the extension number, short digit strings and common passwords against every endpoint; a guessed password is a registered phone that calls premium and international numbers on your trunk.',
  fix: 'Use a random password of at least 16 characters per endpoint (e.g. `openssl rand -base64 18`), never derived from the extension or user name, and re-provision the phone.',
  run(context) {
    const out: AuditFinding[] = [];
    const seen = new Set<string>();
    for (const endpoint of context.endpoints) {
      for (const credential of endpoint.credentials) {
        const key = `${credential.secret.at.file}:${credential.secret.at.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const reasons = secretWeaknesses(credential.secret.value, [credential.username, endpoint.name]);
        if (reasons.length === 0) continue;
        out.push(finding(TG301, credential.secret.at, `${endpoint.tech} ${endpoint.name} (user "${credential.username}"): password ${maskSecret(credential.secret.value)} is weak: ${reasons.join('; ')}`));
      }
    }
    return out;
  },
};
