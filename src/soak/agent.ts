/**
 * The agent under soak: `node dist/cli.js run` as a child process, its JSON log kept (the lines the
 * soak reads: logins, reloads, decisions), its resident memory read from /proc, and the signals an
 * admin or a crash would send (SIGHUP, SIGKILL, SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { packagePath } from '../paths.js';

export interface AgentLine {
  msg?: string;
  time?: string;
  [key: string]: unknown;
}

export class AgentProcess {
  readonly lines: AgentLine[] = [];
  private readonly child: ChildProcess;
  private buffer = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(configFile: string, options: { maxLines?: number } = {}) {
    const maxLines = options.maxLines ?? 50_000;
    this.child = spawn(process.execPath, [packagePath('dist', 'cli.js'), 'run', '--config', configFile], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exit = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    const read = (chunk: Buffer): void => {
      this.buffer += chunk.toString();
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop()!;
      for (const line of lines) {
        if (!line) continue;
        try {
          this.lines.push(JSON.parse(line) as AgentLine);
        } catch {
          this.lines.push({ msg: line });
        }
      }
      // Bounded: a soak must not grow its own memory with the agent's log.
      if (this.lines.length > maxLines) this.lines.splice(0, this.lines.length - maxLines);
    };
    this.child.stdout!.on('data', read);
    this.child.stderr!.on('data', read);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resident memory in bytes (Linux /proc), or undefined once it exited. */
  rss(): number | undefined {
    if (!this.running || this.pid === undefined) return undefined;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : undefined;
    } catch {
      return undefined;
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.signal(signal);
    return this.exit;
  }
}
