/** The model of a read Asterisk configuration: sections with every value's origin (file:line). */

/** Where a value came from. For `--ami`, `file` is the Asterisk file name and `line` the GetConfig line index. */
export interface ConfLocation {
  /** Path as shown to the admin (the --etc directory joined with the file), or the bare file name over AMI. */
  file: string;
  /** 1-based line in `file`; over AMI, the 0-based `Line-<category>-<line>` index of GetConfig (-1: the category itself). */
  line: number;
  /** Set when read over AMI: GetConfig's category index (`Category-000003`). */
  amiCategory?: number;
}

export interface ConfValue {
  key: string;
  value: string;
  /** `=>` (object) or `=` (plain); Asterisk treats both the same for most files. */
  op: '=' | '=>';
  at: ConfLocation;
  /** Name of the template the value was copied from, when inherited. */
  inheritedFrom?: string;
}

export interface ConfSection {
  name: string;
  at: ConfLocation;
  /** Declared with `(!)`: a template, not an object of its own. */
  isTemplate: boolean;
  /** Templates named in `(a,b)`, in order. */
  templates: string[];
  /** Inherited values first (in template order), then the section's own, then `(+)` additions. */
  values: ConfValue[];
}

export interface ConfIssue {
  level: 'error' | 'warning';
  at: ConfLocation;
  message: string;
}

export interface ConfFile {
  /** Asterisk's name for the file, e.g. `pjsip.conf`. */
  name: string;
  /** Path of the top file as shown, or the name over AMI. */
  path: string;
  sections: ConfSection[];
  /** Every file read for it (the top file and its includes). */
  files: string[];
  issues: ConfIssue[];
  source: 'files' | 'ami';
}

/** Last value of `key` (case-insensitive), or undefined. */
export function get(section: ConfSection, key: string): ConfValue | undefined {
  const lower = key.toLowerCase();
  for (let index = section.values.length - 1; index >= 0; index--) {
    if (section.values[index]!.key.toLowerCase() === lower) return section.values[index];
  }
  return undefined;
}

export function getAll(section: ConfSection, key: string): ConfValue[] {
  const lower = key.toLowerCase();
  return section.values.filter((value) => value.key.toLowerCase() === lower);
}

/** Non-template sections with that name (case-insensitive). */
export function sectionsNamed(file: ConfFile | undefined, name: string): ConfSection[] {
  if (!file) return [];
  const lower = name.toLowerCase();
  return file.sections.filter((section) => !section.isTemplate && section.name.toLowerCase() === lower);
}

/** Asterisk's ast_true(): yes, true, y, t, 1, on. */
export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(yes|true|y|t|1|on)$/i.test(value.trim());
}

/** Asterisk's ast_false(): no, false, n, f, 0, off. */
export function isFalse(value: string | undefined): boolean {
  return value !== undefined && /^(no|false|n|f|0|off)$/i.test(value.trim());
}

export function formatLocation(at: ConfLocation): string {
  if (at.amiCategory !== undefined) {
    return at.line < 0 ? `${at.file} (running config, GetConfig category ${at.amiCategory})` : `${at.file} (running config, GetConfig category ${at.amiCategory} line ${at.line})`;
  }
  return `${at.file}:${at.line}`;
}
