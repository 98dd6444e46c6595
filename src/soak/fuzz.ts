/**
 * Frames for the soak's fuzz stage: the recorded AMI fixtures' messages, each mutated one way —
 * bytes flipped, cut short, separators lost, values huge or binary, line endings wrong, fields
 * shuffled — so the agent meets what a broken proxy, a buggy module or an attacker on the wire
 * would send. Deterministic for a seed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The recorded messages (one string each, with their CRLF CRLF), from every `.ami` file in `dir`. */
export function fixtureFrames(dir: string): string[] {
  const frames: string[] = [];
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.ami')).sort()) {
    const text = readFileSync(join(dir, name), 'latin1');
    // The banner line has no blank line after it: skip it, keep the messages.
    for (const block of text.split('\r\n\r\n')) if (block.includes(': ')) frames.push(`${block.replace(/^Asterisk Call Manager\/[^\r\n]*\r\n/, '')}\r\n\r\n`);
  }
  return frames;
}

/** xorshift32: the same frames for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

const MUTATIONS: readonly ((frame: string, random: () => number) => string)[] = [
  // A few bytes flipped anywhere (headers, values, the separators).
  (frame, random) => {
    const bytes = Buffer.from(frame, 'latin1');
    for (let i = 0; i < 1 + Math.floor(random() * 4); i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    return bytes.toString('latin1');
  },
  // Cut short, then the next frame starts (a message torn in the middle).
  (frame, random) => `${frame.slice(0, Math.floor(random() * frame.length))}\r\n\r\n`,
  // Separators lost: `Key value` lines.
  (frame) => frame.replace(/: /g, ' '),
  // One value 16 KB long.
  (frame) => frame.replace(/(\r\n[A-Za-z]+: )([^\r\n]*)/, (_m, head: string) => `${head}${'A'.repeat(16_384)}`),
  // Control characters and invalid UTF-8 in values.
  (frame) => frame.replace(/: ([^\r\n]{0,6})/g, (_m, value: string) => `: ${value}\u0000\u00ff\u00fe\u001b[2J`),
  // Bare LF or bare CR line endings.
  (frame, random) => frame.replace(/\r\n/g, random() < 0.5 ? '\n' : '\r'),
  // Random binary noise, then a blank line.
  (_frame, random) => `${Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256))).toString('latin1')}\r\n\r\n`,
  // Lines shuffled (Event: not first; Uniqueid before Channel, …).
  (frame, random) => {
    const lines = frame.split('\r\n').filter(Boolean);
    for (let i = lines.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    return `${lines.join('\r\n')}\r\n\r\n`;
  },
  // Numbers where they are not expected and the reverse (times, states, causes, ports).
  (frame, random) => frame.replace(/: (\d+)/g, () => `: ${random() < 0.5 ? '-1' : '99999999999999999999'}`),
  // A key repeated many times.
  (frame) => frame.replace(/\r\n\r\n$/, `\r\n${'Variable: x=y\r\n'.repeat(500)}\r\n`),
];

/** `count` mutated frames, in batches of `batch` concatenated (what one write sends). */
export function* mutatedFrames(base: readonly string[], count: number, seed = 1, batch = 500): Generator<{ data: string; frames: number }> {
  const random = seededRandom(seed);
  let made = 0;
  while (made < count) {
    const size = Math.min(batch, count - made);
    let data = '';
    for (let i = 0; i < size; i++) {
      const frame = base[Math.floor(random() * base.length)]!;
      data += MUTATIONS[Math.floor(random() * MUTATIONS.length)]!(frame, random);
    }
    made += size;
    yield { data, frames: size };
  }
}
