// What the server does when a Fetch app fails, through real requests to
// `starlight --workers=0`: 500 while nothing was sent, a cut connection once
// the response has begun, one log record with the request line either way,
// and serving goes on. Also: app-set framing headers never corrupt framing.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { count, startFetchApp, uid } from '../helpers/fetch-app.mjs';
import { RawConnection, exchange } from '../helpers/raw.mjs';

let server;
let development;
before(async () => {
  [server, development] = await Promise.all([startFetchApp(), startFetchApp(['-E', 'development'])]);
});
after(() => Promise.all([server?.stop(), development?.stop()]));

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** GET `path` on a keep-alive connection, then a second request on the same connection if it is still open. */
async function failingGet(target, path) {
  const connection = await RawConnection.connect(target.port);
  connection.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
  const { responses: [response], error } = await connection.responses(1);
  assert.equal(error, null);
  return { response, connection };
}

/** Asserts the request line is in stderr exactly once, as an error record, with `detail` after it. */
async function assertLoggedOnce(target, path, detail) {
  await target.settleLog();
  const line = `GET ${path} HTTP/1.1`;
  assert.equal(count(target.stderr, line), 1, `"${line}" in stderr:\n${target.stderr}`);
  assert.match(target.stderr, new RegExp(`error: ${escape(line)}: the app failed: ${detail}`));
}

describe('app errors', { timeout: 20_000 }, () => {
  for (const [route, detail] of [
    ['/err/throw', 'Error: thrown by the app\n\\s+at '],
    ['/err/reject', 'Error: rejected by the app\n\\s+at '],
    ['/err/number', 'TypeError: fetch\\(\\) returned number, not a Response'],
    ['/err/object', 'TypeError: fetch\\(\\) returned an object \\(Object\\), not a Response'],
    ['/err/undefined', 'TypeError: fetch\\(\\) returned undefined, not a Response'],
    ['/err/response-error', 'TypeError: fetch\\(\\) returned Response.error\\(\\)'],
    ['/err/stream-early', 'Error: the stream failed at once'],
    ['/err/chunk-type', 'TypeError: the response body stream produced string'],
  ]) {
    test(`${route}: 500, logged once with the request line, the connection goes on`, async () => {
      const path = `${route}?${uid()}`;
      const { response, connection } = await failingGet(server, path);
      assert.equal(response.status, 500);
      assert.equal(response.body.toString(), 'Internal Server Error');
      assert.doesNotMatch(response.body.toString(), /at /);
      assert.equal(response.get('content-length'), String(response.body.length));
      // The same connection serves the next request.
      connection.write('GET /out/null HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
      const both = (await connection.untilClosed()).all;
      assert.deepEqual(
        both.map((r) => r.status),
        [500, 200],
      );
      await assertLoggedOnce(server, path, detail);
    });
  }

  test('a body stream that fails midway: the connection is cut (incomplete chunked body), logged once', async () => {
    const id = uid();
    const path = `/err/stream-midway?id=${id}`;
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
    await connection.waitForText('part one;');
    await server.open(`${id}-1`);
    const { all: whole, partial: response } = await connection.untilClosed();
    assert.equal(whole.length, 0, 'nothing but the cut response');
    assert.equal(response.status, 200);
    assert.equal(response.framing, 'chunked');
    assert.equal(response.complete, false);
    assert.equal(response.body.toString(), 'part one;');
    await assertLoggedOnce(server, path, `Error: stream ${id} failed midway`);
    assert.equal((await server.get('/out/null')).status, 200);
  });

  test('-E development: the 500 body carries the stack', async () => {
    const path = `/err/throw?${uid()}`;
    const { response, connection } = await failingGet(development, path);
    connection.destroy();
    assert.equal(response.status, 500);
    const body = response.body.toString();
    assert.match(body, /^Internal Server Error\n\nError: thrown by the app\n {4}at .*fetch-app\.mjs:\d+/);
    assert.equal(response.get('content-length'), String(response.body.length));
    await assertLoggedOnce(development, path, 'Error: thrown by the app');
    // A non-Error value is shown too.
    const other = await failingGet(development, '/err/number');
    other.connection.destroy();
    assert.match(other.response.body.toString(), /TypeError: fetch\(\) returned number, not a Response/);
  });
});

describe('app-set framing headers', { timeout: 20_000 }, () => {
  const get = async (path) => {
    const responses = (await exchange(server.port, `GET ${path} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`)).all;
    assert.equal(responses.length, 1);
    return responses[0];
  };

  test('content-length: 999 on a 5-byte string: the real length is sent', async () => {
    const response = await get('/hdr/content-length');
    assert.deepEqual(response.all('content-length'), ['5']);
    assert.equal(response.body.toString(), 'hello');
    assert.equal(response.complete, true);
  });

  test('transfer-encoding: chunked on a string body: Content-Length, no chunked coding', async () => {
    const response = await get('/hdr/transfer-encoding');
    assert.equal(response.get('transfer-encoding'), null);
    assert.deepEqual(response.all('content-length'), ['5']);
    assert.equal(response.body.toString(), 'hello');
  });

  test('a bad content-length and transfer-encoding on a stream: the server chunks it itself', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /hdr/stream-te?id=${id} HTTP/1.1\r\nHost: h\r\n\r\n`);
    await connection.waitForText('x');
    await server.open(`${id}-1`);
    await server.open(`${id}-2`);
    const { responses: [response], error } = await connection.responses(1);
    connection.destroy();
    assert.equal(error, null);
    assert.deepEqual(response.all('transfer-encoding'), ['chunked']);
    assert.equal(response.get('content-length'), null);
    assert.equal(response.body.toString(), 'xy');
    assert.equal(response.complete, true);
  });

  test('connection: close from the app closes the connection after the response', async () => {
    const connection = await RawConnection.connect(server.port);
    connection.write('GET /hdr/connection-close HTTP/1.1\r\nHost: h\r\n\r\nGET /out/null HTTP/1.1\r\nHost: h\r\n\r\n');
    const responses = (await connection.untilClosed()).all;
    assert.equal(responses.length, 1);
    assert.deepEqual(responses[0].all('connection'), ['close']);
    assert.equal(responses[0].body.toString(), 'bye');
  });

  test('other connection and keep-alive values from the app are dropped; the connection persists', async () => {
    const connection = await RawConnection.connect(server.port);
    connection.write('GET /hdr/connection-other HTTP/1.1\r\nHost: h\r\n\r\nGET /out/null HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const responses = (await connection.untilClosed()).all;
    assert.equal(responses.length, 2);
    assert.equal(responses[0].get('connection'), null);
    assert.equal(responses[0].get('keep-alive'), null);
    assert.equal(responses[0].body.toString(), 'kept');
  });
});
