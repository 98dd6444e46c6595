/**
 * Asterisk extension patterns (`_1XXX`, `_NXXNXXXXXX`, `_9011.`), compiled to anchored regular
 * expressions. Syntax as in Asterisk's dialplan:
 *   X = 0-9, Z = 1-9, N = 2-9, [15-7] = a set (ranges allowed), `.` = one or more of anything,
 *   `!` = zero or more of anything; digits, `*`, `#` and `+` are literal. The leading `_` that Asterisk
 *   needs to tell a pattern from a literal extension is optional here: every entry is a pattern.
 */
export type CompiledPattern = { ok: true; regex: RegExp } | { ok: false; error: string };

export function compileExtensionPattern(pattern: string): CompiledPattern {
  const body = pattern.startsWith('_') ? pattern.slice(1) : pattern;
  if (body.length === 0) return { ok: false, error: 'empty pattern' };
  let source = '';
  for (let index = 0; index < body.length; index++) {
    const char = body[index]!;
    switch (char.toUpperCase()) {
      case 'X':
        source += '[0-9]';
        break;
      case 'Z':
        source += '[1-9]';
        break;
      case 'N':
        source += '[2-9]';
        break;
      case '.':
        // Asterisk's `.` and `!` are the only wildcards and must end the pattern to be meaningful.
        if (index !== body.length - 1) return { ok: false, error: `'.' must be the last character of "${pattern}"` };
        source += '.+';
        break;
      case '!':
        if (index !== body.length - 1) return { ok: false, error: `'!' must be the last character of "${pattern}"` };
        source += '.*';
        break;
      case '[': {
        const close = body.indexOf(']', index + 1);
        if (close < 0) return { ok: false, error: `unclosed '[' in "${pattern}"` };
        const set = body.slice(index + 1, close);
        if (!/^(?:[0-9]-[0-9]|[0-9*#])+$/.test(set)) {
          return { ok: false, error: `bad character set "[${set}]" in "${pattern}"` };
        }
        for (const range of set.matchAll(/([0-9])-([0-9])/g)) {
          if (range[1]! > range[2]!) return { ok: false, error: `reversed range "${range[0]}" in "${pattern}"` };
        }
        source += `[${set.replace(/[*#]/g, '\\$&')}]`;
        index = close;
        break;
      }
      default:
        if (/^[0-9*#+]$/.test(char)) source += char === '*' || char === '+' ? `\\${char}` : char;
        else return { ok: false, error: `unsupported character '${char}' in "${pattern}"` };
    }
  }
  return { ok: true, regex: new RegExp(`^${source}$`) };
}
