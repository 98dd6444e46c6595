import { connect } from 'node:net';
import { RawAmiClient } from '../../helpers/raw-ami.js';
import { LAB_USER, startHarness, type Harness } from './harness.js';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness();
});

afterEach(async () => {
  await harness.cleanup();
});

describe('garbage from clients', () => {
  test('is counted, answered with nothing, and the session goes on', async () => {
    const client = await harness.loggedIn('off');
    const garbage: string[] = [];
    harness.sim.on('garbage', (info) => garbage.push(info.reason));
    const start = client.received.length;
    client.sendRaw('hello there, this is not AMI\r\n\r\n');
    client.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0d, 0x0a, 0x0d, 0x0a]));
    client.sendRaw(`${'x'.repeat(2 * 1024 * 1024)}\r\n\r\n`);
    const pong = await client.action('Ping');
    expect(pong.get('Ping')).toBe('Pong');
    expect(client.received.slice(start)).toEqual([pong]);
    expect(garbage).toEqual(['lines that are not "Key: Value" outside any message', 'lines that are not "Key: Value" outside any message', 'message longer than 1048576 characters dropped']);
    expect(harness.sim.stats.garbage).toBe(3);
    expect(harness.sim.sessions()[0]!.garbageReceived).toBe(3);
  });

  test('an action sent one byte at a time, and a message split mid-line, are understood', async () => {
    const client = await harness.loggedIn('off');
    const text = 'Action: DBPut\r\nActionID: slow-1\r\nFamily: f\r\nKey: k\r\nVal: v\r\n\r\n';
    for (const byte of Buffer.from(text)) client.sendRaw(Buffer.from([byte]));
    const answer = await client.waitFor((message) => message.actionId === 'slow-1');
    expect(answer.get('Message')).toBe('Updated database successfully');
    expect(harness.sim.actions.at(-1)!.raw).toBe(text);
  });

  test('bare LF line ends and blank lines between actions are accepted', async () => {
    const client = await harness.loggedIn('off');
    client.sendRaw('\r\n\n\nAction: Ping\nActionID: lf-1\n\n');
    const pong = await client.waitFor((message) => message.actionId === 'lf-1');
    expect(pong.get('Ping')).toBe('Pong');
    expect(harness.sim.stats.garbage).toBe(0);
  });

  test('a client that resets mid-message does not disturb the others', async () => {
    const watcher = await harness.loggedIn('call');
    const rude = await harness.loggedIn('off');
    const gone = new Promise((resolve) => harness.sim.once('disconnect', resolve));
    rude.sendRaw('Action: Hangup\r\nChannel: PJSIP/10');
    rude.socket.resetAndDestroy();
    await gone;
    expect(harness.sim.sessionCount).toBe(1);
    harness.sim.emitEvent({ Event: 'Newstate', Privilege: 'call,all', Channel: 'PJSIP/1001-00000001' });
    const event = await watcher.waitForEvent('Newstate');
    expect(event.get('Channel')).toBe('PJSIP/1001-00000001');
  });
});

describe('many sessions, slow readers', () => {
  test('sixty sessions log in and all get a broadcast event', async () => {
    const clients = await Promise.all(Array.from({ length: 60 }, () => harness.loggedIn('call')));
    await harness.sim.waitForSessions(60);
    expect(harness.sim.sessions()).toHaveLength(60);
    harness.sim.emitEvent({ Event: 'Newstate', Privilege: 'call,all', Channel: 'PJSIP/1001-00000001' });
    const events = await Promise.all(clients.map((client) => client.waitForEvent('Newstate')));
    expect(events.map((event) => event.get('Channel'))).toEqual(Array(60).fill('PJSIP/1001-00000001'));
  });

  test('a client that stops reading never blocks the simulator: its bytes queue up', async () => {
    const stalled = await harness.loggedIn('call');
    stalled.socket.pause();
    const value = 'v'.repeat(1500);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i++) harness.sim.emitEvent({ Event: 'VarSet', Privilege: 'call,all', Variable: `V${i}`, Value: value });
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    expect(elapsedMs).toBeLessThan(10_000);
    // ~30 MB for a client that reads nothing: more than the kernel takes, the rest waits in the simulator.
    expect(harness.sim.sessions()[0]!.bytesBuffered).toBeGreaterThan(0);
    const fresh = await harness.loggedIn('off');
    expect((await fresh.action('Ping')).get('Ping')).toBe('Pong');
  });
});

describe('test hooks on the wire', () => {
  test('sendRaw writes bytes as they are to every session', async () => {
    const a = await harness.loggedIn('off');
    const b = await harness.client();
    expect(harness.sim.sendRaw('Event: Broken\r\nno colon here\r\n\r\nnot ami at all\r\n\r\n')).toBe(2);
    await a.until(() => a.garbage.length === 1, 'the garbage frame');
    await b.until(() => b.garbage.length === 1, 'the garbage frame');
    expect(a.received.at(-1)!.unparsedLines).toEqual(['no colon here']);
    expect(b.rawText.endsWith('not ami at all\r\n\r\n')).toBe(true);
  });

  test('dropConnections({ midMessage }) leaves half a message, then closes; new clients are welcome', async () => {
    const client = await harness.loggedIn('on');
    expect(await harness.sim.dropConnections({ midMessage: true })).toBe(1);
    await client.waitForClose();
    expect(client.rawText.endsWith('\r\n\r\nEvent: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/1001-000')).toBe(true);
    expect(harness.sim.sessionCount).toBe(0);
    const again = await harness.loggedIn('off');
    expect((await again.action('Ping')).get('Ping')).toBe('Pong');
  });

  test('dropConnections({ reset }) resets the connection', async () => {
    const client = await harness.loggedIn('off');
    const errors: string[] = [];
    client.socket.on('error', (error: NodeJS.ErrnoException) => errors.push(error.code ?? ''));
    await harness.sim.dropConnections({ reset: true });
    await client.waitForClose();
    expect(errors).toEqual(['ECONNRESET']);
  });

  test('restart() drops sessions, refuses connections while down, comes back on the same port with channels and AstDB', async () => {
    const channel = harness.sim.addChannel({ channel: 'PJSIP/1001-00000007', exten: '011535551234' });
    harness.sim.astdb.put('tollgate', 'lock/1001', 'yes');
    const client = await harness.loggedIn('system');
    const port = harness.sim.port;

    const restarting = harness.sim.restart({ downtimeMs: 1500, announce: true });
    await client.waitForClose();
    expect(client.events('Shutdown').map((event) => event.fields)).toEqual([
      [
        ['Event', 'Shutdown'],
        ['Privilege', 'system,all'],
        ['Shutdown', 'Uncleanly'],
        ['Restart', 'True'],
      ],
    ]);
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await restarting;

    expect(harness.sim.port).toBe(port);
    const back = await RawAmiClient.connect(port);
    await back.login(LAB_USER.username, LAB_USER.secret, 'off');
    const list = await back.list('CoreShowChannels');
    expect(list.items.map((item) => [item.get('Channel'), item.get('Uniqueid')])).toEqual([['PJSIP/1001-00000007', channel.uniqueid]]);
    expect((await back.list('DBGet', { Family: 'tollgate', Key: 'lock/1001' })).items[0]!.get('Val')).toBe('yes');
    await back.close();
  });

  test('stop() closes sessions and the listener; start() twice is refused', async () => {
    const client = await harness.loggedIn('off');
    await expect(harness.sim.start()).rejects.toThrow('already started');
    await harness.sim.stop();
    await client.waitForClose();
    expect(harness.sim.listening).toBe(false);
    expect(harness.sim.sessionCount).toBe(0);
  });
});
