/**
 * The soak's fault machinery at a tiny scale, so it cannot rot between soaks (`npm run soak` runs
 * it for minutes against the agent as a child process): the relay's stall and half-open against
 * the real AMI client and simulator over TCP, the SMTP sink going down and coming back under
 * nodemailer, the fuzz frames through the AMI decoder, and the verdict on a report.
 */
import { once } from 'node:events';
import nodemailer from 'nodemailer';
import { AmiClient } from '../../src/ami/client.js';
import { AmiDecoder } from '../../src/ami/codec.js';
import { packagePath } from '../../src/paths.js';
import { AmiSimulator } from '../../src/sim/index.js';
import { fixtureFrames, mutatedFrames } from '../../src/soak/fuzz.js';
import { FaultyRelay } from '../../src/soak/proxy.js';
import { failedChecks, formatReport, type SoakReport } from '../../src/soak/run.js';
import { SmtpSink } from '../../src/soak/smtp-sink.js';
import { until } from '../helpers/wait.js';

const USER = { username: 'tollgate', secret: 'soak-machinery-secret' };

test('the relay: a stall holds the bytes and lets them through; half-open leaves the client to its keepalive, and it reconnects', async () => {
  const sim = new AmiSimulator({ users: [USER] });
  await sim.start();
  const relay = new FaultyRelay({ host: '127.0.0.1', port: sim.port });
  await relay.start();
  const client = new AmiClient({ host: '127.0.0.1', port: relay.port, ...USER, pingIntervalMs: 150, actionTimeoutMs: 500, reconnectMaxMs: 100 });
  const received: string[] = [];
  client.on('event', (message) => received.push(message.get('Event') ?? ''));
  try {
    client.start();
    await once(client, 'connected');

    // Stall shorter than two pings: the event waits, then arrives; the connection stays.
    relay.stall(200);
    sim.emitEvent({ Event: 'UserEvent', UserEvent: 'during-stall' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received).not.toContain('UserEvent');
    await until(() => received.includes('UserEvent'), 'the held event', 2000);
    expect(client.stats.connects).toBe(1);

    // Half-open: nothing flows and nothing closes; two unanswered pings, and a new connection.
    relay.halfOpen();
    await until(() => client.stats.connects === 2 && client.connected, 'the reconnect after half-open', 5000);
    expect(relay.connections).toBe(2);
  } finally {
    await client.stop();
    await relay.stop();
    await sim.stop();
  }
});

test('the SMTP sink: accepts mail with its (folded) X-Tollgate-Key, refuses connections while down, accepts again when back', async () => {
  const sink = new SmtpSink();
  await sink.start();
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true, connectionTimeout: 1000 });
  const key = 'incident:20261205-103012-account-compromise-abcd:alert:compromise:critical';
  const send = () => transport.sendMail({ from: 'tollgate@example.com', to: 'pbx-admin@example.com', subject: 'test', text: 'body\n.\nmore', headers: { 'X-Tollgate-Key': key } });
  try {
    await send();
    expect(sink.keys).toEqual([key]);
    const port = sink.port;
    await sink.stop();
    await expect(send()).rejects.toThrow();
    await sink.start(port);
    await send();
    expect(sink.keys).toEqual([key, key]);
  } finally {
    transport.close();
    await sink.stop();
  }
});

test('fuzz frames: deterministic, as many as asked, and the decoder survives them counting garbage', () => {
  const base = fixtureFrames(packagePath('test', 'fixtures', 'ami'));
  expect(base.length).toBeGreaterThan(100);
  const batches = [...mutatedFrames(base, 2000, 7)];
  expect(batches.reduce((sum, batch) => sum + batch.frames, 0)).toBe(2000);
  expect([...mutatedFrames(base, 2000, 7)].map((batch) => batch.data)).toEqual(batches.map((batch) => batch.data));

  const decoder = new AmiDecoder();
  let messages = 0;
  let garbage = 0;
  for (const batch of batches) {
    for (const frame of decoder.push(Buffer.from(batch.data, 'latin1'))) {
      if (frame.type === 'message') messages++;
      else if (frame.type === 'garbage') garbage++;
    }
  }
  expect(messages).toBeGreaterThan(0);
  expect(garbage).toBeGreaterThan(0);
});

test('the verdict: every zero row must hold', () => {
  const passing: SoakReport = {
    durationMs: 1000,
    fraudPlaced: 3,
    fraudSurvived: 0,
    legitPlaced: 5,
    legitHungUp: 0,
    alertsQueued: 3,
    alertsLost: 0,
    alertsDuplicated: 0,
    mailsDelivered: 3,
    scannerEvents: 100,
    reconnects: [{ fault: 'kill -9', ms: 1200 }],
    brokenReloadRejected: true,
    policiesKeptAfterBrokenReload: true,
    rss: [[1, 100]],
    latency: { p50: 3, p99: 9, max: 12, count: 3 },
    fuzzFrames: 100,
    garbageCounted: 20,
    aliveAfterFuzz: true,
    fraudStoppedAfterFuzz: true,
    survivors: [],
    waitingMails: [],
    checkpoint: { maxBytes: 0, maxMs: 0 },
    duplicateKeys: [],
  };
  expect(failedChecks(passing)).toEqual([]);
  expect(formatReport(passing)).toMatch(/^fraud calls placed \/ survived\s+3 \/ 0\s+\(survived = 0\)$/m);
  expect(failedChecks({ ...passing, fraudSurvived: 1, alertsDuplicated: 2, reconnects: [{ fault: 'half-open', ms: undefined }] })).toEqual(['1 fraud calls survived', '2 alerts duplicated', 'a fault left the agent disconnected']);
});
