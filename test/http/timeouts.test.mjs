// Timeouts with small values (SPEC §1.3): --keepalive-timeout closes an idle
// persistent connection; --header-timeout is a deadline for the whole head
// (408 for a partial one, even one still trickling in); --timeout cuts a body
// upload or a response write that stalls. Bounds are loose (no timing is
// asserted tighter than "well before the defaults would act").

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RawConnection, httpRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let server;
before(async () => {
  server = await startServer(['--workers=0', '--keepalive-timeout=1', '--header-timeout=0.5', '--timeout=0.5', APP]);
});
after(async () => {
  await server?.stop();
});

async function result(name) {
  const c = await RawConnection.connect(server.port);
  c.write(httpRequest('GET', `/result?name=${name}`));
  const parsed = await c.responses(1);
  c.destroy();
  return parsed.responses[0].text;
}

// Independent connections: the tests run at once, so the file takes as long as its slowest.
const AT_ONCE = { concurrency: true };

describe('timeouts', AT_ONCE, () => {
  describe('--keepalive-timeout=1', AT_ONCE, () => {
    test('an idle persistent connection is closed quietly after it', async () => {
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('GET', '/fixed'));
      const parsed = await c.responses(1);
      assert.equal(parsed.responses[0].close, false);
      const length = c.data.length;
      const started = Date.now();
      assert.equal(await c.waitClosed(5000), 'fin');
      assert.ok(Date.now() - started >= 900, 'not before the timeout');
      assert.equal(c.data.length, length, 'no bytes (no 408) for an idle connection');
      c.destroy();
    });

    test('a request inside the timeout is served, and the timeout starts again after it', async () => {
      const c = await RawConnection.connect(server.port);
      for (let i = 1; i <= 3; i++) {
        c.write(httpRequest('GET', '/fixed'));
        assert.equal((await c.responses(i)).responses.length, i);
        await sleep(400);
      }
      // 1.2 s after the first response: it would be closed had the timeout not started again.
      assert.equal(c.closed, null, 'still open 1.2 s after the first response');
      c.destroy();
    });
  });

  describe('--header-timeout=0.5', AT_ONCE, () => {
    test('a partial head → 408 and close', async () => {
      const c = await RawConnection.connect(server.port);
      c.write('GET /fixed HTTP/1.1\r\nHo');
      assert.equal(await c.waitClosed(3000), 'fin');
      const parsed = c.parse();
      assert.equal(parsed.error, null);
      assert.deepEqual(
        parsed.responses.map((r) => [r.status, r.header('connection')]),
        [[408, 'close']],
      );
      c.destroy();
    });

    test('is a deadline for the whole head: a head trickling in byte by byte still gets 408', async () => {
      const c = await RawConnection.connect(server.port);
      const started = Date.now();
      const head = `GET /fixed HTTP/1.1\r\nHost: test\r\nX-Slow: ${'s'.repeat(100)}\r\n\r\n`;
      for (let i = 0; i < head.length && c.closed === null; i++) {
        c.write(head[i]);
        await sleep(50);
      }
      assert.equal(await c.waitClosed(3000), 'fin');
      assert.ok(Date.now() - started < 3000, 'well before the whole head could arrive');
      const parsed = c.parse();
      assert.deepEqual(
        parsed.responses.map((r) => r.status),
        [408],
      );
      c.destroy();
    });

    test('a connection that never sends anything is closed without a response', async () => {
      const c = await RawConnection.connect(server.port);
      assert.equal(await c.waitClosed(3000), 'fin');
      assert.equal(c.data.length, 0);
      c.destroy();
    });
  });

  describe('--timeout=0.5', AT_ONCE, () => {
    test('a body upload that stalls midway is cut; the app’s read fails', async () => {
      const name = `stall-${Math.random().toString(36).slice(2)}`;
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('POST', `/upload?name=${name}`, { headers: { 'Content-Length': '100' }, body: 'x'.repeat(10) }));
      const closed = await c.waitClosed(3000);
      assert.notEqual(closed, 'timeout');
      assert.equal(c.parse().responses.filter((r) => r.header('x-app')).length, 0, 'no app answer');
      c.destroy();
      assert.match(await result(name), /^error /);
    });

    test('a body upload that keeps moving is not cut', async () => {
      const name = `moving-${Math.random().toString(36).slice(2)}`;
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('POST', `/upload?name=${name}`, { headers: { 'Content-Length': '8' } }));
      for (let i = 0; i < 8; i++) {
        await sleep(150);
        c.write('y');
      }
      const parsed = await c.responses(1);
      c.destroy();
      assert.equal(parsed.responses[0]?.text, 'ok 8');
    });

    test('a response the client does not read is cut', async () => {
      const c = await RawConnection.connect(server.port);
      c.pause();
      c.write(httpRequest('GET', '/endless?chunk=65536&total=268435456'));
      await sleep(1500);
      // Reading again finds the response cut short: the server gave up on the stalled write.
      c.resume();
      const closed = await c.waitClosed(5000);
      assert.notEqual(closed, 'timeout');
      const parsed = c.parse();
      assert.equal(parsed.responses.length, 0, 'the response is incomplete');
      assert.match(parsed.error ?? '', /closed inside a response/);
      c.destroy();
    });
  });
});
