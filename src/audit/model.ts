/**
 * Who can place calls, as the channel drivers see it: PJSIP endpoints (pjsip.conf and
 * pjsip_wizard.conf), chan_sip peers (sip.conf) and IAX2 users (iax.conf), each with its context,
 * how it authenticates, and whether it is a trunk (a provider: identified by address, a static
 * contact or a host) — the inputs of the checks and of the dialplan graph's entry points.
 */
import { get, getAll, isFalse, isTrue, type AsteriskConfig, type ConfFile, type ConfLocation, type ConfSection, type ConfValue } from './conf/index.js';

export interface Credential {
  /** User name the secret goes with (auth `username`, the peer name, …). */
  username: string;
  usernameAt?: ConfLocation;
  secret: ConfValue;
}

/** A secret with the user name it goes with: the configured one where it is set, else the section's name. */
function credential(username: ConfValue | undefined, sectionName: string, secret: ConfValue): Credential {
  return { username: username?.value ?? sectionName, ...(username ? { usernameAt: username.at } : {}), secret };
}

export interface Endpoint {
  tech: 'PJSIP' | 'SIP' | 'IAX2';
  name: string;
  file: ConfFile;
  section: ConfSection;
  /** Context calls from it land in (driver default applied), and where that was set. */
  context: string;
  contextAt: ConfLocation;
  /** Inbound authentication configured (a password, md5 secret or RSA keys). */
  authenticated: boolean;
  /** A provider / trunk: calls from it come from the outside world. */
  trunk: boolean;
  /** Human description of how it is reached without a password, when it is. */
  openBecause?: string;
  credentials: Credential[];
  /** PJSIP `identify` match values / chan_sip `insecure`: kept for the checks. */
  identifies: ConfValue[];
}

const typeOf = (section: ConfSection): string => get(section, 'type')?.value.toLowerCase() ?? '';

function sectionsOfType(file: ConfFile | undefined, type: string): ConfSection[] {
  return file ? file.sections.filter((section) => !section.isTemplate && typeOf(section) === type) : [];
}

const names = (value: ConfValue | undefined): string[] => (value ? value.value.split(',').map((item) => item.trim()).filter(Boolean) : []);

export function endpoints(config: AsteriskConfig): Endpoint[] {
  return [...pjsipEndpoints(config.files.get('pjsip.conf')), ...wizardEndpoints(config.files.get('pjsip_wizard.conf')), ...sipPeers(config.files.get('sip.conf')), ...iaxUsers(config.files.get('iax.conf'))];
}

function pjsipEndpoints(file: ConfFile | undefined): Endpoint[] {
  if (!file) return [];
  const auths = sectionsOfType(file, 'auth');
  const aors = sectionsOfType(file, 'aor');
  const identifies = sectionsOfType(file, 'identify');
  const out: Endpoint[] = [];
  for (const section of sectionsOfType(file, 'endpoint')) {
    const credentials: Credential[] = [];
    let authenticated = false;
    for (const authName of names(get(section, 'auth'))) {
      const auth = auths.find((candidate) => candidate.name === authName);
      if (!auth) continue;
      const password = get(auth, 'password');
      const md5 = get(auth, 'md5_cred');
      if (password?.value || md5?.value) authenticated = true;
      const username = get(auth, 'username');
      if (password?.value) credentials.push(credential(username, auth.name, password));
    }
    const myAors = names(get(section, 'aors')).flatMap((aorName) => aors.filter((aor) => aor.name === aorName));
    const staticContact = myAors.some((aor) => getAll(aor, 'contact').length > 0);
    const matches = identifies.filter((identify) => get(identify, 'endpoint')?.value === section.name).flatMap((identify) => [...getAll(identify, 'match'), ...getAll(identify, 'match_header')]);
    const trunk = matches.length > 0 || staticContact || get(section, 'outbound_auth') !== undefined;
    const context = get(section, 'context');
    const endpoint: Endpoint = { tech: 'PJSIP', name: section.name, file, section, context: context?.value || 'default', contextAt: context?.at ?? section.at, authenticated, trunk, credentials, identifies: matches };
    if (!authenticated) {
      endpoint.openBecause = section.name.toLowerCase() === 'anonymous'
        ? 'it is the anonymous endpoint: requests no other endpoint claims land on it'
        : matches.length > 0
          ? `it has no inbound auth; requests matching its identify (${matches.map((match) => match.value).join(', ')}) land on it`
          : 'it has no inbound auth: any request naming it (From user) is taken for it';
    }
    out.push(endpoint);
  }
  return out;
}

