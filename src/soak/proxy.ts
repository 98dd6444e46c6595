/**
 * A TCP relay between the agent and the AMI simulator that can misbehave on purpose: `stall()`
 * stops relaying both ways for a while (a congested or frozen link; the bytes wait, then flow on),
 * `halfOpen()` stops relaying for good without closing anything (a peer that vanished: no FIN, no
 * RST, the agent only learns it from its keepalive). New connections relay normally.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Relaying stopped until this time (performance.now()); Infinity: half-open. */
  frozenUntil: number;
  held: { to: Socket; chunk: Buffer }[];
}

export class FaultyRelay {
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  private boundPort = 0;
  connections = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<number> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.boundPort = (server.address() as { port: number }).port;
    return this.boundPort;
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Relaying on every open connection stops for `ms`, then the held bytes flow on. */
  stall(ms: number): void {
    const until = performance.now() + ms;
    for (const pair of this.pairs) pair.frozenUntil = Math.max(pair.frozenUntil, until);
    setTimeout(() => this.thaw(), ms + 1).unref();
  }

  /** Every open connection goes silent for good, both ways, and stays open. */
  halfOpen(): void {
    for (const pair of this.pairs) pair.frozenUntil = Number.POSITIVE_INFINITY;
  }

  private accept(client: Socket): void {
    this.connections++;
    const upstream = connect(this.target.port, this.target.host);
    const pair: Pair = { client, upstream, frozenUntil: 0, held: [] };
    this.pairs.add(pair);
    const relay = (to: Socket) => (chunk: Buffer) => {
      if (performance.now() < pair.frozenUntil) {
        // Half-open: what the peer sends is lost; stalled: it waits.
        if (pair.frozenUntil !== Number.POSITIVE_INFINITY) pair.held.push({ to, chunk });
        return;
      }
      to.write(chunk);
    };
    client.on('data', relay(upstream));
    upstream.on('data', relay(client));
    client.on('close', () => {
      upstream.destroy();
      this.pairs.delete(pair);
    });
    // A half-open peer tells the agent nothing, even when the far side goes away.
    upstream.on('close', () => {
      if (pair.frozenUntil !== Number.POSITIVE_INFINITY) client.destroy();
    });
    client.on('error', () => client.destroy());
    upstream.on('error', () => upstream.destroy());
  }

  private thaw(): void {
    const now = performance.now();
    for (const pair of this.pairs) {
      if (pair.frozenUntil > now) continue;
      for (const { to, chunk } of pair.held.splice(0)) if (!to.destroyed) to.write(chunk);
    }
  }
}
