import { AmiMessage } from '../../../src/ami/message.js';
import { Normaliser } from '../../../src/calls/normalise.js';
import type { DomainEvent } from '../../../src/calls/events.js';
import { AddressMemory } from '../../../src/profile/addresses.js';
import { captureEvents } from '../../helpers/feed.js';

const DAY = 86_400_000;
const judgement = { learningMs: 7 * DAY, settleMs: 7 * DAY };
const normaliser = new Normaliser();

function event(fields: Record<string, string>, at = 0): DomainEvent {
  const normalised = normaliser.normalise(AmiMessage.from(fields), at);
  if (!normalised) throw new Error(`not normalised: ${JSON.stringify(fields)}`);
  return normalised;
}

const login = (account: string, address: string, service = 'PJSIP') =>
  event({ Event: 'SuccessfulAuth', Severity: 'Informational', Service: service, AccountID: account, SessionID: 'x@y', RemoteAddress: `IPV4/UDP/${address}/5060`, LocalAddress: 'IPV4/UDP/192.0.2.1/5060' });
const failure = (account: string, address: string) =>
  event({ Event: 'ChallengeResponseFailed', Severity: 'Error', Service: 'PJSIP', AccountID: account, SessionID: 'x@y', RemoteAddress: `IPV4/UDP/${address}/5060` });

describe('registration events', () => {
  test('PJSIP ContactStatus from the real brute-force capture names the endpoint and the address it registered from', () => {
    const contacts = captureEvents('register-bruteforce.ami').filter((message) => message.name === 'ContactStatus');
    expect(contacts.length).toBeGreaterThan(0);
    expect(normaliser.normalise(contacts[0]!, 5)).toEqual({ type: 'registration', at: 5, service: 'PJSIP', endpoint: '1001', status: 'NonQualified', uri: 'sip:1001@127.0.0.1:5071', ip: '127.0.0.1', port: 5071 });
  });

  test('IPv6 contacts, host names and chan_sip PeerStatus', () => {
    expect(event({ Event: 'ContactStatus', URI: 'sip:1002@[2001:db8::7]:5062;transport=udp', ContactStatus: 'Created', AOR: '1002', EndpointName: '1002' })).toMatchObject({ endpoint: '1002', ip: '2001:db8::7', port: 5062 });
    expect(event({ Event: 'ContactStatus', URI: 'sip:1002@phone.example.net:5060', ContactStatus: 'Created', AOR: '1002', EndpointName: '1002' })).not.toHaveProperty('ip');
    expect(event({ Event: 'PeerStatus', ChannelType: 'SIP', Peer: 'SIP/2001', PeerStatus: 'Registered', Address: '198.51.100.20:5060' })).toMatchObject({ type: 'registration', service: 'SIP', endpoint: '2001', ip: '198.51.100.20', port: 5060 });
    // PJSIP's PeerStatus carries no address: still an ignored event.
    expect(normaliser.normalise(AmiMessage.from({ Event: 'PeerStatus', ChannelType: 'PJSIP', Peer: 'PJSIP/1001', PeerStatus: 'Reachable' }), 0)).toBeUndefined();
  });
});

