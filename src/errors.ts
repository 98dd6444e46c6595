/** Base class for errors Tollgate reports to the user: the message says what happened and what to change. */
export class TollgateError extends Error {
  override name = 'TollgateError';
}

/** A configuration or policy file problem, located as precisely as we can (file, line, key). */
export class ConfigError extends TollgateError {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly file?: string,
    readonly line?: number,
    readonly key?: string,
  ) {
    super(formatLocation(file, line, key) + message);
  }
}

export function formatLocation(file?: string, line?: number, key?: string): string {
  if (!file && !key) return '';
  const where = [file, line !== undefined ? String(line) : undefined].filter(Boolean).join(':');
  return `${where}${key ? `${where ? ': ' : ''}${key}` : ''}: `;
}
