/**
 * Every check against its crafted fixtures (test/fixtures/asterisk-etc/checks/<id>/{fires,quiet}):
 * the whole registry runs on each, so a check that fires where it should not shows up here too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseConfText } from '../../../src/audit/conf/index.js';
import { CHECKS, SEVERITIES, runAudit } from '../../../src/audit/index.js';
import { FIXTURES, audit, expectLocationsExist, summary } from './helpers.js';

const DIR = path.join(FIXTURES, 'checks');

/** What the whole registry reports on each `fires` case (reviewed by hand). Quiet cases report nothing. */
const FIRES: Record<string, string[]> = {
  TG101: ['TG101 pjsip.conf:7'],
  TG102: ['TG102 pjsip.conf:1'],
  TG103: ['TG103 pjsip.conf:8'],
  TG104: ['TG104 sip.conf:3'],
  TG105: ['TG105 sip.conf:8'],
  TG106: ['TG106 iax.conf:4'],
  TG201: ['TG201 pjsip.conf:8'],
  TG202: ['TG202 extensions.conf:2'],
  // a catch-all pattern that dials out from an inbound context is an open breakout as well
  TG203: ['TG201 pjsip.conf:8', 'TG203 extensions.conf:3'],
  TG204: ['TG204 extensions.conf:6', 'TG204 extensions.conf:8'], // no check at all; the gate asked but its verdict not tested
  TG205: ['TG205 extensions.ael:2'],
  TG301: ['TG301 pjsip.conf:12'],
  TG302: ['TG302 pjsip.conf:11'],
  TG303: ['TG303 sip.conf:3'],
  TG401: ['TG401 manager.conf:4'],
  TG402: ['TG402 manager.conf:7'],
  TG403: ['TG403 manager.conf:6'],
  TG404: ['TG404 manager.conf:10'],
  TG411: ['TG411 http.conf:3'],
  TG412: ['TG412 ari.conf:6'],
  TG501: ['TG501 pjsip.conf:1'],
  TG502: ['TG502 pjsip.conf:4'],
  TG503: ['TG503 pjsip.conf:7'],
  TG504: ['TG504 pjsip.conf:16'],
};

describe('audit checks on their crafted fixtures', () => {
  it('the registry has unique ids, names, a severity, a why and a fix', () => {
    expect(new Set(CHECKS.map((check) => check.id)).size).toBe(CHECKS.length);
    expect(new Set(CHECKS.map((check) => check.name)).size).toBe(CHECKS.length);
    for (const check of CHECKS) {
      expect(check.id).toMatch(/^TG\d{3}$/);
      expect(SEVERITIES).toContain(check.severity);
      expect(check.why.length).toBeGreaterThan(40);
      expect(check.fix.length).toBeGreaterThan(20);
    }
  });

  it('every check has a fires and a quiet fixture and an expectation, and nothing else is there', () => {
    expect(fs.readdirSync(DIR).sort()).toEqual(CHECKS.map((check) => check.id).sort());
    expect(Object.keys(FIRES).sort()).toEqual(CHECKS.map((check) => check.id).sort());
    for (const check of CHECKS) expect(fs.readdirSync(path.join(DIR, check.id)).sort()).toEqual(['fires', 'quiet']);
  });

  it('grades by what is reachable: the AMI ACL matters less while AMI listens on loopback only', () => {
    const fires = audit(path.join(DIR, 'TG402', 'fires'));
    expect(fires.findings.map((finding) => finding.severity)).toEqual(['high']);
    const loopback = parseConfText('[general]\nenabled = yes\nbindaddr = 127.0.0.1\n\n[monitor]\nsecret = Vq7#xN2pL9wZ4rT8\nwrite = call\n', '/x/manager.conf');
    const graded = runAudit({ origin: 'test', source: 'files', files: new Map([['manager.conf', loopback]]), unanalysed: [] });
    expect(graded.findings.map((finding) => [finding.id, finding.severity, finding.at.line])).toEqual([['TG402', 'low', 5]]);
    const unauthenticated = audit(path.join(DIR, 'TG101', 'fires'));
    expect(unauthenticated.findings.map((finding) => finding.severity)).toEqual(['medium']); // its context reaches no trunk
  });

  it('docs/audit.md lists every check', () => {
    const docs = fs.readFileSync('docs/audit.md', 'utf8');
    for (const check of CHECKS) expect(docs).toContain(`| ${check.id} `);
  });

  describe.each(CHECKS.map((check) => [check.id]))('%s', (id) => {
    it('fires on its positive case, with exactly the expected findings', () => {
      const dir = path.join(DIR, id, 'fires');
      const result = audit(dir);
      expect(result.issues).toEqual([]);
      expect(summary(result, dir)).toEqual([...FIRES[id]!].sort());
      expect(result.findings.some((finding) => finding.id === id)).toBe(true);
      expectLocationsExist(result);
    });

    it('stays quiet on its negative case (and so does every other check)', () => {
      const dir = path.join(DIR, id, 'quiet');
      const result = audit(dir);
      expect(result.issues).toEqual([]);
      expect(summary(result, dir)).toEqual([]);
    });

    it('fires on no other check\'s fixture, except where the expectations say so', () => {
      for (const other of fs.readdirSync(DIR)) {
        if (other === id) continue;
        const dir = path.join(DIR, other, 'fires');
        const expected = FIRES[other]!.filter((line) => line.startsWith(`${id} `));
        expect(summary(audit(dir), dir).filter((line) => line.startsWith(`${id} `))).toEqual(expected);
      }
    });
  });
});
