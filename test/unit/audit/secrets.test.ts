/** The weak-secret rules shared by TG301, TG403 and TG412. */
import { COMMON_PASSWORDS, COMMON_PASSWORDS_SOURCE } from '../../../src/audit/data/common-passwords.js';
import { maskSecret, secretWeaknesses } from '../../../src/audit/secrets.js';

describe('secretWeaknesses', () => {
  it.each([
    ['1001', ['1001'], ['equal to the user name/extension "1001"', 'digits only', 'shorter than 12 characters (4)']],
    ['1002pass', ['1002'], ['contains the user name/extension "1002"', 'shorter than 12 characters (8)']],
    ['1234', ['alice'], ['digits only', 'shorter than 12 characters (4)', 'in a common-password list (John the Ripper password.lst)']],
    ['48213957204816', ['alice'], ['digits only']],
    ['Qwerty', ['alice'], ['shorter than 12 characters (6)', 'in a common-password list (John the Ripper password.lst)']],
    ['unsecurepassword', ['6001'], ['built on the common password "password"']],
    ['Vq7#xN2pL9wZ4rT8', ['alice'], []],
  ])('%s', (secret, names, reasons) => {
    expect(secretWeaknesses(secret, names)).toEqual(reasons);
  });

  it('ships the list with its source', () => {
    expect(COMMON_PASSWORDS.size).toBeGreaterThan(3000);
    expect(COMMON_PASSWORDS.has('123456')).toBe(true);
    expect(COMMON_PASSWORDS_SOURCE).toMatch(/John the Ripper.*john-data 1\.9\.0-2/);
  });

  it('never shows the secret', () => {
    expect(maskSecret('hunter2')).toBe('(7 characters)');
  });
});
