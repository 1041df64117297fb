// The engine's clock: read once per turn of the event loop, fresh in the next.

import assert from 'node:assert/strict';
import test from 'node:test';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { loopNow } from '../../dist/http/clock.js';

/** Blocks for `ms` milliseconds of wall time. */
function spin(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

test('the time is read once per event-loop turn and anew in the next', async () => {
  await nextTurn();
  const first = loopNow();
  assert.ok(Math.abs(first - Date.now()) <= 5, 'the first read of a turn is the current time');
  spin(20);
  assert.equal(loopNow(), first, 'later reads in the same turn give the same time');
  await nextTurn();
  const next = loopNow();
  assert.ok(next >= first + 20, `the next turn reads the clock again (${next - first} ms later)`);
  assert.ok(Math.abs(next - Date.now()) <= 5);
});

test('a time first read while immediates run is not kept into a later wait', async () => {
  // Its expiry is itself an immediate, so it runs in the next turn; the loop
  // does not block in between while one is pending.
  const first = await new Promise((resolve) => setImmediate(() => resolve(loopNow())));
  await sleep(30);
  assert.ok(loopNow() >= first + 30, 'after a 30 ms wait the clock was read anew');
});
