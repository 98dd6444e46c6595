import { readFileSync } from 'node:fs';
import type { AmiMessage } from '../../../src/ami/message.js';
import { causeText, pjsipTechCause, timeEvents } from '../../../src/sim/index.js';
import { fixturePath } from '../../helpers/fixtures.js';
import { RawAmiClient } from '../../helpers/raw-ami.js';
import { capture, captureMessages, startHarness, type Harness } from './harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness({ users: [{ username: 'fraudwatch', secret: 'fraudwatch-secret' }, { username: 'viewer', secret: 'v', write: 'reporting' }] });
});

afterEach(async () => {
  await harness.cleanup();
});

/** Replays a capture's events up to the answer to `actionId`: the PBX as it was when the action came. */
async function replayUntilAnswerTo(name: string, actionId: string): Promise<{ recorded: AmiMessage[]; answerIndex: number }> {
  const recorded = captureMessages(name);
  const answerIndex = recorded.findIndex((message) => message.kind === 'response' && message.actionId === actionId);
  const before = recorded.slice(0, answerIndex).filter((message) => message.kind === 'event' && message.actionId === undefined);
  await harness.sim.replay(timeEvents(before), { speed: Infinity });
  return { recorded, answerIndex };
}

/** Fields of an event without the bridge technology (Asterisk switches it to native_rtp silently). */
function comparable(message: AmiMessage): (readonly [string, string])[] {
  return message.fields.filter(([key]) => key !== 'BridgeTechnology');
}

describe('Hangup of an exact channel', () => {
  test('answers and sends the event sequence of the real capture (hup-ami-1, Cause 21)', async () => {
    const { recorded, answerIndex } = await replayUntilAnswerTo('hangup-by-ami-and-ari.ami', 'hup-ami-1');
    const client = await harness.loggedIn('call');
    const start = client.received.length;
    const answer = await client.action('Hangup', { Channel: 'PJSIP/1001-0000000e', Cause: 21 });
    expect(answer.fields).toEqual([
      ['Response', 'Success'],
      ['ActionID', answer.actionId],
      ['Message', 'Channel Hungup'],
    ]);
    expect(recorded[answerIndex]!.fields.slice(2)).toEqual(answer.fields.slice(2));

    const linkedid = '1795258894.14';
    const bridge = 'e002945b-fdc3-4697-925d-cebd4e76191c';
    const ofTheCall = (message: AmiMessage): boolean =>
      (message.get('Linkedid') === linkedid || message.get('BridgeUniqueid') === bridge) && ['BridgeLeave', 'SoftHangupRequest', 'BridgeDestroy', 'Hangup'].includes(message.name);
    const expected = recorded.slice(answerIndex + 1).filter(ofTheCall);
    expect(expected.map((message) => message.name)).toEqual(['BridgeLeave', 'SoftHangupRequest', 'BridgeLeave', 'BridgeDestroy', 'Hangup', 'Hangup']);

    await client.waitFor((message) => message.name === 'Hangup' && message.get('Channel') === 'PJSIP/carrier-0000000f', 'the second Hangup', { from: start });
    const sent = client.received.slice(start + 1).filter(ofTheCall);
    expect(sent.map(comparable)).toEqual(expected.map(comparable));
    expect(sent[4]!.get('TechCause')).toBe('403');
    expect(harness.sim.channels.byLinkedid(linkedid)).toEqual([]);
  });

  test('the killed leg gets the given cause and its Q.850 text; the other legs 16', async () => {
    const client = await harness.loggedIn('call');
    const cases: [number, string, string | undefined][] = [
      [34, 'Circuit/channel congestion', '503'],
      [17, 'User busy', '486'],
      [16, 'Normal Clearing', undefined],
    ];
    for (const [cause, text, techCause] of cases) {
      const call = harness.sim.callEvents({ from: '1001', to: '0044909879012' });
      harness.sim.emitEvents([...call.setup, ...call.answer].map((entry) => entry.message));
      const start = client.received.length;
      // By Uniqueid: ast_channel_get_by_name also finds channels by their Uniqueid.
      await client.action('Hangup', { Channel: call.callee.uniqueid, Cause: cause });
      const second = await client.waitFor((message) => message.name === 'Hangup' && message.get('Channel') === call.caller.channel, 'the Hangup of the caller', { from: start });
      const hangups = client.events('Hangup').slice(-2);
      expect(hangups[1]).toBe(second);
      expect([hangups[0]!.get('Channel'), hangups[0]!.get('Cause'), hangups[0]!.get('Cause-txt'), hangups[0]!.get('TechCause')]).toEqual([call.callee.channel, String(cause), text, techCause]);
      expect([second.get('Cause'), second.get('Cause-txt'), second.has('TechCause')]).toEqual(['16', 'Normal Clearing', false]);
    }
  });

  test('a ringing call (no bridge) ends with SoftHangupRequest and the two Hangup events', async () => {
    const client = await harness.loggedIn('call');
    const call = harness.sim.callEvents({ from: '1002', to: '011535551234' });
    harness.sim.emitEvents(call.setup.map((entry) => entry.message));
    await client.waitForEvent('DialState');
    const start = client.received.length;
    await client.action('Hangup', { Channel: call.caller.channel, Cause: 21 });
    await client.waitFor((message) => message.name === 'Hangup' && message.get('Channel') === call.callee.channel, 'the callee Hangup', { from: start });
    expect(client.received.slice(start + 1).map((message) => `${message.name} ${message.get('Channel')}`)).toEqual([
      `SoftHangupRequest ${call.caller.channel}`,
      `Hangup ${call.caller.channel}`,
      `Hangup ${call.callee.channel}`,
    ]);
  });

  test('a missing channel: the exact bytes of the real capture (hangup-nonexistent.ami)', async () => {
    const client = await RawAmiClient.connect(harness.sim.port);
    client.sendRaw(readFileSync(fixturePath('ami', 'hangup-nonexistent.sent')));
    await client.waitForClose();
    expect(client.rawText).toBe(capture('hangup-nonexistent.ami').toString('utf8'));
  });

  test('no Channel, a bad regex and a user without write=call are refused', async () => {
    const client = await harness.loggedIn('off');
    expect((await client.action('Hangup', {})).get('Message')).toBe('No channel specified');
    expect((await client.action('Hangup', { Channel: '/[unclosed/' })).get('Message')).toBe('Regex compile failed on: [unclosed');
    const viewer = await harness.client();
    await viewer.login('viewer', 'v', 'off');
    harness.sim.addChannel({ channel: 'PJSIP/1001-00000001' });
    const refused = await viewer.action('Hangup', { Channel: 'PJSIP/1001-00000001' });
    expect(refused.fields).toEqual([
      ['Response', 'Error'],
      ['ActionID', refused.actionId],
      ['Message', 'Permission denied'],
    ]);
    expect(harness.sim.channels.size).toBe(1);
  });
});

