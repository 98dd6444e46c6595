/** Why a secret is guessable: the rules every weak-secret check shares. */
import { COMMON_PASSWORDS } from './data/common-passwords.js';

export const MIN_SECRET_LENGTH = 12;

/** Words of the list long enough that finding one inside a secret is no coincidence (e.g. "password"). */
const LONG_WORDS = [...COMMON_PASSWORDS].filter((word) => word.length >= 8 && /^[a-z]+$/.test(word));

/** Reasons `secret` is weak given the names an attacker knows (user name, extension, section); empty when none. */
export function secretWeaknesses(secret: string, names: readonly string[]): string[] {
  const reasons: string[] = [];
  const lower = secret.toLowerCase();
  const known = [...new Set(names.filter((name) => name.length > 0).map((name) => name.toLowerCase()))];
  const equal = known.find((name) => name === lower);
  if (equal) reasons.push(`equal to the user name/extension "${equal}"`);
  else {
    const contained = known.find((name) => name.length >= 3 && lower.includes(name));
    if (contained) reasons.push(`contains the user name/extension "${contained}"`);
  }
  if (/^\d+$/.test(secret)) reasons.push('digits only');
  if (secret.length < MIN_SECRET_LENGTH) reasons.push(`shorter than ${MIN_SECRET_LENGTH} characters (${secret.length})`);
  if (COMMON_PASSWORDS.has(lower)) reasons.push('in a common-password list (John the Ripper password.lst)');
  else {
    const word = LONG_WORDS.find((candidate) => lower.includes(candidate));
    if (word) reasons.push(`built on the common password "${word}"`);
  }
  return reasons;
}

/** Describes a secret without giving it away (reports end up in tickets and mails): its length only. */
export function maskSecret(secret: string): string {
  return `(${secret.length} characters)`;
}
