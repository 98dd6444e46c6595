/** `tollgate audit`: output forms and exit codes. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { auditForDisplay } from '../../../src/commands/audit.js';
import { FIXTURES } from './helpers.js';

const run = (etc: string, extra: { json?: boolean; failOn?: string } = {}) => auditForDisplay({ etc, failOn: extra.failOn ?? 'high', ...(extra.json ? { json: true } : {}) });

describe('tollgate audit', () => {
  it('exits 0 on a clean configuration', async () => {
    const { code, lines } = await run(path.join(FIXTURES, 'checks', 'TG301', 'quiet'));
    expect(code).toBe(0);
    expect(lines).toContain('No findings.');
  });

  it('exits 1 with a finding at or above --fail-on, 0 below it; text is grouped by severity', async () => {
    const dir = path.join(FIXTURES, 'checks', 'TG203', 'fires');
    const high = await run(dir);
    expect(high.code).toBe(1);
    const text = high.lines.join('\n');
    expect(text.indexOf('CRITICAL (1)')).toBeLessThan(text.indexOf('HIGH (1)'));
    expect(text).toContain(`${path.join(dir, 'extensions.conf')}:3: exten _X. in [from-provider]`);
    expect(text).toMatch(/fix: /);
    expect((await run(path.join(FIXTURES, 'checks', 'TG204', 'fires'))).code).toBe(0); // medium < high
    expect((await run(path.join(FIXTURES, 'checks', 'TG204', 'fires'), { failOn: 'medium' })).code).toBe(1);
  });

  it('prints JSON lines', async () => {
    const { lines } = await run(path.join(FIXTURES, 'checks', 'TG401', 'fires'), { json: true });
    expect(lines).toHaveLength(1);
    const finding = JSON.parse(lines[0]!);
    expect(finding).toMatchObject({ type: 'finding', id: 'TG401', severity: 'high', line: 4 });
    expect(finding.file).toBe(path.join(FIXTURES, 'checks', 'TG401', 'fires', 'manager.conf'));
    expect(typeof finding.fix).toBe('string');
  });

  it('exits 2 for a directory that cannot be read, a bad --fail-on, or parse errors', async () => {
    const missing = await run(path.join(os.tmpdir(), 'tollgate-no-such-etc'));
    expect(missing.code).toBe(2);
    expect(missing.errors[0]).toMatch(/cannot read .*ENOENT/);
    expect((await run(FIXTURES, { failOn: 'urgent' })).code).toBe(2);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-audit-'));
    expect((await run(empty)).errors[0]).toMatch(/holds none of/);
    fs.rmSync(empty, { recursive: true });
    const broken = await run(path.join(FIXTURES, 'reader', 'errors'));
    expect(broken.code).toBe(2);
    expect(broken.lines.join('\n')).toMatch(/ERROR: .*pjsip\.conf:6: #include "nope\.conf"/);
  });
});
