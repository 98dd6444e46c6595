/**
 * Endpoint profiles: what is learnt from contacts and calls, the usual day, the bounds, and the
 * round trip through the real SQLite store (migration 3) that a restart relies on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAll } from '../../../src/ami/codec.js';
import { readFileSync } from 'node:fs';
import { Normaliser } from '../../../src/calls/normalise.js';
import type { ContactEvent } from '../../../src/calls/events.js';
import { endpointProfile, formatProfile } from '../../../src/commands/profile.js';
import { habitBlocks } from '../../../src/act/mail/digest-habits.js';
import { EndpointProfiles } from '../../../src/profile/profile.js';
import { loadUserAgentLists, parseUserAgentList } from '../../../src/profile/user-agents.js';
import { packagePath } from '../../../src/paths.js';
import { Store } from '../../../src/store/store.js';
import { fixturePath } from '../../helpers/fixtures.js';

const DAY = 86_400_000;
const WED = Date.parse('2026-11-18T10:00:00Z');

function contact(endpoint: string, userAgent: string, ip: string, at: number): ContactEvent {
  return { type: 'contact', at, service: 'PJSIP', endpoint, uri: `sip:${endpoint}@${ip}:5060`, userAgent, ip, callId: `${endpoint}-${at}`, status: 'NonQualified' };
}

describe('contact listings from Asterisk 22', () => {
  test('ContactList items become contact events with User-Agent, Via address, Call-ID and expiry', () => {
    const normaliser = new Normaliser();
    const messages = decodeAll(readFileSync(fixturePath('ami', 'registrations-user-agents.ami'))).flatMap((frame) => (frame.type === 'message' ? [frame.message] : []));
    const events = messages.filter((message) => message.name === 'ContactList' && message.actionId === 'capture-3').map((message) => normaliser.normalise(message, 1));
    expect(events).toEqual([
      { type: 'contact', at: 1, service: 'PJSIP', endpoint: '1001', uri: 'sip:1001@127.0.0.1:5071', userAgent: 'Yealink SIP-T46S 66.86.0.15', ip: '127.0.0.1', port: 5071, callId: '1-16200@127.0.0.1', expiresAt: 1796464855000, status: 'NonQualified' },
      { type: 'contact', at: 1, service: 'PJSIP', endpoint: '1001', uri: 'sip:1001@127.0.1.1:5071', userAgent: 'Yealink SIP-T46S 66.86.0.15', ip: '127.0.1.1', port: 5071, callId: '1-16284@127.0.1.1', expiresAt: 1796464858000, status: 'NonQualified' },
    ]);
  });
});

describe('learning', () => {
  test('User-Agents, countries, hours and weekdays with first and last seen; the current contact; a removal ends it', () => {
    const profiles = new EndpointProfiles({ timezone: 'Europe/Berlin' });
    profiles.observe(contact('1001', 'Yealink T46S', '198.51.100.10', WED), WED);
    profiles.learnCall({ linkedid: 'a', endpoint: '1001', at: WED, international: true, country: 'GB' });
    profiles.learnCall({ linkedid: 'a', endpoint: '1001', at: WED, international: true, country: 'GB' });
    profiles.learnCall({ linkedid: 'b', endpoint: '1001', at: WED + DAY, international: true, country: 'GB' });
    expect(profiles.known('1001', 'country', 'GB')).toMatchObject({ firstSeen: WED, lastSeen: WED + DAY, count: 2 });
    expect(profiles.known('1001', 'hour', '11')).toBeDefined(); // 10:00 UTC is 11:00 in Berlin
    expect(profiles.valuesOf('1001', 'weekday').map((value) => value.value)).toEqual(['thu', 'wed']);
    expect(profiles.contactOf('1001')).toMatchObject({ userAgent: 'Yealink T46S', address: '198.51.100.10' });
    expect(profiles.today('1001', WED)).toMatchObject({ day: '2026-11-18', calls: 1, international: 1 });
    profiles.observe({ type: 'registration', at: WED, service: 'PJSIP', endpoint: '1001', status: 'Removed', ip: '198.51.100.10' }, WED);
    expect(profiles.contactOf('1001')).toBeUndefined();
  });

  test('the usual day counts the days since the endpoint was first seen, quiet days included, today excluded', () => {
    const profiles = new EndpointProfiles();
    for (let day = 0; day < 4; day++) profiles.learnCall({ linkedid: `c${day}`, endpoint: '1001', at: WED + day * 2 * DAY, international: true, country: 'DE' });
    profiles.learnSpend('1001', WED, 2_000_000);
    // Days 0, 2, 4, 6 called; asked on day 8: 8 days observed, 4 calls.
    expect(profiles.norm('1001', WED + 8 * DAY, 28)).toEqual({ days: 8, callsPerDay: 0.5, internationalPerDay: 0.5, internationalMicrosPerDay: 250_000 });
    expect(profiles.learning(WED + 6 * DAY, 7 * DAY)).toBe(true);
    expect(profiles.learning(WED + 7 * DAY, 7 * DAY)).toBe(false);
  });

  test('bounded per endpoint: the least recently seen User-Agent goes first', () => {
    const profiles = new EndpointProfiles();
    for (let index = 0; index < 20; index++) profiles.observe(contact('1001', `agent-${index}`, '198.51.100.10', WED + index), WED + index);
    const agents = profiles.valuesOf('1001', 'user-agent').map((value) => value.value);
    expect(agents).toHaveLength(16);
    expect(agents).not.toContain('agent-0');
    expect(agents).toContain('agent-19');
  });

  test('what is not seen for 90 days is forgotten', () => {
    const profiles = new EndpointProfiles();
    profiles.observe(contact('1001', 'Old Phone', '198.51.100.10', WED), WED);
    profiles.observe(contact('1001', 'New Phone', '198.51.100.10', WED + 91 * DAY), WED + 91 * DAY);
    expect(profiles.known('1001', 'user-agent', 'Old Phone')).toBeUndefined();
    expect(profiles.known('1001', 'user-agent', 'New Phone')).toBeDefined();
  });
});

describe('persistence and reading it back', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-profile-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('drained changes saved in one transaction come back after a restart; the CLI and the digest read them', () => {
    const file = join(dir, 'tollgate.db');
    const profiles = new EndpointProfiles({ since: WED });
    profiles.observe(contact('1001', 'Yealink T46S', '198.51.100.10', WED), WED);
    profiles.learnCall({ linkedid: 'a', endpoint: '1001', at: WED, international: true, country: 'GB' });
    profiles.learnSpend('1001', WED, 1_500_000);
    const store = new Store(file);
    const changes = profiles.drainChanges();
    store.saveProfiles(changes.values, changes.days);
    expect(profiles.drainChanges()).toEqual({ values: [], days: [] });
    store.setMeta('profiles.since', String(WED));
    store.saveAddresses([{ endpoint: '1001', network: '198.51.100.0/24', address: '198.51.100.10', firstSeen: WED, lastSeen: WED, via: 'registration', trusted: false }]);
    store.close();

    const reopened = new Store(file);
    const restored = new EndpointProfiles();
    restored.restore(reopened.profileValues(), reopened.profileDays(), WED);
    expect(restored.known('1001', 'country', 'GB')).toMatchObject({ firstSeen: WED, count: 1 });
    expect(restored.today('1001', WED)).toMatchObject({ calls: 1, international: 1, internationalMicros: 1_500_000 });
    const news = reopened.profileNews(WED - 1000, WED + DAY);
    expect(news.map((item) => `${item.facet} ${item.value}`).sort()).toEqual(['address 198.51.100.10 (198.51.100.0/24)', 'country GB', 'user-agent Yealink T46S']);
    expect(habitBlocks(news)[1]).toEqual({ type: 'table', head: ['Endpoint', 'new networks', 'new User-Agents', 'new countries called'], rows: [['1001', '198.51.100.10 (198.51.100.0/24)', 'Yealink T46S', 'GB']] });
    expect(reopened.forgetProfiles(WED + 91 * DAY, '2026-12-31')).toBe(5); // 4 values + 1 day
    reopened.close();

    const report = endpointProfile(file, '1001');
    expect(report).toMatchObject({ endpoint: '1001', learningSince: '2026-11-18T10:00:00.000Z', addresses: [{ network: '198.51.100.0/24', address: '198.51.100.10' }] });
    expect(formatProfile(endpointProfile(file, '1002'))).toEqual(['nothing learnt about 1002 yet (learning since 2026-11-18T10:00:00.000Z)']);
  });
});

describe('scanner User-Agents', () => {
  test('the shipped list matches scanners case-insensitively by substring, never a phone', () => {
    const list = loadUserAgentLists(packagePath('policies', 'lists', 'user-agents'));
    expect(list.match('friendly-scanner')?.tool).toMatch(/SIPVicious/);
    expect(list.match('SIPVicious 0.3.4')?.match).toBe('sipvicious');
    expect(list.match('vaxsipuseragent/3.1')?.match).toBe('VaxSIPUserAgent');
    for (const phone of ['Yealink SIP-T46S 66.86.0.15', 'Grandstream GXP2160 1.0.11.3', 'Zoiper rv2.10.20.2', 'Linphone/5.2.0', 'MicroSIP/3.21.3', 'Asterisk PBX 22.10.1']) expect(list.match(phone)).toBeUndefined();
    for (const entry of list.entries) expect(entry.source).toMatch(/\[/);
  });

  test('a bad list says which entry and what to write', () => {
    expect(() => parseUserAgentList('entries:\n  - { match: ab, tool: x }\n', 'bad.yaml')).toThrow(/entries\[0\]\.match: a User-Agent substring of 3 characters or more/);
    expect(() => parseUserAgentList('entries:\n  - { match: scanner, tool: x, colour: red }\n', 'bad.yaml')).toThrow(/unknown key `colour`/);
  });
});
