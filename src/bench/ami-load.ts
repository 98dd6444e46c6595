/**
 * The load generator of `npm run bench`: an AMI server on loopback, in its own process (as
 * Asterisk is), that speaks the recorded protocol. Started by the benches with one JSON argument;
 * it reports over IPC.
 *
 * - `security`: `count` refused logins (ChallengeResponseFailed), each from its own IPv6 address,
 *   as fast as the agent reads them.
 * - `calls`: `count` outbound calls, each the full event set of a recorded call (Newchannel …
 *   DialBegin … Bridge … Hangup, Cdr, ~55 VarSet), one in `fraudEvery` to a satellite number the
 *   agent refuses, the rest to ordinary US numbers, as fast as the agent reads them.
 * - `mixed`: a scan of `floodRate` failures a second while, after `warmupMs` of it, a fraud call
 *   starts every `callEveryMs`; the figure is the time from writing the call's DialBegin to reading
 *   the agent's Hangup action.
 *
 * The call template is a real capture (test/fixtures/ami/intl-call-cuba.ami, Asterisk 22.10.1) with
 * its identifiers rewritten per call.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';
import { AmiDecoder } from '../ami/codec.js';

export interface LoadSettings {
  scenario: 'security' | 'calls' | 'mixed';
  count: number;
  template: string;
  fraudEvery?: number;
  floodRate?: number;
  callEveryMs?: number;
  calls?: number;
  /** mixed: the scan alone for this long before the first call. */
  warmupMs?: number;
}

export type LoadReport = { type: 'port'; port: number } | { type: 'sent'; events: number; ms: number; notWritten?: number } | { type: 'latencies'; latencies: number[]; unanswered: number; floodSent: number; floodNotWritten: number };

const CAPTURE_LINKEDID = '1795258836.2';
const CAPTURE_CARRIER_ID = '1795258836.3';
const CAPTURE_PHONE = 'PJSIP/1001-00000002';
const CAPTURE_CARRIER = 'PJSIP/carrier-00000003';
const CAPTURE_NUMBER = '011535551234';
const FRAUD_NUMBER = '011882161234567';

/** The recorded call's events (after the agent's own login), `\r\n`-framed, ready to rewrite. */
export function callTemplate(capturePath: string): string {
  const text = readFileSync(capturePath, 'utf8');
  const blocks = text.split('\r\n\r\n').filter((block) => block.startsWith('Event:'));
  const call = blocks.filter((block) => !/^Event: (FullyBooted)\r\n/.test(block) && !block.includes('Service: AMI'));
  return call.map((block) => `${block}\r\n\r\n`).join('');
}

function callEvents(template: string, index: number, number: string): { text: string; phone: string; dialBeginAt: number } {
  const linkedid = `1796205600.${2 * index + 10}`;
  const carrierId = `1796205600.${2 * index + 11}`;
  const extension = String(1000 + (index % 400));
  const phone = `PJSIP/${extension}-${(2 * index).toString(16).padStart(8, '0')}`;
  const carrier = `PJSIP/carrier-${(2 * index + 1).toString(16).padStart(8, '0')}`;
  const text = template
    .replaceAll(CAPTURE_LINKEDID, linkedid)
    .replaceAll(CAPTURE_CARRIER_ID, carrierId)
    .replaceAll(CAPTURE_PHONE, phone)
    .replaceAll(CAPTURE_CARRIER, carrier)
    .replaceAll(CAPTURE_NUMBER, number)
    .replaceAll('AccountID: 1001', `AccountID: ${extension}`)
    .replaceAll('CallerIDNum: 1001', `CallerIDNum: ${extension}`);
  return { text, phone, dialBeginAt: text.indexOf('Event: DialBegin') };
}

function failure(index: number): string {
  const ip = `2001:db8:${(index >>> 16).toString(16)}:${(index & 0xffff).toString(16)}::1`;
  return `Event: ChallengeResponseFailed\r\nPrivilege: security,all\r\nSeverity: Error\r\nService: PJSIP\r\nEventVersion: 1\r\nAccountID: ${1000 + (index % 500)}\r\nSessionID: scan-${index}\r\nLocalAddress: IPV4/UDP/127.0.0.1/5060\r\nRemoteAddress: IPV6/UDP/${ip}/5060\r\nChallenge: 1a2b3c4d\r\nResponse: 5e6f\r\nExpectedResponse: \r\n\r\n`;
}

/** Writes chunks as fast as the socket takes them (waiting for 'drain'). */
function pump(socket: Socket, next: () => string | undefined, done: () => void): void {
  const write = (): void => {
    for (;;) {
      const chunk = next();
      if (chunk === undefined) return done();
      if (!socket.write(chunk)) {
        socket.once('drain', write);
        return;
      }
    }
  };
  write();
}

/**
 * A scan of `rate` failures a second, written every millisecond. Asterisk does not queue without
 * end for a slow reader either: while the socket is full the scan's events are not written
 * (counted), so a call's events never wait behind our own buffer. `done` once `count` are due.
 */
