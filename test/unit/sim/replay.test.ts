import type { AmiMessage } from '../../../src/ami/message.js';
import { loadTranscript, parseTranscript, type TranscriptEntry } from '../../../src/sim/index.js';
import { fixturePath } from '../../helpers/fixtures.js';
import type { RawAmiClient } from '../../helpers/raw-ami.js';
import { capture, captureMessages, startHarness, type Harness } from './harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness();
});

afterEach(async () => {
  await harness.cleanup();
});

/** The messages a client received from index `from` on, with the ms from `since` to their arrival. */
function arrivals(client: RawAmiClient, from: number, since: bigint): { message: AmiMessage; ms: number }[] {
  return client.received.slice(from).map((message, index) => ({ message, ms: Number(client.receivedAt[from + index]! - since) / 1e6 }));
}

describe('transcripts', () => {
  test('keep every event except answers to the recording client (register-bruteforce.ami)', () => {
    const recorded = captureMessages('register-bruteforce.ami');
    const expected = recorded.filter((message) => message.kind === 'event' && message.actionId === undefined);
    const responses = recorded.filter((message) => message.kind === 'response');
    expect(responses.map((message) => message.actionId)).toEqual(['login-1', 'logoff-1']);
    const entries = parseTranscript(capture('register-bruteforce.ami'));
    expect(entries).toHaveLength(recorded.length - responses.length);
    expect(entries).toHaveLength(127);
    expect(entries.map((entry) => entry.message)).toEqual(expected);
  });

  test('drop list items and events carrying an ActionID, keep events carrying a Response header', () => {
    const five = parseTranscript(capture('five-concurrent-intl.timestamped.ami'));
    expect(five.some((entry) => entry.message.name.startsWith('CoreShowChannel'))).toBe(false);
    const originate = parseTranscript(capture('originate-local-regex-hangup.ami'));
    expect(originate.some((entry) => entry.message.name === 'OriginateResponse' || entry.message.name === 'ChannelHungup')).toBe(false);
    const brute = parseTranscript(capture('register-bruteforce.ami'));
    expect(brute.filter((entry) => entry.message.name === 'ChallengeResponseFailed')).toHaveLength(42);
  });

  test('times come from Timestamp, else EventTV, else the previous event', async () => {
    const timestamped = await loadTranscript(fixturePath('ami', 'intl-call-cuba.timestamped.ami'));
    // FullyBooted has no time of its own: it takes the first one (the SuccessfulAuth after it).
    expect(timestamped[0]!.message.name).toBe('FullyBooted');
    expect(timestamped[0]).toEqual(expect.objectContaining({ time: 1795259064261.089, timed: false }));
    expect(timestamped[1]).toEqual(expect.objectContaining({ time: 1795259064261.089, timed: true }));

    const plain = parseTranscript(capture('intl-call-cuba.ami'));
    const firstChannel = plain.findIndex((entry) => entry.message.name === 'Newchannel');
    const lastSecurity = plain[firstChannel - 1]!;
    expect(lastSecurity.message.name).toBe('SuccessfulAuth');
    // 2026-11-21T11:00:36.xxx+0000: no Timestamp in this capture, the call inherits the EventTV.
    expect(plain[firstChannel]!.time).toBe(lastSecurity.time);
    expect(plain[firstChannel]!.timed).toBe(false);
    expect(new Date(lastSecurity.time).toISOString()).toBe(lastSecurity.message.get('EventTV')!.replace('+0000', 'Z'));
  });
});

