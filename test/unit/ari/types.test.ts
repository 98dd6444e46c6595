/**
 * Parsing what ARI sends: the recorded channel lists, event frames (good and malformed), and the
 * hang-up reasons Asterisk knows.
 */
import { readFileSync } from 'node:fs';
import { ARI_HANGUP_REASONS, isAriHangupReason, parseAriChannel, parseAriFrame, typedAriEvent, type ChannelDestroyedEvent } from '../../../src/ari/types.js';
import { fixturePath } from '../../helpers/fixtures.js';

const fixture = (name: string): unknown[] => JSON.parse(readFileSync(fixturePath('ari', name), 'utf8')) as unknown[];

describe('parseAriChannel', () => {
  test.each(['channels-five-calls.json', 'channels-local.json'])('keeps every recorded channel of %s exactly', (name) => {
    const raw = fixture(name);
    const parsed = raw.map((item) => parseAriChannel(item));
    expect(parsed).toEqual(raw);
  });

  test('fills absent optional parts, refuses entries without id or name', () => {
    expect(parseAriChannel({ id: '1.1', name: 'PJSIP/x-1' })).toEqual({
      id: '1.1',
      name: 'PJSIP/x-1',
      state: 'Unknown',
      caller: { name: '', number: '' },
      connected: { name: '', number: '' },
      accountcode: '',
      dialplan: { context: '', exten: '', priority: 0, app_name: '', app_data: '' },
      creationtime: '',
      language: '',
    });
    expect(parseAriChannel({ name: 'PJSIP/x-1' })).toBeUndefined();
    expect(parseAriChannel({ id: '', name: 'PJSIP/x-1' })).toBeUndefined();
    expect(parseAriChannel({ id: '1.1' })).toBeUndefined();
    expect(parseAriChannel(null)).toBeUndefined();
    expect(parseAriChannel(['1.1'])).toBeUndefined();
  });
});

describe('parseAriFrame', () => {
  test('an event', () => {
    const frame = parseAriFrame(Buffer.from('{"type":"StasisEnd","application":"tollgate","timestamp":"2026-11-21T11:01:49.120+0000","channel":{"id":"1.1","name":"PJSIP/a-1"}}'));
    expect(frame).toMatchObject({ ok: true, event: { type: 'StasisEnd', application: 'tollgate' } });
  });

  test.each([
    ['not JSON', 'hello'],
    ['not JSON', '{"type":"ChannelDestroyed"'],
    ['not a JSON object', '[1,2]'],
    ['not a JSON object', '"ChannelDestroyed"'],
    ['no event type', '{"cause":21}'],
    ['no event type', '{"type":""}'],
  ])('%s: %s', (reason, text) => {
    expect(parseAriFrame(text)).toEqual({ ok: false, reason, sample: text });
  });

  test('binary frames, and control characters in samples are escaped', () => {
    expect(parseAriFrame(Buffer.from([0xde, 0xad]), true)).toEqual({ ok: false, reason: 'binary frame', sample: 'dead' });
    expect(parseAriFrame('a\u0000b\nc')).toEqual({ ok: false, reason: 'not JSON', sample: 'a\\x00b\\x0ac' });
    const long = parseAriFrame('x'.repeat(1000));
    expect(long.ok === false && long.sample.length).toBe(121);
  });
});

describe('typedAriEvent', () => {
  const channel = fixture('channels-five-calls.json')[0];

  test('ChannelDestroyed with cause, cause_txt and the channel', () => {
    const typed = typedAriEvent({ type: 'ChannelDestroyed', application: 'tollgate', timestamp: 't', cause: 21, cause_txt: 'Call Rejected', channel }) as ChannelDestroyedEvent;
    expect(typed.cause).toBe(21);
    expect(typed.cause_txt).toBe('Call Rejected');
    expect(typed.channel).toEqual(channel);
  });

  test('StasisStart args default to an empty list', () => {
    expect(typedAriEvent({ type: 'StasisStart', application: 'a', timestamp: 't', channel })).toMatchObject({ args: [] });
  });

  test('problems are reported as text; other types are not typed', () => {
    expect(typedAriEvent({ type: 'ChannelDestroyed', application: 'a', timestamp: 't', cause: 21 })).toBe('ChannelDestroyed without a channel id and name');
    expect(typedAriEvent({ type: 'ChannelDestroyed', application: 'a', timestamp: 't', cause: 'x', channel })).toBe('ChannelDestroyed without a numeric cause');
    expect(typedAriEvent({ type: 'Dial', application: 'a', timestamp: 't' })).toBeUndefined();
  });
});

test('hang-up reasons map to the Q.850 causes Asterisk sets (resource_channels.c)', () => {
  expect(ARI_HANGUP_REASONS.congestion).toBe(34);
  expect(ARI_HANGUP_REASONS.rejected).toBe(21);
  expect(ARI_HANGUP_REASONS.normal).toBe(16);
  expect(Object.keys(ARI_HANGUP_REASONS)).toHaveLength(13);
  expect(isAriHangupReason('congestion')).toBe(true);
  expect(isAriHangupReason('toString')).toBe(false);
  expect(isAriHangupReason(21)).toBe(false);
});
