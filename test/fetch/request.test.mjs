// The Request a Fetch app receives, through real requests to `starlight --workers=0`:
// its class, URL, method, headers, body and abort signal (the signal also with
// --no-fast-fetch, whose platform Request is given it as its own property).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import { count, startFetchApp, uid } from '../helpers/fetch-app.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';
import { RawConnection, exchange } from '../helpers/raw.mjs';

let server;
/** The same app with --no-fast-fetch (the signal tests run on both). */
let platform;
before(async () => {
  [server, platform] = await Promise.all([startFetchApp(), startFetchApp(['--no-fast-fetch'])]);
});
after(() => Promise.all([server?.stop(), platform?.stop()]));

/** Sends raw bytes to /echo-like routes and returns the parsed JSON of the (only) response. */
async function rawJson(bytes) {
  const [response] = (await exchange(server.port, bytes)).all;
  assert.equal(response.status, 200, response.body.toString());
  return JSON.parse(response.body.toString('utf8'));
}

/**
 * A request the app waits on (`route`, /signal/wait by default) from a client
 * that then leaves (`leave` gets its RawConnection and the request's gate id,
 * and may be async): what the app saw of the signal within `timeoutMs`
 * ({ aborted, reason }).
 */
async function signalOnLeaving(app, leave, timeoutMs, route = '/signal/wait') {
  const id = uid();
  const connection = await RawConnection.connect(app.port);
  connection.write(`GET ${route}?id=${id} HTTP/1.1\r\nHost: h\r\n\r\n`);
  await waitFor(async () => (await app.state(id)).value === 'waiting', { timeoutMs: 5000, message: 'the app to get the request' });
  await leave(connection, id);
  try {
    const state = await waitFor(async () => {
      const s = await app.state(id);
      return typeof s.value === 'object' && s;
    }, { timeoutMs, message: 'the app to see the abort' });
    return state.value;
  } finally {
    await app.open(id);
  }
}