describe('replay', () => {
  test('at the recorded pace (call set-up of intl-call-cuba, 1.5 s)', async () => {
    const entries = parseTranscript(capture('intl-call-cuba.timestamped.ami'));
    const answered = entries.findIndex((entry) => entry.message.name === 'BridgeCreate');
    const slice = entries.slice(0, answered + 1);
    const client = await harness.loggedIn('on');
    const from = client.received.length;
    const startedAt = process.hrtime.bigint();
    const result = await harness.sim.replay(slice, { speed: 1 });
    expect(result).toEqual({ sent: slice.length, suppressed: 0, aborted: false });
    await client.waitForCount(from + slice.length);

    const seen = arrivals(client, from, startedAt);
    expect(seen.map(({ message }) => message.fields)).toEqual(slice.map((entry) => entry.message.fields));
    const recordedMs = slice.map((entry) => entry.time - slice[0]!.time);
    expect(recordedMs.at(-1)).toBeGreaterThan(1400);
    // Never early (timers run on a whole-millisecond clock: a hair of slack), and not much late.
    seen.forEach(({ ms }, index) => expect(ms).toBeGreaterThanOrEqual(recordedMs[index]! - 5));
    expect(seen.at(-1)!.ms).toBeLessThan(recordedMs.at(-1)! + 3000);
  });

  test('twenty times faster (the whole intl-call-cuba call, 21.5 s recorded)', async () => {
    const entries = parseTranscript(capture('intl-call-cuba.timestamped.ami'));
    const client = await harness.loggedIn('on');
    const from = client.received.length;
    const startedAt = process.hrtime.bigint();
    const result = await harness.sim.replay(entries, { speed: 20 });
    const elapsedMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
    const recordedMs = entries.at(-1)!.time - entries[0]!.time;
    expect(recordedMs).toBeCloseTo(21511, -1);
    expect(result.sent).toBe(entries.length);
    expect(elapsedMs).toBeGreaterThanOrEqual(recordedMs / 20 - 5);
    expect(elapsedMs).toBeLessThan(recordedMs / 20 + 5000);
    await client.waitForCount(from + entries.length);
    expect(client.received.slice(from).map((message) => message.name)).toEqual(entries.map((entry) => entry.message.name));
    expect(harness.sim.channels.size).toBe(0);
  });

  test('as fast as possible: register-bruteforce delivers its 127 events in order', async () => {
    const entries = parseTranscript(capture('register-bruteforce.ami'));
    const client = await harness.loggedIn('on');
    const from = client.received.length;
    const result = await harness.sim.replay(entries, { speed: Infinity });
    expect(result.sent).toBe(127);
    await client.waitForCount(from + 127);
    expect(client.received.slice(from).map((message) => message.fields)).toEqual(entries.map((entry) => entry.message.fields));
    expect(client.events('InvalidAccountID').map((event) => event.get('Service'))).toEqual(Array(36).fill('PJSIP'));
  });

  test("times: 'now' rewrites Timestamp and EventTV to the time of sending", async () => {
    const entries = parseTranscript(capture('intl-call-cuba.timestamped.ami')).slice(0, 5);
    const client = await harness.loggedIn('on');
    const from = client.received.length;
    const before = Date.now();
    await harness.sim.replay(entries, { speed: Infinity, times: 'now' });
    await client.waitForCount(from + 5);
    const challenge = client.received.slice(from).find((message) => message.name === 'ChallengeSent')!;
    expect(Number(challenge.get('Timestamp')) * 1000).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(challenge.get('EventTV')!.replace('+0000', 'Z'))).toBeGreaterThanOrEqual(before - 1);
  });

  test('a replay stops when its signal aborts, and stop() ends a paced replay at once', async () => {
    const entries = parseTranscript(capture('intl-call-cuba.timestamped.ami'));
    const controller = new AbortController();
    const aborted = await harness.sim.replay(entries, {
      speed: Infinity,
      onEvent: (_entry, index) => {
        if (index === 9) controller.abort();
      },
      signal: controller.signal,
    });
    expect(aborted).toEqual({ sent: 10, suppressed: 0, aborted: true });

    // Aborting during a 1.2 s wait ends the replay then, not when the wait would have ended.
    const abortLater = new AbortController();
    let abortedAt = 0n;
    const waiting = await harness.sim.replay(entries, {
      speed: 1,
      signal: abortLater.signal,
      onEvent: (_entry, index) => {
        if (index !== 1) return;
        setImmediate(() => {
          abortedAt = process.hrtime.bigint();
          abortLater.abort();
        });
      },
    });
    expect(waiting).toEqual({ sent: 2, suppressed: 0, aborted: true });
    expect(Number(process.hrtime.bigint() - abortedAt) / 1e6).toBeLessThan(1000);

    const paced = harness.sim.replay(entries, { speed: 1 });
    await harness.sim.stop();
    const result = await paced;
    expect(result.aborted).toBe(true);
    expect(result.sent).toBeLessThan(entries.length);
  });

  test('goes on across restart(): the table keeps up, a reconnected client gets the rest', async () => {
    const entries = parseTranscript(capture('intl-call-cuba.timestamped.ami'));
    const first = await harness.loggedIn('on');
    const replaying = harness.sim.replay(entries, { speed: 10 });
    await first.waitForEvent('BridgeEnter');
    await harness.sim.restart({ downtimeMs: 50 });
    expect(first.closed).toBe(true);

    // The call is still up on the PBX: the new session lists it, then sees it end.
    const second = await harness.loggedIn('call');
    const list = await second.list('CoreShowChannels');
    expect(list.items.map((item) => item.get('Channel'))).toEqual(['PJSIP/1001-00000000', 'PJSIP/carrier-00000001']);
    const result = await replaying;
    expect(result).toEqual({ sent: entries.length, suppressed: 0, aborted: false });
    await second.waitFor((message) => message.name === 'Hangup' && message.get('Channel') === 'PJSIP/carrier-00000001');
    expect(harness.sim.channels.size).toBe(0);
  });

  test('rejects a speed that is not positive', async () => {
    await expect(harness.sim.replay([], { speed: 0 })).rejects.toThrow('replay speed must be > 0');
  });
});