describe('address memory', () => {
  test('learns during the learning period and judges nothing then', () => {
    const memory = new AddressMemory();
    memory.observe(login('1001', '198.51.100.10'), 0);
    expect(memory.judge('1001', '203.0.113.7', DAY, judgement)).toMatchObject({ status: 'learning', network: '203.0.113.0/24' });
  });

  test('after the learning period, a network first used now is new; one used during learning is known; the same /24 is the same network', () => {
    const memory = new AddressMemory();
    memory.observe(login('1001', '198.51.100.10'), 0);
    memory.observe(login('1001', '203.0.113.7'), 8 * DAY);
    expect(memory.judge('1001', '203.0.113.7', 8 * DAY, judgement)).toMatchObject({ status: 'new', firstSeen: 8 * DAY, failures: 0 });
    expect(memory.judge('1001', '198.51.100.99', 8 * DAY, judgement)).toMatchObject({ status: 'known' });
    // Another endpoint's network is not this one's.
    expect(memory.judge('1002', '198.51.100.10', 8 * DAY, judgement).status).toBe('new');
    // A network used for a week without objection settles.
    expect(memory.judge('1001', '203.0.113.7', 15 * DAY, judgement).status).toBe('known');
  });

  test('AMI logins teach nothing (they are people and programs, not phones); registrations teach like logins', () => {
    const memory = new AddressMemory({ since: 0 });
    memory.observe(login('admin', '203.0.113.50', 'AMI'), DAY);
    expect(memory.addressesOf('admin')).toEqual([]);
    memory.observe(event({ Event: 'ContactStatus', URI: 'sip:1002@192.0.2.44:5060', ContactStatus: 'Created', AOR: '1002', EndpointName: '1002' }), DAY);
    expect(memory.addressesOf('1002')).toMatchObject([{ network: '192.0.2.0/24', address: '192.0.2.44', via: 'registration' }]);
    memory.observe(event({ Event: 'ContactStatus', URI: 'sip:1002@192.0.3.44:5060', ContactStatus: 'Removed', AOR: '1002', EndpointName: '1002' }), DAY);
    expect(memory.addressesOf('1002')).toHaveLength(1);
  });

  test('a call is tied to the login just before it; failures from an address are counted so nobody is told to trust it', () => {
    const memory = new AddressMemory({ since: 0 });
    for (let attempt = 0; attempt < 12; attempt++) memory.observe(failure('1001', '203.0.113.9'), 8 * DAY + attempt);
    memory.observe(login('1001', '203.0.113.9'), 8 * DAY + 100);
    memory.attachCall('call-1', '1001', 8 * DAY + 101);
    memory.attachCall('call-2', '1001', 8 * DAY + 60_000);
    expect(memory.sourceOf('call-1')).toEqual({ endpoint: '1001', address: '203.0.113.9' });
    expect(memory.sourceOf('call-2')).toBeUndefined();
    expect(memory.judge('1001', '203.0.113.9', 8 * DAY + 200, judgement)).toMatchObject({ status: 'new', failures: 12 });
  });

  test('trust granted by the CLI (the store) is consulted for a new network; changes are drained once; restore brings memory back', () => {
    const trusted = new Set(['1001|203.0.113.0/24']);
    const memory = new AddressMemory({ since: 0, trust: { isTrusted: (endpoint, network) => trusted.has(`${endpoint}|${network}`) } });
    memory.observe(login('1001', '203.0.113.7'), 8 * DAY);
    expect(memory.judge('1001', '203.0.113.7', 8 * DAY, judgement)).toMatchObject({ status: 'known', trusted: true });
    const changes = memory.drainChanges();
    expect(changes).toMatchObject([{ endpoint: '1001', network: '203.0.113.0/24', firstSeen: 8 * DAY }]);
    expect(memory.drainChanges()).toEqual([]);
    // Seen again within the hour: not written again.
    memory.observe(login('1001', '203.0.113.8'), 8 * DAY + 60_000);
    expect(memory.drainChanges()).toEqual([]);

    const again = new AddressMemory();
    again.restore(changes, 0);
    expect(again.since).toBe(0);
    expect(again.judge('1001', '203.0.113.7', 9 * DAY, judgement).firstSeen).toBe(8 * DAY);
  });

  test('bounded: an endpoint keeps its 32 most recent networks', () => {
    const memory = new AddressMemory({ since: 0 });
    for (let index = 0; index < 100; index++) memory.observe(login('1001', `198.18.${index}.1`), index);
    expect(memory.addressesOf('1001')).toHaveLength(32);
    expect(memory.addressesOf('1001')[0]!.address).toBe("198.18.99.1");
  });

  test('IPv6 addresses are grouped by /64', () => {
    const memory = new AddressMemory();
    expect(memory.networkOf('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(memory.networkOf('::ffff:192.0.2.9')).toBe('192.0.2.0/24');
  });
});
