import { AsteriskIds, CallEventFactory, formatTranscript, mergeEntries, parseTranscript } from '../../../src/sim/index.js';
import { captureMessages, keys } from './harness.js';

const START = Date.UTC(2026, 10, 21, 11, 0, 36, 100);

function factory(): CallEventFactory {
  return new CallEventFactory(new AsteriskIds(() => START), () => START);
}

/** The events of the call in intl-call-cuba.ami, without the VarSet and DeviceStateChange noise. */
function recordedCall() {
  const noise = new Set(['VarSet', 'DeviceStateChange', 'FullyBooted', 'SuccessfulAuth', 'ChallengeSent']);
  return captureMessages('intl-call-cuba.ami').filter((message) => message.kind === 'event' && !noise.has(message.name));
}

describe('callEvents', () => {
  test('an answered call has the event sequence and field lists of the real capture', () => {
    const script = factory().build({ from: '1001', to: '011535551234', trunk: 'carrier', talkMs: 20_000 });
    const recorded = recordedCall();
    expect(script.entries.map((entry) => entry.message.name)).toEqual(recorded.map((message) => message.name));
    script.entries.forEach((entry, index) => expect(keys(entry.message)).toEqual(keys(recorded[index]!)));
    // The values a detector reads are those of the real PBX, up to ids and times.
    const volatile = new Set(['Channel', 'DestChannel', 'Uniqueid', 'Linkedid', 'DestUniqueid', 'DestLinkedid', 'UniqueID', 'DestinationChannel', 'BridgeUniqueid', 'StartTime', 'AnswerTime', 'EndTime']);
    script.entries.forEach((entry, index) => {
      const stable = (fields: readonly (readonly [string, string])[]) => fields.filter(([key]) => !volatile.has(key));
      expect(stable(entry.message.fields)).toEqual(stable(recorded[index]!.fields));
    });
  });

  test('names, ids and phases follow Asterisk: one counter, Linkedid = the caller Uniqueid', () => {
    const calls = factory();
    const first = calls.build({ from: '1001', to: '0044909879012' });
    const second = calls.build({ from: '1002', to: '00252615123456', trunk: 'intl' });
    expect(first.caller).toEqual({ channel: 'PJSIP/1001-00000000', uniqueid: '1795258836.0' });
    expect(first.callee).toEqual({ channel: 'PJSIP/carrier-00000001', uniqueid: '1795258836.1' });
    expect(second.caller.channel).toBe('PJSIP/1002-00000002');
    expect(second.callee.channel).toBe('PJSIP/intl-00000003');
    expect(first.linkedid).toBe(first.caller.uniqueid);
    expect(first.setup.map((entry) => entry.message.get('DialStatus')).filter(Boolean)).toEqual(['RINGING']);
    expect(first.setup.at(-1)!.message.get('ChannelStateDesc')).toBe('Ringing');
    expect(first.answer.at(-1)!.message.name).toBe('BridgeEnter');
    expect(first.hangup.at(-1)!.message.name).toBe('Hangup');
    expect(first.hangup[0]!.time - first.answer[0]!.time).toBe(20_000);
    const dialBegin = first.setup.find((entry) => entry.message.name === 'DialBegin')!.message;
    expect(dialBegin.get('DialString')).toBe('0044909879012@carrier');
  });

  test('a busy destination ends at DialEnd BUSY with cause 17 and SIP 486', () => {
    const script = factory().build({ from: '1001', to: '011535551234', outcome: 'BUSY' });
    expect(script.answer).toEqual([]);
    expect(script.bridgeId).toBe('');
    expect(script.hangup.map((entry) => entry.message.name)).toEqual(['DialEnd', 'Hangup', 'Cdr', 'Hangup']);
    const calleeHangup = script.hangup[1]!.message;
    expect([calleeHangup.get('Channel'), calleeHangup.get('Cause'), calleeHangup.get('Cause-txt'), calleeHangup.get('TechCause')]).toEqual([script.callee.channel, '17', 'User busy', '486']);
    expect(script.hangup[2]!.message.get('Disposition')).toBe('BUSY');
  });

  test('derived transcripts: formatted with Timestamps, read back with the same events and times', () => {
    const calls = factory();
    const a = calls.build({ from: '1001', to: '011535551234', startAt: START, talkMs: 5000 });
    const b = calls.build({ from: '1002', to: '0044909879012', startAt: START + 1000, talkMs: 1000 });
    const merged = mergeEntries(a.entries, b.entries);
    expect(merged).toHaveLength(a.entries.length + b.entries.length);
    expect(merged.map((entry) => entry.time)).toEqual([...merged.map((entry) => entry.time)].sort((x, y) => x - y));
    // Call b (2.3 s long) ends before call a (5.3 s).
    expect(merged.at(-1)!.message.get('Channel')).toBe(a.caller.channel);

    const text = formatTranscript(merged);
    expect(text.startsWith('Asterisk Call Manager/11.0.0\r\nEvent: Newchannel\r\nPrivilege: call,all\r\nTimestamp: 1795258836.100000\r\n')).toBe(true);
    const back = parseTranscript(text);
    // Timestamp keeps microseconds: times come back within one.
    back.forEach((entry, index) => expect(Math.abs(entry.time - merged[index]!.time)).toBeLessThanOrEqual(0.0011));
    expect(back.map((entry) => entry.message.fields.filter(([key]) => key !== 'Timestamp'))).toEqual(merged.map((entry) => entry.message.fields));
  });
});
