/**
 * Reads Asterisk configuration files the way Asterisk's config.c does, keeping file:line for every
 * value: `;` comments, `;-- … --;` blocks (nested), `\;` escapes, `#include` / `#tryinclude`
 * (relative to the configuration directory, with globs), `[name]`, `[name](!)` templates,
 * `[name](tpl1,tpl2)` inheritance, `[name](+)` additions, `key = value` and `key => value`.
 * Several sections may share a name (PJSIP keys them by name and type), as in Asterisk.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConfFile, ConfIssue, ConfLocation, ConfSection, ConfValue } from './types.js';

export interface ReadOptions {
  /** Reads a file's text; tests may inject one. Defaults to fs.readFileSync(…, 'utf8'). */
  readText?: (file: string) => string;
}

interface State {
  etcDir: string;
  file: ConfFile;
  current: ConfSection | undefined;
  /** Open `;--` blocks (they nest). */
  commentDepth: number;
  stack: string[];
  readText: (file: string) => string;
}

/** Reads `name` (e.g. `pjsip.conf`) from `etcDir`; undefined when the file does not exist. */
export function readConfFile(etcDir: string, name: string, options: ReadOptions = {}): ConfFile | undefined {
  const top = path.join(etcDir, name);
  if (!fs.existsSync(top)) return undefined;
  const file: ConfFile = { name, path: top, sections: [], files: [], issues: [], source: 'files' };
  const state: State = { etcDir, file, current: undefined, commentDepth: 0, stack: [], readText: options.readText ?? ((f) => fs.readFileSync(f, 'utf8')) };
  parseFile(state, top, { file: top, line: 0 });
  return file;
}

/** Parses text given directly (tests, or GetConfig-less callers); includes resolve against etcDir. */
export function parseConfText(text: string, shownPath: string, etcDir = path.dirname(shownPath)): ConfFile {
  const file: ConfFile = { name: path.basename(shownPath), path: shownPath, sections: [], files: [shownPath], issues: [], source: 'files' };
  const state: State = { etcDir, file, current: undefined, commentDepth: 0, stack: [shownPath], readText: (f) => fs.readFileSync(f, 'utf8') };
  parseLines(state, text, shownPath);
  return file;
}

function parseFile(state: State, filePath: string, from: ConfLocation): void {
  if (state.stack.includes(filePath)) {
    issue(state, 'error', from, `#include loop: ${filePath} includes itself (through ${state.stack.join(' → ')})`);
    return;
  }
  let text: string;
  try {
    text = state.readText(filePath);
  } catch (error) {
    issue(state, 'error', from, `cannot read ${filePath}: ${(error as Error).message}`);
    return;
  }
  if (!state.file.files.includes(filePath)) state.file.files.push(filePath);
  state.stack.push(filePath);
  parseLines(state, text, filePath);
  state.stack.pop();
}

function parseLines(state: State, text: string, filePath: string): void {
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const at: ConfLocation = { file: filePath, line: index + 1 };
    const content = stripComments(state, lines[index]!).trim();
    if (content === '') continue;
    if (content.startsWith('#')) {
      directive(state, content, at);
      continue;
    }
    if (content.startsWith('[')) {
      category(state, content, at);
      continue;
    }
    variable(state, content, at);
  }
}

/** Removes `;` comments and `;-- --;` blocks, turning `\;` into `;`. */
function stripComments(state: State, raw: string): string {
  let out = '';
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index]!;
    if (state.commentDepth > 0) {
      if (raw.startsWith('--;', index)) {
        state.commentDepth--;
        index += 2;
      } else if (raw.startsWith(';--', index)) {
        state.commentDepth++;
        index += 2;
      }
      continue;
    }
    if (char === '\\' && raw[index + 1] === ';') {
      out += ';';
      index++;
      continue;
    }
    if (char === ';') {
      if (raw.startsWith(';--', index)) {
        state.commentDepth++;
        index += 2;
        continue;
      }
      break;
    }
    out += char;
  }
  return out;
}

function directive(state: State, content: string, at: ConfLocation): void {
  const match = /^#\s*(\w+)\s*(.*)$/.exec(content);
  const name = match?.[1]?.toLowerCase() ?? '';
  let argument = (match?.[2] ?? '').trim();
  if (name !== 'include' && name !== 'tryinclude') {
    if (name === 'exec' || name === 'tryexec') issue(state, 'warning', at, `#${name} runs a program at load time; its output was not read (audit the file it produces by hand)`);
    else issue(state, 'warning', at, `unknown directive "#${name}" ignored`);
    return;
  }
  if ((argument.startsWith('"') && argument.endsWith('"')) || (argument.startsWith('<') && argument.endsWith('>'))) argument = argument.slice(1, -1);
  if (argument === '') {
    issue(state, 'error', at, `#${name} without a file name`);
    return;
  }
  const matches = expandInclude(state.etcDir, argument);
  if (matches.length === 0) {
    if (name === 'include') issue(state, 'error', at, `#include "${argument}": no such file (Asterisk refuses to load the file; use #tryinclude for optional files)`);
    return;
  }
  for (const target of matches) parseFile(state, target, at);
}

