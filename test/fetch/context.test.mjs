// The second argument of fetch(request, context), through real requests to
// `starlight --workers=0`: addresses, the worker, waitUntil, informational
// responses and harakiri.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { count, startFetchApp, uid } from '../helpers/fetch-app.mjs';
import { waitFor } from '../helpers/wait.mjs';
import { RawConnection } from '../helpers/raw.mjs';

let server;
before(async () => {
  server = await startFetchApp();
});
after(() => server?.stop());

describe('context', { timeout: 20_000 }, () => {
  test('addresses and ports are those of the client socket', async () => {
    const connection = await RawConnection.connect(server.port);
    const clientPort = connection.socket.localPort;
    connection.write('GET /context HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const [response] = (await connection.untilClosed()).all;
    const seen = JSON.parse(response.body.toString());
    assert.equal(seen.remoteAddress, '127.0.0.1');
    assert.equal(seen.remotePort, clientPort);
    assert.equal(seen.remoteFamily, 'IPv4');
    assert.equal(seen.localAddress, '127.0.0.1');
    assert.equal(seen.localPort, server.port);
    assert.equal(seen.secure, false);
  });

  test('worker: id 0 without workers, the server pid, requests counted', async () => {
    const first = JSON.parse((await server.get('/context')).text);
    const second = JSON.parse((await server.get('/context')).text);
    assert.equal(first.worker.id, 0);
    assert.equal(first.worker.pid, server.pid);
    assert.equal(first.processPid, server.pid);
    assert.ok(Number.isInteger(first.worker.requests) && first.worker.requests >= 1, `requests ${first.worker.requests}`);
    // Nothing else talks to this server between the two: the count goes up by one.
    assert.equal(second.worker.requests, first.worker.requests + 1);
  });

  test('waitUntil(): the response does not wait for the work, which runs after it', async () => {
    const id = uid();
    const answered = await server.get(`/waituntil?id=${id}`);
    assert.equal(answered.status, 200);
    assert.equal(answered.text, 'answered before the work');
    assert.equal((await server.state(id)).value, 'pending');
    await server.open(id);
    await waitFor(async () => (await server.state(id)).value === 'done', { timeoutMs: 5000, message: 'the waitUntil work' });
  });

  test('waitUntil(): a rejected promise is logged, and serving goes on', async () => {
    const id = uid();
    assert.equal((await server.get(`/waituntil/reject?id=${id}`)).status, 200);
    await server.settleLog();
    assert.equal(count(server.stderr, `cleanup ${id} failed`), 1, server.stderr);
    assert.match(server.stderr, new RegExp(`error: a waitUntil\\(\\) promise failed: Error: cleanup ${id} failed`));
  });

  test('informational(103) goes out before the final response', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /hints?id=${id} HTTP/1.1\r\nHost: h\r\n\r\n`);
    // The app holds its final response until the gate opens: the 103 must be here already.
    await connection.waitForText('\r\n\r\n');
    assert.equal(connection.text, 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n');
    await server.open(id);
    const { all: responses, error } = await connection.responses(1);
    connection.destroy();
    assert.equal(error, null);
    assert.deepEqual(
      responses.map((r) => r.status),
      [103, 200],
    );
    assert.equal(responses[1].body.toString(), 'final');
  });

  test('informational(): not sent to an HTTP/1.0 client, which does not know 1xx', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /hints?id=${id} HTTP/1.0\r\n\r\n`);
    await server.open(id);
    const responses = (await connection.untilClosed()).all;
    assert.deepEqual(
      responses.map((r) => r.status),
      [200],
    );
  });

  test('informational() refuses a status that is not 1xx, or 101', async () => {
    for (const status of [99, 101, 200, 1.5]) {
      const { text } = await server.get(`/hints/bad?status=${status}`);
      assert.match(text, /^RangeError: /, `status ${status}`);
    }
    // 100 itself is allowed (raw: fetch() refuses a 100 it did not ask for, though RFC 9110 §15.2 says clients must take any 1xx).
    const connection = await RawConnection.connect(server.port);
    connection.write('GET /hints/bad?status=100 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const responses = (await connection.untilClosed()).all;
    assert.deepEqual(
      responses.map((r) => [r.status, r.body.toString()]),
      [
        [100, ''],
        [200, 'accepted'],
      ],
    );
  });

  test('harakiri(): with --workers=0 the connection closes after the response, a warning is logged, serving goes on', async () => {
    const connection = await RawConnection.connect(server.port);
    connection.write('GET /harakiri HTTP/1.1\r\nHost: h\r\n\r\n');
    const [response, extra] = (await connection.untilClosed()).all;
    assert.equal(extra, undefined);
    assert.equal(response.status, 200);
    assert.equal(response.get('connection'), 'close');
    assert.equal(response.body.toString(), 'goodbye');
    await server.settleLog();
    assert.equal(count(server.stderr, 'harakiri'), 1, server.stderr);
    assert.match(server.stderr, / warn: .*harakiri.*--workers=0/);
    // Still serving, and a later harakiri is answered the same way.
    assert.equal((await server.get('/context')).status, 200);
    const again = await RawConnection.connect(server.port);
    again.write('GET /harakiri HTTP/1.1\r\nHost: h\r\n\r\n');
    const [second] = (await again.untilClosed()).all;
    assert.equal(second.get('connection'), 'close');
  });
});
