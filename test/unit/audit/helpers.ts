import fs from 'node:fs';
import path from 'node:path';
import { loadEtc, runAudit, type AuditResult } from '../../../src/audit/index.js';

export const FIXTURES = path.resolve('test/fixtures/asterisk-etc');

export function audit(dir: string): AuditResult {
  return runAudit(loadEtc(dir));
}

/** `ID file:line` with the file relative to `dir`, sorted: the form the expectations are written in. */
export function summary(result: AuditResult, dir: string): string[] {
  return result.findings.map((finding) => `${finding.id} ${path.relative(dir, finding.at.file)}:${finding.at.line}`).sort();
}

/** Every finding names a file that exists and a line of it that is not blank. */
export function expectLocationsExist(result: AuditResult): void {
  for (const finding of result.findings) {
    expect(fs.existsSync(finding.at.file)).toBe(true);
    const lines = fs.readFileSync(finding.at.file, 'utf8').split(/\r?\n/);
    expect(finding.at.line).toBeGreaterThanOrEqual(1);
    expect(finding.at.line).toBeLessThanOrEqual(lines.length);
    expect(lines[finding.at.line - 1]!.trim()).not.toBe('');
    expect(finding.fix.length).toBeGreaterThan(20);
    expect(finding.why.length).toBeGreaterThan(20);
  }
}
