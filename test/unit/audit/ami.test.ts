/** --ami: the running configuration from GetConfig answers, with GetConfig indexes as locations. */
import type { AmiField } from '../../../src/ami/message.js';
import { confFromGetConfig, formatLocation, get, readConfOverAmi, type AsteriskConfig } from '../../../src/audit/conf/index.js';
import { formatText, runAudit } from '../../../src/audit/index.js';

const PJSIP: AmiField[] = [
  ['Response', 'Success'],
  ['Category-000000', 'phone-template'],
  ['IsTemplate-000000', '1'],
  ['Line-000000-000000', 'type=endpoint'],
  ['Line-000000-000001', 'context=from-internal'],
  ['Category-000001', '1001'],
  ['Templates-000001', 'phone-template'],
  ['Line-000001-000000', 'type=endpoint'],
  ['Line-000001-000001', 'context=from-internal'],
  ['Line-000001-000002', 'auth=1001-auth'],
  ['Category-000002', '1001-auth'],
  ['Line-000002-000000', 'type=auth'],
  ['Line-000002-000001', 'username=1001'],
  ['Line-000002-000002', 'password=1234'],
];
const EXTENSIONS: AmiField[] = [
  ['Response', 'Success'],
  ['Category-000000', 'from-internal'],
  ['Line-000000-000000', 'exten=>_X.,1,Dial(PJSIP/${EXTEN}@carrier)'],
];

describe('confFromGetConfig', () => {
  it('builds sections with templates and GetConfig indexes as locations', () => {
    const file = confFromGetConfig('pjsip.conf', PJSIP);
    expect(file.source).toBe('ami');
    expect(file.sections.map((section) => [section.name, section.isTemplate, section.templates])).toEqual([
      ['phone-template', true, []],
      ['1001', false, ['phone-template']],
      ['1001-auth', false, []],
    ]);
    const password = get(file.sections[2]!, 'password')!;
    expect(password.value).toBe('1234');
    expect(password.at).toEqual({ file: 'pjsip.conf', line: 2, amiCategory: 2 });
    expect(formatLocation(password.at)).toBe('pjsip.conf (running config, GetConfig category 2 line 2)');
    const exten = confFromGetConfig('extensions.conf', EXTENSIONS).sections[0]!.values[0]!;
    expect([exten.key, exten.op, exten.value]).toEqual(['exten', '=>', '_X.,1,Dial(PJSIP/${EXTEN}@carrier)']);
  });
});

describe('readConfOverAmi', () => {
  it('asks GetConfig per file, skips the ones Asterisk refuses, and the audit runs on the result', async () => {
    const asked: string[] = [];
    const client = {
      action(action: string, fields: Record<string, string>) {
        asked.push(`${action} ${fields.Filename}`);
        if (fields.Filename === 'pjsip.conf') return Promise.resolve({ response: { fields: PJSIP } });
        if (fields.Filename === 'extensions.conf') return Promise.resolve({ response: { fields: EXTENSIONS } });
        return Promise.reject(new Error('Config file not found'));
      },
    };
    const { files, skipped } = await readConfOverAmi(client, ['pjsip.conf', 'sip.conf', 'extensions.conf']);
    expect(asked).toEqual(['GetConfig pjsip.conf', 'GetConfig sip.conf', 'GetConfig extensions.conf']);
    expect([...files.keys()]).toEqual(['pjsip.conf', 'extensions.conf']);
    expect(skipped).toEqual([{ name: 'sip.conf', reason: 'Config file not found' }]);
    const config: AsteriskConfig = { origin: 'ami', source: 'ami', files, unanalysed: [] };
    const result = runAudit(config);
    expect(result.findings.map((finding) => `${finding.id} ${formatLocation(finding.at)}`)).toEqual([
      'TG301 pjsip.conf (running config, GetConfig category 2 line 2)',
      'TG204 extensions.conf (running config, GetConfig category 0 line 0)',
      'TG302 pjsip.conf (running config, GetConfig category 2 line 1)',
      'TG501 pjsip.conf (running config, GetConfig category 1)',
    ]);
    expect(formatText(result, 'ami').join('\n')).toContain('GetConfig category 2 line 2');
  });
});
