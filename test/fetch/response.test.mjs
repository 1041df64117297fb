// Writing the Response a Fetch app returns, through real requests to
// `starlight --workers=0`: every standard body type, framing (Content-Length,
// chunked, close-delimited), streams as they come, and Set-Cookie.
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

/** GET `path` on a fresh connection (HTTP/1.1 unless `version` says otherwise) and parse the one response. */
async function get(path, { version = '1.1', method = 'GET', headers = '' } = {}) {
  const keep = version === '1.1' ? 'Connection: close\r\n' : '';
  const connection = await RawConnection.connect(server.port);
  connection.write(`${method} ${path} HTTP/${version}\r\nHost: h\r\n${keep}${headers}\r\n`);
  const responses = (await connection.untilClosed({ method })).all;
  connection.destroy();
  assert.equal(responses.length, 1, connection.text);
  return responses[0];
}

function assertLength(response, body) {
  assert.equal(response.framing, 'length');
  assert.equal(response.get('transfer-encoding'), null);
  assert.equal(response.get('content-length'), String(Buffer.byteLength(body)));
  assert.deepEqual(response.body, Buffer.from(body));
  assert.equal(response.complete, true);
}

describe('response bodies', { timeout: 20_000 }, () => {
  test('null: Content-Length 0', async () => {
    const response = await get('/out/null');
    assert.equal(response.status, 200);
    assert.equal(response.get('x-kind'), 'null');
    assertLength(response, '');
  });

  test('string: UTF-8, Content-Length in bytes', async () => {
    const response = await get('/out/string');
    assert.equal(response.get('content-type'), 'text/plain;charset=UTF-8');
    assertLength(response, 'héllo wörld ✓ 🌟');
    assert.equal(response.body.toString('utf8'), 'héllo wörld ✓ 🌟');
  });

  test('ArrayBuffer, Uint8Array, a subarray, DataView, Int16Array: their own bytes, Content-Length', async () => {
    assertLength(await get('/out/arraybuffer'), Buffer.from([0, 1, 2, 253, 254, 255]));
    assertLength(await get('/out/uint8'), Buffer.from([104, 105, 0, 255]));
    assertLength(await get('/out/subarray'), 'ABC');
    assertLength(await get('/out/dataview'), 'DV');
    const int16 = new Int16Array([0x4241, 0x4443]);
    assertLength(await get('/out/int16'), Buffer.from(int16.buffer));
  });

  test('Blob: its type becomes Content-Type', async () => {
    const response = await get('/out/blob');
    assert.equal(response.get('content-type'), 'text/html;charset=utf-8');
    assertLength(response, '<b>blob</b>');
  });

  test('FormData: multipart with its boundary, parseable', async () => {
    const response = await get('/out/formdata');
    const type = response.get('content-type');
    assert.match(type, /^multipart\/form-data; boundary=/);
    assert.equal(response.framing, 'length');
    assert.equal(response.complete, true);
    const form = await new Response(response.body, { headers: { 'content-type': type } }).formData();
    assert.equal(form.get('name'), 'starlight');
    const file = form.get('file');
    assert.equal(file.name, 'a.txt');
    assert.equal(await file.text(), 'file body');
  });

  test('URLSearchParams: form-urlencoded', async () => {
    const response = await get('/out/urlsearchparams');
    assert.equal(response.get('content-type'), 'application/x-www-form-urlencoded;charset=UTF-8');
    assertLength(response, 'a=1&b=x+y%26z');
  });

  test('several Set-Cookie stay separate fields; other repeated fields keep all their values', async () => {
    const response = await get('/out/cookies');
    assert.deepEqual(response.all('set-cookie'), ['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2015 07:28:00 GMT']);
    // One combined line or one line each: the same field value (RFC 9110 §5.3).
    assert.equal(response.all('x-multi').join(', '), 'one, two');
  });

  test('Date and Server are added', async () => {
    const response = await get('/out/string');
    assert.match(response.get('date'), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.match(response.get('server'), /^starlight\/\d/);
  });

  test('HEAD: no body, the Content-Length the GET would have had', async () => {
    const response = await get('/out/string', { method: 'HEAD' });
    assert.equal(response.get('content-length'), String(Buffer.byteLength('héllo wörld ✓ 🌟')));
    assert.equal(response.body.length, 0);
  });

  test("HEAD answered with a null body and the app's Content-Length: that length is sent", async () => {
    const head = await get('/out/head-length', { method: 'HEAD' });
    assert.equal(head.get('content-length'), '10');
    assert.equal(head.body.length, 0);
    assertLength(await get('/out/head-length'), '0123456789');
  });

  test('a stream complete when first read goes out whole, with Content-Length', async () => {
    assertLength(await get('/out/stream-fast'), 'fast stream');
  });

  test('a slow stream is chunked (1.1), written as it comes', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /out/stream-gated?id=${id} HTTP/1.1\r\nHost: h\r\n\r\n`);
    // The head and the first part arrive while the stream is still open.
    await connection.waitForText('first;');
    let response = connection.parse().partial;
    assert.equal(response.get('transfer-encoding'), 'chunked');
    assert.equal(response.get('content-length'), null);
    assert.equal(response.get('content-type'), 'text/plain');
    assert.equal(response.complete, false);
    assert.equal(response.body.toString(), 'first;');
    await server.open(`${id}-1`);
    await connection.waitForText('second;');
    response = connection.parse().partial;
    assert.equal(response.complete, false);
    await server.open(`${id}-2`);
    await connection.waitForText('third;');
    await server.open(`${id}-3`);
    const whole = await connection.responses(1);
    assert.equal(whole.error, null);
    [response] = whole.responses;
    assert.equal(response.complete, true);
    assert.equal(response.body.toString(), 'first;second;third;');
    assert.deepEqual(
      response.chunks.map(String),
      ['first;', 'second;', 'third;'],
    );
    // The connection persists: a second request on it is answered.
    connection.write('GET /out/null HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.deepEqual(
      (await connection.untilClosed()).all.map((r) => r.status),
      [200, 200],
    );
  });

  test('a slow stream to HTTP/1.0: no chunked coding, delimited by closing', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /out/stream-gated?id=${id} HTTP/1.0\r\nConnection: keep-alive\r\n\r\n`);
    await connection.waitForText('first;');
    await server.open(`${id}-1`);
    await server.open(`${id}-2`);
    await server.open(`${id}-3`);
    const [response, extra] = (await connection.untilClosed()).all;
    assert.equal(extra, undefined);
    assert.equal(response.framing, 'close');
    assert.equal(response.get('transfer-encoding'), null);
    assert.equal(response.get('content-length'), null);
    assert.equal(response.get('connection'), 'close');
    assert.equal(response.body.toString(), 'first;second;third;');
  });

  test('server-sent events: head and first event arrive before the stream ends', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /out/sse?id=${id} HTTP/1.1\r\nHost: h\r\nAccept: text/event-stream\r\n\r\n`);
    await connection.waitForText('data: one\n\n');
    const response = connection.parse().partial;
    assert.equal(response.status, 200);
    assert.equal(response.get('content-type'), 'text/event-stream');
    assert.equal(response.get('cache-control'), 'no-cache');
    assert.equal(response.complete, false);
    await server.open(`${id}-1`);
    await connection.waitForText('data: two\n\n');
    await server.open(`${id}-2`);
    const { responses: [done], error } = await connection.responses(1);
    connection.destroy();
    assert.equal(error, null);
    assert.equal(done.body.toString(), 'data: one\n\ndata: two\n\n');
  });

  test('a stream whose client goes away: the stream is cancelled and the signal aborted', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /out/sse?id=${id} HTTP/1.1\r\nHost: h\r\n\r\n`);
    await connection.waitForText('data: one\n\n');
    connection.socket.resetAndDestroy();
    const state = await waitFor(async () => (await server.state(id)).value, { timeoutMs: 5000, message: 'the stream to be cancelled' });
    assert.deepEqual(state, { cancelled: true, aborted: true });
    await server.settleLog();
    assert.equal(count(server.stderr, `/out/sse?id=${id}`), 0, 'a client going away is not an app error');
  });

  test('HEAD of a streamed response: the head only, and the connection goes on', async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`HEAD /out/stream-gated?id=${id} HTTP/1.1\r\nHost: h\r\n\r\n`);
    const { responses: [head], error } = await connection.responses(1, { method: 'HEAD' });
    assert.equal(error, null);
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    connection.write('GET /out/null HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const responses = (await connection.untilClosed({ method: 'HEAD' })).all;
    assert.deepEqual(
      responses.map((r) => [r.status, r.get('x-kind')]),
      [
        [200, null],
        [200, 'null'],
      ],
    );
  });

  test('a large stream: chunked, every byte in order (with backpressure)', async () => {
    const n = 1024 * 1024 + 12345;
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /out/stream-large?n=${n} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
    connection.socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the server meet a full socket
    connection.socket.resume();
    const [response] = (await connection.untilClosed({}, 10_000)).all;
    assert.equal(response.get('transfer-encoding'), 'chunked');
    assert.equal(response.complete, true);
    assert.equal(response.body.length, n);
    for (let i = 0; i < n; i += 4099) assert.equal(response.body[i], i & 0xff, `byte ${i}`);
  });

  test("a stream with the app's own Content-Length: sent with it, not chunked", async () => {
    const id = uid();
    const connection = await RawConnection.connect(server.port);
    connection.write(`GET /out/stream-length?id=${id}&cl=10&parts=12345,67890 HTTP/1.1\r\nHost: h\r\n\r\n`);
    await connection.waitForText('12345');
    await server.open(`${id}-1`);
    await server.open(`${id}-2`);
    const { responses: [response], error } = await connection.responses(1);
    assert.equal(error, null);
    assert.equal(response.get('content-length'), '10');
    assert.equal(response.get('transfer-encoding'), null);
    assertLength(response, '1234567890');
    // Exact: the connection persists.
    connection.write('GET /out/null HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.equal((await connection.untilClosed()).all.length, 2);
  });

  for (const [what, parts] of [
    ['shorter', '12345,678'],
    ['longer', '12345,678901'],
  ]) {
    test(`a stream ${what} than its Content-Length: the connection is cut, logged once`, async () => {
      const id = uid();
      const path = `/out/stream-length?id=${id}&cl=10&parts=${parts}`;
      const connection = await RawConnection.connect(server.port);
      connection.write(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`);
      await connection.waitForText('12345');
      await server.open(`${id}-1`);
      await server.open(`${id}-2`);
      const { partial: response } = await connection.untilClosed();
      assert.equal(response.get('content-length'), '10');
      assert.equal(response.complete, false);
      assert.ok(response.body.length < 10);
      await server.settleLog();
      assert.equal(count(server.stderr, `GET ${path} HTTP/1.1`), 1, server.stderr);
      assert.match(server.stderr, new RegExp(`error: GET ${path.replace(/[?]/g, '\\?')} HTTP/1.1: .*Content-Length`));
    });
  }
});
