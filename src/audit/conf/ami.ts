/**
 * The running configuration over AMI: `Action: GetConfig` with `Filename: pjsip.conf` answers
 *
 *     Category-000000: transport-udp
 *     IsTemplate-000000: 1            (templates only)
 *     Templates-000000: a,b           (sections that inherit)
 *     Line-000000-000000: type=transport
 *
 * Asterisk has already applied #include, templates and (+) additions, so values are taken as they
 * come, and their locations are GetConfig's category/line indexes, not file lines (findings say so).
 * The AMI user needs the `config` (or `system`) read class.
 */
import type { AmiField } from '../../ami/message.js';
import type { ConfFile, ConfSection } from './types.js';

/** The part of AmiClient that the reader uses (tests pass a fake). */
export interface GetConfigClient {
  action(action: string, fields: Record<string, string>): Promise<{ response: { fields: readonly AmiField[] } }>;
}

/** Converts one GetConfig answer into a ConfFile named `name`. */
export function confFromGetConfig(name: string, fields: readonly AmiField[]): ConfFile {
  const file: ConfFile = { name, path: name, sections: [], files: [name], issues: [], source: 'ami' };
  const byIndex = new Map<number, ConfSection>();
  const section = (index: number): ConfSection => {
    let found = byIndex.get(index);
    if (!found) {
      found = { name: '', at: { file: name, line: -1, amiCategory: index }, isTemplate: false, templates: [], values: [] };
      byIndex.set(index, found);
    }
    return found;
  };
  for (const [key, value] of fields) {
    let match = /^Category-(\d+)$/i.exec(key);
    if (match) {
      section(Number(match[1])).name = value;
      continue;
    }
    match = /^IsTemplate-(\d+)$/i.exec(key);
    if (match) {
      section(Number(match[1])).isTemplate = value.trim() === '1';
      continue;
    }
    match = /^Templates-(\d+)$/i.exec(key);
    if (match) {
      section(Number(match[1])).templates = value.split(',').map((item) => item.trim()).filter(Boolean);
      continue;
    }
    match = /^Line-(\d+)-(\d+)$/i.exec(key);
    if (match) {
      const category = Number(match[1]);
      const line = Number(match[2]);
      const equals = value.indexOf('=');
      const at = { file: name, line, amiCategory: category };
      if (equals < 0) {
        file.issues.push({ level: 'warning', at, message: `GetConfig line without '=': "${value}"` });
        continue;
      }
      // GetConfig prints `exten=>…` objects as `exten=>1,1,…`: the value then starts with '>'.
      const object = value[equals + 1] === '>';
      section(category).values.push({ key: value.slice(0, equals).trim(), value: value.slice(equals + (object ? 2 : 1)).trim(), op: object ? '=>' : '=', at });
    }
  }
  file.sections = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, found]) => found);
  return file;
}

/** Asks Asterisk for each file; a file Asterisk does not have (or may not show) is left out with its reason. */
export async function readConfOverAmi(client: GetConfigClient, names: readonly string[]): Promise<{ files: Map<string, ConfFile>; skipped: { name: string; reason: string }[] }> {
  const files = new Map<string, ConfFile>();
  const skipped: { name: string; reason: string }[] = [];
  for (const name of names) {
    try {
      const { response } = await client.action('GetConfig', { Filename: name });
      files.set(name, confFromGetConfig(name, response.fields));
    } catch (error) {
      skipped.push({ name, reason: (error as Error).message });
    }
  }
  return { files, skipped };
}
