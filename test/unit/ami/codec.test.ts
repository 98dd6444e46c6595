import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  AmiDecoder,
  AmiEncodeError,
  AmiMessage,
  decodeAll,
  encodeAction,
  encodeBanner,
  encodeMessage,
  type AmiFrame,
} from '../../../src/ami/codec.js';
import { fixturePath } from '../../helpers/fixtures.js';

const amiDir = fixturePath('ami');
const captures = readdirSync(amiDir).filter((name) => name.endsWith('.ami'));

function messages(frames: AmiFrame[]): AmiMessage[] {
  return frames.flatMap((frame) => (frame.type === 'message' ? [frame.message] : []));
}

function reencode(frames: AmiFrame[]): string {
  return frames
    .map((frame) => (frame.type === 'banner' ? encodeBanner(frame.version) : frame.type === 'message' ? encodeMessage(frame.message) : ''))
    .join('');
}

describe('AMI decoder on the real Asterisk 22 captures', () => {
  test.each(captures)('%s decodes without loss and re-encodes to the same bytes', (name) => {
    const bytes = readFileSync(join(amiDir, name));
    const frames = decodeAll(bytes);
    expect(frames.filter((frame) => frame.type === 'garbage')).toEqual([]);
    expect(frames[0]).toEqual({ type: 'banner', version: '11.0.0', line: 'Asterisk Call Manager/11.0.0' });
    // Every message is `Key: Value` lines closed by a blank line: count the blank-line terminators.
    const terminators = bytes.toString('latin1').split('\r\n\r\n').length - 1;
    expect(messages(frames)).toHaveLength(terminators);
    expect(reencode(frames)).toBe(bytes.toString('utf8'));
    // Decoding the re-encoded text gives the same ordered key/value lists.
    expect(messages(decodeAll(reencode(frames))).map((message) => message.fields)).toEqual(messages(frames).map((message) => message.fields));
  });

  test.each(captures)('%s gives the same frames fed one byte at a time', (name) => {
    const bytes = readFileSync(join(amiDir, name));
    const decoder = new AmiDecoder();
    const frames: AmiFrame[] = [];
    for (let i = 0; i < bytes.length; i++) frames.push(...decoder.push(bytes.subarray(i, i + 1)));
    expect(frames).toEqual(decodeAll(bytes));
    expect(decoder.midMessage).toBe(false);
    expect(decoder.stats.bytes).toBe(bytes.length);
  });

  test('repeated keys are kept in order and keys are case-insensitive', () => {
    const frames = decodeAll(readFileSync(join(amiDir, 'call-with-chanvars.ami')));
    const dialBegin = messages(frames).find((message) => message.name === 'DialBegin')!;
    expect(dialBegin.getAll('ChanVariable').length).toBeGreaterThan(1);
    expect(dialBegin.getAll('DestChanVariable').length).toBeGreaterThan(1);
    expect(dialBegin.get('dialstring')).toBe('00252615123456@carrier');
    expect(dialBegin.get('DIALSTRING')).toBe('00252615123456@carrier');
    expect(dialBegin.kind).toBe('event');
  });

  test('an event that also carries Response: is classified by its first line', () => {
    const frames = decodeAll(readFileSync(join(amiDir, 'register-bruteforce.ami')));
    const failed = messages(frames).filter((message) => message.name === 'ChallengeResponseFailed');
    expect(failed).toHaveLength(42);
    for (const message of failed) {
      expect(message.kind).toBe('event');
      expect(message.get('Response')).toMatch(/^[0-9a-f]{32}$/);
      expect(message.get('ExpectedResponse')).toBe('');
    }
  });
});

