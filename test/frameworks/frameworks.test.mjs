// The framework matrix (README's table): each example in examples/, its framework
// the real package (a dev dependency), served by a real starlight with one worker,
// as a user would start it. The examples share their routes, so one table of
// checks runs against each: routing with a parameter, a JSON body in and out, a
// streamed response, cookies both ways, a handler that throws, and a graceful
// stop (TERM) while a request is in flight. One server per framework serves all
// its checks, the stop last.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { RawConnection, httpRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { exitWithin } from '../helpers/wait.mjs';

const FRAMEWORKS = [
  { name: 'Express 5', file: 'express.mjs', kind: 'Node app' },
  { name: 'Koa 3', file: 'koa.mjs', kind: 'Node app' },
  { name: 'Fastify 5', file: 'fastify.mjs', kind: 'Node app (serverFactory)' },
  { name: 'Hono 4', file: 'hono.mjs', kind: 'Fetch app' },
  { name: 'h3 2', file: 'h3.mjs', kind: 'Fetch app' },
  { name: 'itty-router 5', file: 'itty-router.mjs', kind: 'Fetch app' },
  { name: 'Elysia 1', file: 'elysia.mjs', kind: 'Fetch app' },
];

/** The time between the two chunks of the response that a stop interrupts: long enough that the TERM surely comes first. */
const STOP_GAP_MS = 1500;

/** One GET on a new connection of its own, the response read whole (its framing checked). */
async function rawGet(port, target) {
  const connection = await RawConnection.connect(port);
  try {
    connection.write(httpRequest('GET', target, { headers: { Host: '127.0.0.1', Connection: 'close' } }));
    const { responses } = await connection.untilClosed();
    assert.equal(responses.length, 1, connection.text);
    return responses[0];
  } finally {
    connection.destroy();
  }
}

for (const { name, file, kind } of FRAMEWORKS) {
  describe(`${name}, a ${kind} (examples/${file})`, { timeout: 30_000 }, () => {
    let server;
    /** The worker's pid, as the app tells it. */
    let workerPid;
    before(async () => {
      server = await startServer(['--workers=1', fileURLToPath(new URL(`../../examples/${file}`, import.meta.url))]);
    });
    after(() => server?.stop());

    test('routes by path and method, with a parameter; 404 elsewhere', async () => {
      const root = await fetch(server.url('/'));
      assert.equal(root.status, 200);
      assert.match(await root.text(), /^hello from /i);
      const user = await fetch(server.url('/users/42'));
      assert.equal(user.status, 200);
      assert.match(user.headers.get('content-type'), /^application\/json/);
      const body = await user.json();
      assert.equal(body.id, '42');
      assert.notEqual(body.pid, server.pid, 'served by the worker, not the master');
      workerPid = body.pid;
      assert.equal((await fetch(server.url('/nowhere'))).status, 404);
      assert.equal((await fetch(server.url('/users/42'), { method: 'DELETE' })).status, 404);
    });

    test('a JSON body in, JSON out', async () => {
      const sent = { list: [1, 2, 3], text: 'héllo ☃', nested: { yes: true, no: null } };
      const response = await fetch(server.url('/echo'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(sent) });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type'), /^application\/json/);
      assert.deepEqual(await response.json(), { received: sent });
    });

    test('a streamed response goes out chunked, one chunk per write', async () => {
      const response = await rawGet(server.port, '/stream?chunks=4&gap=20');
      assert.equal(response.status, 200);
      assert.equal(response.framing, 'chunked');
      assert.deepEqual(
        response.chunks.map((chunk) => chunk.toString()),
        ['chunk 1\n', 'chunk 2\n', 'chunk 3\n', 'chunk 4\n'],
      );
    });

    test('two cookies set, a cookie read', async () => {
      const response = await fetch(server.url('/cookies'), { headers: { cookie: 'other=1; session=abc123; last=2' } });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { session: 'abc123' });
      const cookies = response.headers.getSetCookie();
      assert.equal(cookies.length, 2, `Set-Cookie: ${cookies.join(' | ')}`);
      assert.match(cookies[0], /^visits=1;.*; httponly/i);
      assert.match(cookies[1], /^theme=dark;/);
      assert.doesNotMatch(cookies[1], /httponly/i);
    });

    test('a handler that throws gets a 500; the worker goes on serving', async () => {
      const failed = await fetch(server.url('/fail'));
      assert.equal(failed.status, 500);
      await failed.arrayBuffer();
      const next = await fetch(server.url('/users/7'));
      assert.equal(next.status, 200);
      assert.deepEqual(await next.json(), { id: '7', pid: workerPid });
    });

    test('TERM while a response is in flight: it completes, then starlight exits 0', async () => {
      // (ending our side when the server ends its own, as a client does: the server waits for that before it lets go)
      const connection = await RawConnection.connect(server.port, { allowHalfOpen: false });
      try {
        connection.write(httpRequest('GET', `/stream?chunks=2&gap=${STOP_GAP_MS}`, { headers: { Host: '127.0.0.1' } }));
        await connection.waitForText('chunk 1\n');
        server.kill('SIGTERM');
        assert.ok(!connection.text.includes('chunk 2'), 'the response was still in flight at the TERM');
        const { responses } = await connection.responses(1, {}, STOP_GAP_MS + 10_000);
        assert.equal(responses.length, 1, connection.text);
        assert.equal(responses[0].status, 200);
        assert.equal(responses[0].text, 'chunk 1\nchunk 2\n');
        assert.deepEqual(await exitWithin(server.exited, 10_000), { code: 0, signal: null }, server.stderr);
      } finally {
        connection.destroy();
      }
    });
  });
}
