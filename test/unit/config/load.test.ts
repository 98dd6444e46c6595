import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { environmentVariables, envName, loadConfig } from '../../../src/config/load.js';
import { ValidationError } from '../../../src/config/yaml-source.js';

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((issue) => `${issue.file.replace(/.*\//, '')}:${issue.line ?? '-'}: ${issue.key ?? ''}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('agent configuration', () => {
  test('no file, no environment: safe defaults (loopback, enforce, US numbering)', () => {
    const { config, fromEnvironment } = loadConfig({ env: {}, cwd: '/srv/tollgate' });
    expect(config.ami).toMatchObject({ host: '127.0.0.1', port: 5038, username: 'tollgate', tls: false, events: 'on' });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(config.mode).toBe('enforce');
    expect(config.numbering.homeCountry).toBe('US');
    expect(config.policies.dir).toBe('/srv/tollgate/policies');
    expect(config.db.file).toBe('/srv/tollgate/tollgate.db');
    expect(fromEnvironment).toEqual([]);
  });

  test('every documented TOLLGATE_* variable is understood and the environment wins over the file', () => {
    const file = tempFile('tollgate.yaml', 'ami:\n  host: pbx.example.net\n  port: 5039\n  username: fromfile\nnumbering:\n  homeCountry: DE\n');
    const env = {
      TOLLGATE_AMI_HOST: '127.0.0.2',
      TOLLGATE_AMI_PORT: '6038',
      TOLLGATE_AMI_USERNAME: 'fromenv',
      TOLLGATE_AMI_SECRET: 's3cret',
      TOLLGATE_AMI_TLS: 'true',
      TOLLGATE_HOME_COUNTRY: 'gb',
      TOLLGATE_POLICIES: '/etc/tollgate/policies',
      TOLLGATE_RATES: '/etc/tollgate/rates.csv',
      TOLLGATE_DB: '/var/lib/tollgate/state.db',
      TOLLGATE_TRUNKS: 'carrier, backup-carrier',
      TOLLGATE_SMTP_URL: 'smtp://user:pw@127.0.0.1:2525',
      TOLLGATE_ALERT_TO: 'noc@example.com,boss@example.com',
      TOLLGATE_ALERT_FROM: 'pbx@example.com',
      TOLLGATE_HTTP_PORT: '9999',
    };
    const { config, fromEnvironment } = loadConfig({ file, env });
    expect(config.ami).toMatchObject({ host: '127.0.0.2', port: 6038, username: 'fromenv', secret: 's3cret', tls: true });
    expect(config.numbering.homeCountry).toBe('GB');
    expect(config.numbering.internationalPrefixes).toEqual(['00']);
    expect(config.policies.dir).toBe('/etc/tollgate/policies');
    expect(config.rates.file).toBe('/etc/tollgate/rates.csv');
    expect(config.db.file).toBe('/var/lib/tollgate/state.db');
    expect(config.trunks).toEqual(['carrier', 'backup-carrier']);
    expect(config.smtp.url).toBe('smtp://user:pw@127.0.0.1:2525');
    expect(config.alerts).toEqual({ to: ['noc@example.com', 'boss@example.com'], from: 'pbx@example.com', digest: true, digestAt: '07:00' });
    expect(config.http.port).toBe(9999);
    expect(fromEnvironment.sort()).toEqual(Object.keys(env).sort());
  });

  test('generic names reach every setting; TOLLGATE_DRY_RUN switches to simulate', () => {
    const { config } = loadConfig({ env: { TOLLGATE_AMI_PING_INTERVAL_MS: '2500', TOLLGATE_PRIVACY_MASK_NUMBERS: 'yes', TOLLGATE_DRY_RUN: '1', TOLLGATE_NUMBERING_OUTSIDE_LINE_CODES: '9' } });
    expect(config.ami.pingIntervalMs).toBe(2500);
    expect(config.privacy.maskNumbers).toBe(true);
    expect(config.mode).toBe('simulate');
    expect(config.numbering.outsideLineCodes).toEqual(['9']);
    expect(envName(['ami', 'pingIntervalMs'])).toBe('TOLLGATE_AMI_PING_INTERVAL_MS');
    const names = environmentVariables().map((variable) => variable.name);
    for (const required of ['TOLLGATE_AMI_HOST', 'TOLLGATE_AMI_PORT', 'TOLLGATE_AMI_USERNAME', 'TOLLGATE_AMI_SECRET', 'TOLLGATE_AMI_TLS', 'TOLLGATE_HOME_COUNTRY', 'TOLLGATE_POLICIES', 'TOLLGATE_RATES', 'TOLLGATE_DB', 'TOLLGATE_TRUNKS', 'TOLLGATE_SMTP_URL', 'TOLLGATE_ALERT_TO', 'TOLLGATE_ALERT_FROM', 'TOLLGATE_HTTP_PORT']) {
      expect(names).toContain(required);
    }
  });

  test('relative paths are resolved against the configuration file', () => {
    const file = tempFile('tollgate.yaml', 'policies:\n  dir: ./my-policies\ndb:\n  file: state/tollgate.db\n');
    const { config } = loadConfig({ file, env: {} });
    expect(config.policies.dir).toBe(join(file, '..', 'my-policies'));
    expect(config.db.file).toBe(join(file, '..', 'state', 'tollgate.db'));
  });

  test('all problems at once, each with file:line and key, typos with a suggestion', () => {
    const file = tempFile(
      'tollgate.yaml',
      ['ami:', '  host: 127.0.0.1', '  prot: 5038', '  port: "not a port"', 'mode: enforcing', 'numbering:', '  homeCountry: XX', 'alerts:', '  to: admin@example.com', ''].join('\n'),
    );
    expect(problems(() => loadConfig({ file, env: {} }))).toEqual([
      'tollgate.yaml:3: ami.prot: unknown key — did you mean "port"? (known: actionTimeoutMs, connectTimeoutMs, events, host, loginRetryMs, pingIntervalMs, port, reconcileIntervalMs, reconnectMaxMs, secret, secretFile, securityBacklog, tls, tlsCaFile, tlsRejectUnauthorized, username)',
      'tollgate.yaml:4: ami.port: Invalid input: expected number, received string',
      'tollgate.yaml:5: mode: "enforcing" is not allowed — did you mean "enforce"? (one of: enforce, simulate)',
      expect.stringMatching(/^tollgate\.yaml:7: numbering\.homeCountry: homeCountry must be an ISO 3166-1 alpha-2 country code/),
      'tollgate.yaml:9: alerts.to: Invalid input: expected array, received string',
    ]);
  });

  test('a bad environment value is reported against the variable', () => {
    expect(problems(() => loadConfig({ env: { TOLLGATE_AMI_PORT: 'fivethousand', TOLLGATE_AMI_TLS: 'maybe', TOLLGATE_HTTP_PORT: '70000' } }))).toEqual([
      'environment:-: TOLLGATE_AMI_PORT: expected a number, got "fivethousand"',
      'environment:-: TOLLGATE_AMI_TLS: expected true/false (or 1/0, yes/no), got "maybe"',
      'environment:-: TOLLGATE_HTTP_PORT: Too big: expected number to be <=65535',
    ]);
  });

  test('YAML syntax errors and duplicate keys carry their line', () => {
    const file = tempFile('broken.yaml', 'ami:\n  host: a\n  host: b\nmode: [unclosed\n');
    const found = problems(() => loadConfig({ file, env: {} }));
    expect(found.some((line) => /^broken\.yaml:3: : YAML duplicate key/.test(line))).toBe(true);
    expect(found.some((line) => /^broken\.yaml:\d+: : YAML syntax error/.test(line))).toBe(true);
  });

  test('a missing file is a clear error; the AMI secret can come from a secret file', () => {
    expect(() => loadConfig({ file: '/nonexistent/tollgate.yaml', env: {} })).toThrow(/\/nonexistent\/tollgate\.yaml: configuration file not found/);
    const secretFile = tempFile('ami-secret', 'from-a-file\n');
    const { config } = loadConfig({ env: { TOLLGATE_AMI_SECRET_FILE: secretFile } });
    expect(config.ami.secret).toBe('from-a-file');
  });

  test('a secret file that is missing or a directory says which', () => {
    expect(() => loadConfig({ env: { TOLLGATE_AMI_SECRET_FILE: '/nonexistent/ami-secret' } })).toThrow(/ami\.secretFile \/nonexistent\/ami-secret does not exist/);
    const directory = dirname(tempFile('ami-secret-dir', 'x'));
    expect(() => loadConfig({ env: { TOLLGATE_AMI_SECRET_FILE: directory } })).toThrow(/is a directory, not a file/);
  });
});
