import { finding, type AuditFinding, type Check } from './types.js';

/** The SIP user name is the extension number. */
export const TG302: Check = {
  id: 'TG302',
  name: 'username-is-extension',
  severity: 'medium',
  title: 'SIP user name equals the extension number',
  why: 'Scanners enumerate numeric user names (100–9999) first: when the authentication name is the extension, half of every credential is known and only the password remains to guess.',
  fix: 'Authenticate with a non-numeric, unguessable user name (PJSIP: `username=` in the auth section, e.g. a random token; chan_sip: the name of the peer section, which is its authentication name) and keep the extension number only in the dialplan.',
  run(context) {
    const out: AuditFinding[] = [];
    const seen = new Set<string>();
    for (const endpoint of context.endpoints) {
      if (!endpoint.authenticated || endpoint.trunk) continue;
      for (const credential of endpoint.credentials) {
        if (!/^\d+$/.test(credential.username)) continue;
        const at = credential.usernameAt ?? endpoint.section.at;
        const key = `${at.file}:${at.line}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(finding(TG302, at, `${endpoint.tech} ${endpoint.name}: the authentication user name is "${credential.username}", a number a scanner tries`));
      }
    }
    return out;
  },
};
