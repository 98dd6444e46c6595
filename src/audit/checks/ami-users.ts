import type { AsteriskConfig, ConfSection } from '../conf/index.js';

/** manager.conf sections that are users (everything but [general]). */
export function amiUsers(config: AsteriskConfig): ConfSection[] {
  const file = config.files.get('manager.conf');
  return file ? file.sections.filter((section) => !section.isTemplate && section.name.toLowerCase() !== 'general') : [];
}
