import { describe, expect, it } from '@jest/globals';
import { AmiMessage } from '../../../src/ami/message.js';
import { EventLanes } from '../../../src/calls/lanes.js';

function failure(ip: string, session: string): AmiMessage {
  return AmiMessage.from({ Event: 'ChallengeResponseFailed', Service: 'PJSIP', AccountID: '1001', SessionID: session, RemoteAddress: `IPV4/UDP/${ip}/5060` });
}

function success(ip: string): AmiMessage {
  return AmiMessage.from({ Event: 'SuccessfulAuth', Service: 'PJSIP', AccountID: '1001', SessionID: 'ok', RemoteAddress: `IPV4/UDP/${ip}/5060` });
}

const dialBegin = AmiMessage.from({ Event: 'DialBegin', Channel: 'PJSIP/1001-00000001', Uniqueid: '1.1', Linkedid: '1.1' });

function lanes(options: { maxWaiting?: number } = {}) {
  const delivered: string[] = [];
  const shed: number[] = [];
  const lanes = new EventLanes({
    ...options,
    deliver: (message) => delivered.push(`${message.name} ${message.get('SessionID') ?? message.get('Channel') ?? ''}`.trim()),
    onShed: (count) => shed.push(count),
  });
  return { lanes, delivered, shed };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('EventLanes: calls first', () => {
  it('delivers a call event at once while security failures wait for the next turn', async () => {
    const { lanes: lane, delivered } = lanes();
    lane.push(failure('203.0.113.1', 'a'), 1);
    lane.push(failure('203.0.113.2', 'b'), 2);
    lane.push(dialBegin, 3);
    expect(delivered).toEqual(['DialBegin PJSIP/1001-00000001']);
    await nextTurn();
    expect(delivered).toEqual(['DialBegin PJSIP/1001-00000001', 'ChallengeResponseFailed a', 'ChallengeResponseFailed b']);
    expect(lane.stats.deferred).toBe(2);
  });

  it('judges the waiting failures of an address before its SuccessfulAuth (a guessed password), and only those', () => {
    const { lanes: lane, delivered } = lanes();
    lane.push(failure('203.0.113.1', 'a'), 1);
    lane.push(failure('198.51.100.7', 'other'), 2);
    lane.push(failure('203.0.113.1', 'b'), 3);
    lane.push(success('203.0.113.1'), 4);
    expect(delivered).toEqual(['ChallengeResponseFailed a', 'ChallengeResponseFailed b', 'SuccessfulAuth ok']);
    lane.flush();
    expect(delivered).toEqual(['ChallengeResponseFailed a', 'ChallengeResponseFailed b', 'SuccessfulAuth ok', 'ChallengeResponseFailed other']);
  });

  it('keeps the time each failure arrived', () => {
    const times: number[] = [];
    const lane = new EventLanes({ deliver: (_message, at) => times.push(at) });
    lane.push(failure('203.0.113.1', 'a'), 1000);
    lane.push(failure('203.0.113.1', 'b'), 1005);
    lane.flush();
    expect(times).toEqual([1000, 1005]);
  });

  it('sheds the oldest failures when the lane is full, counts them by kind and never drops a call event', async () => {
    const { lanes: lane, delivered, shed } = lanes({ maxWaiting: 3 });
    for (let i = 0; i < 5; i++) lane.push(failure(`203.0.113.${i}`, `s${i}`), i);
    lane.push(dialBegin, 10);
    expect(shed).toEqual([1, 1]);
    expect(lane.stats.shed).toBe(2);
    expect(lane.stats.shedByKind.get('ChallengeResponseFailed')).toBe(2);
    expect(lane.stats.lastShedAt).toBe(4);
    await nextTurn();
    expect(delivered).toEqual(['DialBegin PJSIP/1001-00000001', 'ChallengeResponseFailed s2', 'ChallengeResponseFailed s3', 'ChallengeResponseFailed s4']);
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
    for (let i = 0; i < 1000; i++) lane.push(failure('203.0.113.9', `s${i}`), i);
    await nextTurn();
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(1000);
    lane.flush();
    expect(delivered).toBe(1000);
    expect(lane.stats.highWater).toBe(1000);
  });
});
