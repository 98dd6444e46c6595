/**
 * The User-Agent of each registration: after a ContactStatus the agent asks PJSIPShowContacts (over
 * real TCP, to the simulator answering with the contacts Asterisk 22 listed in
 * test/fixtures/ami/registrations-user-agents.ami) and the listed contacts of the endpoints that
 * registered reach the tracker as `contact` events — once each.
 */
import { readFileSync } from 'node:fs';
import { AmiClient } from '../../src/ami/client.js';
import { decodeAll } from '../../src/ami/codec.js';
import type { AmiMessage } from '../../src/ami/message.js';
import { ContactLookup } from '../../src/calls/contacts.js';
import type { ContactEvent, DomainEvent, RegistrationEvent } from '../../src/calls/events.js';
import { CallTable } from '../../src/calls/table.js';
import { CallTracker } from '../../src/calls/tracker.js';
import { systemClock } from '../../src/clock.js';
import { AmiSimulator } from '../../src/sim/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const USER = { username: 'tollgate', secret: 'correct-horse-battery', write: 'system' };

/** The ContactList items of the capture's last complete listing before 1002 unregistered (three contacts). */
function capturedContacts(): AmiMessage[] {
  const messages = decodeAll(readFileSync(fixturePath('ami', 'registrations-user-agents.ami'))).flatMap((frame) => (frame.type === 'message' ? [frame.message] : []));
  return messages.filter((message) => message.name === 'ContactList' && message.actionId === 'capture-4');
}

function registration(endpoint: string, status = 'NonQualified'): RegistrationEvent {
  return { type: 'registration', at: Date.now(), service: 'PJSIP', endpoint, status };
}

let sim: AmiSimulator;
let client: AmiClient;
let tracker: CallTracker;
let lookup: ContactLookup;
let contacts: ContactEvent[];

beforeEach(async () => {
  sim = new AmiSimulator({ users: [USER] });
  for (const item of capturedContacts()) sim.contacts.set(item.get('ObjectName')!, item.fields.filter(([key]) => key !== 'Event' && key !== 'ActionID'));
  await sim.start();
  client = new AmiClient({ host: '127.0.0.1', port: sim.port, username: USER.username, secret: USER.secret, pingIntervalMs: 0 });
  client.start();
  await client.waitForConnected(5000);
  tracker = new CallTracker({ table: new CallTable(), clock: systemClock, reconcileIntervalMs: 0 });
  contacts = [];
  tracker.on('event', (event: DomainEvent) => {
    if (event.type === 'contact') contacts.push(event);
  });
  lookup = new ContactLookup({ source: client, ingest: (message, at) => tracker.ingest(message, at), clock: systemClock, coalesceMs: 5, minIntervalMs: 0 });
});

afterEach(async () => {
  lookup.stop();
  await client.stop();
  await sim.stop();
});

test('registrations close together share one listing; only their endpoints are reported, with User-Agent, Via address and Call-ID', async () => {
  lookup.registered(registration('1002'));
  lookup.registered(registration('1002'));
  await lookup.idle();
  expect(sim.actions.filter((action) => action.name === 'PJSIPShowContacts')).toHaveLength(1);
  expect(contacts).toEqual([
    expect.objectContaining({ type: 'contact', endpoint: '1002', userAgent: 'friendly-scanner', ip: '127.0.0.1', port: 5072, callId: '1-16351@127.0.0.1', uri: 'sip:1002@127.0.0.1:5072', status: 'NonQualified', expiresAt: 1796464860000 }),
  ]);
});

test('a contact already reported is not reported again; after a connect every contact is listed once', async () => {
  lookup.registered(registration('1002'));
  await lookup.idle();
  lookup.registered(registration('1002'));
  await lookup.idle();
  expect(contacts.map((contact) => contact.endpoint)).toEqual(['1002']);
  lookup.listAll();
  await lookup.idle();
  expect(contacts.map((contact) => `${contact.endpoint} ${contact.ip} ${contact.userAgent}`)).toEqual([
    '1002 127.0.0.1 friendly-scanner',
    '1001 127.0.0.1 Yealink SIP-T46S 66.86.0.15',
    '1001 127.0.1.1 Yealink SIP-T46S 66.86.0.15',
  ]);
});

test('removals and chan_sip registrations ask nothing', async () => {
  lookup.registered(registration('1002', 'Removed'));
  lookup.registered({ ...registration('2001'), service: 'SIP' });
  await lookup.idle();
  expect(sim.actions.filter((action) => action.name === 'PJSIPShowContacts')).toHaveLength(0);
});

test('an AMI user without write=system: the listing fails, is counted, and nothing is reported', async () => {
  await client.stop();
  await sim.stop();
  sim = new AmiSimulator({ users: [{ ...USER, write: 'call' }] });
  await sim.start();
  client = new AmiClient({ host: '127.0.0.1', port: sim.port, username: USER.username, secret: USER.secret, pingIntervalMs: 0 });
  client.start();
  await client.waitForConnected(5000);
  lookup = new ContactLookup({ source: client, ingest: (message, at) => tracker.ingest(message, at), clock: systemClock, coalesceMs: 5, minIntervalMs: 0 });
  lookup.registered(registration('1002'));
  await lookup.idle();
  expect(lookup.stats).toMatchObject({ listings: 0, failures: 1 });
  expect(contacts).toEqual([]);
});