describe('Hangup with a /regex/', () => {
  test('answers with the ChannelHungup list of the real capture, then hangs the whole call up', async () => {
    const { recorded, answerIndex } = await replayUntilAnswerTo('originate-local-regex-hangup.ami', 'hup-g-1');
    const client = await harness.loggedIn('on');
    const start = client.received.length;
    const actionId = client.send('Hangup', { Channel: '/^PJSIP\\/carrier-.*$/', Cause: 21 });
    const complete = await client.waitForEvent('ChannelsHungupListComplete');
    const list = client.received.slice(start, client.received.indexOf(complete) + 1);
    const recordedList = recorded.slice(answerIndex, answerIndex + 3);
    const withId = (message: AmiMessage): (readonly [string, string])[] => message.fields.map(([key, value]) => [key, key === 'ActionID' ? 'ID' : value]);
    expect(list.map(withId)).toEqual(recordedList.map(withId));
    expect(list[1]!.fields).toEqual([
      ['Event', 'ChannelHungup'],
      ['Channel', 'PJSIP/carrier-0000001a'],
      ['ActionID', actionId],
    ]);

    await client.waitFor((message) => message.name === 'Hangup' && message.get('Channel') === 'Local/00252615123456@from-internal-00000000;2', 'the last Hangup', { from: start });
    const hangups = client.events('Hangup').map((event) => [event.get('Channel'), event.get('Cause'), event.get('Cause-txt'), event.get('TechCause')]);
    expect(hangups).toEqual([
      ['PJSIP/carrier-0000001a', '21', 'Call Rejected', '403'],
      ['Local/00252615123456@from-internal-00000000;1', '16', 'Normal Clearing', undefined],
      ['Local/00252615123456@from-internal-00000000;2', '16', 'Normal Clearing', undefined],
    ]);
    expect(harness.sim.channels.size).toBe(0);
  });

  test('ChannelHungup items carry no Privilege and go to the asking session only', async () => {
    const asker = await harness.loggedIn('on');
    const bystander = await harness.loggedIn('on');
    const call = harness.sim.callEvents({ from: '1001', to: '011535551234' });
    harness.sim.emitEvents([...call.setup, ...call.answer].map((entry) => entry.message));
    const actionId = asker.send('Hangup', { Channel: '/^PJSIP\\/1001-/' });
    await asker.waitForEvent('ChannelsHungupListComplete');
    await bystander.waitFor((message) => message.name === 'Hangup' && message.get('Channel') === call.callee.channel);
    expect(asker.events('ChannelHungup').map((event) => event.fields)).toEqual([
      [
        ['Event', 'ChannelHungup'],
        ['Channel', call.caller.channel],
        ['ActionID', actionId],
      ],
    ]);
    expect(bystander.events('ChannelHungup')).toEqual([]);
    expect(bystander.events('Hangup')).toHaveLength(2);
  });

  test('a regex matching nothing gives an empty list and sends nothing else', async () => {
    const client = await harness.loggedIn('on');
    harness.sim.addChannel({ channel: 'PJSIP/1001-00000001' });
    const list = await client.list('Hangup', { Channel: '/^IAX2\\//' });
    expect(list.response.get('Message')).toBe('Channels hung up will follow');
    expect(list.complete!.get('ListItems')).toBe('0');
    expect(harness.sim.channels.size).toBe(1);
  });
});

describe('the Hangup API and the cause table', () => {
  test('sim.hangup() sends the same events without answering anyone', () => {
    const call = harness.sim.addCall({ from: '1001', to: '011535551234' });
    const result = harness.sim.hangup(call.caller.channel, 34);
    expect(result.channels.map((channel) => channel.name)).toEqual([call.caller.channel, call.callee.channel]);
    expect(result.events.map((event) => event.name)).toEqual(['BridgeLeave', 'SoftHangupRequest', 'BridgeLeave', 'BridgeDestroy', 'Hangup', 'Hangup']);
    expect(result.events[4]!.get('TechCause')).toBe('503');
    expect(harness.sim.hangup('PJSIP/none-00000000').channels).toEqual([]);
  });

  test('Q.850 texts and PJSIP SIP codes as Asterisk 22 prints them', () => {
    expect([16, 17, 19, 21, 34, 1, 200].map(causeText)).toEqual(['Normal Clearing', 'User busy', 'User alerting, no answer', 'Call Rejected', 'Circuit/channel congestion', 'Unallocated (unassigned) number', 'Unknown']);
    expect([21, 34, 17, 16].map(pjsipTechCause)).toEqual([403, 503, 486, undefined]);
  });
});
