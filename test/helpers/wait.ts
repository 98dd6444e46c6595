import { once, type EventEmitter } from 'node:events';

/** Polls until `condition()` is truthy; fails with `what` after `timeoutMs`. */
export async function until<T>(condition: () => T | undefined | false | null, what: string, timeoutMs = 5000, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The next emission of `event`, or a timeout error. */
export async function next<T extends unknown[]>(emitter: EventEmitter, event: string, timeoutMs = 5000): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    return (await once(emitter, event, { signal })) as T;
  } catch (error) {
    if (signal.aborted) throw new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`);
    throw error;
  }
}
