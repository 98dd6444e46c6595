import { describe, expect, it } from '@jest/globals';
import { AmiMessage } from '../../../src/ami/message.js';
import type { DomainEvent } from '../../../src/calls/events.js';
import { EventLanes } from '../../../src/calls/lanes.js';
import { Normaliser, parseSecurityAddress, securitySourceOf } from '../../../src/calls/normalise.js';

const normaliser = new Normaliser();
const normalised = (fields: Record<string, string>, at = 0): DomainEvent => normaliser.normalise(AmiMessage.from(fields), at)!;

function failure(ip: string, session: string, at = 0): DomainEvent {
  return normalised({ Event: 'ChallengeResponseFailed', Service: 'PJSIP', AccountID: '1001', SessionID: session, RemoteAddress: `IPV4/UDP/${ip}/5060` }, at);
}

function success(ip: string): DomainEvent {
  return normalised({ Event: 'SuccessfulAuth', Service: 'PJSIP', AccountID: '1001', SessionID: 'ok', RemoteAddress: `IPV4/UDP/${ip}/5060` });
}

const dialBegin = normalised({ Event: 'DialBegin', Channel: 'PJSIP/1001-00000001', Uniqueid: '1.1', Linkedid: '1.1', DestChannel: 'PJSIP/carrier-00000002', DestUniqueid: '1.2', DestLinkedid: '1.1', DialString: '011535551234@carrier' });

function label(event: DomainEvent): string {
  if (event.type === 'security') return `${event.kind} ${event.sessionId ?? ''}`.trim();
  return event.type;
}

