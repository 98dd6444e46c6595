/**
 * The audit on real configurations: Debian's asterisk-config sample (test/fixtures/asterisk-etc/
 * debian-sample, see its README) and the demo PBX (docker/asterisk/etc). The expected lists were
 * reviewed by hand against the files; docs/audit.md explains each id.
 */
import path from 'node:path';
import { audit, expectLocationsExist, FIXTURES, summary } from './helpers.js';

describe('Debian asterisk-config 22.10.1 sample configuration', () => {
  const dir = path.join(FIXTURES, 'debian-sample');
  const result = audit(dir);

  it('reads the files it should, manager.d/*.conf included, without parse problems', () => {
    expect(result.issues).toEqual([]);
    expect(result.filesRead.map((file) => path.relative(dir, file)).sort()).toEqual(
      ['ari.conf', 'extensions.conf', 'http.conf', 'iax.conf', 'manager.conf', 'manager.d/README.conf', 'modules.conf', 'pjsip.conf', 'pjsip_wizard.conf'].sort(),
    );
  });

  it('reports exactly the expected findings', () => {
    expect(summary(result, dir)).toEqual([
      // the IAX2 [guest] user has no secret; its context "public" (→ demo IVR → stdexten) reaches no trunk
      'TG106 iax.conf:481',
      // Dial() through a trunk (IAX2 user:secret@host, ${GLOBAL(TRUNK)} = DAHDI/G2) with no lock check
      'TG204 extensions.conf:307',
      'TG204 extensions.conf:324',
      'TG204 extensions.conf:331',
      'TG204 extensions.conf:337',
      'TG204 extensions.conf:343',
      'TG204 extensions.conf:344',
      'TG204 extensions.conf:345',
      'TG204 extensions.conf:346',
      // extensions.ael and extensions.lua ship with content: said, not analysed
      'TG205 extensions.ael:29',
      'TG205 extensions.lua:3',
    ]);
    const guest = result.findings.find((finding) => finding.id === 'TG106')!;
    expect(guest.severity).toBe('medium');
    expect(guest.message).toContain('"public"');
  });

  it('names files and lines that exist', () => {
    expectLocationsExist(result);
  });

  it('audits every file: modules.conf autoloads (autoload=yes)', () => {
    expect(result.inactive).toEqual([]);
  });

  it('counts the two jumps to run-time contexts it could not follow', () => {
    expect(result.dynamicJumps).toBe(2);
  });
});

describe('the demo configuration (docker/asterisk/etc)', () => {
  const dir = path.resolve('docker/asterisk/etc');
  const result = audit(dir);

  it('reports exactly the expected findings, the guessable demo passwords first', () => {
    expect(result.issues).toEqual([]);
    expect(summary(result, dir)).toEqual([
      'TG101 pjsip.conf:75', // the "carrier" endpoint: no auth, no identify (context from-carrier only hangs up)
      'TG301 pjsip.conf:57', // 1001's password 1234
      'TG301 pjsip.conf:68', // 1002's password 1002pass
      'TG302 pjsip.conf:56', // username = 1001
      'TG302 pjsip.conf:67', // username = 1002
      'TG403 manager.conf:18', // AMI secret built on the user name (public on purpose)
      'TG404 manager.conf:22', // write=…,system (low: Tollgate needs it for DBPut/DBDel)
      'TG412 ari.conf:11', // ARI password built on the user name (public on purpose)
      'TG501 pjsip.conf:50', // 1001: no call limit
      'TG501 pjsip.conf:61', // 1002: no call limit
      'TG504 pjsip.conf:46', // aor-template max_contacts = 5 (inherited by the aors 1001 and 1002)
    ].sort());
    const bySeverity = Object.fromEntries(result.findings.map((finding) => [`${finding.id} ${finding.at.line}`, finding.severity]));
    expect(bySeverity['TG301 57']).toBe('high');
    expect(bySeverity['TG301 68']).toBe('high');
    expect(bySeverity['TG101 75']).toBe('medium');
    expect(bySeverity['TG404 22']).toBe('low');
  });

  it('finds the guessable passwords for the reasons a scanner would', () => {
    const messages = result.findings.filter((finding) => finding.id === 'TG301').map((finding) => finding.message);
    expect(messages[0]).toMatch(/digits only.*shorter than 12.*common-password list/);
    expect(messages[1]).toMatch(/contains the user name\/extension "1002"/);
    expect(messages.join(' ')).not.toMatch(/1234|1002pass/); // never repeats the secret itself
  });

  it('leaves nothing out: modules.conf loads every module whose file is there', () => {
    expect(result.inactive).toEqual([]);
  });

  it('sees the lock check in front of the outbound Dial() and no breakout', () => {
    expect(result.findings.filter((finding) => ['TG201', 'TG203', 'TG204'].includes(finding.id))).toEqual([]);
  });

  it('names files and lines that exist', () => {
    expectLocationsExist(result);
  });
});
