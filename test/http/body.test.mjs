// Request bodies (SPEC §3): chunked coding with extensions and trailers, in
// any pieces; `Expect: 100-continue` (the 100 goes out only when the app
// starts reading, never once it has answered); other expectations → 417; an
// app that reads part of a body or none of it; --max-body-size → 413.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RawConnection, httpRequest, rawRequest, parseResponses } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/http-app.mjs', import.meta.url).pathname;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix) => `${prefix}-${Math.random().toString(36).slice(2)}`;

let server;
let limited;
before(async () => {
  [server, limited] = await Promise.all([
    startServer(['--workers=0', APP]),
    startServer(['--workers=0', '--max-body-size=100', APP]),
  ]);
});
after(async () => {
  await Promise.all([server?.stop(), limited?.stop()]);
});

async function get(port, path) {
  const r = await rawRequest(port, [httpRequest('GET', path, { headers: { Connection: 'close' } })]);
  return parseResponses(r.data, { closed: true }).responses[0].text;
}

describe('chunked request bodies', () => {
  const CHUNKED = '5;name=value\r\nhello\r\n6;a="quoted \\"x\\"";flag\r\n world\r\n0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n';
  const request = httpRequest('POST', '/echo-body', { headers: { 'Transfer-Encoding': 'chunked' }, body: CHUNKED });

  test('extensions and trailers are parsed and dropped; the body is decoded; the next request follows', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(Buffer.concat([request, httpRequest('GET', '/echo/next')]));
    const parsed = await c.responses(2);
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['hello world', 'GET /echo/next 0'],
    );
    c.destroy();
  });

  test('the same, written one byte at a time', async () => {
    const bytes = Buffer.concat([request, httpRequest('GET', '/echo/next', { headers: { Connection: 'close' } })]);
    const c = await RawConnection.connect(server.port);
    for (let i = 0; i < bytes.length; i++) {
      c.write(bytes.subarray(i, i + 1));
      if (i % 8 === 0) await sleep(1);
    }
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['hello world', 'GET /echo/next 0'],
    );
    c.destroy();
  });

  test('large chunks arrive intact, in order', async () => {
    const parts = [Buffer.alloc(100_000, 'a'), Buffer.alloc(1, 'b'), Buffer.alloc(300_000, 'c')];
    const body = Buffer.concat(parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]).concat(Buffer.from('0\r\n\r\n')));
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', '/echo-body', { headers: { 'Transfer-Encoding': 'chunked' }, body }));
    const parsed = await c.responses(1);
    assert.equal(parsed.error, null);
    assert.ok(parsed.responses[0].body.equals(Buffer.concat(parts)));
    c.destroy();
  });
});

