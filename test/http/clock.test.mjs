// The engine's clock: read once per turn of the event loop, fresh in the next.

import assert from 'node:assert/strict';
import test from 'node:test';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { loopNow } from '../../dist/http/clock.js';

/** Blocks for `ms` milliseconds of wall time. */
function spin(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

/** Reads loopNow() and asserts it read the clock then (not an older time). */
function readsTheClock(what) {
  const before = Date.now();
  const read = loopNow();
  assert.ok(read >= before && read <= Date.now(), `${what} is the current time`);
  return read;
}

test('the time is read once per event-loop turn and anew in the next', async () => {
  await nextTurn();
  const first = readsTheClock('the first read of a turn');
  spin(20);
  assert.equal(loopNow(), first, 'later reads in the same turn give the same time');
  await nextTurn();
  const next = readsTheClock("the next turn's first read");
  assert.ok(next >= first + 20, `${next - first} ms later`);
});

test('a time first read while immediates run is not kept into a wait for I/O', async () => {
  // Its expiry is itself an immediate, run in the next turn's check phase; the
  // loop must not block in its poll phase before that, or an I/O callback
  // arriving later would be given the old time. The I/O here is a message from
  // a thread that waits 50 ms from the moment the time was read.
  const go = new Int32Array(new SharedArrayBuffer(4));
  const thread = new Worker(
    `const { workerData: go, parentPort } = require('node:worker_threads');
     Atomics.wait(go, 0, 0);
     const until = Date.now() + 50;
     while (Date.now() < until);
     parentPort.postMessage('late');`,
    { eval: true, workerData: go },
  );
  await once(thread, 'online');
  const { first, after } = await new Promise((resolve) => {
    let first;
    thread.once('message', () => resolve({ first, after: loopNow() }));
    setImmediate(() => {
      first = loopNow();
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
    });
  });
  await thread.terminate();
  assert.ok(after >= first + 50, `the message 50 ms later was read at the current time (${after - first} ms later)`);
});