describe('a Hangup during a replay', () => {
  /** The first answered call of five-concurrent-intl: its Linkedid and the caller's channel. */
  function firstCall(entries: TranscriptEntry[]): { linkedid: string; caller: string; bridge: string; bridgeEnter: number } {
    const bridgeEnter = entries.findIndex((entry) => entry.message.name === 'BridgeEnter' && entry.message.get('Channel')!.startsWith('PJSIP/1001-'));
    const message = entries[bridgeEnter]!.message;
    return { linkedid: message.get('Linkedid')!, caller: message.get('Channel')!, bridge: message.get('BridgeUniqueid')!, bridgeEnter };
  }

  const ofCall =
    (call: { linkedid: string; bridge: string }) =>
    (message: AmiMessage): boolean =>
      message.get('Linkedid') === call.linkedid || message.get('BridgeUniqueid') === call.bridge || message.get('UniqueID') === call.linkedid;

  test('suppresses every later replayed event of that call (fast replay, paused at the answer)', async () => {
    const entries = parseTranscript(capture('five-concurrent-intl.timestamped.ami'));
    const call = firstCall(entries);
    expect(call).toEqual(expect.objectContaining({ linkedid: '1795259091.2', caller: 'PJSIP/1001-00000002' }));
    const client = await harness.loggedIn('on');
    let hangupAnswer: AmiMessage | undefined;

    const result = await harness.sim.replay(entries, {
      speed: Infinity,
      onEvent: async (_entry, index) => {
        if (index !== call.bridgeEnter) return;
        await client.waitFor((message) => message.name === 'BridgeEnter' && message.get('Channel') === call.caller);
        hangupAnswer = await client.action('Hangup', { Channel: call.caller, Cause: 21 });
      },
    });
    expect(hangupAnswer!.get('Message')).toBe('Channel Hungup');

    const recordedLater = entries.slice(call.bridgeEnter + 1).filter((entry) => ofCall(call)(entry.message));
    expect(recordedLater.map((entry) => entry.message.name)).toContain('Cdr');
    expect(result.suppressed).toBe(recordedLater.length);
    expect(result.sent).toBe(entries.length - recordedLater.length);

    // Everything of that call after the answer is the simulator's own hangup sequence.
    const pong = await client.action('Ping');
    const after = client.received.slice(client.received.indexOf(hangupAnswer!) + 1, client.received.indexOf(pong));
    expect(after.filter(ofCall(call)).map((message) => message.name)).toEqual(['BridgeLeave', 'SoftHangupRequest', 'BridgeLeave', 'BridgeDestroy', 'Hangup', 'Hangup']);
    // The other four calls ran to their normal end.
    expect(after.filter((message) => message.name === 'Hangup' && message.get('Cause') === '16').length).toBe(2 * 4 + 1);
    expect(harness.sim.channels.size).toBe(0);
  });

  test('a client hangs a call up while a paced replay runs (speed 10)', async () => {
    const entries = parseTranscript(capture('five-concurrent-intl.timestamped.ami'));
    const client = await harness.loggedIn('on');
    const lastCall = '1795259092.10';
    const replaying = harness.sim.replay(entries, { speed: 10 });
    await client.waitFor((message) => message.name === 'BridgeEnter' && message.get('Linkedid') === lastCall && message.get('Channel')!.startsWith('PJSIP/1001-'));
    const answer = await client.action('Hangup', { Channel: 'PJSIP/1001-0000000a', Cause: 34 });
    expect(answer.get('Message')).toBe('Channel Hungup');
    const result = await replaying;
    expect(result.suppressed).toBeGreaterThan(0);
    const pong = await client.action('Ping');
    const after = client.received.slice(client.received.indexOf(answer) + 1, client.received.indexOf(pong));
    const ofLastCall = after.filter((message) => message.get('Linkedid') === lastCall);
    expect(ofLastCall.map((message) => message.name)).toEqual(['BridgeLeave', 'SoftHangupRequest', 'BridgeLeave', 'Hangup', 'Hangup']);
    expect(ofLastCall[3]!.get('Cause-txt')).toBe('Circuit/channel congestion');
    expect(client.events('Hangup')).toHaveLength(10);
  });
});