/** Files an #include names: relative to the configuration directory, globs allowed, sorted like glob(3). */
export function expandInclude(etcDir: string, argument: string): string[] {
  let pattern = argument;
  if (path.isAbsolute(pattern) && !fs.existsSync(pattern) && !/[*?[]/.test(pattern) && pattern.startsWith('/etc/asterisk/')) {
    // A copy of /etc/asterisk audited elsewhere: absolute includes into /etc/asterisk mean this directory.
    pattern = pattern.slice('/etc/asterisk/'.length);
  }
  const full = path.isAbsolute(pattern) ? pattern : path.join(etcDir, pattern);
  if (!/[*?[]/.test(full)) return fs.existsSync(full) && fs.statSync(full).isFile() ? [full] : [];
  const parts = full.split('/');
  let bases = [parts[0] === '' ? '/' : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    if (!/[*?[]/.test(part)) {
      bases = bases.map((base) => path.join(base, part)).filter((candidate) => fs.existsSync(candidate));
      continue;
    }
    const regex = globToRegExp(part);
    const next: string[] = [];
    for (const base of bases) {
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(base).sort();
      } catch {
        continue;
      }
      for (const entry of entries) if (!entry.startsWith('.') && regex.test(entry)) next.push(path.join(base, entry));
    }
    bases = next;
  }
  return bases.filter((candidate) => fs.statSync(candidate).isFile());
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = glob.indexOf(']', index + 1);
      if (end < 0) source += '\\[';
      else {
        source += `[${glob.slice(index + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        index = end;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function category(state: State, content: string, at: ConfLocation): void {
  const close = content.indexOf(']');
  if (close < 0) {
    issue(state, 'error', at, `parse error: no closing ']' in "${content}"`);
    return;
  }
  const name = content.slice(1, close).trim();
  const rest = content.slice(close + 1).trim();
  let isTemplate = false;
  let append = false;
  const templates: string[] = [];
  if (rest !== '') {
    const options = /^\((.*)\)$/.exec(rest);
    if (!options) {
      issue(state, 'warning', at, `text after [${name}] ignored: "${rest}"`);
    } else {
      for (const option of options[1]!.split(',').map((item) => item.trim()).filter(Boolean)) {
        if (option === '!') isTemplate = true;
        else if (option === '+') append = true;
        else templates.push(option);
      }
    }
  }
  if (append) {
    const existing = [...state.file.sections].reverse().find((section) => section.name === name);
    if (!existing) {
      issue(state, 'error', at, `[${name}](+): category addition requested, but no earlier [${name}] exists`);
      state.current = undefined;
      return;
    }
    state.current = existing;
    return;
  }
  const section: ConfSection = { name, at, isTemplate, templates, values: [] };
  for (const templateName of templates) {
    const template = [...state.file.sections].reverse().find((candidate) => candidate.name === templateName);
    if (!template) {
      issue(state, 'error', at, `[${name}](${templates.join(',')}): inheritance from "${templateName}" requested, but no earlier [${templateName}] exists`);
      continue;
    }
    for (const value of template.values) section.values.push({ ...value, inheritedFrom: value.inheritedFrom ?? templateName });
  }
  state.file.sections.push(section);
  state.current = section;
}

function variable(state: State, content: string, at: ConfLocation): void {
  const equals = content.indexOf('=');
  if (equals < 0) {
    issue(state, 'warning', at, `no '=' in "${content}" (Asterisk ignores the line)`);
    return;
  }
  if (!state.current) {
    issue(state, 'error', at, `parse error: "${content}" is not inside a [section]`);
    return;
  }
  const key = content.slice(0, equals).trim();
  const object = content[equals + 1] === '>';
  const value = content.slice(equals + (object ? 2 : 1)).trim();
  const entry: ConfValue = { key, value, op: object ? '=>' : '=', at };
  state.current.values.push(entry);
}

function issue(state: State, level: ConfIssue['level'], at: ConfLocation, message: string): void {
  state.file.issues.push({ level, at, message });
}
