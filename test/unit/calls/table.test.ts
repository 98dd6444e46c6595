import { readFileSync } from 'node:fs';
import { decodeAll } from '../../../src/ami/codec.js';
import { AmiMessage } from '../../../src/ami/message.js';
import { Normaliser } from '../../../src/calls/normalise.js';
import { CallTable, type Call } from '../../../src/calls/table.js';
import { channelListing, parseDuration } from '../../../src/calls/tracker.js';
import { captureEvents, feedCapture } from '../../helpers/feed.js';
import { fixturePath } from '../../helpers/fixtures.js';

function byCreation(calls: Call[]): Call[] {
  return [...calls].sort((a, b) => a.createdAt - b.createdAt || a.linkedid.localeCompare(b.linkedid));
}

function maxConcurrentCalls(name: string): number {
  const fed = feedCapture(name);
  let live = 0;
  let max = 0;
  for (const change of fed.changes) {
    if (change.kind === 'call.started') max = Math.max(max, ++live);
    if (change.kind === 'call.ended') live--;
  }
  return max;
}

describe('live call table from the real captures', () => {
  test('intl-call-cuba: one answered 20 s call from 1001 to 011535551234 via carrier', () => {
    const { table, changes } = feedCapture('intl-call-cuba.timestamped.ami');
    expect(table.liveCallCount).toBe(0);
    const [call, ...others] = table.recentCalls();
    expect(others).toHaveLength(0);
    expect(call!.linkedid).toBe('1795259065.0');
    expect(call!.sourceEndpoint).toBe('1001');
    expect(call!.origin.channel).toBe('PJSIP/1001-00000000');
    expect(call!.origin.context).toBe('from-internal');
    expect(call!.origin.callerIdName).toBe('Ext 1001');
    expect(call!.dialled).toBe('011535551234');
    expect(call!.outboundTrunk).toBe('carrier');
    expect(call!.destinationChannel).toBe('PJSIP/carrier-00000001');
    expect(call!.direction).toBe('outbound');
    expect(call!.legs.size).toBe(2);
    expect(call!.dials).toHaveLength(1);
    expect(call!.dials[0]).toMatchObject({ dialString: '011535551234@carrier', number: '011535551234', trunk: 'carrier', status: 'ANSWER' });
    expect(call!.answeredAt).toBeDefined();
    expect(call!.endedAt).toBeDefined();
    expect(call!.answeredSeconds(0)).toBeCloseTo(20.011, 2);
    expect(call!.cause).toEqual({ cause: 16, causeText: 'Normal Clearing' });
    expect(call!.cdrs.map((cdr) => [cdr.source, cdr.destination, cdr.billableSeconds, cdr.disposition])).toEqual([['1001', '011535551234', 20, 'ANSWERED']]);
    expect(changes.map((change) => change.kind)).toEqual([
      'call.started',
      'leg.added',
      'dial.started',
      'dial.answered',
      'call.answered',
      'call.cdr',
      'leg.ended',
      'dial.ended',
      'leg.ended',
      'call.ended',
    ]);
  });

  test('intl-call-cuba without timestamps: same call, times from EventTV, Uniqueid and the Cdr', () => {
    const { table } = feedCapture('intl-call-cuba.ami');
    const [call] = table.recentCalls();
    expect(call!.dialled).toBe('011535551234');
    expect(new Date(call!.createdAt).toISOString()).toBe('2026-11-21T11:00:36.453Z');
    expect(new Date(call!.endedAt!).toISOString()).toBe('2026-11-21T11:00:56.000Z');
  });

  test('five-concurrent-intl: five concurrent calls from 1001, each counted once', () => {
    const { table } = feedCapture('five-concurrent-intl.timestamped.ami');
    const calls = byCreation(table.recentCalls());
    expect(calls).toHaveLength(5);
    expect(calls.map((call) => call.dialled)).toEqual(['011535551234', '0112526155555', '00449098790123', '0053721234567', '011882161234567']);
    for (const call of calls) {
      expect(call.sourceEndpoint).toBe('1001');
      expect(call.outboundTrunk).toBe('carrier');
      expect(call.legs.size).toBe(2);
      expect(call.cause?.cause).toBe(16);
      expect(call.answeredSeconds(0)).toBeGreaterThan(24.9);
      expect(call.answeredSeconds(0)).toBeLessThan(25.1);
    }
    expect(maxConcurrentCalls('five-concurrent-intl.timestamped.ami')).toBe(5);
  });

  test('hangup-by-ami-and-ari: the killed legs carry Cause 21/403 and 34/503', () => {
    const { table } = feedCapture('hangup-by-ami-and-ari.ami');
    const calls = byCreation(table.recentCalls());
    expect(calls.map((call) => [call.dialled, call.cause])).toEqual([
      ['00252615123456', { cause: 21, causeText: 'Call Rejected', techCause: '403' }],
      ['0044909879012', { cause: 21, causeText: 'Call Rejected', techCause: '403' }],
      ['011535551234', { cause: 34, causeText: 'Circuit/channel congestion', techCause: '503' }],
    ]);
    for (const call of calls) expect(call.answeredAt).toBeDefined();
    // The peer legs ended normally.
    const peerCauses = calls.flatMap((call) => [...call.legs.values()].map((leg) => leg.cause)).sort();
    expect(peerCauses).toEqual([16, 16, 16, 21, 21, 34]);
  });

  test('originate via a Local channel: three legs, one call, one outbound dial', () => {
    const { table } = feedCapture('originate-local-regex-hangup.ami');
    const [call, ...others] = table.recentCalls();
    expect(others).toHaveLength(0);
    expect([...call!.legs.values()].map((leg) => leg.channel)).toEqual([
      'Local/00252615123456@from-internal-00000000;1',
      'Local/00252615123456@from-internal-00000000;2',
      'PJSIP/carrier-0000001a',
    ]);
    expect(call!.originated).toBe(true);
    expect(call!.dials.map((dial) => [dial.destChannel, dial.number, dial.trunk])).toEqual([
      ['Local/00252615123456@from-internal-00000000;1', '00252615123456', undefined],
      ['PJSIP/carrier-0000001a', '00252615123456', 'carrier'],
    ]);
    expect(call!.outboundDials).toHaveLength(1);
    expect(call!.dialled).toBe('00252615123456');
    expect(call!.direction).toBe('outbound');
    expect(call!.cause).toEqual({ cause: 21, causeText: 'Call Rejected', techCause: '403' });
    expect(maxConcurrentCalls('originate-local-regex-hangup.ami')).toBe(1);
  });

  test('call-with-chanvars: channel variables land on the legs', () => {
    const { table } = feedCapture('call-with-chanvars.ami');
    const [call] = table.recentCalls();
    expect(call!.dialled).toBe('00252615123456');
    expect(call!.origin.variables).toMatchObject({ 'CDR(userfield)': 'outbound', 'CALLERID(num)': '1001', 'CHANNEL(channeltype)': 'PJSIP' });
  });

  test('security captures create no calls', () => {
    for (const name of ['register-bruteforce.ami', 'ami-failed-login.ami']) {
      const { table } = feedCapture(name);
      expect(table.liveCallCount + table.recentCalls().length).toBe(0);
    }
  });

  test('a trunk named in the configuration is known before any dial string names it', () => {
    const { table } = feedCapture('intl-call-cuba.timestamped.ami', ['carrier']);
    expect(table.trunks.isTrunk('carrier')).toBe(true);
    expect(table.trunks.isTrunk('1001')).toBe(false);
    expect(table.recentCalls()[0]!.direction).toBe('outbound');
  });

  test('an inbound trunk call forwarded out through a trunk is transit', () => {
    const table = new CallTable();
    const normaliser = new Normaliser();
    const block = (channel: string, uniqueid: string, extra: Record<string, string> = {}) => ({
      Channel: channel,
      ChannelState: '4',
      ChannelStateDesc: 'Ring',
      CallerIDNum: '442079460000',
      Context: 'from-carrier',
      Exten: '5551000',
      Uniqueid: uniqueid,
      Linkedid: '1.1',
      ...extra,
    });
    const feed = (record: Record<string, string>, at: number) => {
      const event = normaliser.normalise(AmiMessage.from(record), at);
      if (event && event.type !== 'security') table.apply(event);
    };
    feed({ Event: 'Newchannel', ...block('PJSIP/carrier-00000001', '1.1') }, 1000);
    feed({ Event: 'Newchannel', ...block('PJSIP/carrier-00000002', '1.2') }, 1100);
    feed(
      {
        Event: 'DialBegin',
        ...block('PJSIP/carrier-00000001', '1.1'),
        ...Object.fromEntries(Object.entries(block('PJSIP/carrier-00000002', '1.2')).map(([key, value]) => [`Dest${key}`, value])),
        DialString: '00881612345678@carrier',
      },
      1200,
    );
    const [call] = table.liveCalls();
    expect(call!.direction).toBe('transit');
    expect(call!.sourceEndpoint).toBe('carrier');
    expect(call!.dialled).toBe('00881612345678');
  });
});