describe('AMI decoder edge cases', () => {
  test('bare \\n line ends decode like \\r\\n', () => {
    const crlf = 'Asterisk Call Manager/11.0.0\r\nResponse: Success\r\nActionID: 1\r\nPing: Pong\r\n\r\n';
    const lf = crlf.replaceAll('\r\n', '\n');
    expect(decodeAll(lf)).toEqual(decodeAll(crlf));
    expect(messages(decodeAll(lf))[0]!.get('Ping')).toBe('Pong');
  });

  test('values keep colons, empty values and the missing space after the colon', () => {
    const [message] = messages(decodeAll('Event: X\r\nAppData: a: b: c\r\nChallenge: \r\nTight:value\r\n\r\n'));
    expect(message!.fields).toEqual([
      ['Event', 'X'],
      ['AppData', 'a: b: c'],
      ['Challenge', ''],
      ['Tight', 'value'],
    ]);
  });

  test('legacy Response: Follows keeps its raw output up to --END COMMAND--', () => {
    const text =
      'Response: Follows\r\nPrivilege: Command\r\nActionID: cmd-1\r\n' +
      'Channel              Location\n\nPJSIP/1001-0000: x  Up\n2 active channels\n--END COMMAND--\r\n\r\n' +
      'Event: Next\r\n\r\n';
    const [follows, next] = messages(decodeAll(text));
    expect(follows!.name).toBe('Follows');
    expect(follows!.actionId).toBe('cmd-1');
    expect(follows!.output).toBe('Channel              Location\n\nPJSIP/1001-0000: x  Up\n2 active channels');
    expect(next!.name).toBe('Next');
    // Round trip keeps fields and output.
    const again = messages(decodeAll(encodeMessage(follows!)))[0]!;
    expect(again.fields).toEqual(follows!.fields);
    expect(again.output).toBe(follows!.output);
  });

  test('--END COMMAND-- glued to the last output line is recognised', () => {
    const [follows] = messages(decodeAll('Response: Follows\r\nPrivilege: Command\r\nlast line--END COMMAND--\r\n\r\n'));
    expect(follows!.output).toBe('last line');
  });

  test('a multi-byte character split across chunks survives', () => {
    const bytes = Buffer.from('Event: Newchannel\r\nCallerIDName: Zoë Müller 日本\r\n\r\n', 'utf8');
    const decoder = new AmiDecoder();
    const split = bytes.indexOf(0xc3) + 1; // inside "ë"
    const frames = [...decoder.push(bytes.subarray(0, split)), ...decoder.push(bytes.subarray(split))];
    expect(messages(frames)[0]!.get('CallerIDName')).toBe('Zoë Müller 日本');
  });

  test('garbage is reported and the messages around it are kept', () => {
    const text = 'Event: A\r\n\r\nthis is not ami\r\n\x00\x01\x02\r\n\r\nEvent: B\r\nKey: v\r\n\r\nnoise line\r\nEvent: C\r\n\r\n';
    const frames = decodeAll(text);
    expect(frames.map((frame) => frame.type)).toEqual(['message', 'garbage', 'message', 'garbage', 'message']);
    expect(messages(frames).map((message) => message.name)).toEqual(['A', 'B', 'C']);
    const garbage = frames.filter((frame) => frame.type === 'garbage');
    expect(garbage[0]).toMatchObject({ reason: expect.stringContaining('not "Key: Value"'), sample: expect.stringContaining('this is not ami') });
  });

  test('a line without a colon inside a message is kept on the message, not dropped', () => {
    const [message] = messages(decodeAll('Event: A\r\nKey: v\r\nstray text\r\n\r\n'));
    expect(message!.fields).toEqual([
      ['Event', 'A'],
      ['Key', 'v'],
    ]);
    expect(message!.unparsedLines).toEqual(['stray text']);
  });

  test('10 000 garbage frames: no crash, all counted, the next message still decodes', () => {
    const decoder = new AmiDecoder();
    let garbage = 0;
    for (let i = 0; i < 10_000; i++) {
      const junk = i % 2 === 0 ? `junk ${i} ${'x'.repeat(i % 50)}\r\n\r\n` : Buffer.from([0xff, 0xfe, i & 0xff, 0x0a, 0x0a]);
      garbage += decoder.push(junk).filter((frame) => frame.type === 'garbage').length;
    }
    expect(garbage).toBe(10_000);
    expect(decoder.stats.garbage).toBe(10_000);
    const frames = decoder.push('Event: Alive\r\n\r\n');
    expect(messages(frames)[0]!.name).toBe('Alive');
  });

  test('an oversized message is dropped, counted, and decoding resumes at the next blank line', () => {
    const decoder = new AmiDecoder({ maxMessageChars: 200 });
    const big = 'Event: Big\r\n' + Array.from({ length: 50 }, (_, i) => `Variable: v${i}=${'y'.repeat(10)}`).join('\r\n') + '\r\n\r\n';
    const frames = decoder.push(big + 'Event: Small\r\n\r\n');
    expect(frames.map((frame) => frame.type)).toEqual(['garbage', 'message']);
    expect(frames[0]).toMatchObject({ reason: 'message longer than 200 characters dropped', sample: 'Event: Big' });
    expect(messages(frames)[0]!.name).toBe('Small');
  });

  test('one endless line without any line end is bounded', () => {
    const decoder = new AmiDecoder({ maxMessageChars: 1000 });
    let frames: AmiFrame[] = [];
    for (let i = 0; i < 100; i++) frames = frames.concat(decoder.push('z'.repeat(100)));
    expect(frames.filter((frame) => frame.type === 'garbage').length).toBeGreaterThanOrEqual(1);
    frames = decoder.push('\r\n\r\nEvent: After\r\n\r\n');
    expect(messages(frames).map((message) => message.name)).toEqual(['After']);
  });

  test('midMessage tells a clean boundary from a message cut short', () => {
    const decoder = new AmiDecoder();
    decoder.push('Event: A\r\nKey: v\r\n');
    expect(decoder.midMessage).toBe(true);
    decoder.push('\r\n');
    expect(decoder.midMessage).toBe(false);
    decoder.push('Event: B\r\nKe');
    expect(decoder.midMessage).toBe(true);
  });
});

