/**
 * The hang-up actuator against the simulator over TCP: every channel of the call, confirmed by
 * Asterisk's Hangup events, retried once, reported loudly when it fails — via AMI and via ARI.
 */
import { AmiClient } from '../../src/ami/client.js';
import { Hangups } from '../../src/act/hangup.js';
import { AriClient } from '../../src/ari/client.js';
import { CallTable, TrunkRegistry } from '../../src/calls/table.js';
import { CallTracker } from '../../src/calls/tracker.js';
import { systemClock } from '../../src/clock.js';
import type { Decision } from '../../src/decide/decider.js';
import { MemoryLogger } from '../../src/log.js';
import { AmiSimulator } from '../../src/sim/index.js';
import { FakeAri } from '../helpers/fake-ari.js';
import { until } from '../helpers/wait.js';

const USER = { username: 'tollgate', secret: 'hangup-test-secret' };

let sim: AmiSimulator;
let client: AmiClient;
let tracker: CallTracker;
let table: CallTable;

beforeEach(async () => {
  sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  client = new AmiClient({ host: '127.0.0.1', port: sim.port, ...USER, pingIntervalMs: 0 });
  table = new CallTable({ trunks: new TrunkRegistry(['carrier']) });
  tracker = new CallTracker({ table, clock: systemClock, reconcileIntervalMs: 0 });
  tracker.attach(client);
  client.start();
  await client.waitForConnected();
});

afterEach(async () => {
  tracker.detach();
  await client.stop();
  await sim.stop();
});

/** An answered call to Cuba, seen by the tracker; returns its script and the decision to hang it up. */
async function liveCall(): Promise<{ decision: Decision; channels: string[] }> {
  const script = sim.callEvents({ from: '1001', to: '011535551234', talkMs: 60_000 });
  sim.emitEvents([...script.setup, ...script.answer].map((entry) => entry.message));
  await until(() => table.getCall(script.linkedid)?.answeredAt !== undefined, 'the call answered in the table');
  const channels = [script.caller.channel, script.callee.channel];
  const decision = { id: 'inc/1', incident: 'inc', action: 'hangup', mode: 'enforce', policy: 'test', kind: 'destination', severity: 'high', level: 'match', at: Date.now(), finding: {}, target: { linkedid: script.linkedid, channels }, followUp: false } as unknown as Decision;
  return { decision, channels };
}

describe('hang-up', () => {
  test('hangs up every channel of the call and waits for Asterisk to confirm', async () => {
    const { decision, channels } = await liveCall();
    const outcome = await new Hangups({ ami: client, table, endings: tracker }).hangUp(decision);
    expect(outcome.result).toBe('done');
    expect(outcome.detail).toMatch(new RegExp(`^Hung up ${channels[0]} and ${channels[1]} \\(cause 21, via AMI\\), confirmed by Asterisk after \\d+ ms$`));
    expect(sim.actions.filter((action) => action.name === 'Hangup').map((action) => [action.message.get('Channel'), action.message.get('Cause')])).toEqual([
      [channels[0], '21'],
      [channels[1], '21'],
    ]);
    expect(table.getCall(decision.target.linkedid!)!.live).toBe(false);
  });

  test('a hang-up Asterisk does not carry out is tried once more', async () => {
    const { decision } = await liveCall();
    let ignored = 0;
    // The first two Hangup actions (one per channel) are lost; the retry goes through.
    sim.ignoreAction = (action) => action.name === 'Hangup' && ignored++ < 2;
    const outcome = await new Hangups({ ami: client, table, endings: tracker, confirmTimeoutMs: 300 }).hangUp(decision);
    expect(outcome.result).toBe('done');
    expect(outcome.detail).toMatch(/on the second attempt$/);
    expect(sim.actions.filter((action) => action.name === 'Hangup')).toHaveLength(4);
  });

  test('a hang-up that still fails is reported loudly, with what to do by hand', async () => {
    const { decision, channels } = await liveCall();
    sim.silentActions.add('Hangup');
    const logger = new MemoryLogger();
    const outcome = await new Hangups({ ami: client, table, endings: tracker, confirmTimeoutMs: 200, logger }).hangUp(decision);
    expect(outcome.result).toBe('failed');
    expect(outcome.detail).toContain(`Hang-up FAILED: ${channels[0]}, ${channels[1]} still up after two attempts`);
    expect(outcome.detail).toContain(`asterisk -rx "channel request hangup ${channels[0]}"`);
    expect(logger.entries.some((entry) => entry.level === 'error' && entry.msg?.startsWith('HANG-UP FAILED'))).toBe(true);
  });

  test('a call that already ended is skipped, not an error', async () => {
    const { decision } = await liveCall();
    const script = table.getCall(decision.target.linkedid!)!;
    sim.hangup(script.origin.channel, 16);
    await until(() => !table.getCall(decision.target.linkedid!)!.live, 'the call ended');
    const outcome = await new Hangups({ ami: client, table, endings: tracker }).hangUp(decision);
    expect(outcome).toMatchObject({ result: 'skipped', detail: `the call ${decision.target.linkedid} had already ended: nothing to hang up` });
    expect(sim.actions.filter((action) => action.name === 'Hangup')).toEqual([]);
  });

  test('via ARI: DELETE /ari/channels/{id}?reason_code=21 for every channel, confirmed by the AMI Hangup events', async () => {
    const { decision } = await liveCall();
    const call = table.getCall(decision.target.linkedid!)!;
    const uniqueids = call.liveLegs.map((leg) => leg.uniqueid);
    const ari = new FakeAri({ channels: call.liveLegs.map((leg) => ({ id: leg.uniqueid, name: leg.channel, state: 'Up' })) as never });
    await ari.start();
    const client = new AriClient({ url: `http://127.0.0.1:${ari.port}`, username: 'tollgate', password: 'fake-ari-secret', app: 'tollgate' });
    try {
      // Asterisk reports an ARI hang-up on AMI as well: the simulator plays that part.
      const viaAri = { hangup: async (id: string, options: { reasonCode?: number }) => {
        const result = await client.hangup(id, options);
        sim.hangup(id, options.reasonCode ?? 16);
        return result;
      } };
      const outcome = await new Hangups({ ami: { connected: false, action: () => Promise.reject(new Error('AMI must not be used')) }, ari: viaAri, via: 'ari', table, endings: tracker }).hangUp(decision);
      expect(outcome.result).toBe('done');
      expect(outcome.detail).toMatch(/\(cause 21, via ARI\)/);
      const deletes = ari.requests.filter((request) => request.method === 'DELETE');
      expect(deletes.map((request) => `${request.path}?${new URLSearchParams(request.query as Record<string, string>).toString()}`).sort()).toEqual(uniqueids.map((id) => `/ari/channels/${id}?reason_code=21`).sort());
      expect(call.live).toBe(false);
    } finally {
      client.close();
      await ari.stop();
    }
  });
});
