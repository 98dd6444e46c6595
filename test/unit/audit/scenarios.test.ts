/**
 * Whole configurations of other shapes (test/fixtures/asterisk-etc/scenarios/): an old chan_sip PBX
 * open in every classic way, and a pjsip_wizard.conf setup. Expected findings reviewed by hand.
 */
import path from 'node:path';
import { audit, expectLocationsExist, FIXTURES, summary } from './helpers.js';

const DIR = path.join(FIXTURES, 'scenarios');

describe('a chan_sip PBX open in the classic ways', () => {
  const dir = path.join(DIR, 'chan-sip-open');
  const result = audit(dir);

  it('reports guests, insecure=invite, the breakouts, weak secrets and user enumeration', () => {
    expect(result.issues).toEqual([]);
    expect(summary(result, dir)).toEqual([
      'TG104 sip.conf:3', // allowguest=yes into "default", which includes the outbound context
      'TG105 sip.conf:22', // provider: insecure=invite
      'TG201 sip.conf:2', // guests → default → include internal → _X. Dial(SIP/provider/…)
      'TG201 sip.conf:23', // provider → from-trunk _X. → Goto(internal,${EXTEN},1) → Dial
      'TG203 extensions.conf:6', // internal _X. (reachable from the guests)
      'TG203 extensions.conf:9', // from-trunk _X.
      'TG204 extensions.conf:6',
      'TG301 sip.conf:13', // 100: secret=100
      'TG301 sip.conf:25', // provider: secret=abc
      'TG302 sip.conf:12', // peer name 100
      'TG302 sip.conf:15', // peer name 101
      'TG303 sip.conf:4', // alwaysauthreject=no
      'TG501 sip.conf:12', // 100 has no call-limit (101 has one)
    ].sort());
    const severity = Object.fromEntries(result.findings.map((finding) => [`${finding.id} ${finding.at.line}`, finding.severity]));
    expect(severity['TG201 2']).toBe('critical');
    expect(severity['TG104 3']).toBe('high');
    expectLocationsExist(result);
  });
});

describe('a pjsip_wizard.conf setup', () => {
  const dir = path.join(DIR, 'wizard');
  const result = audit(dir);

  it('reads inbound_auth, endpoint/ and aor/ options through the wizard template', () => {
    expect(result.issues).toEqual([]);
    expect(summary(result, dir)).toEqual([
      'TG204 extensions.conf:4',
      'TG301 pjsip_wizard.conf:12', // alice's password is "alice"
      'TG504 pjsip_wizard.conf:6', // aor/max_contacts = 2 in the template
    ]);
    expectLocationsExist(result);
  });
});

describe('samples whose module is not loaded (modules.conf)', () => {
  const dir = path.join(DIR, 'modules-off');
  const result = audit(dir);

  it('audits only what Asterisk loads, and says what it left out and why', () => {
    expect(result.inactive.map((skipped) => `${path.relative(dir, skipped.file)}: ${skipped.reason.replace(dir + path.sep, '')}`)).toEqual([
      'sip.conf: chan_sip.so is not loaded (autoload=no and no load => chan_sip.so, modules.conf:3)',
      'iax.conf: chan_iax2.so is not loaded (noload => chan_iax2.so, modules.conf:7)',
      'extensions.ael: pbx_ael.so is not loaded (autoload=no and no load => pbx_ael.so, modules.conf:3)',
    ]);
    // nothing enters [public] any more: the outbound Dial() there still lacks a lock check
    expect(summary(result, dir)).toEqual(['TG204 extensions.conf:2']);
  });
});