describe('AMI decoder: events passed over by name (a shedding consumer)', () => {
  it('reports a skipped frame for each, keeps every other message whole, in order, across chunk boundaries', () => {
    const text =
      'Asterisk Call Manager/11.0.0\r\n' +
      'Event: ChallengeResponseFailed\r\nPrivilege: security,all\r\nRemoteAddress: IPV4/UDP/203.0.113.9/5060\r\n\r\n' +
      'Event: DialBegin\r\nChannel: PJSIP/1001-00000001\r\n\r\n' +
      'Event: InvalidAccountID\r\nAccountID: 9999\r\n\r\n' +
      'Response: Success\r\nActionID: 7\r\n\r\n';
    const skip = (name: string) => name !== 'DialBegin';
    for (const size of [1, 7, text.length]) {
      const decoder = new AmiDecoder({ skipEvent: skip });
      const frames = [];
      for (let at = 0; at < text.length; at += size) frames.push(...decoder.push(text.slice(at, at + size)));
      expect(frames.map((frame) => (frame.type === 'message' ? `message ${frame.message.name}` : frame.type === 'skipped' ? `skipped ${frame.name}` : frame.type))).toEqual([
        'banner',
        'skipped ChallengeResponseFailed',
        'message DialBegin',
        'skipped InvalidAccountID',
        'message Success',
      ]);
      expect(decoder.midMessage).toBe(false);
    }
  });

  it('can be switched on and off between chunks', () => {
    const decoder = new AmiDecoder();
    const event = 'Event: ChallengeResponseFailed\r\nService: PJSIP\r\n\r\n';
    expect(decoder.push(event).map((frame) => frame.type)).toEqual(['message']);
    decoder.skipEvent = () => true;
    expect(decoder.push(event).map((frame) => frame.type)).toEqual(['skipped']);
    decoder.skipEvent = undefined;
    expect(decoder.push(event).map((frame) => frame.type)).toEqual(['message']);
  });
});

describe('AMI decoder: events kept uncut until read (deferEvent)', () => {
  const everyEvent = () => true;

  test.each(captures)('%s: the same messages, fields and order as cut at once, fed whole and in 1- and 7-byte chunks', (name) => {
    const bytes = readFileSync(join(amiDir, name));
    const eager = messages(decodeAll(bytes));
    for (const size of [1, 7, bytes.length]) {
      const decoder = new AmiDecoder({ deferEvent: everyEvent });
      const frames: AmiFrame[] = [];
      for (let at = 0; at < bytes.length; at += size) frames.push(...decoder.push(bytes.subarray(at, at + size)));
      const deferred = messages(frames);
      expect(deferred.filter((message) => message.kind === 'event').every((message) => message.isDeferred)).toBe(true);
      // Name and kind without cutting; any field by peek() without cutting; then cut on demand.
      expect(deferred.map((message) => [message.kind, message.name, message.event])).toEqual(eager.map((message) => [message.kind, message.name, message.event]));
      deferred.forEach((message, index) => {
        for (const [key] of eager[index]!.fields) expect(message.peek(key)).toBe(eager[index]!.get(key));
      });
      expect(deferred.every((message) => message.kind !== 'event' || message.isDeferred)).toBe(true);
      expect(deferred.map((message) => message.fields)).toEqual(eager.map((message) => message.fields));
      expect(deferred.map((message) => message.unparsedLines)).toEqual(eager.map((message) => message.unparsedLines));
      expect(reencode(frames)).toBe(bytes.toString('utf8'));
      expect(decoder.midMessage).toBe(false);
    }
  });

  test('only the named events are kept uncut; skipEvent wins; peek() finds a key only at a line start', () => {
    const text =
      'Event: ChallengeResponseFailed\r\nPrivilege: security,all\r\nAccountID: RemoteAddress: fake\r\nRemoteAddress: IPV4/UDP/203.0.113.9/5060\r\n\r\n' +
      'Event: DialBegin\r\nChannel: PJSIP/1001-00000001\r\n\r\n' +
      'Event: InvalidAccountID\r\nAccountID: 9999\r\n\r\n';
    const decoder = new AmiDecoder({ deferEvent: (name) => name !== 'DialBegin', skipEvent: (name) => name === 'InvalidAccountID' });
    const frames = decoder.push(text);
    expect(frames.map((frame) => frame.type)).toEqual(['message', 'message', 'skipped']);
    const [refusal, dial] = messages(frames);
    expect([refusal!.isDeferred, dial!.isDeferred]).toEqual([true, false]);
    expect(refusal!.peek('RemoteAddress')).toBe('IPV4/UDP/203.0.113.9/5060');
    expect(refusal!.peek('Privilege')).toBe('security,all');
    expect(refusal!.peek('ActionID')).toBeUndefined();
    expect(refusal!.isDeferred).toBe(true);
    expect(refusal!.get('accountid')).toBe('RemoteAddress: fake');
    expect(refusal!.isDeferred).toBe(false);
  });

  test('a deferred event longer than maxMessageChars is dropped as garbage and decoding goes on', () => {
    const decoder = new AmiDecoder({ deferEvent: everyEvent, maxMessageChars: 200 });
    const long = `Event: ChallengeResponseFailed\r\n${'Padding: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n'.repeat(10)}\r\n`;
    const frames = decoder.push(`${long}Event: DialBegin\r\nChannel: PJSIP/1001-00000001\r\n\r\n`);
    expect(frames.map((frame) => frame.type)).toEqual(['garbage', 'message']);
    expect(messages(frames)[0]!.get('Channel')).toBe('PJSIP/1001-00000001');
    expect(decoder.midMessage).toBe(false);
  });
});

