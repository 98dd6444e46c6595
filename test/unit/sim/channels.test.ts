import { readFileSync } from 'node:fs';
import { parseTranscript, timeEvents } from '../../../src/sim/index.js';
import { fixturePath } from '../../helpers/fixtures.js';
import { RawAmiClient } from '../../helpers/raw-ami.js';
import { capture, captureMessages, keys, startHarness, type Harness } from './harness.js';

let harness: Harness;
let clock = Date.UTC(2026, 10, 21, 11, 2, 0);

beforeEach(async () => {
  clock = Date.UTC(2026, 10, 21, 11, 2, 0);
  harness = await startHarness({ now: () => clock });
});

afterEach(async () => {
  await harness.cleanup();
});

/** Seeds the table with the channels listed in a captured CoreShowChannels answer. */
function seedFromCapture(name: string): void {
  for (const item of captureMessages(name).filter((message) => message.name === 'CoreShowChannel')) {
    const [hours, minutes, seconds] = item.get('Duration')!.split(':').map(Number) as [number, number, number];
    harness.sim.addChannel({
      channel: item.get('Channel')!,
      uniqueid: item.get('Uniqueid')!,
      linkedid: item.get('Linkedid')!,
      state: Number(item.get('ChannelState')),
      callerIdNum: item.get('CallerIDNum')!,
      callerIdName: item.get('CallerIDName')!,
      connectedLineNum: item.get('ConnectedLineNum')!,
      connectedLineName: item.get('ConnectedLineName')!,
      context: item.get('Context')!,
      exten: item.get('Exten')!,
      priority: Number(item.get('Priority')),
      application: item.get('Application')!,
      applicationData: item.get('ApplicationData')!,
      bridgeId: item.get('BridgeId')!,
      createdAt: clock - ((hours * 60 + minutes) * 60 + seconds) * 1000 - 400,
    });
  }
}

describe('CoreShowChannels', () => {
  test('a whole Events-off session is byte-identical to the real Asterisk capture', async () => {
    seedFromCapture('coreshowchannels-events-off.ami');
    const client = await RawAmiClient.connect(harness.sim.port);
    client.sendRaw(readFileSync(fixturePath('ami', 'coreshowchannels-events-off.sent')));
    await client.waitForClose();
    expect(client.rawText).toBe(capture('coreshowchannels-events-off.ami').toString('utf8'));
  });

  test('on an Events-on session the items have the captured field list, and no Privilege', async () => {
    seedFromCapture('coreshowchannels-events-on.ami');
    const client = await harness.loggedIn('on');
    const list = await client.list('CoreShowChannels');
    const recorded = captureMessages('coreshowchannels-events-on.ami');
    const recordedItem = recorded.find((message) => message.name === 'CoreShowChannel')!;
    expect(keys(list.response)).toEqual(['Response', 'ActionID', 'EventList', 'Message']);
    expect(list.response.get('Message')).toBe('Channels will follow');
    expect(list.items).toHaveLength(6);
    for (const item of list.items) expect(keys(item)).toEqual(keys(recordedItem));
    expect(list.complete!.fields).toEqual([
      ['Event', 'CoreShowChannelsComplete'],
      ['ActionID', list.response.actionId],
      ['EventList', 'Complete'],
      ['ListItems', '6'],
    ]);
  });

  test('an empty table gives the start and the Complete with ListItems 0', async () => {
    const client = await harness.loggedIn('off');
    const list = await client.list('CoreShowChannels');
    expect(list.items).toEqual([]);
    expect(list.complete!.get('ListItems')).toBe('0');
  });

  test('Duration counts from the channel creation as HH:MM:SS', async () => {
    harness.sim.addChannel({ channel: 'PJSIP/1001-00000001', uniqueid: '1795258900.1' });
    clock += (2 * 3600 + 3 * 60 + 4) * 1000 + 999;
    const client = await harness.loggedIn('off');
    const list = await client.list('CoreShowChannels');
    expect(list.items[0]!.get('Duration')).toBe('02:03:04');
  });
});

