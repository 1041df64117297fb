// A request the app never answers, whose client sent it and left (its FIN,
// then its close): the connection must not be held for good. After the
// client's FIN, --timeout applies while the response is pending, so the socket
// is closed at the latest then, and 100 such requests leave the serving
// process's open file count where it was; for a Fetch app (starlight's own
// engine) and a Node app (node:http). A client that half-closes and waits is
// still answered when the answer comes within --timeout.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';

import { waitFor } from '../helpers/process.mjs';
import { httpRequest, sendAndHalfClose } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const FETCH_APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;
const NODE_APP = new URL('../fixtures/node-app.mjs', import.meta.url).pathname;
const HUNG = 100;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const openFiles = (pid) => readdirSync(`/proc/${pid}/fd`).length;

/** Sends `bytes`, half-closes, and closes the socket as soon as the FIN is out: the client is gone. */
function sendAndLeave(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.end(bytes, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.once('error', reject);
  });
}

for (const [kind, app] of [
  ['a Fetch app', FETCH_APP],
  ['a Node app', NODE_APP],
]) {
  test(`${kind}: ${HUNG} requests never answered, whose clients left, leave no socket open after --timeout`, async () => {
    const server = await startServer(['--workers=0', '--timeout=0.5', app]);
    try {
      // One answered request first, so that what the process opens on its first one is in the baseline.
      const warm = await sendAndHalfClose(server.port, httpRequest('GET', '/warm'));
      assert.equal(warm.responses.length, 1);
      await sleep(200);
      const baseline = openFiles(server.pid);
      for (let sent = 0; sent < HUNG; sent += 20) {
        await Promise.all(Array.from({ length: 20 }, () => sendAndLeave(server.port, httpRequest('GET', '/hang'))));
      }
      await waitFor(() => openFiles(server.pid) <= baseline, {
        timeoutMs: 5000,
        message: `the open file count back to ${baseline} (it is ${openFiles(server.pid)})`,
      });
    } finally {
      await server.stop();
    }
  });
}

test('a Fetch app: a client that half-closed still gets an answer that comes within --timeout', async () => {
  const server = await startServer(['--workers=0', '--timeout=0.5', FETCH_APP]);
  try {
    const { closed, responses } = await sendAndHalfClose(server.port, httpRequest('GET', '/slow?ms=300'));
    assert.equal(closed, 'fin');
    assert.deepEqual(
      responses.map((r) => r.text),
      ['slow 300'],
    );
  } finally {
    await server.stop();
  }
});