describe('AMI encoder', () => {
  test('encodes an action with ActionID first and repeated keys for arrays', () => {
    expect(encodeAction('Originate', 'o-1', { Channel: 'PJSIP/1001', Variable: ['a=1', 'b=2'], Async: true, Skip: undefined })).toBe(
      'Action: Originate\r\nActionID: o-1\r\nChannel: PJSIP/1001\r\nVariable: a=1\r\nVariable: b=2\r\nAsync: true\r\n\r\n',
    );
  });

  test('matches the bytes a real client sent (hangup-by-ami-and-ari.sent)', () => {
    const sent = readFileSync(join(amiDir, 'hangup-by-ami-and-ari.sent'), 'utf8');
    const encoded =
      encodeAction('Login', 'login-1', { Username: 'fraudwatch', Secret: 'fraudwatch-secret', Events: 'on' }) +
      encodeAction('Hangup', 'hup-ami-1', { Channel: 'PJSIP/1001-0000000e', Cause: 21 }) +
      encodeAction('Logoff', 'logoff-1');
    expect(encoded).toBe(sent);
  });

  test('strips CR and LF from values so nothing can be injected', () => {
    const text = encodeAction('Hangup', 'h\r\n1', { Channel: 'PJSIP/1001\r\nAction: Originate\r\nChannel: x' });
    expect(text).toBe('Action: Hangup\r\nActionID: h1\r\nChannel: PJSIP/1001Action: OriginateChannel: x\r\n\r\n');
    const decoded = messages(decodeAll(text));
    expect(decoded).toHaveLength(1);
    expect(decoded[0]!.getAll('Action')).toEqual(['Hangup']);
  });

  test('refuses a line over 1024 bytes and accepts one of exactly 1024', () => {
    const prefix = 'Channel: ';
    const fits = 'c'.repeat(1024 - 2 - prefix.length);
    expect(() => encodeAction('Hangup', '1', { Channel: fits })).not.toThrow();
    expect(() => encodeAction('Hangup', '1', { Channel: fits + 'c' })).toThrow(AmiEncodeError);
    // Multi-byte characters count as bytes, not characters.
    expect(() => encodeAction('Hangup', '1', { Channel: 'é'.repeat(508) })).toThrow(/1027 bytes/);
  });

  test('refuses keys that would break the framing and fields the encoder owns', () => {
    expect(() => encodeAction('Ping', '1', { 'Bad:Key': 'x' })).toThrow(AmiEncodeError);
    expect(() => encodeAction('Ping', '1', { 'Bad\r\nKey': 'x' })).toThrow(AmiEncodeError);
    expect(() => encodeAction('Ping', '1', { ActionID: 'other' })).toThrow(/set by the encoder/);
  });

  test('AmiMessage.from and variables', () => {
    const message = AmiMessage.from({ Event: 'DialBegin', ChanVariable: ['CDR(userfield)=outbound', 'A=b=c'] });
    expect(message.getVariables('ChanVariable')).toEqual(new Map([
      ['CDR(userfield)', 'outbound'],
      ['A', 'b=c'],
    ]));
    expect(message.toObject()).toEqual({ Event: 'DialBegin', ChanVariable: 'CDR(userfield)=outbound' });
  });
});
