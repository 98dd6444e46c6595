/**
 * `tollgate audit [--etc /etc/asterisk] [--ami] [--json] [--fail-on high]`: reads the Asterisk
 * configuration (files, or the running configuration over AMI with GetConfig) and reports what
 * invites toll fraud, each finding with file:line, why and the fix (docs/audit.md).
 * Exit code 0 clean, 1 with findings at or above --fail-on, 2 on errors (unreadable directory,
 * parse errors, AMI unreachable).
 */
import type { Command } from 'commander';
import { AmiClient } from '../ami/client.js';
import { AUDITED_FILES, EtcError, dropInactive, SEVERITIES, atOrAbove, formatJsonLines, formatText, loadEtc, readConfOverAmi, runAudit, type AsteriskConfig, type Severity } from '../audit/index.js';
import { configFromOptions } from './common.js';

interface AuditOptions {
  etc: string;
  ami?: boolean;
  json?: boolean;
  failOn: string;
  config?: string;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('read the Asterisk configuration and report what invites toll fraud (file:line, why, fix)')
    .option('--etc <dir>', 'Asterisk configuration directory', '/etc/asterisk')
    .option('--ami', 'read the running configuration over AMI (GetConfig; the AMI user needs read=config) instead of files')
    .option('--json', 'one JSON object per line')
    .option('--fail-on <severity>', `exit 1 when a finding is at or above this severity (${SEVERITIES.join('|')})`, 'high')
    .option('-c, --config <file>', 'Tollgate configuration file (AMI connection for --ami)')
    .action(async (options: AuditOptions) => {
      const { lines, code, errors } = await auditForDisplay(options);
      for (const line of errors) console.error(line);
      for (const line of lines) console.log(line);
      process.exitCode = code;
    });
}

export async function auditForDisplay(options: AuditOptions): Promise<{ lines: string[]; errors: string[]; code: number }> {
  const failOn = options.failOn.toLowerCase() as Severity;
  if (!SEVERITIES.includes(failOn)) return { lines: [], errors: [`tollgate audit: --fail-on must be one of ${SEVERITIES.join(', ')}`], code: 2 };
  let config: AsteriskConfig;
  const errors: string[] = [];
  try {
    config = options.ami ? await readOverAmi(options, errors) : loadEtc(options.etc);
  } catch (error) {
    if (error instanceof EtcError || options.ami) return { lines: [], errors: [`tollgate audit: ${(error as Error).message}`], code: 2 };
    throw error;
  }
  const result = runAudit(config);
  const lines = options.json ? formatJsonLines(result) : formatText(result, config.origin);
  const parseErrors = result.issues.some((issue) => issue.level === 'error');
  const code = parseErrors ? 2 : result.findings.some((finding) => atOrAbove(finding.severity, failOn)) ? 1 : 0;
  return { lines, errors, code };
}

async function readOverAmi(options: AuditOptions, errors: string[]): Promise<AsteriskConfig> {
  const { config } = configFromOptions(options.config ? { config: options.config } : {});
  if (!config.ami.secret) throw new Error('--ami needs the AMI connection of the Tollgate configuration (ami.secret or TOLLGATE_AMI_SECRET)');
  const client = new AmiClient({ host: config.ami.host, port: config.ami.port, username: config.ami.username, secret: config.ami.secret, tls: config.ami.tls, events: 'off', pingIntervalMs: 0, connectTimeoutMs: 3000, loginRetryMs: 60_000 });
  // the first failure ends the attempt (an audit does not wait for reconnects)
  const failed = new Promise<never>((_, reject) => {
    client.once('disconnected', ({ reason }) => reject(new Error(`AMI at ${config.ami.host}:${config.ami.port}: ${reason}`)));
    client.once('loginFailed', (error) => reject(new Error(`AMI login as "${config.ami.username}" failed: ${error.message}`)));
  });
  failed.catch(() => undefined);
  client.start();
  try {
    await Promise.race([client.waitForConnected(5000), failed]);
    const { files, skipped } = await readConfOverAmi(client, [...AUDITED_FILES, 'modules.conf']);
    for (const skip of skipped) errors.push(`tollgate audit: ${skip.name} not read over AMI: ${skip.reason}`);
    if (files.size === 0) throw new Error(`no configuration file could be read over AMI from ${config.ami.host}:${config.ami.port} (does the AMI user have read=config?)`);
    const origin = `running configuration over AMI (${config.ami.host}:${config.ami.port}); locations are GetConfig category/line indexes, not file lines`;
    return dropInactive({ origin, source: 'ami', files, unanalysed: [] }, files.get('modules.conf'));
  } finally {
    await client.stop();
  }
}
