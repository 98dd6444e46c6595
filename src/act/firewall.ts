/**
 * The firewall hook: hands an attacking address to the admin's own command (`ipset add tollgate
 * {ip}`, `fail2ban-client set asterisk banip {ip}`, a script calling the router's API …).
 *
 * The address is validated (a real IPv4/IPv6 address, not on the never-block list, never loopback)
 * and passed as one argument to execFile — there is no shell, so nothing in it can be interpreted.
 * The command has a timeout; its exit code and output are returned for the audit trail.
 */
import { execFile } from 'node:child_process';
import { AddressList, formatCidr, normaliseIp, parseCidr, type CidrBlock } from '../net/cidr.js';

export interface FirewallHookOptions {
  /** Program and arguments; every `{ip}` is replaced by the address. Empty: no hook. */
  command: readonly string[];
  /** @default 10000 */
  timeoutMs?: number;
  /** Addresses / CIDR blocks never handed over (the office, the SBC, the carrier). Loopback always is. */
  neverBlock?: readonly string[];
}

export interface FirewallResult {
  ok: boolean;
  /** Nothing was attempted on purpose (no hook configured, a spared address): not a failure. */
  skipped?: boolean;
  /** What happened, in a sentence (for the audit trail and the mail). */
  detail: string;
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  durationMs: number;
}

const ALWAYS_SPARED = ['127.0.0.0/8', '::1/128'];
const OUTPUT_LIMIT = 2000;

export class FirewallHook {
  private readonly spared: AddressList;
  private readonly timeoutMs: number;

  constructor(private readonly options: FirewallHookOptions) {
    const blocks: CidrBlock[] = [];
    for (const text of [...ALWAYS_SPARED, ...(options.neverBlock ?? [])]) {
      const block = parseCidr(text);
      if (!block) throw new Error(`firewall.neverBlock: "${text}" is not an address or CIDR block`);
      blocks.push(block);
    }
    this.spared = new AddressList(blocks);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  get configured(): boolean {
    return this.options.command.length > 0;
  }

  /** The command line that would run for `ip` (for dry runs and the mail's undo hint). */
  commandFor(ip: string): string[] {
    return this.options.command.map((part) => part.replaceAll('{ip}', ip));
  }

  async block(address: string): Promise<FirewallResult> {
    const started = Date.now();
    const elapsed = (): number => Date.now() - started;
    if (!this.configured) return { ok: false, skipped: true, detail: 'no firewall hook configured (firewall.command): nothing was blocked', durationMs: 0 };
    const ip = normaliseIp(address);
    if (!ip) return { ok: false, detail: `refused to hand "${address}" to the firewall: not an IP address`, durationMs: elapsed() };
    const spared = this.spared.match(ip);
    if (spared) return { ok: false, skipped: true, detail: `${ip} is on the never-block list (${formatCidr(spared)}): not handed to the firewall`, durationMs: elapsed() };
    const [program, ...args] = this.commandFor(ip);
    return new Promise((resolve) => {
      execFile(program!, args, { timeout: this.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, shell: false }, (error, stdout, stderr) => {
        const result: FirewallResult = { ok: !error, detail: '', durationMs: elapsed(), stdout: stdout.slice(0, OUTPUT_LIMIT), stderr: stderr.slice(0, OUTPUT_LIMIT) };
        const commandLine = [program, ...args].join(' ');
        if (!error) {
          result.exitCode = 0;
          result.detail = `handed ${ip} to the firewall: \`${commandLine}\` succeeded in ${result.durationMs} ms`;
        } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          result.detail = `firewall hook failed: ${program} not found (firewall.command)`;
        } else if (error.killed) {
          result.detail = `firewall hook \`${commandLine}\` did not finish within ${this.timeoutMs} ms and was killed`;
        } else {
          result.exitCode = typeof error.code === 'number' ? error.code : null;
          result.detail = `firewall hook \`${commandLine}\` failed (exit ${String(error.code)}): ${stderr.trim().split('\n')[0] ?? ''}`.trim();
        }
        resolve(result);
      });
    });
  }
}
