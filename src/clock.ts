/**
 * The only source of time for detection code. Live, it is the wall clock; in replay it is the time
 * carried by the events themselves, so the same transcript always gives the same findings.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to, and never backwards (replay, tests). */
export class ManualClock implements Clock {
  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  /** Moves to `ms` if that is later than now; events that arrive out of order never turn time back. */
  advanceTo(ms: number): void {
    if (ms > this.current) this.current = ms;
  }

  advanceBy(ms: number): void {
    this.current += ms;
  }
}