describe('request', { timeout: 20_000 }, () => {
  test('is a Request, with method and absolute URL from the Host header (query kept)', async () => {
    const seen = JSON.parse((await server.get('/echo?a=1&b=%20x#frag')).text);
    assert.equal(seen.instance, true);
    assert.equal(seen.method, 'GET');
    assert.equal(seen.url, `http://127.0.0.1:${server.port}/echo?a=1&b=%20x`);

    const put = await rawJson('PUT /echo?q=%C3%A9 HTTP/1.1\r\nHost: example.test:8080\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.equal(put.method, 'PUT');
    assert.equal(put.url, 'http://example.test:8080/echo?q=%C3%A9');
  });

  test('well-formed methods outside the usual few reach the app', async () => {
    for (const method of ['DELETE', 'PATCH', 'OPTIONS', 'PROPFIND']) {
      const seen = await rawJson(`${method} /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
      assert.equal(seen.method, method);
    }
  });

  test('HTTP/1.0 without Host: the URL has the listener address', async () => {
    const seen = await rawJson('GET /echo?x=y HTTP/1.0\r\n\r\n');
    assert.equal(seen.url, `http://127.0.0.1:${server.port}/echo?x=y`);
  });

  test('absolute-form target: the URL as received', async () => {
    const seen = await rawJson('GET http://other.example:81/echo?k=v HTTP/1.1\r\nHost: other.example:81\r\nConnection: close\r\n\r\n');
    assert.equal(seen.url, 'http://other.example:81/echo?k=v');
  });

  test('headers: every field, duplicates combined in the order received, Set-Cookie kept apart', async () => {
    const seen = await rawJson(
      'GET /echo HTTP/1.1\r\n' +
        'Host: h.example\r\n' +
        'X-Zeta: last-name\r\n' +
        'X-Dup: one\r\n' +
        'Accept: text/plain\r\n' +
        'x-dup: two\r\n' +
        'X-DUP: three\r\n' +
        'Set-Cookie: a=1\r\n' +
        'Set-Cookie: b=2\r\n' +
        'X-Empty:\r\n' +
        'X-Spaces:   padded value  \r\n' +
        'Connection: close\r\n\r\n',
    );
    // What `new Headers()` gives when every field is appended in the order received.
    const expected = new Headers();
    for (const [name, value] of [
      ['Host', 'h.example'],
      ['X-Zeta', 'last-name'],
      ['X-Dup', 'one'],
      ['Accept', 'text/plain'],
      ['x-dup', 'two'],
      ['X-DUP', 'three'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['X-Empty', ''],
      ['X-Spaces', 'padded value'],
      ['Connection', 'close'],
    ]) {
      expected.append(name, value);
    }
    assert.deepEqual(seen.headers, [...expected]);
    assert.deepEqual(Object.fromEntries(seen.headers.filter(([n]) => n === 'x-dup')), { 'x-dup': 'one, two, three' });
    assert.deepEqual(seen.cookies, ['a=1', 'b=2']);
  });

  test('body is null for GET and for a POST without one', async () => {
    const get = JSON.parse((await server.get('/echo')).text);
    assert.equal(get.bodyNull, true);
    const post = await rawJson('POST /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.equal(post.bodyNull, true);
    assert.equal(post.body, null);
    // Content-Length: 0 is an empty body: nothing to read either way.
    const empty = await rawJson('POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    assert.ok(empty.bodyNull || empty.body === '');
  });

  test('a GET with a body: the body is not given to the app, and the connection goes on', async () => {
    const connection = await RawConnection.connect(server.port);
    connection.write('GET /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /echo?second HTTP/1.1\r\nHost: h\r\n\r\n');
    const { responses, error } = await connection.responses(2);
    connection.destroy();
    assert.equal(error, null);
    assert.equal(responses.length, 2);
    const [first, second] = responses.map((r) => JSON.parse(r.body.toString()));
    assert.equal(first.bodyNull, true);
    assert.equal(second.url, 'http://h/echo?second');
  });

  test('text(): a Content-Length body, UTF-8', async () => {
    const body = Buffer.from('héllo ✓ wörld');
    const seen = await rawJson(
      Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`), body]),
    );
    assert.equal(seen.bodyNull, false);
    assert.equal(seen.bodyIsStream, true);
    assert.equal(seen.body, 'héllo ✓ wörld');
  });

  test('text(): a chunked body, with extensions and trailers', async () => {
    const seen = await rawJson(
      'POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        '5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n',
    );
    assert.equal(seen.body, 'hello world');
  });

  test('Expect: 100-continue: the app reading the body sends 100 Continue first', async () => {
    const connection = await RawConnection.connect(server.port);
    connection.write('POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    await connection.waitForText('\r\n\r\n');
    assert.equal(connection.text, 'HTTP/1.1 100 Continue\r\n\r\n');
    connection.write('ping');
    const responses = (await connection.untilClosed()).all;
    assert.deepEqual(
      responses.map((r) => r.status),
      [100, 200],
    );
    assert.equal(JSON.parse(responses[1].body.toString()).body, 'ping');
  });

  test('arrayBuffer(): every byte value arrives exactly', async () => {
    const body = Buffer.alloc(256 * 3);
    for (let i = 0; i < body.length; i++) body[i] = i & 0xff;
    const response = await fetch(server.url('/body/arraybuffer'), { method: 'POST', body });
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), body);
  });

  test('arrayBuffer(): exactly the body, whatever its size, also for requests pipelined in one write', async () => {
    const bodyOf = (size, seed) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + seed) & 0xff));
    // Around the sizes where the engine's copies change kind (a shared slab, a buffer of their own).
    for (const size of [1, 100, 4095, 4096, 4097, 20000, 70000]) {
      const body = bodyOf(size, size);
      const response = await fetch(server.url('/body/arraybuffer'), { method: 'POST', body });
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), body, `${size} bytes`);
    }
    const bodies = [bodyOf(5000, 1), bodyOf(3, 2), bodyOf(6000, 3)];
    const requests = bodies.map((body, i) =>
      Buffer.concat([Buffer.from(`POST /body/arraybuffer HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}${i === bodies.length - 1 ? '\r\nConnection: close' : ''}\r\n\r\n`), body]),
    );
    const responses = (await exchange(server.port, Buffer.concat(requests))).all;
    assert.deepEqual(
      responses.map((response) => response.body),
      bodies,
    );
  });

  test('a large chunked upload is read as a stream, chunk by chunk, bytes exact', async () => {
    const piece = Buffer.alloc(64 * 1024);
    const hash = createHash('sha256');
    const pieces = 48; // 3 MiB
    const result = await new Promise((resolve, reject) => {
      const request = http.request(server.url('/body/stream'), { method: 'POST', agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (d) => (text += d));
        response.on('end', () => resolve({ status: response.statusCode, text }));
      });
      request.on('error', reject);
      let i = 0;
      const writeMore = () => {
        while (i < pieces) {
          for (let k = 0; k < piece.length; k += 4096) piece.writeUInt32BE(i * 65536 + k, k);
          hash.update(piece);
          i++;
          if (!request.write(Buffer.from(piece))) return void request.once('drain', writeMore);
        }
        request.end();
      };
      writeMore();
    });
    assert.equal(result.status, 200, result.text);
    const seen = JSON.parse(result.text);
    assert.equal(seen.bytes, pieces * piece.length);
    assert.equal(seen.sha256, hash.digest('hex'));
    assert.ok(seen.reads > 1, `read in ${seen.reads} chunk(s)`);
  });

  test('a body the client does not send whole: 400 (half-close) or nothing (reset), never logged as an app failure', async () => {
    const path = `/echo?short-${uid()}`;
    // Read through the body stream (/echo) and at once (arrayBuffer()).
    for (const route of [path, `/body/arraybuffer?short-${uid()}`]) {
      const half = await RawConnection.connect(server.port);
      half.write(`POST ${route} HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789`);
      half.socket.end();
      const [response] = (await half.untilClosed()).all;
      assert.equal(response.status, 400, route);
      assert.equal(response.get('connection'), 'close');
    }

    const reset = await RawConnection.connect(server.port);
    reset.write(`POST ${path} HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // (most likely) while the app reads
    reset.socket.resetAndDestroy();

    const bad = await RawConnection.connect(server.port);
    bad.write(`POST ${path} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n`);
    const [rejected] = (await bad.untilClosed()).all;
    assert.equal(rejected.status, 400);

    await server.settleLog();
    assert.equal(count(server.stderr, 'short-'), 0, server.stderr);
    assert.equal((await server.get('/echo')).status, 200);
  });

  test('a Host the URL cannot hold (bad port): 400', async () => {
    const [response] = (await exchange(server.port, 'GET /echo HTTP/1.1\r\nHost: h:99999\r\n\r\n')).all;
    assert.equal(response.status, 400);
    assert.equal(response.get('connection'), 'close');
  });

  for (const [flags, target] of [['', () => server], [' (--no-fast-fetch)', () => platform]]) {
    test(`signal${flags}: not aborted by a normal response, nor after it`, async () => {
      const app = target();
      const id = uid();
      const connection = await RawConnection.connect(app.port);
      connection.write(`GET /signal/keep?id=${id} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`);
      assert.equal((await connection.untilClosed()).all[0].status, 200);
      // The response is complete and the connection closed: now let the app look at the signal again.
      await app.open(id);
      const state = await waitFor(async () => {
        const s = await app.state(id);
        return s.value?.abortedLater !== undefined && s;
      });
      assert.deepEqual(state.value, { abortedLater: false });
    });

    test(`signal${flags}: aborted when the client goes away before the response`, async () => {
      const seen = await signalOnLeaving(target(), (connection) => connection.socket.resetAndDestroy(), 5000);
      assert.equal(seen.aborted, true);
      assert.equal(seen.reason, 'AbortError');
    });

    test(`signal${flags}: read first after the client went away, it is aborted`, async () => {
      const app = target();
      const leave = async (connection, id) => {
        connection.socket.resetAndDestroy();
        // (Time for the server to see the reset, so that the signal is made after it; the app
        // waits for the abort if not.) Then the app may look at its signal.
        await sleep(200);
        await app.open(id);
      };
      const seen = await signalOnLeaving(app, leave, 8000, '/signal/late');
      assert.deepEqual(seen, { aborted: true, reason: 'AbortError' });
    });

    // A FIN from the client while the app works aborts it too, as Node's http server
    // (httpAllowHalfOpen false) and Go's net/http do.
    test(`signal${flags}: aborted when the client closes its side before the response`, async () => {
      // (destroy(): a FIN, as a browser closing a tab sends.)
      const seen = await signalOnLeaving(target(), (connection) => connection.destroy(), 1000);
      assert.equal(seen.aborted, true);
    });
  }
});