describe('reconciliation with CoreShowChannels', () => {
  function listingOf(name: string) {
    return decodeAll(readFileSync(fixturePath('ami', name))).flatMap((frame) => {
      if (frame.type !== 'message' || frame.message.name !== 'CoreShowChannel') return [];
      const item = channelListing(frame.message);
      return item ? [item] : [];
    });
  }

  test('calls that started during an outage are added and flagged, with their dials rebuilt', () => {
    const table = new CallTable();
    const changes = table.reconcile(listingOf('coreshowchannels-events-off.ami'), table.reconcileMark(), 1_795_258_920_000);
    const calls = byCreation(table.liveCalls());
    expect(calls).toHaveLength(3);
    expect(calls.map((call) => [call.sourceEndpoint, call.dialled, call.outboundTrunk, call.legs.size, call.startedDuringOutage])).toEqual([
      ['1001', '011535551234', 'carrier', 2, true],
      ['1001', '00252615123456', 'carrier', 2, true],
      ['1001', '0044909879012', 'carrier', 2, true],
    ]);
    for (const call of calls) {
      expect(call.answeredAt).toBeDefined();
      expect(call.dials[0]!.estimated).toBe(true);
    }
    // Duration 00:00:01 puts the first call one second before the reconciliation.
    expect(calls[0]!.createdAt).toBe(1_795_258_919_000);
    expect(changes.filter((change) => change.kind === 'call.started')).toHaveLength(3);
  });

  test('calls that ended during an outage are closed; calls still listed are kept', () => {
    const table = new CallTable();
    const listing = listingOf('coreshowchannels-events-on.ami');
    table.reconcile(listing, table.reconcileMark(), 1000);
    expect(table.liveCallCount).toBe(3);
    // One call (both legs) is gone from the next listing.
    const gone = listing[0]!.linkedid;
    const changes = table.reconcile(
      listing.filter((item) => item.linkedid !== gone),
      table.reconcileMark(),
      2000,
    );
    expect(table.liveCallCount).toBe(2);
    const ended = changes.filter((change) => change.kind === 'call.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]!.call.linkedid).toBe(gone);
    expect(ended[0]!.call.closedByReconcile).toBe(true);
    expect(ended[0]!.call.endedAt).toBe(2000);
  });

  test('a channel created after the list was requested is not closed; one hung up after it is not re-added', () => {
    const table = new CallTable();
    const normaliser = new Normaliser();
    const events = captureEvents('intl-call-cuba.timestamped.ami');
    const mark = table.reconcileMark();
    // While the CoreShowChannels answer is on its way, a call starts (Newchannel after the mark)…
    const newchannel = events.find((message) => message.name === 'Newchannel')!;
    table.apply(normaliser.normalise(newchannel, 10) as never);
    table.reconcile([], mark, 20);
    expect(table.liveCallCount).toBe(1);

    // …and a listed channel that hangs up before the list is applied stays ended.
    const second = new CallTable();
    const listing = listingOf('coreshowchannels-events-off.ami');
    const mark2 = second.reconcileMark();
    second.reconcile(listing, mark2, 30);
    const mark3 = second.reconcileMark();
    const victim = listing[0]!;
    second.apply({ type: 'channel.hangup', at: 40, channel: victim, cause: 16, causeText: 'Normal Clearing' });
    second.reconcile(listing, mark3, 50);
    expect(second.callOfChannel(victim.uniqueid)?.legs.get(victim.uniqueid)?.endedAt).toBe(40);
    expect([...second.liveCalls()].some((call) => call.legs.get(victim.uniqueid)?.endedAt === undefined && call.legs.has(victim.uniqueid))).toBe(false);
  });

  test('parseDuration reads HH:MM:SS, long calls and plain seconds', () => {
    expect(parseDuration('00:00:01')).toBe(1);
    expect(parseDuration('01:02:03')).toBe(3723);
    expect(parseDuration('100:00:00')).toBe(360_000);
    expect(parseDuration('42')).toBe(42);
    expect(parseDuration('')).toBe(0);
    expect(parseDuration('xx')).toBe(0);
  });
});

describe('late and unexpected events', () => {
  test('a late event for a channel that already hung up does not resurrect it', () => {
    const fed = feedCapture('intl-call-cuba.timestamped.ami');
    const newstate = captureEvents('intl-call-cuba.timestamped.ami').find((message) => message.name === 'Newstate')!;
    fed.tracker.ingest(newstate, fed.clock.now());
    expect(fed.table.liveCallCount).toBe(0);
  });

  test('an event for a channel never seen (joined mid-call) adds it as discovered', () => {
    const events = captureEvents('intl-call-cuba.timestamped.ami');
    const table = new CallTable();
    const normaliser = new Normaliser();
    const newstate = events.find((message) => message.name === 'Newstate')!;
    table.apply(normaliser.normalise(newstate, 5) as never);
    const [call] = table.liveCalls();
    expect([...call!.legs.values()][0]!.discovered).toBe(true);
  });
});
