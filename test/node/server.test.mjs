// Node (req, res) apps (SPEC §1.1), served by `starlight --workers=0` as a
// child process: the app gets node:http's own objects; starlight adds its
// Server header, its limits and timeouts, answers for an app that fails, and
// stops as it does for Fetch apps.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RawConnection, exchange, httpRequest, writeAfterFin } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { LINGER_MS } from '../../dist/http/limits.js';

const APP = new URL('../fixtures/node-app.mjs', import.meta.url).pathname;
const AT_ONCE = { concurrency: true };

/** One request on a fresh connection; the parsed response and how the connection ended. */
async function ask(port, bytes, { waitClose = false } = {}) {
  const c = await RawConnection.connect(port);
  c.write(bytes);
  const parsed = await c.responses(1);
  const closed = waitClose ? await c.waitClosed(3000) : c.closed;
  c.destroy();
  assert.equal(parsed.error, null, `a well-formed response: ${c.data.toString('latin1')}`);
  return { response: parsed.responses[0], closed };
}

/** Resolves once `server`'s stderr holds `text` (the log is written after the answer). */
async function logged(server, text) {
  for (let i = 0; i < 200 && !server.stderr.includes(text); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(server.stderr.includes(text), `the log has ${JSON.stringify(text)}:\n${server.stderr}`);
}

describe('a Node app', AT_ONCE, () => {
  let server;
  before(async () => {
    server = await startServer(['--workers=0', '--server-software=test-server/1', APP]);
  });
  after(() => server?.stop());

  test("gets node:http's IncomingMessage and ServerResponse, every field as sent, in order", async () => {
    const { response } = await ask(
      server.port,
      httpRequest('GET', '/inspect?q=1', { headers: [['Host', 'example.test'], ['X-B', '2'], ['x-a', '1'], ['X-B', '3']] }),
    );
    assert.equal(response.status, 200);
    const seen = JSON.parse(response.text);
    assert.deepEqual(seen.classes, ['IncomingMessage', 'ServerResponse']);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, '/inspect?q=1');
    assert.equal(seen.httpVersion, '1.1');
    assert.deepEqual(seen.rawHeaders, ['Host', 'example.test', 'X-B', '2', 'x-a', '1', 'X-B', '3']);
    assert.deepEqual(seen.remote, ['127.0.0.1', 'number']);
    assert.equal(response.header('server'), 'test-server/1');
    assert.ok(response.header('date'));
  });

  test("the app's own Server field is kept, whether set with setHeader() or writeHead()", async () => {
    for (const [by, expected] of [['setHeader', 'app/1'], ['writeHead', 'app/2']]) {
      const { response } = await ask(server.port, httpRequest('GET', `/own-server?by=${by}`));
      assert.deepEqual(response.headers.filter(([name]) => name.toLowerCase() === 'server').map(([, value]) => value), [expected]);
    }
    const { response } = await ask(server.port, httpRequest('GET', '/cookies'));
    assert.equal(response.header('server'), 'test-server/1', 'and starlight\'s where the app gives none');
  });

  test('keeps the connection alive across requests, pipelined ones too', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(Buffer.concat([httpRequest('GET', '/inspect'), httpRequest('POST', '/echo', { body: 'first' })]));
    c.write(httpRequest('POST', '/echo', { body: 'second' }));
    const { responses, error } = await c.responses(3);
    c.destroy();
    assert.equal(error, null);
    assert.deepEqual(responses.slice(1).map((r) => r.text), ['first', 'second']);
    assert.ok(responses.every((r) => r.close === false));
  });

  test('a body is read as sent: with Content-Length and chunked, bytes of every value', async () => {
    const body = Buffer.alloc(100_000, 0).map((_, i) => (i * 7) & 0xff);
    const { response: sized } = await ask(server.port, httpRequest('POST', '/echo', { body }));
    assert.ok(Buffer.from(sized.body).equals(body));
    const chunked = Buffer.concat([
      httpRequest('POST', '/echo', { headers: { 'Transfer-Encoding': 'chunked' } }),
      Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
    ]);
    const { response } = await ask(server.port, chunked);
    assert.equal(response.text, 'hello world');
  });

  test('a response written in pieces is sent chunked; several Set-Cookie fields stay separate', async () => {
    const { response: streamed } = await ask(server.port, httpRequest('GET', '/stream?n=3'));
    assert.equal(streamed.header('transfer-encoding'), 'chunked');
    assert.equal(streamed.text, 'chunk 3\nchunk 2\nchunk 1\n');
    const { response: cookies } = await ask(server.port, httpRequest('GET', '/cookies'));
    assert.deepEqual(cookies.headers.filter(([name]) => name.toLowerCase() === 'set-cookie').map(([, value]) => value), ['a=1; Path=/', 'b=2; HttpOnly']);
  });

  test('a listener that throws: 500 without what it had set, the error logged with the request; the connection serves on', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/throw'));
    c.write(httpRequest('GET', '/inspect'));
    const { responses, error } = await c.responses(2);
    c.destroy();
    assert.equal(error, null);
    assert.equal(responses[0].status, 500);
    assert.equal(responses[0].header('x-set-before-the-throw'), undefined);
    assert.equal(responses[0].header('server'), 'test-server/1');
    assert.equal(responses[0].text, 'Internal Server Error', 'no stack outside development');
    assert.equal(responses[1].status, 200);
    await logged(server, 'error: GET /throw: the app failed: Error: thrown by the app');
  });

  test('a listener whose promise rejects: 500, logged', async () => {
    const { response } = await ask(server.port, httpRequest('GET', '/reject'));
    assert.equal(response.status, 500);
    await logged(server, 'error: GET /reject: the app failed: Error: rejected by the app');
  });

  test('a (req, res) function that returns a Response: 500, and the log says to export { fetch }', async () => {
    const { response } = await ask(server.port, httpRequest('GET', '/response'));
    assert.equal(response.status, 500);
    await logged(server, 'GET /response: the app failed: TypeError: the app is a (req, res) function but returned a Response; for a Fetch app, export default { fetch(request)');
  });

  test('a listener that throws after its head went out: the connection is cut, the error logged', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/throw-after-head'));
    assert.notEqual(await c.waitClosed(3000), 'timeout');
    const { responses } = c.parse();
    c.destroy();
    assert.equal(responses.length, 0, 'no complete response');
    await logged(server, 'GET /throw-after-head: the app failed: Error: thrown mid-response');
  });

  test('a malformed request pipelined behind a slow one: the slow one is answered first, then 400, then the close', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(Buffer.concat([httpRequest('GET', '/slow?ms=150'), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n')]));
    const { responses, error } = await c.responses(2);
    assert.equal(error, null);
    assert.deepEqual(responses.map((r) => [r.status, r.close]), [[200, false], [400, true]]);
    assert.equal(responses[0].text, 'slept 150');
    assert.equal(await c.waitClosed(3000), 'fin');
    c.destroy();
  });

  test('CONNECT is answered 501 and closed, as for a Fetch app', async () => {
    const { response, closed } = await ask(server.port, Buffer.from('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n'), { waitClose: true });
    assert.equal(response.status, 501);
    assert.equal(response.header('connection'), 'close');
    assert.equal(closed, 'fin');
  });

  test('a bad request is answered by the parser (400) and closed; the app never sees it', async () => {
    const { response, closed } = await ask(server.port, Buffer.from('GET /inspect HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'), { waitClose: true });
    assert.equal(response.status, 400);
    assert.equal(closed, 'fin');
  });

  test('res.writeEarlyHints(): the 103 goes out before the final response, which its callback sends', async () => {
    const { all, error } = await exchange(server.port, 'GET /early-hints HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.equal(error, null);
    assert.deepEqual(
      all.map((r) => r.status),
      [103, 200],
    );
    assert.equal(all[0].header('link'), '</style.css>; rel=preload');
    assert.equal(all[0].header('x-hint'), 'early');
    assert.equal(all[1].text, 'final');
  });

  test('res.writeEarlyHints(): nothing goes to an HTTP/1.0 client, which knows no 1xx; its callback still runs', async () => {
    const { all, error } = await exchange(server.port, 'GET /early-hints HTTP/1.0\r\n\r\n');
    assert.equal(error, null);
    assert.deepEqual(
      all.map((r) => [r.status, r.text]),
      [[200, 'final']],
    );
  });

  test('res.writeEarlyHints() after the head: dropped, never written into the body, not thrown', async () => {
    const { all, error } = await exchange(server.port, 'GET /early-hints-late HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.equal(error, null);
    assert.deepEqual(
      all.map((r) => [r.status, r.text]),
      [[200, 'before;not thrown']],
    );
  });

  test('res.writeEarlyHints() with CR LF in a value (Link or another) throws; nothing is split', async () => {
    for (const field of ['link', 'x-other']) {
      const { all, error } = await exchange(server.port, `GET /early-hints-split?field=${field} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
      assert.equal(error, null);
      assert.deepEqual(
        all.map((r) => [r.status, r.text, r.header('injected')]),
        [[200, 'threw TypeError', undefined]],
        field,
      );
    }
  });

  test('a close the client asked for lingers: bytes it sends after the FIN are read and dropped, not reset (RFC 9112 §9.6)', async () => {
    assert.equal(await writeAfterFin(server.port, httpRequest('GET', '/inspect', { headers: { Connection: 'close' } })), 'read and dropped');
  });

  test('a close lingers LINGER_MS at most: a client that never closes its side is then closed on (late bytes reset)', async () => {
    // (The server's sweep ends it within one period after the deadline.)
    const outcome = await writeAfterFin(server.port, httpRequest('GET', '/inspect', { headers: { Connection: 'close' } }), { afterMs: LINGER_MS + 1500 });
    assert.match(outcome, /^(ECONNRESET|EPIPE)$/, 'the server had closed: the late bytes were answered with a reset');
  });
});

test('under --pending-deprecation with --throw-deprecation (process.binding() would crash the worker), a close lingers on the socket itself: no warning, late bytes dropped', async () => {
  const server = await startServer(['--workers=0', APP], { env: { NODE_OPTIONS: '--pending-deprecation --throw-deprecation' } });
  try {
    assert.equal(await writeAfterFin(server.port, httpRequest('GET', '/inspect', { headers: { Connection: 'close' } })), 'read and dropped');
    assert.doesNotMatch(server.stderr, /DeprecationWarning|DEP0111/);
  } finally {
    await server.stop();
  }
});

describe('a Node app under limits and timeouts', AT_ONCE, () => {
  let server;
  before(async () => {
    server = await startServer([
      '--workers=0', '--max-header-size=1024', '--max-headers=10', '--max-body-size=1000', '--max-keepalive-reqs=2',
      '--keepalive-timeout=0.3', '--header-timeout=0.5', '--timeout=0.5', APP,
    ]);
  });
  after(() => server?.stop());

  const fields = (n) => Array.from({ length: n }, (_, i) => [`X-Field-${i}`, 'v']);

  test('--max-header-size: a larger head is answered 431 and closed', async () => {
    const { response: fits } = await ask(server.port, httpRequest('GET', '/inspect', { headers: { 'X-Big': 'b'.repeat(800) } }));
    assert.equal(fits.status, 200);
    const { response, closed } = await ask(server.port, httpRequest('GET', '/inspect', { headers: { 'X-Big': 'b'.repeat(1100) } }), { waitClose: true });
    assert.equal(response.status, 431);
    assert.equal(closed, 'fin');
  });

  test('--max-headers: one field more than allowed is answered 431 and closed; as many as allowed is served', async () => {
    const { response: fits } = await ask(server.port, httpRequest('GET', '/inspect', { headers: fields(9) })); // + Host
    assert.equal(fits.status, 200);
    assert.equal(JSON.parse(fits.text).rawHeaders.length, 20);
    const { response, closed } = await ask(server.port, httpRequest('GET', '/inspect', { headers: fields(10) }), { waitClose: true });
    assert.equal(response.status, 431);
    assert.equal(response.header('connection'), 'close');
    assert.equal(closed, 'fin');
  });

  test('--max-body-size: a larger Content-Length is answered 413 before the app reads; a body of the limit is served', async () => {
    const { response: fits } = await ask(server.port, httpRequest('POST', '/echo', { body: 'x'.repeat(1000) }));
    assert.equal(fits.text.length, 1000);
    const { response, closed } = await ask(server.port, httpRequest('POST', '/read-body', { body: 'x'.repeat(1001) }), { waitClose: true });
    assert.equal(response.status, 413);
    assert.equal(closed, 'fin');
  });

  for (const target of ['/read-body', '/read-body-reprototyped']) {
    test(`--max-body-size: a chunked body that grows past it is answered 413 and cut; the read in the app fails (${target})`, async () => {
      const c = await RawConnection.connect(server.port);
      c.write(httpRequest('POST', target, { headers: { 'Transfer-Encoding': 'chunked' } }));
      c.write('258\r\n' + 'y'.repeat(600) + '\r\n');
      c.write('258\r\n' + 'y'.repeat(600) + '\r\n');
      const { responses } = await c.responses(1);
      assert.equal(responses[0].status, 413);
      assert.notEqual(await c.waitClosed(3000), 'timeout');
      c.destroy();
      const { response } = await ask(server.port, httpRequest('GET', '/last-read'));
      assert.match(response.text, /^error after 600: the request body is larger than --max-body-size \(1000 bytes\)$/);
    });
  }

  test('--max-keepalive-reqs=2: the second response says Connection: close, and the connection closes', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/inspect'));
    await c.responses(1);
    c.write(httpRequest('GET', '/inspect'));
    const { responses } = await c.responses(2);
    assert.deepEqual(responses.map((r) => r.close), [false, true]);
    assert.equal(await c.waitClosed(3000), 'fin');
    c.destroy();
  });

  test('--keepalive-timeout: an idle connection is closed after it, without a response', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/inspect'));
    await c.responses(1);
    const length = c.data.length;
    const started = Date.now();
    assert.equal(await c.waitClosed(4000), 'fin');
    assert.ok(Date.now() - started >= 200, 'not before the timeout');
    assert.equal(c.data.length, length);
    c.destroy();
  });

  test('--timeout: a request whose body stops coming is cut after it, without a response', async () => {
    const c = await RawConnection.connect(server.port);
    c.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab');
    const started = Date.now();
    assert.notEqual(await c.waitClosed(4000), 'timeout');
    assert.ok(Date.now() - started >= 400, 'not before the timeout');
    assert.equal(c.data.length, 0);
    c.destroy();
  });

  test('--timeout bounds each wait, not the request: a body that keeps coming, slower than that in all, is answered', async () => {
    const c = await RawConnection.connect(server.port);
    c.write('POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n');
    for (const byte of 'abcde') {
      await new Promise((resolve) => setTimeout(resolve, 250));
      c.write(byte);
    }
    const { responses } = await c.responses(1);
    c.destroy();
    assert.deepEqual(responses.map((r) => [r.status, r.text]), [[200, 'abcde']]);
  });

  test('--keepalive-timeout does not cut a next head begun in time: --header-timeout answers it 408', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('GET', '/inspect'));
    await c.responses(1);
    c.write('GET /inspect HTTP/1.1\r\nHo');
    assert.notEqual(await c.waitClosed(4000), 'timeout');
    const { responses } = c.parse();
    c.destroy();
    assert.deepEqual(responses.map((r) => r.status), [200, 408]);
  });

  test('--header-timeout: a head that does not arrive whole in time is answered 408 and closed', async () => {
    const c = await RawConnection.connect(server.port);
    c.write('GET /inspect HTTP/1.1\r\nHo');
    assert.notEqual(await c.waitClosed(4000), 'timeout');
    const { responses } = c.parse();
    c.destroy();
    assert.deepEqual(responses.map((r) => r.status), [408]);
  });
});

test('development: the 500 page of a Node app carries the stack', async () => {
  const server = await startServer(['--workers=0', '--env=development', APP]);
  try {
    const { response } = await ask(server.port, httpRequest('GET', '/throw'));
    assert.equal(response.status, 500);
    assert.match(response.text, /^Internal Server Error\n\nError: thrown by the app\n {4}at /);
  } finally {
    await server.stop();
  }
});

test('a graceful stop: the idle connection is closed at once, the request in flight finishes with Connection: close, exit 0', async () => {
  const server = await startServer(['--workers=0', APP]);
  const idle = await RawConnection.connect(server.port);
  idle.write(httpRequest('GET', '/inspect'));
  await idle.responses(1);
  const busy = await RawConnection.connect(server.port);
  busy.write(httpRequest('GET', '/slow?ms=600'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  server.child.kill('SIGTERM');
  assert.equal(await idle.waitClosed(400), 'fin', 'the idle connection is closed at once');
  const { responses } = await busy.responses(1);
  assert.equal(responses[0].text, 'slept 600');
  assert.equal(responses[0].close, true);
  assert.equal(await busy.waitClosed(2000), 'fin');
  assert.deepEqual(await server.exited, { code: 0, signal: null });
  idle.destroy();
  busy.destroy();
});
