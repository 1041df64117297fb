// Waiting in tests: the one poller (waitFor), a pause, and a bounded wait for
// a promise. The other helpers and the tests take them from here (process.mjs
// re-exports them). Importing this module has no side effect.

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A promise's outcome as a value: `{ response }` when it resolves, `{ error }` when it rejects. */
export const settle = (promise) => promise.then((response) => ({ response }), (error) => ({ error }));

/**
 * Polls `check` (it may be async) every `intervalMs` until it returns a truthy value, which is
 * returned; throws after `timeoutMs`, naming `message` (a string, or a function called then).
 */
export async function waitFor(check, { timeoutMs = 5000, intervalMs = 20, message = 'condition' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof message === 'function' ? message() : message}`);
    await sleep(intervalMs);
  }
}

/** What `promise` resolves to (e.g. a child's exit as { code, signal }), or null after `ms`. */
export function exitWithin(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((resolve) => (timer = setTimeout(() => resolve(null), ms)))]).finally(() => clearTimeout(timer));
}