describe('Expect: 100-continue', () => {
  test('100 Continue goes out only when the app starts reading the body', async () => {
    const name = unique('gate');
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', `/gate?name=${name}`, { headers: { Expect: '100-continue', 'Content-Length': '5' } }));
    // The app has the request but does not read yet: nothing may come.
    await sleep(200);
    assert.equal(c.data.length, 0, `nothing before the app reads, got ${JSON.stringify(c.data.toString('latin1'))}`);
    assert.equal(await get(server.port, `/open?name=${name}`), 'opened');
    assert.ok(await c.until((conn) => conn.parse().interim.length === 1, 2000), 'a 100 once the app reads');
    const interim = c.parse().interim[0];
    assert.equal(interim.status, 100);
    assert.equal(c.parse().responses.length, 0, 'and no final response yet');
    c.write('hello');
    const parsed = await c.responses(1);
    assert.equal(parsed.error, null);
    assert.equal(parsed.responses[0].text, `POST /gate 5`);
    assert.equal(parsed.responses[0].close, false);
    c.destroy();
  });

  test('the expectation is case-insensitive (100-Continue)', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', '/echo', { headers: { Expect: '100-Continue', 'Content-Length': '3' } }));
    assert.ok(await c.until((conn) => conn.parse().interim.length === 1, 2000), 'a 100');
    c.write('abc');
    const parsed = await c.responses(1);
    assert.equal(parsed.responses[0].text, 'POST /echo 3');
    c.destroy();
  });

  test('no 100 when the app answers without reading; the connection then closes (the body may still come)', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', '/noread', { headers: { Expect: '100-continue', 'Content-Length': '5' } }));
    const parsed = await c.responses(1);
    assert.equal(parsed.error, null);
    assert.equal(parsed.interim.length, 0, 'no 100 Continue');
    assert.equal(parsed.responses[0].text, 'did not read');
    assert.equal(parsed.responses[0].header('connection'), 'close');
    assert.equal(await c.waitClosed(), 'fin');
    c.destroy();
  });

  test('no 100 to an HTTP/1.0 client', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', '/echo', { version: '1.0', headers: { Expect: '100-continue', 'Content-Length': '3' } }));
    await sleep(100);
    c.write('abc');
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.interim.length, 0);
    assert.equal(parsed.responses[0].text, 'POST /echo 3');
    c.destroy();
  });

  test('any other expectation → 417, closed, not handed to the app', async () => {
    const path = `/${unique('expect')}`;
    const r = await rawRequest(server.port, [httpRequest('POST', path, { headers: { Expect: 'something-else' }, body: 'abc' })]);
    assert.equal(r.closed, 'fin');
    const parsed = parseResponses(r.data, { closed: true });
    assert.equal(parsed.error, null);
    assert.equal(parsed.responses.length, 1);
    assert.equal(parsed.responses[0].status, 417);
    assert.equal(parsed.responses[0].header('x-app'), undefined);
    assert.equal(await get(server.port, `/seen?path=${path}`), '0');
  });
});

describe('an app that does not read the whole body', () => {
  test('reading part of a small body: the rest is dropped and the connection stays usable', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(Buffer.concat([httpRequest('POST', '/partial?n=10', { body: 'y'.repeat(50_000) }), httpRequest('GET', '/echo/next')]));
    const parsed = await c.responses(2);
    assert.equal(parsed.error, null);
    assert.match(parsed.responses[0].text, /^read \d+$/);
    assert.equal(parsed.responses[0].close, false);
    assert.equal(parsed.responses[1].text, 'GET /echo/next 0');
    c.destroy();
  });

  test('the rest of a body arriving after the answer is read and dropped, then the next request is served', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', '/partial?n=10', { headers: { 'Content-Length': '200000' }, body: 'x'.repeat(10) }));
    const first = await c.responses(1);
    assert.equal(first.responses[0].text, 'read 10');
    assert.equal(first.responses[0].close, false);
    c.write(Buffer.alloc(200_000 - 10, 'x'));
    c.write(httpRequest('GET', '/echo/next'));
    const parsed = await c.responses(2);
    assert.equal(parsed.error, null);
    assert.equal(parsed.responses[1]?.text, 'GET /echo/next 0');
    c.destroy();
  });

  test('not reading a small body at all: the same', async () => {
    const c = await RawConnection.connect(server.port);
    c.write(httpRequest('POST', '/noread', { headers: { 'Transfer-Encoding': 'chunked' }, body: '3\r\nabc\r\n0\r\n\r\n' }));
    c.write(httpRequest('POST', '/noread', { body: 'x'.repeat(1000) }));
    c.write(httpRequest('GET', '/echo/next'));
    const parsed = await c.responses(3);
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((r) => r.text),
      ['did not read', 'did not read', 'GET /echo/next 0'],
    );
    c.destroy();
  });

  test('a large unread rest: the response says close, and the connection closes cleanly', async () => {
    const c = await RawConnection.connect(server.port);
    // 10 MB announced, 100 KB sent: the server will not wait for (or read) the rest.
    c.write(httpRequest('POST', '/partial?n=10', { headers: { 'Content-Length': String(10_000_000) }, body: Buffer.alloc(100_000, 'q') }));
    const parsed = await c.responses(1);
    assert.equal(parsed.error, null);
    assert.match(parsed.responses[0].text, /^read \d+$/);
    assert.equal(parsed.responses[0].header('connection'), 'close');
    assert.equal(await c.waitClosed(), 'fin');
    c.destroy();
  });
});

