import { AmiMessage } from '../../../src/ami/message.js';
import { classListToMask, eventsHeaderToMask, maskToClassNames, privilegeToMask } from '../../../src/sim/event-mask.js';
import { startHarness, type Harness } from './harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness({ users: [{ username: 'fraudwatch', secret: 'fraudwatch-secret' }, { username: 'reporter', secret: 'r', read: 'call,cdr' }] });
});

afterEach(async () => {
  await harness.cleanup();
});

const callEvent = { Event: 'Newstate', Privilege: 'call,all', Channel: 'PJSIP/1001-00000001', Uniqueid: '1.1' };
const securityEvent = { Event: 'ChallengeSent', Privilege: 'security,all', AccountID: '1001' };
const dialplanEvent = { Event: 'VarSet', Privilege: 'dialplan,all', Variable: 'X', Value: '1' };

/** Emits the marker after `events`, so the client has surely seen everything sent before it. */
async function emitThenMark(harnessSim: Harness['sim'], events: Record<string, string>[], ...clients: Awaited<ReturnType<Harness['client']>>[]): Promise<void> {
  for (const event of events) harnessSim.emitEvent(event);
  harnessSim.emitEvent({ Event: 'UserEvent', Privilege: 'user,all', UserEvent: 'marker' });
  await Promise.all(clients.map((client) => client.waitForEvent('UserEvent')));
}

describe('event masks', () => {
  test('Asterisk semantics of Events headers and Privilege lines', () => {
    expect(maskToClassNames(eventsHeaderToMask('call,security'))).toEqual(['call', 'security']);
    expect(eventsHeaderToMask('off')).toBe(0);
    expect(eventsHeaderToMask('no')).toBe(0);
    expect(maskToClassNames(eventsHeaderToMask('on'))).toContain('security');
    expect(eventsHeaderToMask('')).toBe(eventsHeaderToMask('on'));
    expect(maskToClassNames(eventsHeaderToMask('2'))).toEqual(['call']);
    // `all` in a Privilege line is only Asterisk's suffix: the event is of class call alone.
    expect(maskToClassNames(privilegeToMask('call,all'))).toEqual(['call']);
    expect(maskToClassNames(classListToMask('all'))).toHaveLength(19);
  });
});

describe('event filtering per session', () => {
  test('Events: on gets every class; off gets none but still gets answers', async () => {
    const on = await harness.loggedIn('on');
    const off = await harness.loggedIn('off');
    const offStart = off.received.length;
    await emitThenMark(harness.sim, [callEvent, securityEvent, dialplanEvent], on);
    expect(on.events().map((event) => event.name).slice(-4)).toEqual(['Newstate', 'ChallengeSent', 'VarSet', 'UserEvent']);
    const pong = await off.action('Ping');
    expect(off.received.slice(offStart)).toEqual([pong]);
  });

  test('a class list at login selects classes, and the Events action changes it later', async () => {
    const client = await harness.loggedIn('call,security');
    const start = client.received.length;
    harness.sim.emitEvent(dialplanEvent);
    harness.sim.emitEvent(callEvent);
    harness.sim.emitEvent(securityEvent);
    await client.waitForEvent('ChallengeSent', () => true, { from: start });
    expect(client.received.slice(start).map((message) => message.name)).toEqual(['Newstate', 'ChallengeSent']);

    const answer = await client.action('Events', { EventMask: 'dialplan' });
    expect(answer.fields).toEqual([
      ['Response', 'Success'],
      ['ActionID', 't-2'],
      ['Events', 'On'],
    ]);
    const afterChange = client.received.length;
    harness.sim.emitEvent(callEvent);
    harness.sim.emitEvent(dialplanEvent);
    await client.waitForEvent('VarSet', () => true, { from: afterChange });
    expect(client.received.slice(afterChange).map((message) => message.name)).toEqual(['VarSet']);

    const off = await client.action('Events', { EventMask: 'off' });
    expect(off.get('Events')).toBe('Off');
    expect(harness.sim.sessions()[0]!.eventClasses).toEqual([]);
  });

  test("the user's read permission limits what Events: on delivers", async () => {
    const reporter = await harness.client();
    await reporter.login('reporter', 'r', 'on');
    // No FullyBooted (system) and no SuccessfulAuth (security) for a call,cdr reader.
    const start = reporter.received.length;
    expect(start).toBe(1);
    harness.sim.emitEvent(securityEvent);
    harness.sim.emitEvent({ Event: 'Cdr', Privilege: 'cdr,all', Source: '1001' });
    harness.sim.emitEvent(callEvent);
    await reporter.waitForEvent('Newstate');
    expect(reporter.received.slice(start).map((message) => message.name)).toEqual(['Cdr', 'Newstate']);
  });

  test('events without Privilege go only to the session that sent their ActionID', async () => {
    const owner = await harness.loggedIn('on');
    const other = await harness.loggedIn('on');
    const actionId = owner.send('UserEventList');
    await harness.sim.waitForAction((action) => action.actionId === actionId);
    harness.sim.emitEvent({ Event: 'ListItem', ActionID: actionId, Item: '1' });
    await owner.waitForEvent('ListItem');
    await emitThenMark(harness.sim, [], owner, other);
    expect(other.events('ListItem')).toEqual([]);
    expect(owner.events('ListItem')[0]!.fields).toEqual([
      ['Event', 'ListItem'],
      ['ActionID', actionId],
      ['Item', '1'],
    ]);
  });

  test('sessions that are not logged in get no events', async () => {
    const stranger = await harness.client();
    const member = await harness.loggedIn('on');
    await emitThenMark(harness.sim, [callEvent], member);
    expect(stranger.received).toEqual([]);
  });

  test('timestampEvents adds Timestamp right after Privilege, as manager.c does', async () => {
    harness.sim.timestampEvents = true;
    const client = await harness.loggedIn('call');
    harness.sim.emitEvent(new AmiMessage([...Object.entries(callEvent)]));
    const event = await client.waitForEvent('Newstate');
    expect(event.fields.map(([key]) => key)).toEqual(['Event', 'Privilege', 'Timestamp', 'Channel', 'Uniqueid']);
    expect(event.get('Timestamp')).toMatch(/^\d{10}\.\d{6}$/);
  });

  test('emitEvent refuses a message that is not an event', () => {
    expect(() => harness.sim.emitEvent({ Response: 'Success' })).toThrow('an event must start with "Event:"');
  });
});
