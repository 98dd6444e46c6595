/**
 * `tollgate audit`: reads Asterisk's configuration (conf/), builds the endpoint model and the
 * dialplan graph once (AuditContext), runs every registered check (checks/registry.ts) and
 * formats the findings (text grouped by severity, or JSON lines).
 */
import { formatLocation, type AsteriskConfig, type ConfIssue } from './conf/index.js';
import { CHECKS } from './checks/registry.js';
import { AuditContext, SEVERITIES, severityRank, type AuditFinding, type Check, type Severity } from './checks/types.js';

export { CHECKS } from './checks/registry.js';
export { SEVERITIES, severityRank, type AuditFinding, type Check, type Severity } from './checks/types.js';
export { loadEtc, EtcError, AUDITED_FILES, readConfOverAmi, dropInactive, type AsteriskConfig } from './conf/index.js';

export interface AuditResult {
  findings: AuditFinding[];
  /** Parse problems of the files read (errors make the audit fail with exit code 2). */
  issues: ConfIssue[];
  /** Jumps to contexts only known at run time (`Goto(${ctx},…)`), which the graph could not follow. */
  dynamicJumps: number;
  filesRead: string[];
  /** Files present but not audited: their module is not loaded. */
  inactive: { file: string; reason: string }[];
}

export function runAudit(config: AsteriskConfig, checks: readonly Check[] = CHECKS): AuditResult {
  const context = new AuditContext(config);
  const findings = checks.flatMap((check) => check.run(context));
  findings.sort((a, b) => severityRank(b.severity) - severityRank(a.severity) || a.id.localeCompare(b.id) || a.at.file.localeCompare(b.at.file) || (a.at.amiCategory ?? 0) - (b.at.amiCategory ?? 0) || a.at.line - b.at.line);
  const issues = [...config.files.values()].flatMap((file) => file.issues);
  let dynamicJumps = 0;
  for (const priority of context.dialplan.priorities()) if (context.dialplan.edges(priority).dynamic) dynamicJumps++;
  const filesRead = [...config.files.values()].flatMap((file) => file.files);
  return { findings, issues, dynamicJumps, filesRead, inactive: config.inactive ?? [] };
}

/** True when a finding is at or above `threshold`. */
export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return severityRank(severity) >= severityRank(threshold);
}

export function formatText(result: AuditResult, origin: string): string[] {
  const lines: string[] = [];
  lines.push(`tollgate audit: ${origin} — ${result.filesRead.length} file(s) read`);
  for (const issue of result.issues) lines.push(`${issue.level === 'error' ? 'ERROR' : 'warning'}: ${formatLocation(issue.at)}: ${issue.message}`);
  for (const skipped of result.inactive) lines.push(`not audited: ${skipped.file}: ${skipped.reason}`);
  if (result.findings.length === 0) lines.push('', 'No findings.');
  for (const severity of SEVERITIES) {
    const group = result.findings.filter((finding) => finding.severity === severity);
    if (group.length === 0) continue;
    lines.push('', `${severity.toUpperCase()} (${group.length})`);
    // one block per check: its findings, then why and fix once
    for (const id of [...new Set(group.map((finding) => finding.id))]) {
      const same = group.filter((finding) => finding.id === id);
      lines.push(`  ${id} ${same[0]!.title}`);
      for (const finding of same) lines.push(`    ${formatLocation(finding.at)}: ${finding.message}`);
      lines.push(`    why: ${same[0]!.why}`);
      for (const fix of [...new Set(same.map((finding) => finding.fix))]) lines.push(`    fix: ${fix}`);
    }
  }
  const counts = SEVERITIES.map((severity) => [severity, result.findings.filter((finding) => finding.severity === severity).length] as const).filter(([, count]) => count > 0);
  lines.push('', `${result.findings.length} finding(s)${counts.length > 0 ? `: ${counts.map(([severity, count]) => `${count} ${severity}`).join(', ')}` : ''}.`);
  if (result.dynamicJumps > 0) lines.push(`Note: ${result.dynamicJumps} dialplan jump(s) go to a context computed at run time (\${…}); the graph could not follow them.`);
  lines.push('Checks and fixes: docs/audit.md');
  return lines;
}

export function formatJsonLines(result: AuditResult): string[] {
  return [
    ...result.inactive.map((skipped) => JSON.stringify({ type: 'skipped', file: skipped.file, reason: skipped.reason })),
    ...result.issues.map((issue) => JSON.stringify({ type: 'issue', level: issue.level, file: issue.at.file, line: issue.at.line, ...(issue.at.amiCategory !== undefined ? { amiCategory: issue.at.amiCategory } : {}), message: issue.message })),
    ...result.findings.map((finding) =>
      JSON.stringify({ type: 'finding', id: finding.id, severity: finding.severity, file: finding.at.file, line: finding.at.line, ...(finding.at.amiCategory !== undefined ? { amiCategory: finding.at.amiCategory, location: 'GetConfig category/line index' } : {}), title: finding.title, message: finding.message, why: finding.why, fix: finding.fix }),
    ),
  ];
}