function pacedScan(socket: Socket, rate: number, count: number, begin: number, done: () => void): { timer: NodeJS.Timeout; sent: () => number; notWritten: () => number } {
  let sent = 0;
  let notWritten = 0;
  const timer = setInterval(() => {
    const due = Math.min(count, Math.floor(((performance.now() - begin) / 1000) * rate));
    if (socket.writableNeedDrain) notWritten += Math.max(0, due - sent - notWritten);
    else {
      let chunk = '';
      for (let index = sent + notWritten; index < due; index++, sent++) chunk += failure(index);
      if (chunk) socket.write(chunk);
    }
    if (sent + notWritten >= count) done();
  }, 1);
  return { timer, sent: () => sent, notWritten: () => notWritten };
}

function run(settings: LoadSettings, report: (message: LoadReport) => void): void {
  const template = callTemplate(settings.template);
  const pendingHangups = new Map<string, number>();
  const latencies: number[] = [];
  let started = false;

  const start = (socket: Socket): void => {
    const begin = performance.now();
    if (settings.scenario === 'security' && settings.floodRate !== undefined) {
      const flood = pacedScan(socket, settings.floodRate, settings.count, begin, () => {
        clearInterval(flood.timer);
        report({ type: 'sent', events: flood.sent(), ms: performance.now() - begin, notWritten: flood.notWritten() });
      });
    } else if (settings.scenario === 'security') {
      let index = 0;
      pump(
        socket,
        () => {
          if (index >= settings.count) return undefined;
          let chunk = '';
          for (let n = 0; n < 200 && index < settings.count; n++) chunk += failure(index++);
          return chunk;
        },
        () => report({ type: 'sent', events: settings.count, ms: performance.now() - begin }),
      );
    } else if (settings.scenario === 'calls') {
      const fraudEvery = settings.fraudEvery ?? 50;
      let index = 0;
      let events = 0;
      pump(
        socket,
        () => {
          if (index >= settings.count) return undefined;
          let chunk = '';
          for (let n = 0; n < 4 && index < settings.count; n++, index++) {
            const call = callEvents(template, index, index % fraudEvery === fraudEvery - 1 ? FRAUD_NUMBER : `1212555${String(index % 10_000).padStart(4, '0')}`);
            chunk += call.text;
            events += call.text.split('\r\n\r\n').length - 1;
          }
          return chunk;
        },
        () => report({ type: 'sent', events, ms: performance.now() - begin }),
      );
    } else {
      // A paced scan and, now and then, a fraud call: its first half up to DialBegin, the rest later.
      const floodRate = settings.floodRate ?? 40_000;
      const calls = settings.calls ?? 200;
      const callEveryMs = settings.callEveryMs ?? 20;
      let callIndex = 0;
      const flood = pacedScan(socket, floodRate, settings.count, begin, () => undefined);
      let caller: NodeJS.Timeout | undefined;
      const placeCall = (): void => {
        if (callIndex >= calls) {
          clearInterval(caller);
          clearInterval(flood.timer);
          setTimeout(() => report({ type: 'latencies', latencies, unanswered: pendingHangups.size, floodSent: flood.sent(), floodNotWritten: flood.notWritten() }), 500);
          return;
        }
        const call = callEvents(template, 1_000_000 + callIndex++, FRAUD_NUMBER);
        const upToDial = call.text.indexOf('\r\n\r\n', call.dialBeginAt) + 4;
        socket.write(call.text.slice(0, upToDial));
        pendingHangups.set(call.phone, performance.now());
        setTimeout(() => socket.write(call.text.slice(upToDial)), 50);
      };
      setTimeout(() => (caller = setInterval(placeCall, callEveryMs)), settings.warmupMs ?? 0);
    }
  };

  const server = createServer((socket) => {
    socket.write('Asterisk Call Manager/11.0.0\r\n');
    const decoder = new AmiDecoder();
    socket.on('data', (data: Buffer) => {
      for (const frame of decoder.push(data)) {
        if (frame.type !== 'message') continue;
        const message = frame.message;
        const id = message.get('ActionID') ?? '';
        const action = (message.get('Action') ?? '').toLowerCase();
        if (action === 'login') {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
          if (!started) {
            started = true;
            setTimeout(() => start(socket), 300);
          }
        } else if (action === 'coreshowchannels') {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\nEvent: CoreShowChannelsComplete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 0\r\n\r\n`);
        } else if (action === 'hangup') {
          const channel = message.get('Channel') ?? '';
          const since = pendingHangups.get(channel);
          if (since !== undefined) {
            latencies.push(performance.now() - since);
            pendingHangups.delete(channel);
          }
          socket.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Channel Hungup\r\n\r\n`);
        } else if (action === 'ping') {
          socket.write(`Response: Success\r\nActionID: ${id}\r\nPing: Pong\r\n\r\n`);
        } else {
          socket.write(`Response: Success\r\nActionID: ${id}\r\n\r\n`);
        }
      }
    });
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    report({ type: 'port', port: typeof address === 'object' && address ? address.port : 0 });
  });
}

// Started as a child process by the benches (the module is also imported for callTemplate).
const [, entry, settings] = process.argv;
if (process.send && entry !== undefined && settings !== undefined && import.meta.url === pathToFileURL(entry).href) {
  run(JSON.parse(settings) as LoadSettings, (message) => process.send!(message));
}