function wizardEndpoints(file: ConfFile | undefined): Endpoint[] {
  if (!file) return [];
  const out: Endpoint[] = [];
  for (const section of sectionsOfType(file, 'wizard')) {
    const acceptsAuth = isTrue(get(section, 'accepts_auth')?.value);
    const password = get(section, 'inbound_auth/password');
    const username = get(section, 'inbound_auth/username');
    const remoteHosts = get(section, 'remote_hosts');
    const context = get(section, 'endpoint/context') ?? get(section, 'context');
    const authenticated = acceptsAuth && Boolean(password?.value || get(section, 'inbound_auth/md5_cred')?.value);
    const credentials: Credential[] = acceptsAuth && password?.value ? [credential(username, section.name, password)] : [];
    const endpoint: Endpoint = {
      tech: 'PJSIP',
      name: section.name,
      file,
      section,
      context: context?.value || 'default',
      contextAt: context?.at ?? section.at,
      authenticated,
      trunk: remoteHosts !== undefined || isTrue(get(section, 'sends_auth')?.value),
      credentials,
      identifies: remoteHosts && !isTrue(get(section, 'accepts_registrations')?.value) ? [remoteHosts] : [],
    };
    if (!authenticated) endpoint.openBecause = remoteHosts ? `it has no inbound auth (accepts_auth); requests from its remote_hosts (${remoteHosts.value}) land on it` : 'it has no inbound auth (accepts_auth is not yes): any request naming it is taken for it';
    out.push(endpoint);
  }
  return out;
}

function isDynamic(host: ConfValue | undefined): boolean {
  return !host || host.value.toLowerCase() === 'dynamic';
}

function sipPeers(file: ConfFile | undefined): Endpoint[] {
  if (!file) return [];
  const general = file.sections.find((section) => section.name.toLowerCase() === 'general');
  const generalContext = general ? get(general, 'context') : undefined;
  const out: Endpoint[] = [];
  for (const section of file.sections) {
    if (section.isTemplate || ['general', 'authentication'].includes(section.name.toLowerCase())) continue;
    const secret = get(section, 'secret');
    const md5 = get(section, 'md5secret');
    const insecure = get(section, 'insecure');
    const insecureInvite = insecure !== undefined && /invite|very|yes/i.test(insecure.value);
    const context = get(section, 'context') ?? generalContext;
    const host = get(section, 'host');
    const authenticated = Boolean(secret?.value || md5?.value) && !insecureInvite;
    const username = get(section, 'defaultuser') ?? get(section, 'username');
    const endpoint: Endpoint = {
      tech: 'SIP',
      name: section.name,
      file,
      section,
      context: context?.value || 'default',
      contextAt: context?.at ?? section.at,
      authenticated,
      trunk: !isDynamic(host),
      credentials: secret?.value ? [credential(username, section.name, secret)] : [],
      identifies: insecure ? [insecure] : [],
    };
    if (!authenticated) endpoint.openBecause = insecureInvite ? `insecure=${insecure!.value}: INVITEs from its host are taken without a password` : 'it has no secret: calls claiming to be it are taken without a password';
    out.push(endpoint);
  }
  return out;
}

function iaxUsers(file: ConfFile | undefined): Endpoint[] {
  if (!file) return [];
  const general = file.sections.find((section) => section.name.toLowerCase() === 'general');
  const generalContext = general ? get(general, 'context') : undefined;
  const out: Endpoint[] = [];
  for (const section of file.sections) {
    if (section.isTemplate || ['general', 'callnumberlimits', 'guest-defaults'].includes(section.name.toLowerCase())) continue;
    const type = typeOf(section);
    if (type !== 'user' && type !== 'friend') continue; // type=peer only places calls out
    const secret = get(section, 'secret');
    const authenticated = Boolean(secret?.value || get(section, 'dbsecret')?.value || get(section, 'inkeys')?.value);
    const context = get(section, 'context') ?? generalContext;
    const username = get(section, 'username');
    const endpoint: Endpoint = {
      tech: 'IAX2',
      name: section.name,
      file,
      section,
      context: context?.value || 'default',
      contextAt: context?.at ?? section.at,
      authenticated,
      trunk: !isDynamic(get(section, 'host')),
      credentials: secret?.value ? [credential(username, section.name, secret)] : [],
      identifies: [],
    };
    if (!authenticated) endpoint.openBecause = section.name.toLowerCase() === 'guest' ? 'it is the IAX2 guest user: any caller that names no user lands on it' : 'it has no secret: calls naming it are taken without a password';
    out.push(endpoint);
  }
  return out;
}

/** chan_sip guests: `allowguest` (default yes) sends unauthenticated calls to [general] context. */
export function sipGuest(config: AsteriskConfig): { at: ConfLocation; context: string; contextAt: ConfLocation; explicit: boolean } | undefined {
  const file = config.files.get('sip.conf');
  if (!file) return undefined;
  const general = file.sections.find((section) => section.name.toLowerCase() === 'general');
  const allow = general ? get(general, 'allowguest') : undefined;
  if (isFalse(allow?.value)) return undefined;
  const context = general ? get(general, 'context') : undefined;
  const at = allow?.at ?? general?.at ?? { file: file.path, line: 1 };
  return { at, context: context?.value || 'default', contextAt: context?.at ?? at, explicit: allow !== undefined };
}