describe('the channel model follows the events sent', () => {
  test('a replayed call shows in CoreShowChannels as on the real PBX, and leaves on Hangup', async () => {
    const entries = parseTranscript(capture('intl-call-cuba.timestamped.ami'));
    const bridged = entries.findIndex((entry, index) => entry.message.name === 'BridgeEnter' && entries[index - 1]?.message.name === 'BridgeEnter');
    await harness.sim.replay(entries.slice(0, bridged + 1), { speed: Infinity });

    const client = await harness.loggedIn('off');
    const list = await client.list('CoreShowChannels');
    const rows = list.items.map((item) => [item.get('Channel'), item.get('ChannelStateDesc'), item.get('Exten'), item.get('Priority'), item.get('Application'), item.get('ApplicationData'), item.get('BridgeId'), item.get('Linkedid')]);
    expect(rows).toEqual([
      ['PJSIP/1001-00000000', 'Up', '011535551234', '3', 'Dial', 'PJSIP/011535551234@carrier,,', 'ae82e755-7bd6-4487-953c-e6c7a9693e2c', '1795259065.0'],
      ['PJSIP/carrier-00000001', 'Up', '', '1', 'AppDial', '(Outgoing Line)', 'ae82e755-7bd6-4487-953c-e6c7a9693e2c', '1795259065.0'],
    ]);
    expect(list.items[1]!.get('CallerIDNum')).toBe('011535551234');
    expect(list.items[1]!.get('ConnectedLineName')).toBe('Ext 1001');

    await harness.sim.replay(entries.slice(bridged + 1), { speed: Infinity });
    expect(harness.sim.channels.size).toBe(0);
    expect(harness.sim.channels.bridges).toEqual([]);
  });

  test('manager channelvars (ChanVariable) stay on the channel block', async () => {
    const entries = parseTranscript(capture('call-with-chanvars.ami'));
    const firstHangup = entries.findIndex((entry) => entry.message.name === 'HangupRequest');
    await harness.sim.replay(entries.slice(0, firstHangup), { speed: Infinity });
    const caller = harness.sim.channels.get('PJSIP/1001-00000000')!;
    expect(caller.block.filter(([key]) => key === 'ChanVariable').map(([, value]) => value)).toEqual([
      'CDR(userfield)=outbound',
      'CALLERID(num)=1001',
      'CALLERID(name)=Ext 1001',
      'CHANNEL(channeltype)=PJSIP',
    ]);
  });

  test('channels added or removed directly send nothing', async () => {
    const client = await harness.loggedIn('on');
    const start = client.received.length;
    const added = harness.sim.addChannel({ channel: 'PJSIP/1001-0000002a', callerIdNum: '1001', exten: '0044909879012' });
    expect(added.uniqueid).toMatch(/^\d+\.\d+$/);
    expect(harness.sim.channels.get('pjsip/1001-0000002A')).toBe(added);
    expect(harness.sim.removeChannel(added.uniqueid)).toBe(true);
    expect(harness.sim.removeChannel('PJSIP/nope-00000000')).toBe(false);
    const pong = await client.action('Ping');
    expect(client.received.slice(start)).toEqual([pong]);
  });

  test('addCall puts an answered call in the table silently; its hangup events end it', async () => {
    const script = harness.sim.addCall({ from: '1001', to: '011535551234' });
    expect(harness.sim.channels.list().map((channel) => [channel.name, channel.state, channel.bridgeId])).toEqual([
      [script.caller.channel, 6, script.bridgeId],
      [script.callee.channel, 6, script.bridgeId],
    ]);
    harness.sim.emitEvents(script.hangup.map((entry) => entry.message));
    expect(harness.sim.channels.size).toBe(0);
  });

  test('a capture that starts mid-call still fills the table from full channel blocks', () => {
    const recorded = captureMessages('intl-call-cuba.ami');
    const answered = recorded.findIndex((message) => message.name === 'BridgeEnter');
    // Drop the Newchannel events: the table learns of the legs from later blocks.
    const midCall = recorded.slice(answered).filter((message) => message.kind === 'event' && message.actionId === undefined);
    harness.sim.applySilently(timeEvents(midCall.slice(0, 2)));
    expect(harness.sim.channels.list().map((channel) => channel.name)).toEqual(['PJSIP/carrier-00000003', 'PJSIP/1001-00000002']);
  });
});
