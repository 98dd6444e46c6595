/** The configuration reader: includes, globs, templates, (+), comments, escapes, errors with file:line. */
import path from 'node:path';
import { get, getAll, readConfFile, type ConfFile } from '../../../src/audit/conf/index.js';
import { FIXTURES } from './helpers.js';

const OK = path.join(FIXTURES, 'reader', 'ok');
const ERRORS = path.join(FIXTURES, 'reader', 'errors');
const rel = (file: string): string => path.relative(OK, file);

describe('readConfFile', () => {
  const file = readConfFile(OK, 'pjsip.conf') as ConfFile;

  it('follows #include globs in order and skips a missing #tryinclude', () => {
    expect(file.issues).toEqual([]);
    expect(file.files.map(rel)).toEqual(['pjsip.conf', 'pjsip.d/a.conf', 'pjsip.d/b.conf']);
    expect(file.sections.slice(0, 2).map((section) => [section.name, rel(section.at.file), section.at.line])).toEqual([
      ['from-a', 'pjsip.d/a.conf', 1],
      ['from-b', 'pjsip.d/b.conf', 2],
    ]);
  });

  it('applies templates (also a template of a template) before the section\'s own values', () => {
    const phone = file.sections.find((section) => section.name === 'phone' && get(section, 'type')?.value === 'endpoint')!;
    expect(phone.templates).toEqual(['tpl-more']);
    expect(phone.values.map((value) => [value.key, value.value, value.at.line, value.inheritedFrom ?? ''])).toEqual([
      ['type', 'endpoint', 6, 'tpl-base'],
      ['context', 'base-ctx', 7, 'tpl-base'],
      ['disallow', 'all', 8, 'tpl-base'],
      ['allow', 'ulaw', 11, 'tpl-more'],
      ['context', 'own-ctx', 14, ''],
      ['callerid', '"A ; B" <100>', 15, ''],
      ['after_block', 'seen', 21, ''],
      ['mailboxes', '100@default', 24, ''],
    ]);
    expect(get(phone, 'context')!.value).toBe('own-ctx');
    expect(get(phone, 'context')!.op).toBe('=>');
    expect(getAll(phone, 'context')).toHaveLength(2);
    expect(get(phone, 'password')).toBeUndefined();
    expect(get(phone, 'still')).toBeUndefined();
  });

  it('marks templates and keeps several sections of one name apart', () => {
    expect(file.sections.filter((section) => section.isTemplate).map((section) => section.name)).toEqual(['tpl-base', 'tpl-more']);
    const phones = file.sections.filter((section) => section.name === 'phone');
    expect(phones.map((section) => [get(section, 'type')?.value, section.at.line])).toEqual([
      ['endpoint', 13],
      ['aor', 26],
    ]);
  });

  it('returns undefined for a file that is not there', () => {
    expect(readConfFile(OK, 'sip.conf')).toBeUndefined();
  });

  it('reports errors with file:line and goes on', () => {
    const broken = readConfFile(ERRORS, 'pjsip.conf') as ConfFile;
    expect(broken.issues.map((issue) => `${issue.level} ${path.basename(issue.at.file)}:${issue.at.line} ${issue.message}`)).toEqual([
      'error pjsip.conf:1 parse error: "orphan = value" is not inside a [section]',
      'error pjsip.conf:2 [a](no-such-template): inheritance from "no-such-template" requested, but no earlier [no-such-template] exists',
      'error pjsip.conf:4 [b](+): category addition requested, but no earlier [b] exists',
      'error pjsip.conf:5 parse error: "type = aor" is not inside a [section]', // [b](+) failed: no section is open
      'error pjsip.conf:6 #include "nope.conf": no such file (Asterisk refuses to load the file; use #tryinclude for optional files)',
      'error pjsip.conf:7 parse error: no closing \']\' in "[c"',
      'warning pjsip.conf:8 no \'=\' in "this line has no equals sign" (Asterisk ignores the line)',
    ]);
    expect(broken.sections.map((section) => section.name)).toEqual(['a']);
  });
});
