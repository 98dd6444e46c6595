import { AmiSimulator } from '../../../src/sim/index.js';
import { RawAmiClient } from '../../helpers/raw-ami.js';
import { captureMessages, keys, LAB_USER, startHarness, type Harness } from './harness.js';

let harness: Harness;

afterEach(async () => {
  await harness.cleanup();
});

describe('connection and login', () => {
  beforeEach(async () => {
    harness = await startHarness();
  });

  test('sends the one-line banner with no blank line after it', async () => {
    const client = await harness.client();
    expect(client.banner).toBe('Asterisk Call Manager/11.0.0');
    // The first answer follows the banner line directly.
    await client.action('Ping');
    expect(client.rawText).toBe('Asterisk Call Manager/11.0.0\r\nResponse: Error\r\nActionID: t-1\r\nMessage: Permission denied\r\n\r\n');
  });

  test('the banner version is configurable', async () => {
    const sim = new AmiSimulator({ version: '9.0.0' });
    await sim.start();
    try {
      const client = await RawAmiClient.connect(sim.port);
      expect(client.banner).toBe('Asterisk Call Manager/9.0.0');
      await client.close();
    } finally {
      await sim.stop();
    }
  });

  test('a good login gets Success, FullyBooted and its own SuccessfulAuth, with the captured field sets', async () => {
    const client = await harness.client();
    const answer = await client.login(LAB_USER.username, LAB_USER.secret, 'on');
    expect(answer.fields).toEqual([
      ['Response', 'Success'],
      ['ActionID', 't-1'],
      ['Message', 'Authentication accepted'],
    ]);
    const auth = await client.waitForEvent('SuccessfulAuth');
    const booted = client.received[1]!;
    expect(booted.name).toBe('FullyBooted');
    expect(client.received[2]).toBe(auth);

    const recorded = captureMessages('ami-failed-login.ami');
    expect(keys(booted)).toEqual(keys(recorded[1]!));
    expect(booted.get('Privilege')).toBe('system,all');
    expect(booted.get('Status')).toBe('Fully Booted');
    expect(booted.get('Uptime')).toMatch(/^\d+$/);
    expect(keys(auth)).toEqual(keys(recorded[2]!));
    expect(auth.get('Privilege')).toBe('security,all');
    expect(auth.get('Severity')).toBe('Informational');
    expect(auth.get('Service')).toBe('AMI');
    expect(auth.get('EventVersion')).toBe('1');
    expect(auth.get('AccountID')).toBe('fraudwatch');
    expect(auth.get('UsingPassword')).toBe('0');
    expect(auth.get('LocalAddress')).toBe(`IPV4/TCP/127.0.0.1/${harness.sim.port}`);
    expect(auth.get('RemoteAddress')).toBe(`IPV4/TCP/127.0.0.1/${client.localPort}`);
    expect(auth.get('SessionID')).toMatch(/^0x[0-9a-f]+$/);
    expect(auth.get('EventTV')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    expect(harness.sim.sessions()).toEqual([
      expect.objectContaining({ loggedIn: true, username: 'fraudwatch', remotePort: client.localPort, managerSessionId: auth.get('SessionID') }),
    ]);
  });

  test('user names match case-insensitively, as in manager.c', async () => {
    const client = await harness.client();
    expect((await client.login('FraudWatch', LAB_USER.secret)).get('Message')).toBe('Authentication accepted');
  });

  test('a second Login on a logged-in session is acknowledged, not re-run', async () => {
    const client = await harness.loggedIn('off');
    const again = await client.login(LAB_USER.username, LAB_USER.secret);
    expect(again.fields).toEqual([
      ['Response', 'Success'],
      ['ActionID', 't-2'],
      ['Message', 'Already authenticated'],
    ]);
  });

  test('a wrong secret: error answer, the socket closed after the configured delay, InvalidPassword to the watchers', async () => {
    harness.sim.loginFailureCloseMs = 150;
    const watcher = await harness.loggedIn('on');
    const intruder = await harness.client();
    const sentAt = process.hrtime.bigint();
    const actionId = intruder.send('Login', { Username: 'fraudwatch', Secret: 'wrong-0' });
    const answer = await intruder.waitFor((message) => message.actionId === actionId);
    expect(answer.fields).toEqual([
      ['Response', 'Error'],
      ['ActionID', actionId],
      ['Message', 'Authentication failed'],
    ]);
    const closedAt = await intruder.waitForClose();
    // Closed by the server, and not before the configured delay: the answer went out after the
    // Login was sent, the close 150 ms after the answer.
    expect(Number(closedAt - sentAt) / 1e6).toBeGreaterThanOrEqual(145);
    expect(intruder.received).toEqual([answer]);

    const alarm = await watcher.waitForEvent('InvalidPassword');
    const recorded = captureMessages('ami-failed-login.ami').find((message) => message.name === 'InvalidPassword')!;
    expect(keys(alarm)).toEqual(keys(recorded));
    expect(alarm.get('Severity')).toBe('Error');
    expect(alarm.get('Service')).toBe('AMI');
    expect(alarm.get('EventVersion')).toBe('2');
    expect(alarm.get('AccountID')).toBe('fraudwatch');
    expect(alarm.get('RemoteAddress')).toBe(`IPV4/TCP/127.0.0.1/${intruder.localPort}`);
    expect(alarm.get('SessionTV')).toBe('1970-01-01T00:00:00.000+0000');
    expect(harness.sim.stats.loginFailures).toBe(1);
  });

  test('an unknown user raises InvalidAccountID with the captured field set', async () => {
    const watcher = await harness.loggedIn('security');
    const intruder = await harness.client();
    const answer = await intruder.login('admin', 'admin');
    expect(answer.get('Message')).toBe('Authentication failed');
    const alarm = await watcher.waitForEvent('InvalidAccountID');
    const recorded = captureMessages('ami-failed-login.ami').find((message) => message.name === 'InvalidAccountID')!;
    expect(keys(alarm)).toEqual(keys(recorded));
    expect(alarm.get('AccountID')).toBe('admin');
    expect(alarm.get('EventVersion')).toBe('1');
    await intruder.waitForClose();
  });

  test('the answer itself can be delayed, as Asterisk sleeps a second before it', async () => {
    harness.sim.loginFailureDelayMs = 120;
    harness.sim.loginFailureCloseMs = 0;
    const intruder = await harness.client();
    const sentAt = process.hrtime.bigint();
    const answer = await intruder.login('fraudwatch', 'nope');
    expect(Number(process.hrtime.bigint() - sentAt) / 1e6).toBeGreaterThanOrEqual(110);
    expect(answer.get('Message')).toBe('Authentication failed');
    await intruder.waitForClose();
  });

  test('actions before login are refused with Permission denied (manager.c since 1.6)', async () => {
    const client = await harness.client();
    const answer = await client.action('CoreShowChannels');
    expect(answer.fields).toEqual([
      ['Response', 'Error'],
      ['ActionID', 't-1'],
      ['Message', 'Permission denied'],
    ]);
    expect(client.closed).toBe(false);
  });

  test('Logoff answers Goodbye and closes', async () => {
    const client = await harness.loggedIn('off');
    const answer = await client.action('Logoff');
    expect(answer.fields).toEqual([
      ['Response', 'Goodbye'],
      ['ActionID', 't-2'],
      ['Message', 'Thanks for all the fish.'],
    ]);
    await client.waitForClose();
    await harness.sim.waitForSessions(0, { loggedIn: false, exact: true });
    expect(harness.sim.sessionCount).toBe(0);
  });

  test('waitForSessions resolves once enough clients logged in', async () => {
    const waiting = harness.sim.waitForSessions(2);
    await harness.loggedIn('off');
    expect(harness.sim.loggedInCount).toBe(1);
    await harness.loggedIn('off');
    await waiting;
    expect(harness.sim.loggedInCount).toBe(2);
  });
});

describe('Ping, unknown actions, ActionID echo', () => {
  beforeEach(async () => {
    harness = await startHarness();
  });

  test('Ping answers Pong with an epoch.micro Timestamp', async () => {
    const client = await harness.loggedIn('off');
    const before = Date.now() / 1000;
    const pong = await client.action('Ping');
    expect(keys(pong)).toEqual(['Response', 'ActionID', 'Ping', 'Timestamp']);
    expect(pong.name).toBe('Success');
    expect(pong.get('Ping')).toBe('Pong');
    expect(pong.get('Timestamp')).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(pong.get('Timestamp'))).toBeGreaterThanOrEqual(Math.floor(before));
  });

  test('the ActionID is left out when the action had none', async () => {
    const client = await harness.loggedIn('off');
    const count = client.received.length;
    client.sendRaw('Action: Ping\r\n\r\n');
    await client.waitForCount(count + 1);
    expect(keys(client.received[count]!)).toEqual(['Response', 'Ping', 'Timestamp']);
  });

  test('answerPings = false leaves Ping unanswered but recorded', async () => {
    const client = await harness.loggedIn('off');
    harness.sim.answerPings = false;
    const actionId = client.send('Ping');
    const received = await harness.sim.waitForAction((action) => action.actionId === actionId);
    expect(received.name).toBe('Ping');
    // A later action is answered, and nothing arrived for the Ping before it.
    const pong = await client.action('Events', { EventMask: 'off' });
    expect(pong.get('Events')).toBe('Off');
    expect(client.received.some((message) => message.actionId === actionId)).toBe(false);
  });

  test('an unknown action gets the real Asterisk error text', async () => {
    const client = await harness.loggedIn('off');
    const answer = await client.action('QueueStatus');
    expect(answer.fields).toEqual([
      ['Response', 'Error'],
      ['ActionID', 't-2'],
      ['Message', 'Invalid/unknown command: QueueStatus. Use Action: ListCommands to show available commands.'],
    ]);
  });

  test('a message without Action gets "Missing action in request"', async () => {
    const client = await harness.loggedIn('off');
    client.sendRaw('ActionID: x-1\r\nFoo: bar\r\n\r\n');
    const answer = await client.waitFor((message) => message.actionId === 'x-1');
    expect(answer.fields).toEqual([
      ['Response', 'Error'],
      ['ActionID', 'x-1'],
      ['Message', 'Missing action in request'],
    ]);
  });

  test('actions are matched case-insensitively', async () => {
    const client = await harness.loggedIn('off');
    const answer = await client.action('pInG');
    expect(answer.get('Ping')).toBe('Pong');
  });

  test('silentActions and ignoreAction leave chosen actions unanswered', async () => {
    const client = await harness.loggedIn('off');
    harness.sim.silentActions.add('coreshowchannels');
    harness.sim.ignoreAction = (action) => action.message.get('Family') === 'blackhole';
    const listId = client.send('CoreShowChannels');
    const dbId = client.send('DBGet', { Family: 'blackhole', Key: 'k' });
    const answered = await client.action('DBPut', { Family: 'ok', Key: 'k', Val: 'v' });
    expect(answered.get('Message')).toBe('Updated database successfully');
    expect(client.received.filter((message) => message.actionId === listId || message.actionId === dbId)).toEqual([]);
    expect(harness.sim.actions.map((action) => action.name)).toEqual(['Login', 'CoreShowChannels', 'DBGet', 'DBPut']);
  });

  test('every action is recorded with its exact text and emitted synchronously', async () => {
    const client = await harness.loggedIn('off');
    const seen: string[] = [];
    harness.sim.on('action', (action) => seen.push(`${action.sessionId}:${action.name}:${action.actionId}`));
    client.sendRaw('Action: DBPut\nActionID: raw-1\nFamily: f\nKey: k\nVal: v\n\n');
    await client.waitFor((message) => message.actionId === 'raw-1');
    const recorded = harness.sim.actions.at(-1)!;
    expect(recorded.raw).toBe('Action: DBPut\nActionID: raw-1\nFamily: f\nKey: k\nVal: v\n\n');
    expect(recorded.message.get('Val')).toBe('v');
    expect(typeof recorded.receivedAt).toBe('bigint');
    expect(recorded.receivedAt).toBeGreaterThan(harness.sim.actions[0]!.receivedAt);
    expect(seen).toEqual([`${recorded.sessionId}:DBPut:raw-1`]);
  });
});
