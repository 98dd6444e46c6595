import { AstDb } from '../../../src/sim/index.js';
import { startHarness, type Harness } from './harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness();
});

afterEach(async () => {
  await harness.cleanup();
});

describe('AstDB actions', () => {
  test('DBPut, DBGet, DBDel answer with Asterisk texts and list format', async () => {
    const client = await harness.loggedIn('off');
    const put = await client.action('DBPut', { Family: 'tollgate', Key: 'lock/1001', Val: '2026-11-21T11:00:00Z fraud' });
    expect(put.fields).toEqual([
      ['Response', 'Success'],
      ['ActionID', put.actionId],
      ['Message', 'Updated database successfully'],
    ]);
    expect(harness.sim.astdb.toObject()).toEqual({ '/tollgate/lock/1001': '2026-11-21T11:00:00Z fraud' });

    const get = await client.list('DBGet', { Family: 'tollgate', Key: 'lock/1001' });
    const id = get.response.actionId!;
    expect(get.response.fields).toEqual([
      ['Response', 'Success'],
      ['ActionID', id],
      ['EventList', 'start'],
      ['Message', 'Result will follow'],
    ]);
    expect(get.items.map((item) => item.fields)).toEqual([
      [
        ['Event', 'DBGetResponse'],
        ['Family', 'tollgate'],
        ['Key', 'lock/1001'],
        ['Val', '2026-11-21T11:00:00Z fraud'],
        ['ActionID', id],
      ],
    ]);
    expect(get.complete!.fields).toEqual([
      ['Event', 'DBGetComplete'],
      ['ActionID', id],
      ['EventList', 'Complete'],
      ['ListItems', '1'],
    ]);

    const del = await client.action('DBDel', { Family: 'tollgate', Key: 'lock/1001' });
    expect(del.get('Message')).toBe('Key deleted successfully');
    const missing = await client.action('DBGet', { Family: 'tollgate', Key: 'lock/1001' });
    expect(missing.fields).toEqual([
      ['Response', 'Error'],
      ['ActionID', missing.actionId],
      ['Message', 'Database entry not found'],
    ]);
    expect((await client.action('DBDel', { Family: 'tollgate', Key: 'lock/1001' })).get('Message')).toBe('Database entry not found');
    expect(harness.sim.astdb.size).toBe(0);
  });

  test('DBDelTree removes a family or a subtree', async () => {
    const client = await harness.loggedIn('off');
    harness.sim.astdb.put('tollgate', 'lock/1001', 'a');
    harness.sim.astdb.put('tollgate', 'lock/1002', 'b');
    harness.sim.astdb.put('tollgate', 'locked', 'c');
    harness.sim.astdb.put('other', 'x', 'd');
    expect((await client.action('DBDelTree', { Family: 'tollgate', Key: 'lock' })).get('Message')).toBe('Key tree deleted successfully');
    expect(harness.sim.astdb.toObject()).toEqual({ '/other/x': 'd', '/tollgate/locked': 'c' });
    await client.action('DBDelTree', { Family: 'tollgate' });
    expect(harness.sim.astdb.toObject()).toEqual({ '/other/x': 'd' });
    expect((await client.action('DBDelTree', { Family: 'tollgate' })).get('Message')).toBe('Database entry not found');
  });

  test('missing Family or Key are refused', async () => {
    const client = await harness.loggedIn('off');
    expect((await client.action('DBPut', { Key: 'k', Val: 'v' })).get('Message')).toBe('No family specified');
    expect((await client.action('DBPut', { Family: 'f', Val: 'v' })).get('Message')).toBe('No key specified');
    expect((await client.action('DBGet', { Family: 'f' })).get('Message')).toBe('No key specified.');
    expect((await client.action('DBDelTree', {})).get('Message')).toBe('No family specified.');
    expect(harness.sim.astdb.size).toBe(0);
  });

  test('an empty Val is stored as an empty string', () => {
    const db = new AstDb();
    db.put('f', 'k', '');
    expect(db.get('f', 'k')).toBe('');
    expect(db.get('f', 'other')).toBeUndefined();
  });
});
