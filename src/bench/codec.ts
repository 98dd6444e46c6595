/**
 * AMI decoding throughput on the real captures, side by side with the `asterisk-manager` package's
 * parser fed the very same bytes in the very same chunks (it is a devDependency used only here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { AmiDecoder } from '../ami/codec.js';
import { packagePath } from '../paths.js';
import { printSection, type BenchRow } from './report.js';

const MIN_MS = 1500;

export async function benchCodec(): Promise<void> {
  const dir = packagePath('test', 'fixtures', 'ami');
  const bytes = Buffer.concat(
    readdirSync(dir)
      .filter((name) => name.endsWith('.ami'))
      .sort()
      .map((name) => readFileSync(join(dir, name))),
  );
  const text = bytes.toString('utf8');
  const rows: BenchRow[] = [{ name: 'input', value: `${(bytes.length / 1024).toFixed(0)} KiB of real Asterisk 22 captures (all test/fixtures/ami/*.ami)` }];
  for (const chunkSize of [1460, 65_536]) {
    const chunks = split(bytes, chunkSize);
    const textChunks = chunks.map((chunk) => chunk.toString('utf8'));
    const ours = measure(() => {
      const decoder = new AmiDecoder();
      let messages = 0;
      for (const chunk of chunks) for (const frame of decoder.push(chunk)) if (frame.type === 'message') messages++;
      return messages;
    });
    const theirs = measure(asteriskManagerParser(textChunks));
    const label = chunkSize === 1460 ? '1460-byte chunks (one TCP segment)' : '64 KiB chunks (one socket read)';
    rows.push(
      { name: `tollgate codec, ${label}`, value: `${fmt(ours.messagesPerSecond)} messages/s, ${(ours.bytesPerSecond(bytes.length) / 1048576).toFixed(1)} MB/s (${ours.messages} messages per pass)` },
      { name: `asterisk-manager 0.2.0, ${label}`, value: `${fmt(theirs.messagesPerSecond)} messages/s, ${(theirs.bytesPerSecond(bytes.length) / 1048576).toFixed(1)} MB/s (${theirs.messages} messages per pass, from pre-decoded strings)` },
      { name: `speed-up, ${label}`, value: `${(ours.messagesPerSecond / theirs.messagesPerSecond).toFixed(1)}×` },
    );
  }
  if (text.length === 0) rows.push({ name: 'warning', value: 'no captures found' });
  printSection('AMI codec throughput (target: ≥ 3× asterisk-manager)', rows);
}

function split(bytes: Buffer, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) chunks.push(bytes.subarray(offset, offset + size));
  return chunks;
}

function measure(pass: () => number): { messages: number; messagesPerSecond: number; bytesPerSecond: (bytes: number) => number } {
  for (let i = 0; i < 5; i++) pass(); // warm up the JIT
  let passes = 0;
  let messages = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < MIN_MS) {
    messages = pass();
    passes++;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  const seconds = elapsedMs / 1000;
  return { messages, messagesPerSecond: (messages * passes) / seconds, bytesPerSecond: (bytes) => (bytes * passes) / seconds };
}

/**
 * asterisk-manager keeps its parser private: it reads from the socket it creates with
 * `net.createConnection`. We hand it a fake socket and push the chunks as `data` events, counting
 * the messages it parses (its `rawevent`), with its per-message nextTick dispatch removed so only
 * the parser is timed.
 */
function asteriskManagerParser(chunks: string[]): () => number {
  const require = createRequire(import.meta.url);
  const net = require('node:net') as { createConnection: (...args: unknown[]) => unknown };
  const Manager = require('asterisk-manager') as (port?: number, host?: string) => EventEmitter & { connect: (port: number, host: string) => void };
  return () => {
    const socket = new FakeSocket();
    const original = net.createConnection;
    net.createConnection = () => socket;
    const manager = Manager();
    try {
      manager.connect(5038, '127.0.0.1');
    } finally {
      net.createConnection = original;
    }
    let messages = 0;
    manager.removeAllListeners('rawevent');
    manager.on('rawevent', () => messages++);
    for (const chunk of chunks) socket.emit('data', chunk);
    return messages;
  };
}

class FakeSocket extends EventEmitter {
  readyState = 'open';
  setKeepAlive(): void {}
  setNoDelay(): void {}
  setEncoding(): void {}
  write(): boolean {
    return true;
  }
  end(): void {}
}

function fmt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