describe('more unread body than the server will drop (256 KB)', () => {
  const chunked = (size) => {
    const parts = [];
    for (let i = 0; i < size; i += 16384) parts.push(Buffer.from('4000\r\n'), Buffer.alloc(16384, 'z'), Buffer.from('\r\n'));
    return Buffer.concat([...parts, Buffer.from('0\r\n\r\n')]);
  };
  // The client sends everything at once and reads only then, as simple clients do: the
  // answer must survive, and the connection end with a FIN, not a reset that can take the
  // answer with it.
  for (const [what, request] of [
    ['an app that answers without reading a chunked body', httpRequest('POST', '/noread', { headers: { 'Transfer-Encoding': 'chunked' }, body: chunked(2e6) })],
    ['an app that cancels a chunked body and answers 413 itself', httpRequest('POST', '/refuse', { headers: { 'Transfer-Encoding': 'chunked' }, body: chunked(2e6) })],
    ['an app that cancels a Content-Length body and answers 413 later', httpRequest('POST', '/refuse?ms=50', { body: Buffer.alloc(2e6, 'z') })],
    ['a GET with a body (the app never sees it) answered later', httpRequest('GET', '/slow?ms=50', { body: Buffer.alloc(2e6, 'z') })],
  ]) {
    test(`${what}: the answer arrives whole; then a FIN, or the connection is still in step`, async () => {
      const c = await RawConnection.connect(server.port);
      c.write(request);
      const first = await c.responses(1);
      assert.equal(first.responses[0]?.header('x-app'), '1');
      // The server may close (it will not drop that much) or, having read it all, go on.
      c.write(httpRequest('GET', '/fixed', { headers: { Connection: 'close' } }));
      assert.equal(await c.waitClosed(), 'fin');
      const parsed = c.parse();
      assert.equal(parsed.error, null);
      if (parsed.responses[0].close || parsed.responses.length === 1) assert.equal(parsed.responses.length, 1);
      else assert.equal(parsed.responses[1].text, 'hello world');
      c.destroy();
    });
  }
});

describe('--max-body-size=100', () => {
  test('a Content-Length over the limit → 413 before the app sees anything', async () => {
    const path = `/${unique('big')}`;
    const r = await rawRequest(limited.port, [httpRequest('POST', path, { body: 'x'.repeat(101) })]);
    assert.equal(r.closed, 'fin');
    const parsed = parseResponses(r.data, { closed: true });
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((x) => [x.status, x.header('connection'), x.header('x-app')]),
      [[413, 'close', undefined]],
    );
    assert.equal(await get(limited.port, `/seen?path=${path}`), '0');
  });

  test('at the limit is fine', async () => {
    const r = await rawRequest(limited.port, [httpRequest('POST', '/echo', { headers: { Connection: 'close' }, body: 'x'.repeat(100) })]);
    const parsed = parseResponses(r.data, { closed: true });
    assert.equal(parsed.responses[0].text, 'POST /echo 100');
  });

  test('a chunked body growing over the limit → 413, closed, no app answer', async () => {
    const c = await RawConnection.connect(limited.port);
    c.write(httpRequest('POST', '/echo', { headers: { 'Transfer-Encoding': 'chunked' }, body: `3c\r\n${'x'.repeat(60)}\r\n` }));
    await sleep(20);
    c.write(`29\r\n${'y'.repeat(41)}\r\n0\r\n\r\n`);
    assert.equal(await c.waitClosed(), 'fin');
    const parsed = c.parse();
    assert.equal(parsed.error, null);
    assert.deepEqual(
      parsed.responses.map((x) => [x.status, x.header('connection'), x.header('x-app')]),
      [[413, 'close', undefined]],
    );
    c.destroy();
  });
});
