import { readdirSync, readFileSync } from 'node:fs';
import { AmiDecoder } from '../../../src/ami/codec.js';
import { AmiMessage } from '../../../src/ami/message.js';
import { Normaliser, parseSecurityAddress } from '../../../src/calls/normalise.js';
import { CallTable } from '../../../src/calls/table.js';
import type { SecurityEvent } from '../../../src/calls/events.js';
import { captureEvents, feedCapture } from '../../helpers/feed.js';
import { fixturePath } from '../../helpers/fixtures.js';

const captures = readdirSync(fixturePath('ami')).filter((name) => name.endsWith('.ami'));

describe('normaliser', () => {
  test.each(captures)('%s: every event is either understood or a known, deliberately ignored kind', (name) => {
    const normaliser = new Normaliser();
    for (const message of captureEvents(name)) normaliser.normalise(message, 0);
    expect(normaliser.stats.malformed).toBe(0);
    expect([...normaliser.stats.unknownNames]).toEqual([]);
  });

  test('a security event read unread from its text (a refusal that waited) is the event its fields make', () => {
    const read = (defer: boolean, name: string): unknown[] => {
      const decoder = new AmiDecoder({ deferEvent: () => defer });
      const normaliser = new Normaliser();
      return decoder
        .push(readFileSync(fixturePath('ami', name)))
        .flatMap((frame) => (frame.type === 'message' && frame.message.kind === 'event' ? [normaliser.normalise(frame.message, 0)] : []))
        .filter((event) => (event as SecurityEvent | undefined)?.type === 'security');
    };
    for (const name of ['register-bruteforce.ami', 'ami-failed-login.ami']) {
      const fromText = read(true, name);
      expect(fromText.length).toBeGreaterThan(5);
      expect(fromText).toEqual(read(false, name));
    }
    // Not as Asterisk writes them: another spelling of a common key, a line that is no field, a repeated key.
    const odd = [
      'Event: InvalidAccountID\r\nService: PJSIP\r\nAccountID: 9999\r\nremoteaddress: IPV4/UDP/203.0.113.9/5060\r\nRemoteAddress: IPV4/UDP/203.0.113.10/5060\r\n',
      'Event: InvalidAccountID\r\nService: PJSIP\r\nnot a field\r\nRemoteAddress: IPV4/UDP/203.0.113.9/5060\r\n',
      'Event: InvalidPassword\nService: AMI\nAccountID: admin\nExtra: one\nExtra: two\nRemoteAddress: IPV4/TCP/203.0.113.9/40000\nSessionID: \n',
    ];
    for (const text of odd) {
      const name = text.slice(7, text.indexOf('\n')).trim();
      const fields = text.split(/\r?\n/).filter(Boolean).flatMap((line) => {
        const colon = line.indexOf(':');
        return colon > 0 ? [[line.slice(0, colon), line.slice(colon + 1).trimStart()] as const] : [];
      });
      expect(new Normaliser().normalise(AmiMessage.deferred(name, text), 0)).toEqual(new Normaliser().normalise(new AmiMessage([...fields]), 0));
    }
  });

  test('register-bruteforce: every security event kind with its source address', () => {
    const { security } = feedCapture('register-bruteforce.ami');
    const counts = new Map<string, number>();
    for (const event of security) counts.set(event.kind, (counts.get(event.kind) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ SuccessfulAuth: 2, ChallengeSent: 43, ChallengeResponseFailed: 42, InvalidAccountID: 36 });
    const failed = security.find((event) => event.kind === 'ChallengeResponseFailed')!;
    expect(failed).toMatchObject({
      severity: 'Error',
      service: 'PJSIP',
      accountId: '1001',
      sessionId: '1-24464@127.0.0.1',
      remote: { family: 'IPV4', transport: 'UDP', ip: '127.0.0.1', port: 5071 },
      local: { family: 'IPV4', transport: 'UDP', ip: '127.0.0.1', port: 5060 },
      eventTv: '2026-11-21T11:00:13.000+0000',
    });
    expect(failed.details).toEqual({ Challenge: '1795258812/1e1f8243e535cfd73c19245396ab4b8e', Response: '9fb128baf5bb8d8a0fb898d458707844', ExpectedResponse: '' });
    expect(new Set(security.filter((event) => event.kind === 'InvalidAccountID').map((event) => event.accountId))).toEqual(new Set(['9999']));
    expect(failed.at).toBe(Date.parse('2026-11-21T11:00:13.000Z'));
  });

  test('ami-failed-login: AMI InvalidPassword and InvalidAccountID', () => {
    const { security } = feedCapture('ami-failed-login.ami');
    const kinds = security.map((event) => `${event.service}:${event.kind}:${event.accountId}`);
    expect(kinds.filter((kind) => kind.startsWith('AMI:InvalidPassword'))).toHaveLength(5);
    expect(kinds.filter((kind) => kind.startsWith('AMI:InvalidAccountID'))).toHaveLength(2);
    expect(new Set(security.filter((event) => event.kind === 'InvalidAccountID').map((event) => event.accountId))).toEqual(new Set(['admin', 'nosuchuser']));
  });

  test('every security event kind Asterisk documents is recognised', () => {
    const normaliser = new Normaliser();
    for (const kind of ['FailedACL', 'RequestBadFormat', 'RequestNotAllowed', 'RequestNotSupported', 'UnexpectedAddress', 'AuthMethodNotAllowed', 'InvalidTransport', 'SessionLimit', 'MemoryLimit', 'LoadAverageLimit']) {
      const event = normaliser.normalise(
        AmiMessage.from({ Event: kind, Privilege: 'security,all', Severity: 'Error', Service: 'PJSIP', AccountID: '1001', RemoteAddress: 'IPV4/UDP/203.0.113.9/5060', ACLName: 'acl-office' }),
        7,
      ) as SecurityEvent;
      expect(event).toMatchObject({ type: 'security', kind, accountId: '1001', remote: { ip: '203.0.113.9', port: 5060 }, details: { ACLName: 'acl-office' } });
    }
  });

  test('security addresses: IPv4, IPv6, no port, garbage', () => {
    expect(parseSecurityAddress('IPV6/TCP/2001:db8::1/5061')).toEqual({ family: 'IPV6', transport: 'TCP', ip: '2001:db8::1', port: 5061 });
    expect(parseSecurityAddress('IPV4/UDP/203.0.113.9')).toEqual({ family: 'IPV4', transport: 'UDP', ip: '203.0.113.9' });
    expect(parseSecurityAddress('garbage')).toBeUndefined();
    expect(parseSecurityAddress(undefined)).toBeUndefined();
  });

  test('unknown events are counted by name, malformed channel events are counted, nothing throws', () => {
    const normaliser = new Normaliser();
    expect(normaliser.normalise(AmiMessage.from({ Event: 'BrandNewModuleEvent', Foo: 'bar' }), 0)).toBeUndefined();
    expect(normaliser.normalise(AmiMessage.from({ Event: 'BrandNewModuleEvent' }), 0)).toBeUndefined();
    expect(normaliser.normalise(AmiMessage.from({ Event: 'Hangup', Cause: '16' }), 0)).toBeUndefined();
    expect(normaliser.normalise(AmiMessage.from({ Response: 'Success' }), 0)).toBeUndefined();
    expect(normaliser.stats.unknownNames.get('BrandNewModuleEvent')).toBe(2);
    expect(normaliser.stats.malformed).toBe(1);
    expect(normaliser.stats.lastMalformed).toBe('Hangup without Channel/Uniqueid');
  });

  test('an originated DialBegin has only the Dest block', () => {
    const dialBegin = captureEvents('originate-local-regex-hangup.ami').find((message) => message.name === 'DialBegin')!;
    const event = new Normaliser().normalise(dialBegin, 0);
    expect(event).toMatchObject({ type: 'dial.begin', dialString: '00252615123456@from-internal', destination: { tech: 'Local', localHalf: 1 } });
    expect(event && 'caller' in event ? event.caller : undefined).toBeUndefined();
  });

  test('`<unknown>` caller ids are treated as absent', () => {
    const newchannel = captureEvents('intl-call-cuba.ami').filter((message) => message.name === 'Newchannel')[1]!;
    const event = new Normaliser().normalise(newchannel, 0);
    expect(event).toMatchObject({ type: 'channel.created', channel: { endpoint: 'carrier', exten: 's' } });
    expect(event && 'channel' in event ? event.channel.callerIdNum : 'x').toBeUndefined();
  });

  test("Asterisk 11 Dial Begin/End links the dialled channel into the caller's call", () => {
    const normaliser = new Normaliser();
    const table = new CallTable();
    const apply = (record: Record<string, string>, at: number) => {
      const event = normaliser.normalise(AmiMessage.from(record), at);
      if (event && event.type !== 'security') table.apply(event);
    };
    apply({ Event: 'Newchannel', Channel: 'SIP/1001-00000001', ChannelState: '4', CallerIDNum: '1001', Context: 'from-internal', Exten: '0044123456789', Uniqueid: '100.1' }, 1);
    apply({ Event: 'Newchannel', Channel: 'SIP/carrier-00000002', ChannelState: '0', Context: 'from-carrier', Exten: 's', Uniqueid: '100.2' }, 2);
    apply({ Event: 'Dial', SubEvent: 'Begin', Channel: 'SIP/1001-00000001', Destination: 'SIP/carrier-00000002', CallerIDNum: '1001', UniqueID: '100.1', DestUniqueID: '100.2', Dialstring: 'carrier/0044123456789' }, 3);
    apply({ Event: 'Dial', SubEvent: 'End', Channel: 'SIP/1001-00000001', UniqueID: '100.1', DialStatus: 'ANSWER' }, 4);
    const calls = table.liveCalls();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.legs.size).toBe(2);
    expect(calls[0]!.dialled).toBe('0044123456789');
    expect(calls[0]!.outboundTrunk).toBe('carrier');
    expect(calls[0]!.answeredAt).toBe(4);
  });
});
