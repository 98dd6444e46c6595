/**
 * Shared setup of the simulator tests: a simulator with the lab's AMI user, raw clients, and
 * cleanup that leaves no socket or timer behind.
 */
import { readFileSync } from 'node:fs';
import { decodeAll } from '../../../src/ami/codec.js';
import type { AmiMessage } from '../../../src/ami/message.js';
import { AmiSimulator, type AmiSimulatorOptions } from '../../../src/sim/index.js';
import { fixturePath } from '../../helpers/fixtures.js';
import { RawAmiClient } from '../../helpers/raw-ami.js';

/** The AMI user of the lab the captures were recorded on. */
export const LAB_USER = { username: 'fraudwatch', secret: 'fraudwatch-secret' };

export interface Harness {
  sim: AmiSimulator;
  /** Connects a raw client (closed by cleanup()). */
  client(): Promise<RawAmiClient>;
  /** Connects and logs in as the lab user. */
  loggedIn(events?: string): Promise<RawAmiClient>;
  cleanup(): Promise<void>;
}

export async function startHarness(options: AmiSimulatorOptions = {}): Promise<Harness> {
  const sim = new AmiSimulator({ users: [LAB_USER], loginFailureCloseMs: 50, ...options });
  await sim.start();
  const clients: RawAmiClient[] = [];
  const client = async (): Promise<RawAmiClient> => {
    const raw = await RawAmiClient.connect(sim.port);
    clients.push(raw);
    return raw;
  };
  return {
    sim,
    client,
    async loggedIn(events = 'on') {
      const raw = await client();
      const answer = await raw.login(LAB_USER.username, LAB_USER.secret, events);
      if (answer.name !== 'Success') throw new Error(`login failed: ${answer.get('Message')}`);
      return raw;
    },
    async cleanup() {
      await Promise.all(clients.map((raw) => raw.close()));
      await sim.stop();
    },
  };
}

/** Bytes of a capture under test/fixtures/ami/. */
export function capture(name: string): Buffer {
  return readFileSync(fixturePath('ami', name));
}

/** The messages of a capture, banner left out. */
export function captureMessages(name: string): AmiMessage[] {
  return decodeAll(capture(name)).flatMap((frame) => (frame.type === 'message' ? [frame.message] : []));
}

export function keys(message: AmiMessage): string[] {
  return message.fields.map(([key]) => key);
}
