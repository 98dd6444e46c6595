/**
 * Logging. pino, JSON lines on stderr (stdout stays free for command output such as `replay`).
 * Parts receive a `Logger` in their deps; nothing logs through a module-level instance.
 */
import { pino } from 'pino';

export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  fatal(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
  /** pino's: lets a hot path skip building fields for a level that is off. */
  isLevelEnabled?(level: LogLevel): boolean;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export function createLogger(level: LogLevel = 'info', destination: NodeJS.WritableStream | number = 2): Logger {
  const stream = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      level,
      base: { app: 'tollgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Belt and braces: even if a secret lands in a log object by mistake, it is not written.
      redact: { paths: ['secret', 'password', 'pass', '*.secret', '*.password', '*.pass', 'smtp.url', 'auth'], censor: '[redacted]' },
    },
    stream as pino.DestinationStream,
  );
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return silentLogger;
  },
};

/** Records entries in memory so tests can assert what was logged (and that secrets were not). */
export class MemoryLogger implements Logger {
  readonly entries: { level: string; msg?: string; obj: object | string; bindings: Record<string, unknown> }[];

  constructor(
    private readonly bindings: Record<string, unknown> = {},
    entries?: MemoryLogger['entries'],
  ) {
    this.entries = entries ?? [];
  }

  trace(obj: object | string, msg?: string): void {
    this.push('trace', obj, msg);
  }
  debug(obj: object | string, msg?: string): void {
    this.push('debug', obj, msg);
  }
  info(obj: object | string, msg?: string): void {
    this.push('info', obj, msg);
  }
  warn(obj: object | string, msg?: string): void {
    this.push('warn', obj, msg);
  }
  error(obj: object | string, msg?: string): void {
    this.push('error', obj, msg);
  }
  fatal(obj: object | string, msg?: string): void {
    this.push('fatal', obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new MemoryLogger({ ...this.bindings, ...bindings }, this.entries);
  }

  /** Everything logged, as one string (for "the secret never appears" assertions). */
  text(): string {
    return this.entries.map((entry) => JSON.stringify(entry)).join('\n');
  }

  private push(level: string, obj: object | string, msg?: string): void {
    this.entries.push({ level, obj, bindings: this.bindings, ...(msg !== undefined ? { msg } : typeof obj === 'string' ? { msg: obj } : {}) });
  }
}