function lanes(options: { maxWaiting?: number } = {}) {
  const delivered: string[] = [];
  const shed: number[] = [];
  const lanes = new EventLanes({
    ...options,
    deliver: (event) => delivered.push(label(event)),
    onShed: (count) => shed.push(count),
  });
  return { lanes, delivered, shed };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('EventLanes: calls first', () => {
  it('delivers a call event at once while security failures wait for the next turn', async () => {
    const { lanes: lane, delivered } = lanes();
    lane.push(failure('203.0.113.1', 'a', 1));
    lane.push(failure('203.0.113.2', 'b', 2));
    lane.push(dialBegin);
    expect(delivered).toEqual(['dial.begin']);
    await nextTurn();
    expect(delivered).toEqual(['dial.begin', 'ChallengeResponseFailed a', 'ChallengeResponseFailed b']);
    expect(lane.stats.deferred).toBe(2);
  });

  it('judges the waiting failures of an address before its SuccessfulAuth (a guessed password), and only those', () => {
    const { lanes: lane, delivered } = lanes();
    lane.push(failure('203.0.113.1', 'a', 1));
    lane.push(failure('198.51.100.7', 'other', 2));
    lane.push(failure('203.0.113.1', 'b', 3));
    lane.push(success('203.0.113.1'));
    expect(delivered).toEqual(['ChallengeResponseFailed a', 'ChallengeResponseFailed b', 'SuccessfulAuth ok']);
    lane.flush();
    expect(delivered).toEqual(['ChallengeResponseFailed a', 'ChallengeResponseFailed b', 'SuccessfulAuth ok', 'ChallengeResponseFailed other']);
  });

  it('keeps the time each failure arrived', () => {
    const times: number[] = [];
    const lane = new EventLanes({ deliver: (event) => times.push(event.at) });
    lane.push(failure('203.0.113.1', 'a', 1000));
    lane.push(failure('203.0.113.1', 'b', 1005));
    lane.flush();
    expect(times).toEqual([1000, 1005]);
  });

  it('sheds the oldest failures when the lane is full, counts them by kind and never drops a call event', async () => {
    const { lanes: lane, delivered, shed } = lanes({ maxWaiting: 3 });
    for (let i = 0; i < 5; i++) lane.push(failure(`203.0.113.${i}`, `s${i}`, i));
    lane.push(dialBegin);
    expect(shed).toEqual([1, 1]);
    expect(lane.stats.shed).toBe(2);
    expect(lane.stats.shedByKind.get('ChallengeResponseFailed')).toBe(2);
    expect(lane.stats.lastShedAt).toBe(4);
    await nextTurn();
    expect(delivered).toEqual(['dial.begin', 'ChallengeResponseFailed s2', 'ChallengeResponseFailed s3', 'ChallengeResponseFailed s4']);
    expect(lane.waitingCount).toBe(0);
  });

  it('drains a large backlog in slices, yielding to the event loop between them', async () => {
    let delivered = 0;
    const lane = new EventLanes({
      sliceMs: 0,
      deliver: () => {
        delivered++;
      },
    });
    for (let i = 0; i < 1000; i++) lane.push(failure('203.0.113.9', `s${i}`, i));
    await nextTurn();
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(1000);
    lane.flush();
    expect(delivered).toBe(1000);
    expect(lane.stats.highWater).toBe(1000);
  });

  it('counts what the AMI client shed before it reached the lane, with the others', () => {
    const { lanes: lane, shed } = lanes();
    lane.recordShed(new Map([['ChallengeResponseFailed', 40], ['InvalidAccountID', 2]]), 7);
    expect(shed).toEqual([42]);
    expect(lane.stats).toMatchObject({ shed: 42, lastShedAt: 7 });
    expect([...lane.stats.shedByKind]).toEqual([['ChallengeResponseFailed', 40], ['InvalidAccountID', 2]]);
  });

  it('when full, a security event is shed on arrival (counted, never read); a call event or a success never is', async () => {
    const { lanes: lane, shed } = lanes({ maxWaiting: 2 });
    lane.push(failure('203.0.113.1', 'a', 1));
    expect(lane.wouldShed('ChallengeResponseFailed')).toBe(false);
    lane.push(failure('203.0.113.2', 'b', 2));
    expect(lane.wouldShed('ChallengeResponseFailed')).toBe(true);
    expect(lane.wouldShed('InvalidAccountID')).toBe(true);
    expect(lane.wouldShed('SuccessfulAuth')).toBe(false);
    expect(lane.wouldShed('DialBegin')).toBe(false);
    lane.shedOnArrival('ChallengeResponseFailed', 3);
    lane.shedOnArrival('InvalidAccountID', 4);
    await nextTurn();
    expect(shed).toEqual([2]);
    expect(lane.stats).toMatchObject({ shed: 2, lastShedAt: 4 });
  });
});

describe('EventLanes: failures that wait unread', () => {
  /** A refusal as the AMI client delivers it when the tracker lets it wait: one string, not yet cut into fields. */
  function unread(ip: string, session: string): AmiMessage {
    return AmiMessage.deferred('ChallengeResponseFailed', `Event: ChallengeResponseFailed\r\nPrivilege: security,all\r\nService: PJSIP\r\nAccountID: 1001\r\nSessionID: ${session}\r\nRemoteAddress: IPV6/UDP/${ip}/5060\r\n`);
  }

  function reading() {
    const delivered: DomainEvent[] = [];
    const read: string[] = [];
    const lane = new EventLanes({
      maxWaiting: 3,
      deliver: (event) => delivered.push(event),
      read: (message, at) => {
        read.push(message.peek('SessionID') ?? '');
        return normaliser.normalise(message, at);
      },
    });
    return { lane, delivered, read };
  }

  it('reads each when its turn comes, at the time it arrived; a call event goes first; the shed ones are never read', async () => {
    const { lane, delivered, read } = reading();
    for (let i = 0; i < 5; i++) lane.pushUnread(unread('2001:db8::9', `s${i}`), 1000 + i);
    lane.push(dialBegin);
    expect(delivered.map(label)).toEqual(['dial.begin']);
    expect(lane.stats.shedByKind.get('ChallengeResponseFailed')).toBe(2);
    await nextTurn();
    expect(read).toEqual(['s2', 's3', 's4']);
    expect(delivered.map((event) => [label(event), event.at])).toEqual([['dial.begin', dialBegin.at], ['ChallengeResponseFailed s2', 1002], ['ChallengeResponseFailed s3', 1003], ['ChallengeResponseFailed s4', 1004]]);
  });

  it('a success pulls the waiting failures of its address first, however Asterisk spelled the address', () => {
    const { lane, delivered } = reading();
    lane.pushUnread(unread('2001:DB8:0:0::9', 'a'), 1);
    lane.pushUnread(unread('2001:db8::7', 'other'), 2);
    lane.push(normalised({ Event: 'SuccessfulAuth', Service: 'PJSIP', AccountID: '1001', SessionID: 'ok', RemoteAddress: 'IPV6/UDP/2001:db8::9/5060' }, 3));
    expect(delivered.map(label)).toEqual(['ChallengeResponseFailed a', 'SuccessfulAuth ok']);
    lane.flush();
    expect(delivered.map(label)).toEqual(['ChallengeResponseFailed a', 'SuccessfulAuth ok', 'ChallengeResponseFailed other']);
  });

  it('matches a waiting failure by the address the normaliser gives it', () => {
    for (const text of ['IPV4/UDP/203.0.113.9/5060', 'IPV6/UDP/2001:DB8:0:0::9/5061', 'IPV6/TCP/::ffff:198.51.100.4/5060', 'IPV4/UDP/203.0.113.9', 'IPV4/WS/not-an-address/5060', 'IPV4/UDP/a/b/c']) {
      expect(securitySourceOf(text)).toBe(parseSecurityAddress(text)!.ip);
    }
    expect(securitySourceOf(undefined)).toBe('');
    expect(securitySourceOf('garbage')).toBe('');
  });
});
